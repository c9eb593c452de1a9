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
for pod sites (`containers`) and the path for the others. A placeholder
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
    if site.origin == "pod":
        field_label = FIELD_LABELS.get(site.field, site.field)
        container = f"{field_label} {printable(site.container)}" if site.container else field_label
    else:
        # Not a pod's container: what the site is in its object, and the field it is read from.
        part = site.key or site.field
        container = printable(part)
        if part != site.field_path:
            container += f" ({printable(site.field_path)})"
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
        # Pod sites: the pod-spec list ("containers"); other sites: the path in the object.
        "field": site.field if site.origin == "pod" else site.field_path,
        "pull_policy": site.pull_policy,
        "source": site.origin,
        "field_path": site.field_path,
        "label": site.label,
    }
