"""The seam for finding images: pod sites' field paths and identity, object and file extractors
(claims, never-searched kinds), component spans for findings, and the fixer's rewrite hook.

The extractors here are small stand-ins written for the test (a custom kind with `steps`, a
values file): the real ones (Tekton, kustomize, Helm...) have their own tests.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from yaml.nodes import MappingNode, Node, SequenceNode

from imglint import extract
from imglint.config import from_mapping
from imglint.context import Context
from imglint.documents import mapping_keys
from imglint.engine import lint
from imglint.extract.sink import FileExtractor, FoundObject, ObjectExtractor, Sink, node_span
from imglint.fix import run_fixes
from imglint.manifests import Manifests, load
from imglint.sites import (
    CannotRewrite,
    ImageSite,
    K8sObject,
    PullSecretHolder,
    SiteIdentity,
    ValueChange,
)
from imglint.sources import Source

FIXTURES = Path(__file__).parent / "fixtures"


def load_text(text: str, path: str = "m.yaml") -> Manifests:
    return load([Source(path, textwrap.dedent(text))])


# -- pod sites ---------------------------------------------------------------------------------


def test_pod_sites_know_their_field_path_and_origin() -> None:
    result = load([Source("w.yaml", (FIXTURES / "workloads" / "all-kinds.yaml").read_text())])
    paths = {(s.obj.name, s.field_path) for s in result.sites}
    assert {
        ("pod", "spec.containers[0].image"),
        ("pod", "spec.initContainers[0].image"),
        ("pod", "spec.ephemeralContainers[0].image"),
        ("pod", "spec.volumes[0].image.reference"),
        ("deploy", "spec.template.spec.containers[0].image"),
        ("cron", "spec.jobTemplate.spec.template.spec.containers[0].image"),
        ("listed-pod", "spec.containers[0].image"),  # inside its List item, not the List
        ("nested-list", "spec.template.spec.containers[0].image"),
    } <= paths
    assert {s.origin for s in result.sites} == {"pod"}


def test_second_container_and_generate_name() -> None:
    result = load_text(
        """\
        apiVersion: batch/v1
        kind: Job
        metadata:
          generateName: migrate-
        spec:
          template:
            spec:
              containers:
                - {name: a, image: "a:1"}
                - {name: b, image: "b:1"}
        """
    )
    assert [s.field_path for s in result.sites] == [
        "spec.template.spec.containers[0].image",
        "spec.template.spec.containers[1].image",
    ]
    obj = result.sites[0].obj
    assert (obj.name, obj.generate_name, obj.group) == (None, "migrate-", "batch")


def test_pod_site_identity_is_kind_namespace_name_and_container() -> None:
    """Baselines and SARIF fingerprints written before keep matching: the identity of a pod
    site is exactly what they were keyed by."""
    result = load_text(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: prod}
        spec:
          template:
            spec:
              containers: [{name: app, image: "nginx:latest"}]
        """
    )
    (site,) = result.sites
    assert site.identity == SiteIdentity("Deployment", "prod", "web", "app")
    config = from_mapping({}, "test")
    (finding, *_) = lint(result.sites, Context(objects=result.objects), config).findings
    assert (finding.kind, finding.namespace, finding.object, finding.container) == (
        "Deployment",
        "prod",
        "web",
        "app",
    )
    assert finding.span == site.span  # a pod site is one scalar: every finding sits on it


# -- object extractors -------------------------------------------------------------------------

BUILDER = """\
apiVersion: build.example.com/v1
kind: Builder
metadata: {name: build, namespace: ci}
spec:
  steps:
    - name: compile
      image: golang:1.22
  sidecar:
    containers:             # pod-spec-like, but the Builder extractor owns it
      - name: helper
        image: busybox:1.36
  template:
    spec:
      containers:
        - name: runner
          image: example.com/runner:1
"""


def _builder(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    if not isinstance(spec, MappingNode):
        return
    spec_keys = mapping_keys(spec)
    holder = PullSecretHolder(found.obj, [], None, found.obj.line, known=False)
    sidecar = spec_keys.get("sidecar")
    if isinstance(sidecar, MappingNode):
        sink.claim(sidecar)
        spec_keys["containers"] = mapping_keys(sidecar)["containers"]
    for field in ("steps", "containers"):
        items = spec_keys.get(field)
        if not isinstance(items, SequenceNode):
            continue
        sink.claim(items)
        for index, item in enumerate(items.value):
            image = mapping_keys(item).get("image") if isinstance(item, MappingNode) else None
            if image is not None:
                sink.scalar_site(
                    image,
                    holder,
                    field=field,
                    field_path=f"spec.{field}[{index}].image",
                    origin="resource-field",
                    label=f"Builder {found.obj.name}, {field} {index}",
                    key=f"{field}[{index}]",
                )


BUILDER_EXTRACTOR = ObjectExtractor(
    "builder", frozenset({("build.example.com", "Builder")}), _builder
)


def test_an_object_extractor_claims_what_it_owns(monkeypatch: pytest.MonkeyPatch) -> None:
    without = load_text(BUILDER)
    assert [s.image for s in without.sites] == ["busybox:1.36", "example.com/runner:1"]

    monkeypatch.setattr(extract, "EXTRACTORS_BY_KIND", extract.by_kind((BUILDER_EXTRACTOR,)))
    result = load_text(BUILDER)
    found = [(s.span.line, s.image, s.origin, s.field_path) for s in result.sites]
    assert found == [
        (7, "golang:1.22", "resource-field", "spec.steps[0].image"),
        (11, "busybox:1.36", "resource-field", "spec.containers[0].image"),  # once, claimed
        (16, "example.com/runner:1", "pod", "spec.template.spec.containers[0].image"),
    ]
    step = result.sites[0]
    assert step.identity == SiteIdentity("Builder", "ci", "build", "steps[0]")
    assert step.label == "Builder build, steps 0"
    assert result.errors == []


def test_a_group_wildcard_selects_every_kind_of_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    wildcard = ObjectExtractor("builder", frozenset({("build.example.com", "*")}), _builder)
    monkeypatch.setattr(extract, "EXTRACTORS_BY_KIND", extract.by_kind((wildcard,)))
    result = load_text(BUILDER.replace("kind: Builder", "kind: OtherBuilder"))
    assert [s.origin for s in result.sites] == ["resource-field", "resource-field", "pod"]


def test_a_site_whose_pull_secrets_are_unknown_gets_no_pull_secret_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(extract, "EXTRACTORS_BY_KIND", extract.by_kind((BUILDER_EXTRACTOR,)))
    result = load_text(BUILDER.replace("golang:1.22", "registry.corp.example/golang:1.22"))
    config = from_mapping({"private-registries": ["registry.corp.example"]}, "test")
    ctx = Context(objects=result.objects, settings=config.rule_settings)
    codes = {f.code for f in lint(result.sites, ctx, config).findings}
    assert "IMG006" not in codes


def test_never_searched_groups_and_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = """\
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata: {name: images}
    spec:
      rules:
        - validate:
            pattern:
              spec:
                containers:
                  - image: "!*:latest"
    """
    assert load_text(policy).sites == []  # kyverno.io is in the list
    monkeypatch.setattr(extract, "NEVER_SEARCHED_GROUPS", frozenset())
    assert len(load_text(policy).sites) == 1  # searched like any custom resource without it
    monkeypatch.setattr(
        extract, "NEVER_SEARCHED_KINDS", frozenset({("kyverno.io", "ClusterPolicy")})
    )
    assert load_text(policy).sites == []
    # Built-in data kinds are skipped only in built-in groups.
    config_map = "apiVersion: v1\nkind: ConfigMap\ndata:\n  containers: [{image: 'a:1'}]\n"
    assert load_text(config_map).sites == []
    assert len(load_text(config_map.replace("v1", "example.com/v1", 1)).sites) == 1


# -- file extractors, components and the rewrite hook ------------------------------------------

VALUES = """\
# a values file: no apiVersion, no kind
image:
  repository: nginx
  tag: latest
"""


def _values(document: Node, sink: Sink) -> None:
    if not isinstance(document, MappingNode):
        return
    image = mapping_keys(document).get("image")
    if not isinstance(image, MappingNode):
        return
    parts = mapping_keys(image)
    repository, tag = parts["repository"], parts["tag"]
    obj = K8sObject("HelmValues", "", None, None, {}, sink.source.path, 1)
    site = ImageSite(
        path=sink.source.path,
        span=node_span(image),
        image=f"{repository.value}:{tag.value}",
        holder=PullSecretHolder(obj, [], None, 1, known=False),
        container=None,
        field="image",
        pull_policy=None,
        origin="helm-values",
        field_path="image",
        components={"repository": node_span(repository), "tag": node_span(tag)},
        rewrite=_rewrite_values,
    )
    sink.add(site, image)


def _rewrite_values(site: ImageSite, value: str) -> Sequence[ValueChange]:
    name, _, tag = value.rpartition(":")
    if "@" in value or not name:
        raise CannotRewrite("a digest needs a digest key")
    return [
        ValueChange(site.components["repository"], name),
        ValueChange(site.components["tag"], tag),
    ]


VALUES_EXTRACTOR = FileExtractor("values", lambda s: s.path.endswith("values.yaml"), _values)


def test_a_file_extractor_reads_files_that_are_no_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_text(VALUES, "values.yaml").sites == []
    monkeypatch.setattr(extract, "FILE_EXTRACTORS", (VALUES_EXTRACTOR,))
    assert load_text(VALUES, "other.yaml").sites == []  # not accepted: not read as values
    (site,) = load_text(VALUES, "values.yaml").sites
    assert (site.image, site.origin, site.span.line, site.reference is not None) == (
        "nginx:latest",
        "helm-values",
        3,
        True,
    )
    assert site.identity == SiteIdentity("HelmValues", None, None, "image")


def test_findings_land_on_the_component_their_rule_concerns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(extract, "FILE_EXTRACTORS", (VALUES_EXTRACTOR,))
    result = load_text(VALUES, "values.yaml")
    findings = lint(result.sites, Context(), from_mapping({}, "test")).findings
    lines = {(f.code, f.span.line, f.span.column) for f in findings}
    # IMG002 is about the tag: on `tag:`; IMG004 about the registry, which is not written
    # separately: on `repository:`; IMG005 about the digest, not written either: on `tag:`.
    assert lines == {("IMG002", 4, 8), ("IMG004", 3, 15)}
    config = from_mapping({"extend-select": ["IMG005"]}, "test")
    (unpinned,) = [f for f in lint(result.sites, Context(), config).findings if f.code == "IMG005"]
    assert (unpinned.span.line, unpinned.span.column) == (4, 8)


def test_a_site_that_is_not_one_scalar_supplies_its_own_edits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(extract, "FILE_EXTRACTORS", (VALUES_EXTRACTOR,))
    path = tmp_path / "values.yaml"
    path.write_text(VALUES)
    source = Source(str(path), VALUES, file_path=str(path))
    result = load([source])
    outcome = run_fixes([source], result.sites, explicit_registry=True)
    assert outcome.errors == []
    assert path.read_text() == VALUES.replace(
        "repository: nginx", "repository: docker.io/library/nginx"
    )


def test_the_site_model_and_the_rules_load_without_the_reader() -> None:
    """Rules and renderers see sites, never the reader or a YAML library; the engine (which
    reads configuration, YAML included) never the reader either."""
    reader = "'imglint.manifests', 'imglint.documents', 'imglint.extract'"
    probe = (
        "import sys; import imglint.sites, imglint.rules, imglint.report; "
        f"print(','.join(m for m in ({reader}, 'yaml') if m in sys.modules)); "
        "import imglint.engine; "
        f"print(','.join(m for m in ({reader},) if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["", ""]
