"""`--list-images --format cyclonedx`: the image inventory as a CycloneDX 1.6 JSON document.

One `container` component per unique reference (as the runtime pulls it, normalized), with
every place it is written as an evidence occurrence (file, line, column, and the object and
container in `additionalContext`). A component's `pkg:oci` package URL needs the image's digest
(the purl's version): a reference that pins one carries it as written; with `--resolve`, every
reference the registry answered carries the digest it resolves to now. Without a digest a
component has its name and tag only, and the document says so: `imglint:resolved` is `false`
in the metadata's and the component's properties, and the component's description says why.

Invalid references and placeholders are not images yet: they are not components; the metadata
counts them (`imglint:not-listed`), and `--list-images` in text or JSON shows each one.

The output is deterministic (no serial number, no timestamp): the same manifests and answers
give the same bytes, so the file can be committed and diffed.
"""

from __future__ import annotations

from urllib.parse import quote

from imglint import __version__
from imglint.report.common import object_label, write_json
from imglint.report.inventory import Inventory, InventoryEntry, normalized

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, TextIO

    from imglint.reference import Reference
    from imglint.registry.model import Resolution

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"


def render(inventory: Inventory, out: TextIO) -> None:
    write_json(document(inventory), out)


def document(inventory: Inventory) -> dict[str, Any]:
    """The CycloneDX document of an inventory (see the module docstring)."""
    by_reference: dict[str, list[InventoryEntry]] = {}
    not_listed = 0
    for entry in inventory.entries:
        ref = entry.site.reference
        if ref is None:
            not_listed += 1
            continue
        by_reference.setdefault(normalized(ref), []).append(entry)
    components = [
        _component(key, entries, inventory.resolved) for key, entries in by_reference.items()
    ]
    unresolved = sum(1 for c in components if "purl" not in c)
    properties = [
        {"name": "imglint:resolved", "value": "true" if unresolved == 0 else "false"},
        {"name": "imglint:registries-asked", "value": "true" if inventory.resolved else "false"},
        {"name": "imglint:unresolved-images", "value": str(unresolved)},
        {"name": "imglint:not-listed", "value": str(not_listed)},
    ]
    return {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "name": "imglint",
                        "version": __version__,
                        "externalReferences": [
                            {"type": "website", "url": "https://github.com/imglint/imglint"}
                        ],
                    }
                ]
            },
            "properties": properties,
        },
        "components": components,
    }


def _component(key: str, entries: list[InventoryEntry], asked: bool) -> dict[str, Any]:
    ref = entries[0].site.reference
    assert ref is not None  # grouped by reference above
    answer = next((e.resolution for e in entries if e.resolution and e.resolution.ok), None)
    digest = ref.digest or (answer.digest if answer is not None else None)
    component: dict[str, Any] = {
        "type": "container",
        "bom-ref": key,
        "name": ref.name,
    }
    if ref.tag is not None:
        component["version"] = ref.tag
    elif ref.digest is not None:
        component["version"] = ref.digest
    if digest is not None:
        component["purl"] = purl(ref, digest)
    else:
        component["description"] = _why_unresolved(entries, asked)
    properties = [
        {"name": "imglint:reference", "value": key},
        {"name": "imglint:resolved", "value": "true" if digest is not None else "false"},
    ]
    if answer is not None and answer.digest and ref.digest and answer.digest != ref.digest:
        properties.append({"name": "imglint:tag-digest-now", "value": answer.digest})
    if answer is not None and answer.platforms is not None:
        properties.extend(
            {"name": "imglint:platform", "value": platform} for platform in answer.platforms
        )
    component["properties"] = properties
    component["evidence"] = {"occurrences": [_occurrence(e) for e in entries]}
    return component


def _why_unresolved(entries: list[InventoryEntry], asked: bool) -> str:
    if not asked:
        return "not resolved: the registry was not asked (imglint --list-images --resolve)"
    failed: Resolution | None = next((e.resolution for e in entries if e.resolution), None)
    if failed is None:
        return "not resolved: not asked (ignore-images)"
    why = f": {failed.detail}" if failed.detail else ""
    return f"not resolved: {failed.status}{why}"


def _occurrence(entry: InventoryEntry) -> dict[str, Any]:
    site = entry.site
    occurrence: dict[str, Any] = {
        "location": site.path,
        "line": site.span.line,
        "offset": site.span.column,
    }
    obj = site.obj
    context = object_label(obj.kind, obj.namespace, obj.display_name)
    part = f"container {site.container}" if site.container else site.unnamed_container
    words = ", ".join(p for p in (context, part) if p)
    if words:
        occurrence["additionalContext"] = words
    return occurrence


def purl(ref: Reference, digest: str) -> str:
    """`pkg:oci/nginx@sha256%3A...?repository_url=docker.io%2Flibrary%2Fnginx&tag=1.25`: the
    purl specification's oci type (name: the repository's last part; version: the digest;
    qualifiers sorted, values percent-encoded)."""
    name = ref.path.rsplit("/", 1)[-1]
    qualifiers = {"repository_url": ref.name}
    if ref.tag is not None:
        qualifiers["tag"] = ref.tag
    query = "&".join(f"{key}={quote(value, safe='')}" for key, value in sorted(qualifiers.items()))
    return f"pkg:oci/{quote(name, safe='')}@{quote(digest, safe='')}?{query}"
