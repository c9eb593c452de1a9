"""The generic pod-spec walker: images of pod specs found anywhere in an object.

A pod spec is a mapping with a `containers` (or `initContainers`) list of mappings. That finds
the built-in workloads (Pod `spec`, `spec.template.spec`, CronJob's job template) and custom
resources (Argo Rollouts, Knative Services, operators' pod templates) with one rule. It runs
after every other object extractor and skips the nodes they claimed.
"""

from __future__ import annotations

from collections.abc import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.documents import mapping_keys, scalar_text
from imglint.extract.sink import FoundObject, ObjectExtractor, Sink
from imglint.pull_secrets import reference_names
from imglint.sites import PullSecretHolder

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from imglint.sites import NodePlacement

# A path inside the object as a chain of (parent, key or index): built per node walked, turned
# into text (`spec.template.spec`) only for the pod specs found.
_Path = tuple["_Path", str | int] | None


def extract(found: FoundObject, sink: Sink) -> None:
    for pod_keys, pod_node, path in _pod_specs(found.keys, sink.claimed):
        _pod(found, pod_node, pod_keys, path_text(path), sink)


# A pod spec is a mapping with one of these lists (its volumes are read only beside them).
_POD_SPEC_KEYS = ("containers", "initContainers")

EXTRACTOR = ObjectExtractor(
    name="pod specs", kinds=None, extract=extract, key_names=frozenset(_POD_SPEC_KEYS)
)


def _placement(pod_keys: dict[str, Node]) -> NodePlacement | None:
    """`read_placement`, whose module loads only for a pod that says where it runs (it reads
    nothing but these two keys)."""
    if "nodeSelector" not in pod_keys and "affinity" not in pod_keys:
        return None
    from imglint.extract.placement import read_placement

    return read_placement(pod_keys)


def _pod(
    found: FoundObject,
    pod_node: MappingNode,
    pod_keys: dict[str, Node],
    pod_path: str,
    sink: Sink,
) -> None:
    service_account = scalar_text(pod_keys.get("serviceAccountName")) or scalar_text(
        pod_keys.get("serviceAccount")
    )
    holder = PullSecretHolder(
        obj=found.obj,
        image_pull_secrets=reference_names(pod_keys.get("imagePullSecrets")),
        service_account=service_account,
        line=pod_node.start_mark.line + 1,
        placement=_placement(pod_keys),
    )
    prefix = pod_path + "." if pod_path else ""
    for field_name in ("initContainers", "containers", "ephemeralContainers"):
        # An aliased container (`[*c, *c]`, or one list shared by two pod specs of the object)
        # is one container of the object: reported once.
        for index, container, ckeys in sink.take_items(pod_keys.get(field_name)):
            image = ckeys.get("image")
            if image is not None:
                sink.reading.check_ambiguous(container, "image", image, "container")
                sink.scalar_site(
                    image,
                    holder,
                    field=field_name,
                    field_path=f"{prefix}{field_name}[{index}].image",
                    container=scalar_text(ckeys.get("name")),
                    pull_policy=scalar_text(ckeys.get("imagePullPolicy")),
                )
    for index, _, vkeys in sink.take_items(pod_keys.get("volumes")):
        source = vkeys.get("image")
        if isinstance(source, MappingNode):
            skeys = mapping_keys(source)
            reference = skeys.get("reference")
            if reference is not None:
                sink.reading.check_ambiguous(source, "reference", reference, "image volume")
                sink.scalar_site(
                    reference,
                    holder,
                    field="volumes",
                    field_path=f"{prefix}volumes[{index}].image.reference",
                    container=scalar_text(vkeys.get("name")),
                    pull_policy=scalar_text(skeys.get("pullPolicy")),
                )


def _pod_specs(
    top: dict[str, Node], seen: set[int]
) -> Iterator[tuple[dict[str, Node], MappingNode, _Path]]:
    """Find pod specs anywhere below an object's top level (except metadata and status).

    Never expands a shared (aliased) node twice, so an alias bomb costs nothing. `seen` holds
    the ids of nodes not to walk (claimed by other extractors) and collects those walked.
    """
    # The top level is walked last key first, as it always was: which pod spec an aliased
    # container is reported under depends on the order. A scalar holds no pod spec: it is
    # only marked walked (most nodes are scalars; no path or stack entry is made for them).
    stack: list[tuple[Node, _Path]] = []
    for key, value in top.items():
        if key not in ("metadata", "status"):
            if isinstance(value, ScalarNode):
                seen.add(id(value))
            else:
                stack.append((value, (None, key)))
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            keys = mapping_keys(node)
            if _is_pod_spec(keys):
                yield keys, node, path
                continue
            for key, value in reversed(keys.items()):
                if isinstance(value, ScalarNode):
                    seen.add(id(value))
                else:
                    stack.append((value, (path, key)))
        elif isinstance(node, SequenceNode):
            items = node.value
            for index in range(len(items) - 1, -1, -1):
                item = items[index]
                if isinstance(item, ScalarNode):
                    seen.add(id(item))
                else:
                    stack.append((item, (path, index)))


def _is_pod_spec(keys: dict[str, Node]) -> bool:
    for field_name in _POD_SPEC_KEYS:
        value = keys.get(field_name)
        if isinstance(value, SequenceNode) and any(
            isinstance(item, MappingNode) for item in value.value
        ):
            return True
    return False


def path_text(path: _Path) -> str:
    """`spec.template.spec`, `spec.jobs[0].template`: a path chain as text."""
    parts: list[str] = []
    while path is not None:
        path, segment = path
        parts.append(f"[{segment}]" if isinstance(segment, int) else f".{segment}")
    return "".join(reversed(parts)).removeprefix(".")
