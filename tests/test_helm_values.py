"""Images in Helm values files: the model (imglint.helm_values) on real charts and on each idiom.

The fixture charts under tests/fixtures/charts/ are real (see NOTICE.md there). EXPECTED is the
table a careful reader writes by reading each values.yaml and the templates that use it: every
image, at the line of the key that declares it, with the reference the chart renders, including
images of features that are off by default; nothing else.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator

import pytest
import yaml

from imglint.helm_templates import analyse
from imglint.helm_values import ChartFacts, Layer, ValuesImage, find_images, go_number
from imglint.helm_values_chart import ChartReader

CHARTS = os.path.join(os.path.dirname(__file__), "fixtures", "charts")

# (line of the declaring key, field, reference the chart renders, or None and the note's words)
Row = tuple[int, str, str | None]

EXPECTED: dict[str, list[Row]] = {
    # Bitnami: registry/repository/tag/digest through common.images.image; two features off.
    "bitnami-nginx/values.yaml": [
        (86, "image", "docker.io/bitnami/nginx:1.29.1-debian-12-r0"),
        (516, "cloneStaticSiteFromGit.image", "docker.io/bitnami/git:2.51.0-debian-12-r0"),
        (989, "metrics.image", "docker.io/bitnami/nginx-exporter:1.4.2-debian-12-r9"),
    ],
    # ingress-nginx: split registry (from global.image.registry) + image + tag + digest.
    "ingress-nginx/values.yaml": [
        (
            25,
            "controller.image",
            "registry.k8s.io/ingress-nginx/controller:v1.15.1"
            "@sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1",
        ),
        (
            850,
            "controller.admissionWebhooks.patch.image",
            "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.9"
            "@sha256:01038e7de14b78d702d2849c3aad72fd25903c4765af63cf16aa3398f5d5f2dd",
        ),
        (1029, "defaultBackend.image", "registry.k8s.io/defaultbackend-amd64:1.5"),
    ],
    # kube-prometheus-stack: `sha` keys, thanosImage, empty tags that are the appVersion, an
    # image mapping of image mappings (crds.upgradeJob.image), a tag that is the cluster version.
    "kube-prometheus-stack/values.yaml": [
        (45, "crds.upgradeJob.image.busybox", "docker.io/busybox:latest"),
        (51, "crds.upgradeJob.image.kubectl", None),
        (1018, "alertmanager.alertmanagerSpec.image", "quay.io/prometheus/alertmanager:v0.34.0"),
        (
            3010,
            "prometheusOperator.admissionWebhooks.deployment.image",
            "quay.io/prometheus-operator/admission-webhook:v0.93.1",
        ),
        (
            3129,
            "prometheusOperator.admissionWebhooks.patch.image",
            "ghcr.io/jkroepke/kube-webhook-certgen:1.8.7",
        ),
        (
            3523,
            "prometheusOperator.image",
            "quay.io/prometheus-operator/prometheus-operator:v0.93.1",
        ),
        (
            3550,
            "prometheusOperator.prometheusConfigReloader.image",
            "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
        ),
        (3571, "prometheusOperator.thanosImage", "quay.io/thanos/thanos:v0.42.4"),
        (
            4344,
            "prometheus.prometheusSpec.image",
            "quay.io/prometheus/prometheus:v3.14.0-distroless",
        ),
        (5538, "thanosRuler.thanosRulerSpec.image", "quay.io/thanos/thanos:v0.42.4"),
    ],
    "kube-prometheus-stack/charts/crds/values.yaml": [],
    # cert-manager v1.16.2: no tag in values, the `image` helper is passed $.Chart.AppVersion.
    "cert-manager/values.yaml": [
        (140, "image", "quay.io/jetstack/cert-manager-controller:v1.16.2"),
        (863, "webhook.image", "quay.io/jetstack/cert-manager-webhook:v1.16.2"),
        (1172, "cainjector.image", "quay.io/jetstack/cert-manager-cainjector:v1.16.2"),
        (1231, "acmesolver.image", "quay.io/jetstack/cert-manager-acmesolver:v1.16.2"),
        (1364, "startupapicheck.image", "quay.io/jetstack/cert-manager-startupapicheck:v1.16.2"),
    ],
    # podinfo: `{{ .Values.image.repository }}:{{ .Values.image.tag }}` verbatim; `redis` is an
    # image only because the templates write its repository on an `image:` line.
    "podinfo/values.yaml": [
        (9, "image", "ghcr.io/stefanprodan/podinfo:6.14.1"),
        (171, "redis", "docker.io/redis:8.8.0"),
    ],
    # argo-cd: global.image's empty tag is the appVersion (through argo-cd.defaultTag); the
    # per-component images are empty (they default to global.image: nothing declared there);
    # redis-ha.* override the unpacked subchart's images (haproxy's tag stays the subchart's).
    "argo-cd/values.yaml": [
        (59, "global.image", "quay.io/argoproj/argocd:v3.4.4"),
        (1228, "dex.image", "ghcr.io/dexidp/dex:v2.45.1"),
        (1549, "redis.image", "ecr-public.aws.com/docker/library/redis:8.2.3-alpine"),
        (1566, "redis.exporter.image", "ghcr.io/oliver006/redis_exporter:v1.86.0"),
        (1845, "redis-ha.image", "ecr-public.aws.com/docker/library/redis:8.2.3-alpine"),
        (1852, "redis-ha.exporter", "ghcr.io/oliver006/redis_exporter:v1.75.0"),
        (1879, "redis-ha.haproxy.image", "ecr-public.aws.com/docker/library/haproxy:3.3.10-alpine"),
        (
            2163,
            "server.extensions.image",
            "quay.io/argoprojlabs/argocd-extension-installer:v1.0.1",
        ),
    ],
    # The subchart's own values: three are overridden by argo-cd's (listed as such, see below).
    "argo-cd/charts/redis-ha/values.yaml": [
        (13, "image", "public.ecr.aws/docker/library/redis:8.8.0-alpine"),
        (69, "configmapTest.image", "koalaman/shellcheck:v0.11.0"),
        (136, "haproxy.image", "public.ecr.aws/docker/library/haproxy:3.3.10-alpine"),
        (354, "sysctlImage", "public.ecr.aws/docker/library/busybox:1.38.0"),
        (747, "exporter", "quay.io/oliver006/redis_exporter:v1.86.0"),
    ],
}


def _read(relative: str, reader: ChartReader | None = None) -> list[ValuesImage]:
    path = os.path.join(CHARTS, relative)
    read = (reader or ChartReader()).for_values_file(path, path)
    with open(path, encoding="utf-8") as handle:
        root = yaml.compose(handle.read(), Loader=yaml.CSafeLoader)
    assert read.problems == []
    return find_images(relative, root, read.facts)


@pytest.mark.parametrize("values_file", sorted(EXPECTED))
def test_every_image_of_real_charts_at_its_line(values_file: str) -> None:
    found = [(i.span.line, i.field, i.reference) for i in _read(values_file)]
    assert found == EXPECTED[values_file]


def test_the_fixture_charts_cover_six_public_charts() -> None:
    charts = {v.split("/")[0] for v in EXPECTED}
    assert len(charts) >= 6


def _by_field(relative: str) -> dict[str, ValuesImage]:
    return {i.field: i for i in _read(relative)}


def test_unknowable_tags_say_why_instead_of_guessing() -> None:
    kubectl = _by_field("kube-prometheus-stack/values.yaml")["crds.upgradeJob.image.kubectl"]
    assert kubectl.reference is None
    assert kubectl.note is not None and "$defaultKubernetesVersion" in kubectl.note
    assert "not known before deploy" in kubectl.note


def test_app_version_tags_say_where_the_tag_came_from() -> None:
    images = _by_field("cert-manager/values.yaml")
    assert images["webhook.image"].tag_from == "appVersion v1.16.2 in Chart.yaml"
    assert images["webhook.image"].tag is None  # nothing in values.yaml to point at
    operator = _by_field("kube-prometheus-stack/values.yaml")["prometheusOperator.image"]
    assert operator.tag is not None and operator.tag.span.line == 3527  # `tag: ""`


def test_components_point_at_their_own_keys() -> None:
    controller = _by_field("ingress-nginx/values.yaml")["controller.image"]
    assert controller.registry is not None and controller.registry.field == "global.image.registry"
    assert controller.registry.span.line == 8
    assert controller.repository is not None and controller.repository.span.line == 29
    assert controller.tag is not None and controller.tag.span.line == 33
    assert controller.digest is not None and controller.digest.span.line == 34


def test_subchart_defaults_overridden_by_the_parent_are_marked() -> None:
    images = _by_field("argo-cd/charts/redis-ha/values.yaml")
    overrides = {k: i.overridden_by for k, i in images.items() if i.overridden_by}
    assert overrides == {
        "image": f"{CHARTS}/argo-cd/values.yaml:1845 redis-ha.image",
        "haproxy.image": f"{CHARTS}/argo-cd/values.yaml:1879 redis-ha.haproxy.image",
        "exporter": f"{CHARTS}/argo-cd/values.yaml:1852 redis-ha.exporter",
    }
    # The parent's partial override takes the rest from the subchart's own values.
    haproxy = _by_field("argo-cd/values.yaml")["redis-ha.haproxy.image"]
    assert haproxy.tag is not None and haproxy.tag.file.endswith("charts/redis-ha/values.yaml")
    assert haproxy.tag.span.line == 140


def test_pin_targets_follow_each_charts_convention() -> None:
    pins = {
        (chart, i.field): (i.pin.kind, i.pin.part.field) if i.pin else i.pin_refusal
        for chart in EXPECTED
        for i in _read(chart)
    }
    assert pins["bitnami-nginx/values.yaml", "image"] == ("digest", "image.digest")
    assert pins["kube-prometheus-stack/values.yaml", "prometheusOperator.thanosImage"] == (
        "sha-hex",
        "prometheusOperator.thanosImage.sha",
    )
    assert pins["podinfo/values.yaml", "image"] == ("append", "image.tag")
    assert pins["argo-cd/values.yaml", "redis-ha.exporter"] == ("append", "redis-ha.exporter.tag")
    # ingress-nginx renders `:{{ .tag }}{{ include "ingress-nginx.imageDigest" . }}`: a digest in
    # the tag would render twice once a digest is set, so no `tag: "...@sha256"` there.
    refusal = pins["ingress-nginx/values.yaml", "defaultBackend.image"]
    assert isinstance(refusal, str) and "elsewhere than at the end" in refusal
    # argo-cd renders global.image's tag through a helper and a label: never written there.
    assert isinstance(pins["argo-cd/values.yaml", "global.image"], str)
    # redis-ha's sysctlImage tag goes through `default "latest" ... | toString`.
    assert isinstance(pins["argo-cd/charts/redis-ha/values.yaml", "sysctlImage"], str)
    overridden = pins["argo-cd/charts/redis-ha/values.yaml", "image"]
    assert isinstance(overridden, str) and overridden.startswith("overridden by")


# -- each shape and idiom on small values files -----------------------------------------------


def _images(
    values: str, templates: dict[str, str] | None = None, **facts: object
) -> list[ValuesImage]:
    root = yaml.compose(textwrap.dedent(values), Loader=yaml.CSafeLoader)
    chart = None
    if templates is not None or facts:
        chart = ChartFacts(
            templates=analyse([textwrap.dedent(t) for t in (templates or {}).values()])
            if templates is not None
            else None,
            **facts,  # type: ignore[arg-type]
        )
    return find_images("values.yaml", root, chart)


def _refs(images: list[ValuesImage]) -> list[tuple[str, str | None]]:
    return [(i.field, i.reference) for i in images]


def test_shapes_without_templates() -> None:
    images = _images(
        """
        image:
          registry: quay.io
          repository: org/app
          tag: "1.2"
        sidecar:
          image: busybox:1.36
          imageOptions: {}
        exporter:
          image: ghcr.io/org/exporter
          tag: v2
        config:
          image: "see the README"
          repository: https://github.com/org/repo
        thanosImage:
          repository: thanos/thanos
          sha: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        """
    )
    assert _refs(images) == [
        ("image", "quay.io/org/app:1.2"),
        ("sidecar.image", "busybox:1.36"),
        ("exporter", "ghcr.io/org/exporter:v2"),
        (
            "thanosImage",
            "thanos/thanos@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
    ]
    # Without the chart's templates the assembly is an assumption, and says so.
    assert images[0].assumptions == [
        "values outside a chart: assumed the chart renders registry/repository:tag"
    ]


def test_a_repository_under_a_key_that_is_not_image_like() -> None:
    values = """
        redis:
          repository: docker.io/redis
          tag: "7.2"
        git:
          repository: https://github.com/org/site
          tag: v1
        site:
          repository: github.com/org/site
          branch: main
          tag: v1
        """
    # With the chart's templates at hand they decide: only what feeds an `image:` line.
    template = 'image: "{{ .Values.redis.repository }}:{{ .Values.redis.tag }}"\n'
    assert _refs(_images(values, {"d.yaml": template})) == [("redis", "docker.io/redis:7.2")]
    assert _refs(_images(values, {"d.yaml": "kind: ConfigMap\n"})) == []
    # Without them (a GitOps object's values), an image name with a tag beside it, and nothing
    # that a git source has (a URL, a branch).
    assert _refs(_images(values)) == [("redis", "docker.io/redis:7.2")]


def test_global_registries() -> None:
    images = _images(
        """
        global:
          imageRegistry: mirror.example.com
          image:
            registry: registry.k8s.io
        image:
          registry: docker.io
          repository: bitnami/nginx
          tag: "1.25"
        plain:
          image:
            repository: nginx
            tag: "1.25"
        split:
          image:
            image: ingress-nginx/controller
            tag: v1
        """
    )
    assert _refs(images) == [
        ("image", "mirror.example.com/bitnami/nginx:1.25"),  # Bitnami: global wins
        ("plain.image", "nginx:1.25"),  # no registry key: nothing to replace
        ("split.image", "registry.k8s.io/ingress-nginx/controller:v1"),  # ingress-nginx's merge
    ]
    assert images[0].registry is not None and images[0].registry.field == "global.imageRegistry"


def test_empty_tags_follow_the_templates() -> None:
    values = """
        image:
          repository: org/app
          tag: ""
        """
    app_version = (
        "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    )
    [image] = _images(values, {"d.yaml": f"image: {app_version}\n"}, app_version="2.0.1")
    assert image.reference == "org/app:2.0.1" and image.tag_from is not None
    [image] = _images(
        values,
        {
            "d.yaml": "image: {{ .Values.image.repository }}:"
            '{{ default "stable" .Values.image.tag }}\n'
        },
    )
    assert image.reference == "org/app:stable"
    [image] = _images(
        values, {"d.yaml": "image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n"}
    )
    assert image.reference is None and image.note is not None
    [image] = _images(values)
    assert image.reference is None and image.note is not None and "templates" in image.note


def test_digest_drops_the_tag_only_where_the_templates_say_so() -> None:
    values = """
        image:
          repository: org/app
          tag: "1.0"
          digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        """
    cert_manager_style = """
        {{- define "image" -}}
        {{ .repository }}{{- if .digest -}}{{ printf "@%s" .digest }}
        {{- else -}}{{ printf ":%s" .tag }}{{- end -}}
        {{- end }}
        """
    deployment = 'image: "{{ template "image" .Values.image }}"\n'
    [image] = _images(values, {"h.tpl": cert_manager_style, "d.yaml": deployment})
    assert image.tag_dropped and image.reference is not None and ":1.0" not in image.reference
    both = (
        'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}'
        '{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ end }}"\n'
    )
    [image] = _images(values, {"d.yaml": both})
    assert (
        not image.tag_dropped and image.reference is not None and ":1.0@sha256:" in image.reference
    )


def test_placeholders_and_numbers() -> None:
    images = _images(
        """
        image:
          repository: "{{ .Values.global.repo }}/app"
          tag: "1.0"
        other:
          image:
            repository: org/other
            tag: 1.10
        """
    )
    assert images[0].placeholder is not None
    assert images[1].reference == "org/other:1.1"
    assert images[1].warnings == [
        "other.image.tag is the number 1.10: Helm renders it as 1.1; quote it"
    ]


def test_overlay_values_take_the_rest_from_the_charts_values() -> None:
    base = yaml.compose("image:\n  repository: org/app\n  tag: '1.0'\n", Loader=yaml.CSafeLoader)
    assert base is not None
    root = yaml.compose("image:\n  tag: '2.0'\n", Loader=yaml.CSafeLoader)
    chart = ChartFacts(templates=analyse([]), defaults=[Layer("chart/values.yaml", base)])
    [image] = find_images("chart/values-prod.yaml", root, chart)
    assert image.reference == "org/app:2.0"
    assert image.tag is not None and image.tag.file == "chart/values-prod.yaml"
    assert image.repository is not None and image.repository.file == "chart/values.yaml"


@pytest.mark.parametrize(
    ("written", "rendered"),
    [
        ("1.10", "1.1"),
        ("1.5", "1.5"),
        ("10", "10"),
        ("123456", "123456"),
        ("1000000", "1e+06"),
        ("20240101", "2.0240101e+07"),
        ("0.0001", "0.0001"),
        ("0.00001", "1e-05"),
        ("3.0", "3"),
    ],
)
def test_numbers_render_as_helm_prints_them(written: str, rendered: str) -> None:
    assert go_number(written) == rendered


def _walk(root: str) -> Iterator[str]:
    for folder, _subfolders, names in os.walk(root):
        for name in names:
            yield os.path.join(folder, name)


def test_every_fixture_chart_keeps_its_notice() -> None:
    with open(os.path.join(CHARTS, "NOTICE.md"), encoding="utf-8") as handle:
        notice = handle.read()
    for chart in {v.split("/")[0] for v in EXPECTED}:
        assert f"`{chart}/`" in notice


def test_aliases_are_one_declaration_and_an_alias_bomb_stays_cheap() -> None:
    images = _images(
        """
        base: &img
          image:
            repository: org/app
            tag: "1.0"
        worker: *img
        """
    )
    assert _refs(images) == [("base.image", "org/app:1.0")]
    levels = ["a0: &a0 {image: {repository: org/app, tag: '1'}}"]
    for level in range(1, 12):
        previous = f"*a{level - 1}"
        levels.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    bomb = "\n".join(levels) + "\n"
    assert _refs(_images(bomb)) == [("a0.image", "org/app:1")]
