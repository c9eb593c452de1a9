"""imglint.kustomize_tree against the real kustomize, on real trees from public repositories.

For every kustomization of tests/fixtures/kustomize-real that kustomize can build here, the image
values the model says the build writes are compared, field for field, with `kubectl kustomize`'s
output; then what each `images:` entry matched, and what it could not know.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from imglint import document_filter, kustomize
from imglint.findings import Span
from imglint.kustomize_tree import Tree, parse_argo_image, read_entries
from imglint.sources import collect
from tests.kustomize_tool import kustomize_build, kustomize_version, require_kubectl

REAL = Path(__file__).parent / "fixtures" / "kustomize-real"
BUILDABLE = [
    "microservices-demo/kustomize",
    "microservices-demo/kustomize/base",
    "microservices-demo/kustomize/tests/memorystore-with-all-components",
    "microservices-demo/kustomize/tests/service-mesh-istio-with-all-components",
    "microservices-demo/kustomize/tests/spanner-with-all-components",
    "ingress-nginx/deploy/prometheus",
    "ingress-nginx/deploy/grafana",
    "kustomize-examples/transformerconfigs/images",
]


def _specs() -> tuple[kustomize.FieldSpec, ...]:
    specs = kustomize.DEFAULT_FIELD_SPECS
    if kustomize_version() >= (5, 6, 0):
        specs += kustomize.VOLUME_FIELD_SPECS
    return specs


def _tree(*roots: Path) -> Tree:
    return Tree(collect([str(r) for r in roots]).sources, _specs())


def _kubectl_images(folder: Path, specs: tuple[kustomize.FieldSpec, ...]) -> list[tuple[str, ...]]:
    found = []
    for document in yaml.compose_all(kustomize_build(folder)):
        assert isinstance(document, yaml.MappingNode)
        kind = next(v.value for k, v in document.value if k.value == "kind")
        for field in kustomize.image_fields(document, specs):
            found.append((kind, field.path, field.node.value))
    return sorted(found)


@pytest.mark.parametrize("folder", BUILDABLE)
def test_model_builds_what_kustomize_builds(folder: str) -> None:
    tree = _tree(REAL)
    kustomization = str(REAL / folder / "kustomization.yaml")
    model = tree.rendered_images(kustomization)
    assert model, "every tree here has images"
    assert model == _kubectl_images(REAL / folder, tree.field_specs(kustomization))


def _build_or_none(folder: Path) -> str | None:
    done = subprocess.run(
        [require_kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )
    return done.stdout if done.returncode == 0 else None


def test_model_builds_what_kustomize_builds_on_the_corpus() -> None:
    """Every kustomization of the shared corpus (79 of them, from public repositories) that
    kustomize can build here: the model's image values equal kubectl's, field for field."""
    from tests.test_fix import corpus_root

    root = corpus_root()
    tree = _tree(root)
    folders = sorted(path.parent for path in root.rglob("kustomization.yaml"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(_build_or_none, folders))
    compared = 0
    for folder, output in zip(folders, outputs, strict=True):
        if output is None:
            continue  # remote bases, files the corpus does not have: kustomize cannot build it
        kustomization = str(folder / "kustomization.yaml")
        assert tree.unknown(kustomization) == [], folder
        specs = tree.field_specs(kustomization)
        rendered = []
        for document in yaml.compose_all(output):
            if isinstance(document, yaml.MappingNode):
                kind = next(v.value for k, v in document.value if k.value == "kind")
                rendered += [
                    (kind, f.path, f.node.value) for f in kustomize.image_fields(document, specs)
                ]
        assert tree.rendered_images(kustomization) == sorted(rendered), folder
        compared += 1
    assert compared >= 40


def _overlay(tmp_path: Path, body: dict[str, object]) -> Path:
    """An overlay of the real microservices-demo base, written in tmp (kustomize accepts a
    base anywhere; the test trees upstream stop short of using the image components)."""
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "kustomization.yaml").write_text(json.dumps(body))
    return folder


def test_components_run_in_order_over_the_real_base(tmp_path: Path) -> None:
    demo = REAL / "microservices-demo" / "kustomize"
    components = [
        os.path.relpath(demo / "components" / name, tmp_path / "overlay")
        for name in (
            "container-images-tag",
            "container-images-tag-suffix",
            "container-images-registry",
        )
    ]
    overlay = _overlay(
        tmp_path,
        {
            "resources": [os.path.relpath(demo / "base", tmp_path / "overlay")],
            "components": components,
        },
    )
    tree = _tree(REAL, overlay)
    kustomization = str(overlay / "kustomization.yaml")
    assert tree.rendered_images(kustomization) == _kubectl_images(
        overlay, tree.field_specs(kustomization)
    )
    registry = str(demo / "components" / "container-images-registry" / "kustomization.yaml")
    # adservice: the tag, then the suffix twice (Deployments are selected by both walks).
    outcome = tree.outcome(registry, 0)
    assert [m.after for m in outcome.matches] == [
        "CONTAINER_IMAGES_REGISTRY/adservice:"
        "CONTAINER_IMAGES_TAGCONTAINER_IMAGES_TAG_SUFFIXCONTAINER_IMAGES_TAG_SUFFIX"
    ]
    assert outcome.matches[0].path.endswith("kustomize/base/adservice.yaml")
    assert outcome.matches[0].span.line == 46
    redis = tree.outcome(registry, 11)
    assert [(m.before, m.after) for m in redis.matches] == [
        ("redis:alpine", "CONTAINER_IMAGES_REGISTRY/redis:alpine")
    ]
    suffix = str(demo / "components" / "container-images-tag-suffix" / "kustomization.yaml")
    cart = tree.outcome(suffix, 1)
    assert [m.after for m in cart.matches] == [
        "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/cartservice:"
        "CONTAINER_IMAGES_TAGCONTAINER_IMAGES_TAG_SUFFIXCONTAINER_IMAGES_TAG_SUFFIX"
    ]


def test_resources_are_composed_without_documents_that_hold_no_image_field(
    tmp_path: Path,
) -> None:
    """A base's ConfigMaps and CRDs are not composed to find nothing; a custom resource whose
    image field a `configurations:` file of the set names still is."""
    (tmp_path / "objects.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {greeting: hello}\n---\n"
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: crd}\nspec: {containers: []}\n---\n"
        "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r}\n"
        "spec: {runImage: 'busybox:1.36'}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec: {containers: [{name: a, image: 'nginx:1.25'}]}\n"
    )
    (tmp_path / "images-config.yaml").write_text("images:\n- path: spec/runImage\n  kind: Runner\n")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [objects.yaml]\nconfigurations: [images-config.yaml]\n"
        "images:\n- {name: busybox, newTag: '1.37'}\n- {name: nginx, newTag: '1.27'}\n"
    )
    tree = _tree(tmp_path)
    resources = tree.resource_documents(os.path.realpath(tmp_path / "objects.yaml"))
    assert resources is not None
    kinds = [
        next(v.value for k, v in doc.value if k.value == "kind")
        for doc in resources
        if isinstance(doc, yaml.MappingNode)
    ]
    assert kinds == ["Runner", "Pod"]
    kustomization = str(tmp_path / "kustomization.yaml")
    assert tree.rendered_images(kustomization) == _kubectl_images(
        tmp_path, tree.field_specs(kustomization)
    )


def test_unused_component_says_so() -> None:
    tree = _tree(REAL)
    demo = REAL / "microservices-demo" / "kustomize"
    outcome = tree.outcome(
        str(demo / "components" / "container-images-tag" / "kustomization.yaml"), 0
    )
    assert outcome.matches == []
    assert outcome.unknown == ["no kustomization among the linted files uses this component"]


def test_name_only_entries_match_but_change_nothing() -> None:
    tree = _tree(REAL)
    path = str(REAL / "ingress-nginx" / "deploy" / "prometheus" / "kustomization.yaml")
    outcome = tree.outcome(path, 0)
    assert [(m.before, m.after) for m in outcome.matches] == [
        ("prom/prometheus", "prom/prometheus")
    ]
    assert outcome.unknown == []


def test_missing_resources_make_the_outcome_unknown() -> None:
    tree = _tree(REAL)
    path = str(REAL / "kubevirt" / "whereabouts" / "kustomization.yaml")
    outcome = tree.outcome(path, 0)
    assert outcome.matches == []
    assert [u.split(": ", 1)[1] for u in outcome.unknown] == [
        "resource ./daemonset-install.yaml is not among the linted files",
        "resource ./whereabouts.cni.cncf.io_ippools.yaml is not among the linted files",
        "resource ./whereabouts.cni.cncf.io_overlappingrangeipreservations.yaml is not among "
        "the linted files",
    ]
    # `newTag: ##VERSION##` is a YAML comment: the entry has a name only.
    kustomization = tree.kustomization(os.path.realpath(path))
    assert kustomization is not None
    assert kustomization.entries[0].override == kustomize.ImageOverride(
        "ghcr.io/k8snetworkplumbingwg/whereabouts"
    )


def test_overlay_outside_the_linted_set_is_unknown(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (base / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - {name: a, image: nginx}\n"
    )
    overlay = _overlay(
        tmp_path,
        {
            "resources": ["../base", "https://example.com/x.yaml"],
            "images": [{"name": "nginx", "newTag": "1"}],
        },
    )
    tree = _tree(overlay)
    outcome = tree.outcome(str(overlay / "kustomization.yaml"), 0)
    assert outcome.matches == []
    assert [u.split(": ", 1)[-1] for u in outcome.unknown] == [
        f"the kustomization in {os.path.relpath(base)}/ is not among the linted files",
        "remote resource https://example.com/x.yaml is not opened",
    ]


@pytest.mark.parametrize(
    ("text", "override"),
    [
        (
            "gcr.io/heptio-images/ks-guestbook-demo:0.2",
            kustomize.ImageOverride("gcr.io/heptio-images/ks-guestbook-demo", new_tag="0.2"),
        ),
        (
            "my-app=gcr.io/my-repo/my-app:0.1",
            kustomize.ImageOverride("my-app", "gcr.io/my-repo/my-app", "0.1"),
        ),
        ("alpine@sha256:24a0", kustomize.ImageOverride("alpine", digest="sha256:24a0")),
        ("mysql=mariadb", kustomize.ImageOverride("mysql", "mariadb")),
        ("node:8.15.0", kustomize.ImageOverride("node", new_tag="8.15.0")),
        ("nginx", None),  # `kustomize edit set image nginx` refuses it
    ],
)
def test_argo_cd_strings_read_as_kustomize_edit_set_image(
    text: str, override: kustomize.ImageOverride | None
) -> None:
    assert parse_argo_image(text) == override


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            "- name: redis\n  newTag: 1.20\n",
            "kustomize refuses newTag: 1.20 is a number there (quote it)",
        ),
        (
            "- name: redis\n  newTag: 08\n",
            "kustomize refuses newTag: 08 is a number there (quote it)",
        ),
        (
            "- name: redis\n  newTag: yes\n",
            "kustomize refuses newTag: yes is a boolean there (quote it)",
        ),
        (
            "- name: redis\n  newTage: '7'\n",
            'kustomize refuses the unknown field "newTage" '
            "(fields: name, newName, newTag, digest, tagSuffix)",
        ),
        ("- name: redis\n  newTag: [a]\n", "newTag must be a string"),
    ],
)
def test_what_kustomize_refuses(entry: str, problem: str, tmp_path: Path) -> None:
    node = yaml.compose(entry)
    assert node is not None
    _entries, problems = read_entries(node)
    assert [message for message, _node in problems] == [problem]
    # ... and kustomize does refuse it.
    (tmp_path / "kustomization.yaml").write_text("images:\n" + entry)
    done = subprocess.run(
        [require_kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode != 0


def test_field_names_are_case_insensitive_as_in_kustomize() -> None:
    node = yaml.compose("- name: redis\n  newTag: '8'\n  newtag: '9'\n")
    assert node is not None
    entries, problems = read_entries(node)
    assert problems == []
    assert entries[0].override == kustomize.ImageOverride("redis", new_tag="9")


def test_helm_chart_values_are_rewritten_after_the_generators_run(tmp_path: Path) -> None:
    """kustomize runs a kustomization's chart generators after its resources and before its
    components and transformers (api/internal/target/kusttarget.go, accumulateTarget): the
    `valuesInline` images are candidates for its components' entries, its own and an
    overlay's, each seeing what the one before wrote."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text(
        "helmCharts:\n"
        "- name: podinfo\n"
        "  repo: https://stefanprodan.github.io/podinfo\n"
        "  valuesInline:\n"
        "    image: {repository: ghcr.io/stefanprodan/podinfo, tag: 6.9.1}\n"
        "components: [../mirror]\n"
        "images:\n"
        "- name: mirror.example.com/podinfo\n"
        "  newTag: 6.9.2\n"
    )
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
        "- name: ghcr.io/stefanprodan/podinfo\n  newName: mirror.example.com/podinfo\n"
    )
    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "kustomization.yaml").write_text(
        "resources: [../app]\nimages:\n- name: mirror.example.com/podinfo\n  digest: sha256:"
        + "a" * 64
        + "\n"
    )
    tree = _tree(tmp_path)
    app = str(tmp_path / "app" / "kustomization.yaml")
    steps = [
        (str(tmp_path / "mirror" / "kustomization.yaml"), "ghcr.io/stefanprodan/podinfo:6.9.1"),
        (app, "mirror.example.com/podinfo:6.9.1"),
        (str(tmp_path / "prod" / "kustomization.yaml"), "mirror.example.com/podinfo:6.9.2"),
    ]
    for path, before in steps:
        outcome = tree.outcome(path, 0)
        assert [(m.before, m.chart_value, m.field_path, m.span.line) for m in outcome.matches] == [
            (before, True, "helmCharts[0].valuesInline.image", 5)
        ]
    # The chart renders more than its valuesInline: an entry that matches none is not judged.
    assert tree.outcome(app, 0).unknown[0].endswith("(only valuesInline is read)")
    # What the app's own build deploys, and which entries wrote it (the overlay's is not one).
    ((start, (deployed, writers)),) = tree.chart_values_rewritten(app).items()
    assert deployed == "mirror.example.com/podinfo:6.9.2"
    assert [(os.path.basename(os.path.dirname(p)), i) for p, i in writers] == [
        ("mirror", 0),
        ("app", 0),
    ]
    assert (tmp_path / "app" / "kustomization.yaml").read_text()[start:].startswith("image:")


def test_a_base_composed_without_its_leading_and_trailing_documents_keeps_its_offsets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base is composed from its first document that can hold an image field to its last
    (`document_filter.composed_stretch`): what entries match is where the text writes it, as
    when every blanked document is given to the composer."""
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {greeting: 'ünï ☃'}\n---\n"
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: crd}\nspec: {containers: []}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - {name: a, image: 'nginx:1.25'}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n"
    )
    (tmp_path / "objects.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [objects.yaml]\nimages:\n- {name: nginx, newName: mirror/nginx}\n"
    )

    def matches() -> list[tuple[str, Span, str]]:
        tree = _tree(tmp_path)
        return [
            (match.before, match.span, match.after)
            for _, _, outcome in tree.entries_in_build_order(str(tmp_path))
            for match in outcome.matches
        ]

    stretch = matches()
    assert [(before, after) for before, _, after in stretch] == [
        ("nginx:1.25", "mirror/nginx:1.25")
    ]
    span = stretch[0][1]
    assert text[span.start : span.end] == "'nginx:1.25'"
    assert span.line == text[: span.start].count("\n") + 1
    monkeypatch.setattr(document_filter, "composed_stretch", lambda text, ranges: (0, len(text)))
    assert matches() == stretch
