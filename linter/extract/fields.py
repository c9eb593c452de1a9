"""The image fields the configuration names (`image-fields`), and the ones nobody named.

`extract` reads, in an object whose group (or apiVersion) and kind an `image-fields` entry
names, the scalars at the entry's path (`spec.steps[].image`: every step's `image`). Each is a
`resource-field` site; its pull secrets are unknown (the entry does not say which pod pulls it),
so the pull-secret rules leave it alone. A field that a built-in extractor or the pod-spec walker
already reports stays theirs: it is not reported twice.

`survey` looks, in an object of a kind no extractor knows, for image-like fields: a string under
a key named `image` that parses as a reference. They are never findings: `-v` lists them with a
hint to name them in `image-fields`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.documents import STR_TAG, mark_index
from imglint.extract.resources import ResourceSites, keys_of, unknown_holder
from imglint.extract.sink import FoundObject, Sink
from imglint.image_fields import ImageField
from imglint.placeholders import placeholder_kind
from imglint.reference import InvalidReference, parse

# The keys `survey` looks under (an object of an unknown kind without them has nothing to note).
SURVEY_KEY_NAMES = frozenset({"image"})
# Image-like fields noted per object, at most: a generated object with thousands of them says
# enough with the first few.
MAX_NOTED = 20


def extract(found: FoundObject, sink: Sink, fields: tuple[ImageField, ...]) -> None:
    """Runs after every other extractor of the object (the pod-spec walker included), so a
    field one of them reads keeps its meaning there (a pod's pull secrets, a parameter)."""
    obj = found.obj
    taken: set[int] | None = None
    for entry in fields:
        if not entry.matches(obj.group, obj.api_version, obj.kind):
            continue
        if taken is None:
            taken = {site.span.start for site in sink.sites if site.obj is obj}
        sites = ResourceSites(found, sink, default_registry=entry.default_registry)
        pull = unknown_holder(obj, found.node)
        for node, path in _walk(found.node, entry):
            if mark_index(node.start_mark) in taken:
                continue  # another extractor (or an earlier entry) has it
            taken.add(mark_index(node.start_mark))
            sites.image(node, pull, path=path, part=path, field=entry.steps[-1].key)


def _walk(top: MappingNode, entry: ImageField) -> Iterator[tuple[Node, str]]:
    """The nodes at the entry's path, with their concrete paths (`spec.steps[2].image`)."""
    current: list[tuple[Node, str]] = [(top, "")]
    for step in entry.steps:
        following: list[tuple[Node, str]] = []
        for node, path in current:
            value = keys_of(node).get(step.key)
            if value is None:
                continue
            found = [(value, f"{path}.{step.key}" if path else step.key)]
            for _level in range(step.lists):
                found = [
                    (item, f"{where}[{index}]")
                    for parent, where in found
                    if isinstance(parent, SequenceNode)
                    for index, item in enumerate(parent.value)
                ]
            following.extend(found)
        current = following
    yield from current


def survey(found: FoundObject, sink: Sink) -> list[str]:
    """Notes on image-like fields of an object no extractor knows (see the module docstring)."""
    notes: list[str] = []
    written = {site.span.start for site in sink.sites if site.obj is found.obj}
    seen: set[int] = set()
    stack: list[tuple[Node, str]] = [
        (value, key) for key, value in reversed(found.keys.items()) if key != "status"
    ]
    while stack and len(notes) < MAX_NOTED:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            keys = keys_of(node)
            image = keys.get("image")  # SURVEY_KEY_NAMES
            if (
                isinstance(image, ScalarNode)
                and image.tag == STR_TAG
                and mark_index(image.start_mark) not in written
                and _looks_like_reference(image.value)
            ):
                notes.append(_note(found, image, f"{path}.image"))
            stack.extend((value, f"{path}.{key}") for key, value in reversed(keys.items()))
        elif isinstance(node, SequenceNode):
            stack.extend(
                (item, f"{path}[{index}]") for index, item in reversed(list(enumerate(node.value)))
            )
    return notes


def _note(found: FoundObject, image: ScalarNode, path: str) -> str:
    obj = found.obj
    where = f"{obj.path}:{image.start_mark.line + 1}"
    what = f"{obj.kind} {obj.name}" if obj.name else obj.kind
    group = obj.group or '""'
    return (
        f"{where}: {what} has an image-like field {path} ({image.value!r}) that imglint does not "
        f"read; to lint it, add to image-fields: "
        f"{{group: {group}, kind: {obj.kind}, path: {_pattern(path)}}}"
    )


def _looks_like_reference(value: str) -> bool:
    if not value or placeholder_kind(value) is not None:
        return False
    try:
        parse(value)
    except InvalidReference:
        return False
    return True


def _pattern(path: str) -> str:
    """`spec.steps[2]` -> `spec.steps[]`: the path syntax image-fields takes."""
    return re.sub(r"\[\d+\]", "[]", path)
