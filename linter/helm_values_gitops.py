"""Helm values embedded in GitOps objects: where they are and which chart they are for.

- Flux `HelmRelease` (`helm.toolkit.fluxcd.io`): `spec.values`;
- Argo CD `Application` (`argoproj.io`): `spec.source.helm.valuesObject` and
  `spec.source.helm.values` (a YAML string), and the same under each of `spec.sources[]`;
- kustomize `helmCharts[].valuesInline` in a kustomization.

The chart's templates are not at hand (it lives in a chart repository or an OCI registry), so the
images found there say what was assumed about how the chart renders them. Argo CD's `values`
string is read only when written as a literal block (`values: |`): then every character of the
embedded YAML sits at a known place in the file, so findings point at it and --pin can edit it.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.documents import mark_index
from imglint.records import dataclass

STR_TAG = "tag:yaml.org,2002:str"


@dataclass
class EmbeddedValues:
    """One values tree inside an object or kustomization."""

    root: Node | None  # None when it could not be read (problem says why)
    field_prefix: str  # where the tree sits: `spec.values`, `spec.sources[1].helm.valuesObject`
    context: str  # for the assumption the images state: "Flux HelmRelease shop (chart podinfo)"
    problem: str | None = None
    node: Node | None = None  # where to report the problem


def child(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    found = None
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found = value
    return found


def _text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag == STR_TAG:
        return str(node.value)
    return None


def flux_helm_release(node: MappingNode, name: str | None) -> list[EmbeddedValues]:
    spec = child(node, "spec")
    values = child(spec, "values")
    if not isinstance(values, MappingNode):
        return []
    chart = _text(child(child(child(spec, "chart"), "spec"), "chart"))
    if chart is None:
        chart = _text(child(child(spec, "chartRef"), "name"))
    what = f"Flux HelmRelease {name or '(unnamed)'}" + (f" (chart {chart})" if chart else "")
    return [EmbeddedValues(values, "spec.values", what)]


def argo_application(node: MappingNode, name: str | None, text: str) -> list[EmbeddedValues]:
    spec = child(node, "spec")
    sources: list[tuple[str, Node]] = []
    single = child(spec, "source")
    if isinstance(single, MappingNode):
        sources.append(("spec.source", single))
    many = child(spec, "sources")
    if isinstance(many, SequenceNode):
        for index, item in enumerate(many.value):
            if isinstance(item, MappingNode):
                sources.append((f"spec.sources[{index}]", item))
    found: list[EmbeddedValues] = []
    for where, source in sources:
        helm = child(source, "helm")
        if not isinstance(helm, MappingNode):
            continue
        chart = _text(child(source, "chart")) or _text(child(source, "path"))
        what = f"Argo CD Application {name or '(unnamed)'}" + (f" (chart {chart})" if chart else "")
        values_object = child(helm, "valuesObject")
        if isinstance(values_object, MappingNode):
            found.append(EmbeddedValues(values_object, f"{where}.helm.valuesObject", what))
        values = child(helm, "values")
        if isinstance(values, ScalarNode) and values.tag == STR_TAG and values.value.strip():
            found.append(_values_string(values, text, f"{where}.helm.values", what))
    return found


def kustomize_helm_charts(node: Node) -> list[EmbeddedValues]:
    charts = child(node, "helmCharts")
    if not isinstance(charts, SequenceNode):
        return []
    found: list[EmbeddedValues] = []
    for index, chart in enumerate(charts.value):
        inline = child(chart, "valuesInline")
        if not isinstance(inline, MappingNode):
            continue
        name = _text(child(chart, "name"))
        what = "kustomize helmCharts" + (f" (chart {name})" if name else "")
        found.append(EmbeddedValues(inline, f"helmCharts[{index}].valuesInline", what))
    return found


def _values_string(node: ScalarNode, text: str, prefix: str, what: str) -> EmbeddedValues:
    """Argo CD's `values: |` string read as YAML, at its place in the file."""
    if node.style != "|":
        return EmbeddedValues(
            None,
            prefix,
            what,
            "values string not read: imglint reads it only as a literal block (`values: |`)",
            node,
        )
    # Blank out everything but the block's content, keeping every character's offset, line and
    # column: the content, still indented, is a YAML document at the very same positions.
    content_start = text.find("\n", mark_index(node.start_mark)) + 1
    content_end = mark_index(node.end_mark)
    if content_start <= 0 or content_end <= content_start:
        return EmbeddedValues(None, prefix, what, None, node)
    blanked = _blank(text[:content_start]) + text[content_start:content_end]
    from imglint.helm_values_chart import compose_text

    root, problem = compose_text(blanked)
    if problem is not None:
        return EmbeddedValues(None, prefix, what, f"values string is not YAML: {problem}", node)
    return EmbeddedValues(root, prefix, what)


def _blank(text: str) -> str:
    return "".join(c if c in "\r\n" else " " for c in text)
