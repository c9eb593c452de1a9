"""Settings for reading custom resources: the configuration's `image-fields` and
`crossplane-registry`, validated once when the configuration is read.

`image-fields` names image fields of kinds imglint does not know, each entry
`{group or apiVersion, kind, path[, default-registry]}`:

    image-fields:
      - group: kpack.io              # every version of the group (or apiVersion: kpack.io/v1alpha2)
        kind: ClusterStack
        path: spec.buildImage.image  # keys separated by dots; `[]` is every item of a list
      - apiVersion: shipwright.io/v1beta1
        kind: ClusterBuildStrategy
        path: spec.steps[].image
        default-registry: registry.example.com   # a reference without a registry is pulled here

This module is on the start-up path (the configuration is read before anything else): it
imports nothing heavy.
"""

from __future__ import annotations

import re

from imglint.lazy_pattern import LazyPattern
from imglint.records import dataclass

# Crossplane's default package registry since 1.20 (`xpkg.upbound.io` before).
CROSSPLANE_REGISTRY = "xpkg.crossplane.io"

# One step of a path: a key, then `[]` once per list level below it (`steps[]`, `steps[][]`).
_STEP = LazyPattern(r"([A-Za-z0-9_-]+)((?:\[\])*)", re.ASCII)
# A registry host with an optional port (and, as in mirrors, an optional path prefix).
_REGISTRY = LazyPattern(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::[0-9]+)?(?:/[a-z0-9._-]+)*",
    re.ASCII,
)


@dataclass(frozen=True)
class PathStep:
    """A key of a mapping, then `lists` levels of lists whose every item is taken."""

    key: str
    lists: int = 0


@dataclass(frozen=True)
class ImageField:
    """One `image-fields` entry: where the images of one kind are."""

    kind: str
    path: str  # as written: `spec.steps[].image`
    steps: tuple[PathStep, ...]
    group: str | None = None  # matches every version of the API group
    api_version: str | None = None  # matches one `apiVersion` exactly
    default_registry: str | None = None

    def matches(self, group: str, api_version: str, kind: str) -> bool:
        if kind != self.kind:
            return False
        if self.api_version is not None:
            return api_version == self.api_version
        return group == self.group


@dataclass(frozen=True)
class ResourceSettings:
    """How custom resources are read."""

    image_fields: tuple[ImageField, ...] = ()
    crossplane_registry: str = CROSSPLANE_REGISTRY
    survey: bool = False  # note image-like fields of kinds no extractor knows (-v)


class InvalidField(ValueError):
    """An `image-fields` entry or a registry that cannot be used; the message says why, and
    `key` which key of the entry is at fault (None: the entry itself)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def parse_path(text: str) -> tuple[PathStep, ...]:
    """`spec.steps[].image` as steps; raises InvalidField with the reason."""
    if not text.strip():
        raise InvalidField("path is empty")
    steps: list[PathStep] = []
    for part in text.strip().split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise InvalidField(
                f"path {text!r}: {part!r} is not a key (letters, digits, '-', '_') "
                "optionally followed by [] for every item of a list"
            )
        steps.append(PathStep(match.group(1), len(match.group(2)) // 2))
    return tuple(steps)


def check_registry(value: object) -> str:
    """A registry host[:port] (lowercase); raises InvalidField."""
    if not isinstance(value, str) or not _REGISTRY.fullmatch(value.strip()):
        raise InvalidField(f"{value!r} is not a registry host[:port]")
    return value.strip().lower()


_ENTRY_KEYS = ("group", "apiVersion", "kind", "path", "default-registry")


def parse_entry(entry: object) -> ImageField:
    """One `image-fields` entry; raises InvalidField with the reason."""
    if not isinstance(entry, dict):
        raise InvalidField("must be a mapping with kind, path and group or apiVersion")
    for key in entry:
        if key not in _ENTRY_KEYS:
            raise InvalidField(f'unknown key "{key}" (known: {", ".join(_ENTRY_KEYS)})', str(key))
    kind = entry.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        raise InvalidField("needs a kind (a string)", "kind" if "kind" in entry else None)
    group, api_version = entry.get("group"), entry.get("apiVersion")
    if (group is None) == (api_version is None):
        raise InvalidField("needs either group or apiVersion (one of them)")
    if group is not None and (not isinstance(group, str) or "/" in group):
        raise InvalidField(
            f"group {group!r} is not an API group (like tekton.dev; '' is core)", "group"
        )
    if api_version is not None and (not isinstance(api_version, str) or not api_version.strip()):
        raise InvalidField(
            f"apiVersion {api_version!r} is not an apiVersion (like kpack.io/v1)", "apiVersion"
        )
    path = entry.get("path")
    if not isinstance(path, str):
        raise InvalidField(
            "needs a path (a string like spec.steps[].image)", "path" if "path" in entry else None
        )
    try:
        steps = parse_path(path)
    except InvalidField as exc:
        raise InvalidField(str(exc), "path") from None
    registry = entry.get("default-registry")
    try:
        default_registry = None if registry is None else check_registry(registry)
    except InvalidField as exc:
        raise InvalidField(f"default-registry: {exc}", "default-registry") from None
    return ImageField(
        kind=kind.strip(),
        path=path.strip(),
        steps=steps,
        group=None if group is None else group.strip(),
        api_version=None if api_version is None else api_version.strip(),
        default_registry=default_registry,
    )


@dataclass(frozen=True)
class EntryError:
    """Why `image-fields` cannot be used: the bad entry's index and key (None: the whole)."""

    reason: str
    index: int | None = None
    key: str | None = None


def parse_entries(value: object) -> tuple[ImageField, ...] | EntryError:
    """All entries, or what is wrong with the first bad one."""
    if not isinstance(value, list):
        return EntryError("image-fields must be a list of {kind, path, group or apiVersion}")
    fields: list[ImageField] = []
    for index, entry in enumerate(value):
        try:
            fields.append(parse_entry(entry))
        except InvalidField as exc:
            return EntryError(str(exc), index, exc.key)
    return tuple(fields)
