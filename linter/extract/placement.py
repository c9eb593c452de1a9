"""A pod's node placement read from its spec: `nodeSelector` and required node affinity on the
nodes' `kubernetes.io/os` and `kubernetes.io/arch` labels (and their deprecated
`beta.kubernetes.io/` spellings).

The `nodeSelector` must match, and so must one of the `nodeSelectorTerms` of
`affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution` (terms are ORed, the
expressions of a term ANDed). Preferred affinity and tolerations do not bind, so they do not
count. `matchFields` name nodes, not platforms: ignored. `imglint.placement` says which
platforms the result means.

    placement = read_placement(pod_keys)           # None: no platform demand
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

from imglint import records
from imglint.documents import mapping_keys, scalar_text
from imglint.sites import NodePlacement, PlatformTerm

OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")
ARCH_LABELS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")


def read_placement(pod_keys: dict[str, Node]) -> NodePlacement | None:
    """The pod's platform demands, or None when it makes none."""
    selector = PlatformTerm()
    said: list[str] = []
    node_selector = pod_keys.get("nodeSelector")
    if isinstance(node_selector, MappingNode):
        shown: list[str] = []
        for key, value in mapping_keys(node_selector).items():
            text = scalar_text(value)
            if text is None or key not in OS_LABELS + ARCH_LABELS:
                continue
            selector = _with(selector, key, "In", (text,))
            shown.append(f"{key}: {text}")
        if shown:
            said.append("nodeSelector " + ", ".join(shown))
    terms, affinity_said = _required_affinity(pod_keys.get("affinity"))
    if affinity_said:
        said.append("required node affinity " + affinity_said)
    if not said:
        return None
    if terms is None:
        combined: tuple[PlatformTerm, ...] = (selector,)
    else:
        combined = tuple(_both(selector, term) for term in terms)
    placement = NodePlacement(terms=combined, source=" and ".join(said))
    # A run keeps every pod's placement, and most pods of a set say the same thing: one (frozen)
    # object for equal ones, up to a bound that a hostile input of distinct ones cannot grow.
    known = _KNOWN.get(placement)
    if known is None and len(_KNOWN) < _MAX_KNOWN:
        known = _KNOWN[placement] = placement
    return known if known is not None else placement


_KNOWN: dict[NodePlacement, NodePlacement] = {}
_MAX_KNOWN = 1024


def _required_affinity(node: Node | None) -> tuple[tuple[PlatformTerm, ...] | None, str]:
    """The node selector terms' platform parts (None: no required node affinity), and words."""
    if not isinstance(node, MappingNode):
        return None, ""
    node_affinity = mapping_keys(node).get("nodeAffinity")
    if not isinstance(node_affinity, MappingNode):
        return None, ""
    required = mapping_keys(node_affinity).get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, MappingNode):
        return None, ""
    selector_terms = mapping_keys(required).get("nodeSelectorTerms")
    if not isinstance(selector_terms, SequenceNode):
        return None, ""
    terms: list[PlatformTerm] = []
    words: list[str] = []
    platform_demand = False
    for item in selector_terms.value:
        if not isinstance(item, MappingNode):
            continue
        term = PlatformTerm()
        shown: list[str] = []
        possible = True
        expressions = mapping_keys(item).get("matchExpressions")
        for expression in expressions.value if isinstance(expressions, SequenceNode) else []:
            if not isinstance(expression, MappingNode):
                continue
            fields = mapping_keys(expression)
            key = scalar_text(fields.get("key"))
            operator = scalar_text(fields.get("operator"))
            if key not in OS_LABELS + ARCH_LABELS or operator is None:
                continue
            values_node = fields.get("values")
            values = tuple(
                text
                for value in (values_node.value if isinstance(values_node, SequenceNode) else [])
                if (text := scalar_text(value)) is not None
            )
            if operator == "DoesNotExist":
                possible = False  # every node has these labels: the term matches none
            elif operator in ("In", "NotIn"):
                term = _with(term, key, operator, values)
            else:
                continue  # Exists: any value
            platform_demand = True
            shown.append(f"{key} {operator}" + (f" [{', '.join(values)}]" if values else ""))
        if possible:
            terms.append(term)
        if shown:
            words.append(", ".join(shown))
    if not platform_demand:
        return None, ""
    return tuple(terms), " or ".join(words)


def _with(term: PlatformTerm, key: str, operator: str, values: tuple[str, ...]) -> PlatformTerm:
    values = tuple(v.strip().lower() for v in values)
    if key in OS_LABELS:
        if operator == "In":
            os_in = values if term.os_in is None else tuple(v for v in term.os_in if v in values)
            return records.replace(term, os_in=os_in)
        return records.replace(term, os_not_in=term.os_not_in + values)
    if operator == "In":
        arch_in = values if term.arch_in is None else tuple(v for v in term.arch_in if v in values)
        return records.replace(term, arch_in=arch_in)
    return records.replace(term, arch_not_in=term.arch_not_in + values)


def _both(a: PlatformTerm, b: PlatformTerm) -> PlatformTerm:
    """A node must match both (the nodeSelector and one affinity term)."""
    term = a
    if b.os_in is not None:
        term = _with(term, OS_LABELS[0], "In", b.os_in)
    if b.arch_in is not None:
        term = _with(term, ARCH_LABELS[0], "In", b.arch_in)
    return records.replace(
        term,
        os_not_in=term.os_not_in + b.os_not_in,
        arch_not_in=term.arch_not_in + b.arch_not_in,
    )
