"""The manifest reader: every workload shape, positions, objects, bad input."""

from __future__ import annotations

import base64
import json
import os
import textwrap
from pathlib import Path

import pytest

from imglint import documents, manifests, sources
from imglint.manifests import Manifests

FIXTURES = Path(__file__).parent / "fixtures"


def load_text(text: str, path: str = "m.yaml") -> Manifests:
    source = sources.Source(path, textwrap.dedent(text))
    return manifests.load([source])


def test_every_workload_shape_is_found_with_its_object_and_position() -> None:
    collected = sources.collect([str(FIXTURES / "workloads" / "all-kinds.yaml")])
    result = manifests.load(collected.sources)
    found = [
        (s.span.line, s.span.column, s.obj.kind, s.obj.name, s.field, s.container, s.image)
        for s in result.sites
    ]
    assert found == [
        (11, 14, "Pod", "pod", "containers", "main", "nginx:1.25"),
        (15, 14, "Pod", "pod", "initContainers", "init", "busybox:1.36"),
        (18, 14, "Pod", "pod", "ephemeralContainers", "debug", "busybox:1.36-debug"),
        (22, 20, "Pod", "pod", "volumes", "models", "quay.io/example/models:v1"),
        (33, 16, "PodTemplate", "podtemplate", "containers", "main", "example.com/podtemplate:1"),
        (44, 18, "ReplicationController", "rc", "containers", "main", "example.com/rc:1"),
        (56, 18, "Deployment", "deploy", "containers", "main", "example.com/deploy:1"),
        (67, 18, "ReplicaSet", "rs", "containers", "main", "example.com/rs:1"),
        (78, 18, "StatefulSet", "sts", "containers", "main", "example.com/sts:1"),
        (89, 18, "DaemonSet", "ds", "containers", "main", "example.com/ds:1"),
        (100, 18, "Job", "job", "containers", "main", "example.com/job:1"),
        (114, 22, "CronJob", "cron", "containers", "main", "example.com/cron:1"),
        (126, 18, "Pod", "listed-pod", "containers", "main", "example.com/listed:1"),
        (139, 26, "Deployment", "nested-list", "containers", "main", "example.com/nested:1"),
        (150, 18, "Rollout", "rollout", "containers", "main", "example.com/rollout:1"),
        (160, 18, "Service", "knative", "containers", None, "example.com/knative:1"),
    ]
    assert result.errors == []


def test_pod_spec_details_are_kept() -> None:
    collected = sources.collect([str(FIXTURES / "workloads" / "all-kinds.yaml")])
    sites = manifests.load(collected.sources).sites
    pod_main, deploy = sites[0], sites[6]
    assert pod_main.obj.namespace == "ns1"
    assert pod_main.holder.image_pull_secrets == ("regcred",)
    assert pod_main.pull_policy == "IfNotPresent"
    assert deploy.holder.service_account == "builder"
    assert deploy.holder.image_pull_secrets == ()
    assert sites[3].pull_policy == "IfNotPresent"  # the image volume's pullPolicy


def test_span_covers_the_scalar_token_exactly() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - {name: a, image: 'nginx:1'}  # comment\n"
        '  - name: b\n    image: "é/x:1"\n'
        "  - name: c\n    image: plain:2\n"
    )
    result = manifests.load([sources.Source("m.yaml", text)])
    tokens = [text[s.span.start : s.span.end] for s in result.sites]
    assert tokens == ["'nginx:1'", '"é/x:1"', "plain:2"]
    assert [(s.span.line, s.span.column, s.span.end_column) for s in result.sites] == [
        (6, 22, 31),
        (8, 12, 19),
        (10, 12, 19),
    ]


def test_crlf_positions() -> None:
    text = "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: nginx:1\r\n"
    site = manifests.load([sources.Source("m.yaml", text)]).sites[0]
    assert (site.span.line, site.span.column) == (5, 12)
    assert text[site.span.start : site.span.end] == "nginx:1"


def test_non_kubernetes_documents_are_skipped_silently() -> None:
    result = load_text(
        """\
        image:
          repository: nginx
          tag: latest
        ---
        services:
          web: {image: "nginx:latest"}
        ---
        - just
        - a list
        ---
        a bare scalar
        """
    )
    assert result.sites == [] and result.errors == [] and result.object_count == 0


def test_custom_resource_pod_specs_are_found_generically() -> None:
    result = load_text(
        """\
        apiVersion: example.com/v1
        kind: Whatever
        metadata: {name: w}
        spec:
          deep:
            nested:
              podTemplate:
                spec:
                  containers:
                    - name: x
                      image: example.com/x:1
        """
    )
    assert [(s.obj.kind, s.image) for s in result.sites] == [("Whatever", "example.com/x:1")]


def test_crd_schemas_and_builtin_data_kinds_are_not_walked() -> None:
    result = load_text(
        """\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: c}
        spec:
          containers:
            - image: not-an-image-site
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cm}
        data:
          containers: "- image: x"
        """
    )
    assert result.sites == []


def test_placeholders_are_marked_not_parsed() -> None:
    result = load_text(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - {name: a, image: "{{ .image }}"}
            - {name: b, image: "${IMAGE}"}
            - {name: c, image: "ko://github.com/example/cmd"}
        """
    )
    assert [(s.placeholder, s.reference, s.error) for s in result.sites] == [
        ("template placeholder", None, None),
        ("variable placeholder", None, None),
        ("ko build reference", None, None),
    ]


def test_image_values_that_are_not_strings_are_input_errors() -> None:
    result = load_text(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - {name: a, image: 1.5}
            - {name: b, image: [x]}
            - {name: c, image: {x: y}}
            - {name: d, image: true}
            - {name: e, image: }
        """
    )
    assert [str(e) for e in result.errors] == [
        "m.yaml:6:24: image must be a string, not float '1.5' (quote it)",
        "m.yaml:7:24: image must be a string, not a list",
        "m.yaml:8:24: image must be a string, not a mapping",
        "m.yaml:9:24: image must be a string, not bool 'true' (quote it)",
    ]
    # An empty image is what the runtime would see: an invalid (empty) reference, not an error.
    assert [(s.container, s.image) for s in result.sites] == [("e", "")]


def test_service_accounts_and_pull_secrets_are_indexed() -> None:
    config = {"auths": {"ghcr.io": {"auth": base64.b64encode(b"user:s3cr3t-pw").decode()}}}
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    legacy = json.dumps({"https://index.docker.io/v1/": {"username": "a", "password": "b"}})
    result = load_text(
        f"""\
        apiVersion: v1
        kind: ServiceAccount
        metadata: {{name: builder, namespace: ci}}
        imagePullSecrets: [{{name: regcred}}]
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: regcred, namespace: ci}}
        type: kubernetes.io/dockerconfigjson
        data:
          .dockerconfigjson: {encoded}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: legacy}}
        type: kubernetes.io/dockercfg
        stringData:
          .dockercfg: '{legacy}'
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: broken}}
        type: kubernetes.io/dockerconfigjson
        data:
          .dockerconfigjson: "!!!"
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: opaque}}
        """
    )
    index = result.objects
    assert index.service_account("ci", "builder") == ["regcred"]
    regcred = index.secret("ci", "regcred")
    assert regcred is not None and regcred.keys == ("ghcr.io",)
    assert regcred.credentials == {"ghcr.io": ("user", "s3cr3t-pw")}
    assert "s3cr3t" not in repr(regcred)  # credentials never reach a repr
    legacy_secret = index.secret(None, "legacy")
    assert legacy_secret is not None and legacy_secret.keys == ("https://index.docker.io/v1/",)
    broken = index.secret(None, "broken")
    assert broken is not None and broken.error == ".dockerconfigjson is not valid base64"
    assert index.other_secrets == {(None, "opaque"): "Opaque"}


def test_alias_bomb_is_walked_without_expansion() -> None:
    lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: bomb}", "spec:"]
    lines.append('  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]')
    for level in range(1, 30):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"  a{level}: &a{level} [{refs}]")
    lines.append("  containers: [{name: x, image: 'nginx:1'}]")
    result = load_text("\n".join(lines) + "\n")
    assert [s.image for s in result.sites] == ["nginx:1"]


def test_deep_nesting_is_a_clean_error() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec: " + "[" * 10_000 + "]" * 10_000 + "\n"
    result = load_text(text)
    assert len(result.errors) == 1
    assert "nesting depth" in result.errors[0].message


def test_unparsable_yaml_names_file_and_line() -> None:
    result = load_text("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n   - a: [\n")
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.path == "m.yaml" and error.line == 6 and error.message.startswith("YAML: ")


def test_template_in_a_block_scalar_is_data_not_a_template() -> None:
    result = load_text(
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: chat}
        data:
          template: |
            {{- bos_token }}
            {{- "system" }}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers: [{name: a, image: "nginx:1"}]
        """
    )
    assert result.errors == [] and [s.image for s in result.sites] == ["nginx:1"]


@pytest.mark.parametrize("named", [True, False])
def test_helm_template_source_is_refused_with_a_hint(named: bool) -> None:
    text = "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\n{{- end }}\n"
    result = manifests.load([sources.Source("t.yaml", text, named=named)])
    assert result.sites == []
    if named:
        assert [e.message for e in result.errors] == [
            "looks like a template, not a manifest; render it first: "
            "`helm template CHART | imglint -`"
        ]
    else:
        assert result.errors == [] and result.notices[0].startswith("t.yaml: skipped")


def test_whole_corpus_style_json_file() -> None:
    collected = sources.collect([str(FIXTURES / "workloads" / "pod.json")])
    site = manifests.load(collected.sources).sites[0]
    assert (site.span.line, site.span.column, site.image) == (7, 33, "nginx:latest")


def test_multi_megabyte_file_is_read(tmp_path: Path) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec:\n  containers: [{image: 'a:1'}]\n"
    )
    blob = "x" * 4_000_000
    big = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: {blob}\n"
    path = tmp_path / "big.yaml"
    path.write_text("---\n".join([big] + [pod % i for i in range(2_000)]))
    assert os.path.getsize(path) > 4_000_000
    result = manifests.load(sources.collect([str(path)]).sources)
    assert len(result.sites) == 2_000 and result.errors == []


@pytest.mark.parametrize("named", [True, False])
def test_unparsable_json_without_any_object_is_skipped_only_when_found_in_a_folder(
    named: bool,
) -> None:
    tsconfig = '{\n  // JSON with comments\n  "compilerOptions": {"strict": true,}\n}\n'
    result = manifests.load([sources.Source("tsconfig.json", tsconfig, named=named)])
    if named:
        assert [e.path for e in result.errors] == ["tsconfig.json"]
    else:
        assert result.errors == []
        assert result.notices == ["tsconfig.json: skipped, not JSON and no Kubernetes object in it"]
    for path, text in (("b.json", '{"apiVersion": "v1", '), ("c.yaml", "spec: [\n")):
        broken = manifests.load([sources.Source(path, text, named=named)])
        assert [e.path for e in broken.errors] == [path]  # a broken manifest is always an error


def test_running_out_of_memory_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr("yaml.compose_all", exhausted)
    # (A Pod with containers: a document nothing reads is not composed at all.)
    result = load_text("apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n")
    assert [str(e) for e in result.errors] == [
        "m.yaml: too large to read in the memory available (48 characters)"
    ]


def test_documents_with_too_many_nodes_are_refused_before_composing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(documents, "MAX_NODES_PER_DOCUMENT", 50)
    small = "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: 'a:1'}]\n"
    big = "apiVersion: v1\nkind: ConfigMap\ndata: [" + ", ".join(["x"] * 60) + "]\n"
    result = load_text(small + "---\n" + big)
    assert [str(e) for e in result.errors] == [
        "m.yaml:5: a YAML document of more than 50 nodes is too large to read; split it"
    ]
    assert result.sites == []  # a file that fails is reported, never half linted


@pytest.mark.parametrize(
    "path",
    [
        "a.yaml",
        "./a.yaml",
        "k8s/a.yaml",
        "k8s/../k8s/./a.yaml",
        "k8s//a.yaml",
        "/tmp/x/a.yaml",
        "//tmp/x/a.yaml",
        "/a.yaml",
        "k8s/.hidden/a.yaml",
        "k8s/.../a.yaml",
        "k8s/sub./a.yaml",
        "k8s/./a.yaml",
        "k8s/sub/../a.yaml",
        "../a.yaml",
        "k8s///sub/a.yaml",
    ],
)
@pytest.mark.parametrize("at_root", [False, True])
def test_opened_by_keys_a_path_as_path_key_does(
    path: str, at_root: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`opened_by` keys each folder once and joins the name: the same key as path_key's
    (also where a folder's key is made without normpath, and from the root folder)."""
    from imglint.kustomize_tree import path_key
    from imglint.manifests import opened_by

    monkeypatch.chdir("/" if at_root else tmp_path)
    opened = opened_by({path_key(path): "group"})
    assert opened(path)
    assert not opened(path.replace("a.yaml", "b.yaml"))
    # Paths that name the same file another way, in a folder met before and one not.
    folder, name = os.path.split(path)
    for other in (os.path.join(folder, ".", name), os.path.join(folder, "x", "..", name)):
        assert opened(other) == (path_key(other) == path_key(path))
    assert not opened(os.path.join(folder, "elsewhere", name))


def test_opened_by_answers_as_path_key_for_many_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every path of a set against keys of some of them (files and folders, as settle_opens
    gives): the same answer as keying the path itself."""
    from imglint.kustomize_tree import path_key
    from imglint.manifests import opened_by

    monkeypatch.chdir(tmp_path)
    folders = ["", "a", "a/b", "./a", "a/./b", "a//b", "a/../a/b", ".x", "/abs", "/abs/c/"]
    paths = [os.path.join(folder, name) for folder in folders for name in ("k.yaml", "d.yaml")]
    opens = {path_key("a/b/k.yaml"): "g", path_key("a/b"): "g", path_key("/abs/c/d.yaml"): "g"}
    opens[path_key("k.yaml")] = "g"
    opened = opened_by(opens)
    for path in paths + paths:  # (and again, with every folder met)
        assert opened(path) == (path_key(path) in opens), path
