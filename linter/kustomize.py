"""What kustomize's image transformer writes: a pure model of kustomize v5's `images:` entries.

Modelled on kustomize v5 (`api/filters/imagetag`, `api/internal/image`; v5.5 to v5.8 behave
alike here) and checked against `kubectl kustomize` in tests/test_kustomize_model.py:

- **Matching**: an entry applies to an image value when `^NAME(:TAG)?(@sha256:DIGEST)?$`
  matches it, with NAME the entry's `name` used *as a regular expression* (Go's RE2 syntax).
  So the match is against the value as the base writes it: `redis` matches `redis`,
  `redis:7` and `redis@sha256:...`, never `docker.io/library/redis:7`; a `.` in the name
  matches any character (`a.c` matches `abc`); a name with a tag (`nginx:1.0`) matches that
  tag only. A name that is no valid regular expression matches nothing (kustomize up to v5.8
  crashes on it).
- **Rewriting** (`newName`, `newTag`, `digest`, `tagSuffix`; an empty string counts as unset):
  the value is split into name, tag and digest (at the first `:` or `@` after the first `/`);
  `newName` replaces the name; then `newTag` and `digest` together write `name:tag@digest`,
  `newTag` alone drops a digest, `digest` alone drops the tag, and `tagSuffix` (only when
  neither is set) appends to the tag and drops a digest.
- **Where**: the transformer runs once over every `containers[]`/`initContainers[]` list found
  at any depth of an object (the "legacy" walk), then once per image field spec (defaults plus
  `configurations:`) that selects the field. A value selected by both is rewritten twice:
  idempotent for every field but `tagSuffix`, which kustomize really appends twice
  (`nginx:1.0` with `tagSuffix: -x` becomes `nginx:1.0-x-x` in a Deployment).
  `CustomResourceDefinition` objects are never touched; `ephemeralContainers` never are either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.records import dataclass

# kustomize's pattern around the entry's name (api/internal/image.IsImageMatched, v5.5-v5.8).
_TAG_AND_DIGEST = r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?"
# RE2 rejects what Python's `re` accepts: lookarounds, backreferences, possessive/atomic groups.
_NOT_RE2 = re.compile(r"\(\?[=!<>]|\(\?<[=!]|\\[1-9]|\(\?P=|[*+?}]\+")
# Names made only of these are literal but for `.` (which matches any character in both).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._/:@-]*")
# The fields the legacy walk rewrites, wherever they appear in an object.
LEGACY_FIELDS = ("containers", "initContainers")
# Never transformed (kustomize issue 890).
DENIED_KIND = "CustomResourceDefinition"


@dataclass(frozen=True)
class ImageOverride:
    """One `images:` entry, as kustomize reads it ("" where the entry does not set a field)."""

    name: str
    new_name: str = ""
    new_tag: str = ""
    digest: str = ""
    tag_suffix: str = ""

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_name or self.new_tag or self.digest or self.tag_suffix)

    @property
    def keeps_base_tag(self) -> bool:
        """True when what it writes depends on the tag (and digest) of the matched value."""
        return not (self.new_tag or self.digest)


@dataclass(frozen=True)
class FieldSpec:
    """One image field spec: a `/`-separated path (`spec/containers[]/image`), maybe per kind."""

    path: str
    kind: str = ""
    group: str = ""
    version: str = ""

    def selects(self, kind: str, api_version: str) -> bool:
        group, _, version = api_version.rpartition("/")
        return (
            (not self.kind or self.kind == kind)
            and (not self.group or self.group == group)
            and (not self.version or self.version == version)
        )


# kustomize's default image field specs. The volume ones came with kustomize v5.6
# (kubectl 1.33); older kustomize leaves `volumes[].image.reference` alone.
DEFAULT_FIELD_SPECS: tuple[FieldSpec, ...] = (
    FieldSpec("spec/containers[]/image"),
    FieldSpec("spec/initContainers[]/image"),
    FieldSpec("spec/template/spec/containers[]/image"),
    FieldSpec("spec/template/spec/initContainers[]/image"),
)
VOLUME_FIELD_SPECS: tuple[FieldSpec, ...] = (
    FieldSpec("spec/volumes[]/image/reference"),
    FieldSpec("spec/template/spec/volumes[]/image/reference"),
)


def split(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) exactly as kustomize splits a value (its `image.Split`).

    The tag starts at the first `:` after the first `/` (or anywhere when there is no `/`), the
    digest at the first `@`; a digest before any `:` leaves no tag.
    """
    slash = image.find("/")
    offset = slash if slash > 0 else 0
    rest = image[offset:]
    at = rest.find("@")
    colon = rest.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (colon < 0 or at < colon):
        return image[: offset + at], "", image[offset + at + 1 :]
    if at >= 0:
        return (
            image[: offset + colon],
            image[offset + colon + 1 : offset + at],
            image[offset + at + 1 :],
        )
    return image[: offset + colon], image[offset + colon + 1 :], ""


class UnmodelledName(ValueError):
    """An entry name whose regular expression Python cannot read as Go does."""


@lru_cache(maxsize=1024)
def name_pattern(name: str) -> re.Pattern[str] | None:
    """The compiled matcher for an entry's name; None when Go would reject it (matches nothing).

    Raises UnmodelledName for RE2-only syntax (`[[:alpha:]]`, `\\Q...\\E`, `\\z`, `\\pL`).
    """
    if _PLAIN_NAME.fullmatch(name):
        body = re.escape(name).replace(r"\.", ".")
    else:
        if _NOT_RE2.search(name):
            return None
        if "[:" in name or "\\Q" in name or "\\z" in name or "\\p" in name or "\\C" in name:
            raise UnmodelledName(name)
        body = name
    try:
        # Go's `$` is the end of the text; Python's also matches before a final newline.
        return re.compile("^" + body + _TAG_AND_DIGEST + r"\Z")
    except re.error:
        return None


def is_literal_name(name: str) -> bool:
    """Whether an entry's name is a plain image name (its only pattern character is `.`, which
    also matches itself), so that what it matches is written with this very name."""
    return _PLAIN_NAME.fullmatch(name) is not None


def matches(image: str, name: str) -> bool:
    """Whether an entry named `name` applies to the image value `image` (IsImageMatched)."""
    pattern = name_pattern(name)
    return pattern is not None and pattern.search(image) is not None


def rewrite_once(override: ImageOverride, image: str) -> str:
    """What one application of the entry writes over a value it matches."""
    name, tag, digest = split(image)
    if override.new_name:
        name = override.new_name
    if override.new_tag and override.digest:
        tag, digest = override.new_tag, override.digest
    elif override.new_tag:
        tag, digest = override.new_tag, ""
    elif override.digest:
        tag, digest = "", override.digest
    elif override.tag_suffix:
        tag, digest = tag + override.tag_suffix, ""
    if tag:
        name += ":" + tag
    if digest:
        name += "@" + digest
    return name


def apply(override: ImageOverride, image: str, selections: int = 1) -> str | None:
    """The value after the entry ran over it `selections` times (see the module docstring);
    None when the entry does not match it (the value stays)."""
    if not matches(image, override.name):
        return None
    value = image
    for _ in range(selections):
        if not matches(value, override.name):
            break
        value = rewrite_once(override, value)
    return value


def apply_all(overrides: list[ImageOverride], image: str, selections: int = 1) -> str:
    """The value after a kustomization's entries ran over it, in order (each entry is its own
    transformer, so a later entry sees what an earlier one wrote)."""
    for override in overrides:
        changed = apply(override, image, selections)
        if changed is not None:
            image = changed
    return image


@dataclass(frozen=True)
class ImageField:
    """An image scalar of an object that the transformer rewrites, and how many times."""

    node: ScalarNode
    path: str  # inside the object: `spec.template.spec.containers[0].image`
    selections: int


def image_fields(
    document: MappingNode, field_specs: tuple[FieldSpec, ...] | list[FieldSpec]
) -> list[ImageField]:
    """The image scalars of one object that kustomize's image transformer rewrites.

    `field_specs`: the defaults and the `configurations:` ones in force (kustomize's own are
    DEFAULT_FIELD_SPECS, plus VOLUME_FIELD_SPECS from v5.6).
    """
    kind = _scalar(document, "kind") or ""
    api_version = _scalar(document, "apiVersion") or ""
    if kind == DENIED_KIND:
        return []
    counts: dict[int, int] = {}
    found: dict[int, tuple[ScalarNode, str]] = {}
    legacy: list[tuple[ScalarNode, str]] = []
    _legacy_images(document, "", legacy)
    for node, path in legacy:
        counts[id(node)] = counts.get(id(node), 0) + 1
        found[id(node)] = (node, path)
    for spec in field_specs:
        if not spec.selects(kind, api_version):
            continue
        for node, path in _spec_images(document, split_path(spec.path), ""):
            counts[id(node)] = counts.get(id(node), 0) + 1
            found[id(node)] = (node, path)
    return [
        ImageField(node, path, counts[key])
        for key, (node, path) in sorted(found.items(), key=lambda i: i[1][0].start_mark.index)
    ]


@lru_cache(maxsize=256)
def split_path(path: str) -> tuple[str, ...]:
    """A field spec's path split at `/`, except inside brackets (kyaml's PathSplitter)."""
    parts: list[str] = []
    current = ""
    depth = 0
    for char in path:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        if char == "/" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return tuple(parts)


def _legacy_images(node: Node, path: str, found: list[tuple[ScalarNode, str]]) -> None:
    """`image` of every element of a `containers`/`initContainers` list, at any depth, onto
    `found` in the order of the text. (Appended, not yielded: a generator at each level passes
    every image up through all the levels above it; and a scalar, which holds none, is not
    visited.)"""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(value, ScalarNode):
                continue
            name = key.value if isinstance(key, ScalarNode) else ""
            inner = f"{path}.{name}" if path else name
            _legacy_images(value, inner, found)
            if name in LEGACY_FIELDS and isinstance(value, SequenceNode):
                for index, item in enumerate(value.value):
                    image = _entry(item, "image")
                    if isinstance(image, ScalarNode):
                        found.append((image, f"{inner}[{index}].image"))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            if not isinstance(item, ScalarNode):
                _legacy_images(item, f"{path}[{index}]", found)


def _spec_images(node: Node, parts: tuple[str, ...], path: str) -> Iterator[tuple[ScalarNode, str]]:
    if not parts:
        if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null":
            yield node, path
        return
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _spec_images(item, parts, f"{path}[{index}]")
        return
    if not isinstance(node, MappingNode):
        return
    name = parts[0].removesuffix("[]")
    value = _entry(node, name)
    if value is None:
        return
    yield from _spec_images(value, parts[1:], f"{path}.{name}" if path else name)


def _entry(node: Node, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    found: Node | None = None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            found = v  # the last duplicate wins, as in kubectl
    return found


def _scalar(node: MappingNode, key: str) -> str | None:
    value = _entry(node, key)
    return value.value if isinstance(value, ScalarNode) else None
