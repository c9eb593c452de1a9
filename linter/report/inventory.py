"""`--list-images`: every image site of the manifest set, valid or not.

Text, one aligned line per site (position, object, container, normalized reference):

    k8s/web.yaml:12:16  Deployment prod/web  container app      docker.io/library/nginx:1.25
    k8s/web.yaml:20:16  Deployment prod/web  initContainer init  Bad:1 (invalid: ...)

JSON: `{"images": [...]}`, one object per site with a fixed key order. A placeholder
(`{{ .Values.image }}`, `${IMAGE}`, `ko://...`) is listed as written with `valid` false, no
`error`, and `placeholder` saying what it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from imglint.reference import Reference
from imglint.report.common import SCHEMA_VERSION, object_label, printable
from imglint.sites import ImageSite

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


def render_text(sites: Sequence[ImageSite], out: TextIO) -> None:
    rows = [_row(site) for site in sites]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    lines = []
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        lines.append("  ".join([*padded, row[3]]).rstrip())
    out.write("".join(line + "\n" for line in lines))


def _row(site: ImageSite) -> tuple[str, str, str, str]:
    span = site.span
    position = f"{printable(site.path)}:{span.line}:{span.column}"
    obj = site.obj
    label = printable(object_label(obj.kind, obj.namespace, obj.name)) or "-"
    field_label = FIELD_LABELS.get(site.field, site.field)
    container = f"{field_label} {printable(site.container)}" if site.container else field_label
    if site.reference is not None:
        target = normalized(site.reference)
    elif site.placeholder is not None:
        target = f"{printable(site.image)} ({printable(site.placeholder)}, not checked)"
    elif site.error is not None:
        target = f"{printable(site.image)} (invalid: {printable(site.error)})"
    else:
        target = f"{printable(site.image)} (not parsed)"
    return position, label, container, target


def render_json(sites: Sequence[ImageSite], out: TextIO) -> None:
    document = {"schema_version": SCHEMA_VERSION, "images": [site_dict(site) for site in sites]}
    out.write(json.dumps(document, indent=2, ensure_ascii=True) + "\n")


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
        "kind": site.obj.kind,
        "namespace": site.obj.namespace,
        "name": site.obj.name,
        "container": site.container,
        "field": site.field,
        "pull_policy": site.pull_policy,
    }
