"""`--list-images`: every image site of the manifest set, valid or not.

Text, one aligned line per site (position, object, container, normalized reference):

    k8s/web.yaml:12:16  Deployment prod/web  container app      docker.io/library/nginx:1.25
    k8s/web.yaml:20:16  Deployment prod/web  initContainer init  Bad:1 (invalid: ...)

Sites other than pod containers (`source` other than `pod`: a Tekton step, a Crossplane
package...) show what they are and the field they are read from:

    task.yaml:9:14  Task build  step compile (spec.steps[0].image)  docker.io/library/golang:1.22

JSON: `{"images": [...]}`, one object per site with a fixed key order: `source` says where it
was found (`pod`, `resource-field`, ...), `field_path` the path inside the object
(`spec.steps[0].image`), `label` the words findings use for it. `field` is the pod-spec list
for pod sites (`containers`) and the path for the others. `name` is the object's
`metadata.name`, `generate_name` its `metadata.generateName` (the text shows `hello-world-*`
for an object named only by it). A placeholder
(`{{ .Values.image }}`, `${IMAGE}`, `ko://...`) is listed as written with `valid` false, no
`error`, and `placeholder` saying what it is; `value_line` is the line of the value it stands
for when the file gives it (a Tekton param's default), listed and checked as an image there.

With `--resolve` (an inventory for scanners), each checked reference also carries the
registry's answer: text adds a column (`sha256:... linux/amd64,linux/arm64`, or the status and
why not), JSON a `resolution` object per image (null for what was not asked: placeholders,
invalid references, `ignore-images`) and `"resolved": true` at the top.

On `helm template` output with the chart's folder named (`--stdin-filename`), an image a values
key declares (the chart's `values.yaml`, then each `--values` file) names that key, as findings
do: `(from charts/shop/values.yaml:14 image.repository)` at the end of the text line,
`declared_at` (or `declared_at_candidates`) in JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from imglint.findings import Declaration
from imglint.records import dataclass
from imglint.reference import Reference
from imglint.report.common import (
    SCHEMA_VERSION,
    declared_words,
    object_label,
    printable,
    write_json,
)
from imglint.sites import ImageSite

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, TextIO

    from imglint.registry.model import Resolution


@dataclass(frozen=True)
class InventoryEntry:
    """One image site and, with --resolve, the registry's answer for it (None: not asked);
    on rendered Helm output, the values keys that declared its image."""

    site: ImageSite
    resolution: Resolution | None = None
    declared_at: tuple[Declaration, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """What `--list-images` prints: every site, in order, and whether the registries were asked
    (`platforms`: the ones every image must offer, to say which an image lacks)."""

    entries: Sequence[InventoryEntry]
    resolved: bool = False
    platforms: tuple[str, ...] = ()

    @classmethod
    def of(cls, sites: Sequence[ImageSite]) -> Inventory:
        """The inventory of sites as written, the registries not asked."""
        return cls([InventoryEntry(site) for site in sites])


# The pod-spec field an image sits in, as a singular label for the text listing.
FIELD_LABELS = {
    "containers": "container",
    "initContainers": "initContainer",
    "ephemeralContainers": "ephemeralContainer",
    "volumes": "volume",
}


def normalized(ref: Reference) -> str:
    """The fully qualified reference the runtime pulls: `docker.io/library/nginx:1.25`."""
    text = f"{ref.domain}/{ref.path}"
    if ref.tag is not None:
        text += f":{ref.tag}"
    if ref.digest is not None:
        text += f"@{ref.digest}"
    return text


def render_text(inventory: Inventory, out: TextIO) -> None:
    rows: list[tuple[str, ...]] = []
    for entry in inventory.entries:
        row: tuple[str, ...] = _row(entry.site)
        if inventory.resolved:
            row = (*row, _answer_text(entry, inventory.platforms))
        if entry.declared_at:
            row = (*row, f"({printable(declared_words(entry.declared_at))})")
        rows.append(row)
    padded_columns = 4 if inventory.resolved else 3
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(padded_columns)]
    lines = []
    for row in rows:
        head = row[:padded_columns]
        padded = [cell.ljust(width) for cell, width in zip(head, widths, strict=True)]
        lines.append("  ".join([*padded, *row[padded_columns:]]).rstrip())
    out.write("".join(line + "\n" for line in lines))


def _answer_text(entry: InventoryEntry, platforms: tuple[str, ...]) -> str:
    """`sha256:...  linux/amd64,linux/arm64`, or why there is no digest."""
    answer = entry.resolution
    if answer is None:
        return "-" if entry.site.reference is None else "- (not asked: ignore-images)"
    if not answer.ok:
        return f"{answer.status}: {printable(answer.detail)}" if answer.detail else answer.status
    text = answer.digest or "?"
    if answer.platforms is not None:
        text += "  " + (",".join(answer.platforms) or "(no platform)")
        missing = missing_platforms(answer, platforms)
        if missing:
            text += f" (lacks {', '.join(missing)})"
    elif answer.platform_error:
        text += f"  (platforms unknown: {printable(answer.platform_error)})"
    return text


def missing_platforms(answer: Resolution, platforms: tuple[str, ...]) -> list[str]:
    """The required platforms an answer's image does not offer (none when they are unknown)."""
    if answer.platforms is None:
        return []
    from imglint.registry import platform_available

    return [p for p in platforms if not platform_available(p, answer.platforms)]


def _row(site: ImageSite) -> tuple[str, str, str, str]:
    span = site.span
    position = f"{printable(site.path)}:{span.line}:{span.column}"
    obj = site.obj
    label = printable(object_label(obj.kind, obj.namespace, obj.display_name)) or "-"
    if site.origin == "pod":
        field_label = FIELD_LABELS.get(site.field, site.field)
        if site.container:
            container = f"{field_label} {printable(site.container)}"
        else:  # `containers[1]` says which one when it has no name
            container = site.unnamed_container or field_label
    else:
        # Not a pod's container: what the site is in its object, and the field it is read from.
        part = site.key or site.field
        container = printable(part)
        if part != site.field_path:
            container += f" ({printable(site.field_path)})"
    if site.reference is not None:
        target = normalized(site.reference)
    elif site.placeholder is not None and site.value_checked_at is not None:
        # `$(params.IMAGE)` whose default is listed (and checked) at its own line
        where = f"line {site.value_checked_at.line}"
        target = (
            f"{printable(site.image)} ({printable(site.placeholder)}; value checked at {where})"
        )
    elif site.placeholder is not None:
        target = f"{printable(site.image)} ({printable(site.placeholder)}, not checked)"
    elif site.error is not None:
        target = f"{printable(site.image)} (invalid: {printable(site.error)})"
    else:
        target = f"{printable(site.image)} (not parsed)"
    return position, label, container, target


def render_json(inventory: Inventory, out: TextIO) -> None:
    from imglint.report.json import declared_at_dict

    images = []
    for entry in inventory.entries:
        image = site_dict(entry.site)
        image.update(declared_at_dict(entry.declared_at))
        if inventory.resolved:
            image["resolution"] = resolution_dict(entry, inventory.platforms)
        images.append(image)
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "images": images}
    if inventory.resolved:
        document["resolved"] = True
    write_json(document, out)


def resolution_dict(entry: InventoryEntry, platforms: tuple[str, ...]) -> dict[str, Any] | None:
    """The registry's answer for one site: null when it was not asked."""
    answer = entry.resolution
    if answer is None:
        return None
    return {
        "status": answer.status,
        "digest": answer.digest if answer.ok else None,
        "media_type": answer.media_type,
        "platforms": list(answer.platforms) if answer.platforms is not None else None,
        "missing_platforms": missing_platforms(answer, platforms),
        "platform_error": answer.platform_error or None,
        "detail": answer.detail or None,
        "registry": answer.registry or None,
        "from_cache": answer.from_cache,
    }


def site_dict(site: ImageSite) -> dict[str, Any]:
    ref = site.reference
    return {
        "path": site.path,
        "line": site.span.line,
        "column": site.span.column,
        "end_line": site.span.end_line,
        "end_column": site.span.end_column,
        "image": site.image,
        "valid": ref is not None,
        "normalized": normalized(ref) if ref is not None else None,
        "registry": ref.domain if ref is not None else None,
        "repository": ref.path if ref is not None else None,
        "tag": ref.tag if ref is not None else None,
        "digest": ref.digest if ref is not None else None,
        "error": site.error,
        "placeholder": site.placeholder,
        # A placeholder that is exactly a parameter whose value the file gives: that value's
        # line, where it is listed (and checked) as an image of its own.
        "value_line": site.value_checked_at.line if site.value_checked_at else None,
        "kind": site.obj.kind,
        "namespace": site.obj.namespace,
        "name": site.obj.name,
        # metadata.generateName when the API server completes the name (`name` is null then).
        "generate_name": site.obj.generate_name,
        "container": site.container,
        # Pod sites: the pod-spec list ("containers"); other sites: the path in the object.
        "field": site.field if site.origin == "pod" else site.field_path,
        "pull_policy": site.pull_policy,
        "source": site.origin,
        "field_path": site.field_path,
        "label": site.label,
    }
