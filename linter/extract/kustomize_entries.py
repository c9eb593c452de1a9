"""kustomize `images:` entries as image sites (the extractors registered by
imglint.extract.kustomize, imported only when a file holds entries).

Where entries are read:

- kustomization files (`kustomization.yaml`, `kustomization.yml`, `Kustomization`) of kind
  `Kustomization` or `Component` of `kustomize.config.k8s.io`, or without a kind: `images:`
  (and the deprecated `imageTags:`, applied after them);
- Flux's `Kustomization` (`kustomize.toolkit.fluxcd.io`): `spec.images`, the same mappings;
- Argo CD's `Application` `spec.source.kustomize.images` and `spec.sources[].kustomize.images`,
  and an `ApplicationSet`'s `spec.template.spec.source(s)`: strings that Argo CD passes to
  `kustomize edit set image` (`[NAME=]NEWNAME[:TAG][@DIGEST]`).

The site's reference is what kustomize writes over a matching image (imglint.kustomize). When
that depends on the image in the base (`newName` or `tagSuffix` alone keeps the base's tag), the
site waits for the bases: `imglint.kustomize_sites` settles it once every file is read. Findings
land on the entry's own keys: a tag finding on `newTag`, a registry finding on `newName` (or
`name`), a digest finding on `digest`.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint import kustomize
from imglint.documents import NULL_TAG, STR_TAG, mapping_keys, node_span, scalar_text
from imglint.extract.sink import MAX_IMAGE_CHARS, FoundObject, Sink
from imglint.findings import EMPTY, Span
from imglint.kustomize_tree import (
    NEEDS_BASE,
    Entry,
    kustomization_kind,
    parse_argo_image,
    read_entries,
)
from imglint.sites import (
    CannotRewrite,
    ImageSite,
    K8sObject,
    PullSecretHolder,
    Rewrite,
    ValueChange,
)


def extract_kustomization(document: Node, sink: Sink) -> None:
    if not isinstance(document, MappingNode):
        return
    kind = kustomization_kind(document)
    if kind is None:
        return
    keys = mapping_keys(document)
    obj = K8sObject(
        kind=kind,
        api_version=scalar_text(keys.get("apiVersion")) or "",
        name=None,
        namespace=None,
        annotations=EMPTY,
        path=sink.source.path,
        line=document.start_mark.line + 1,
    )
    index = 0
    for key in ("images", "imageTags"):
        node = keys.get(key)
        if node is None:
            continue
        entries, problems = read_entries(node)
        for message, where in problems:
            sink.error(message, where)
        for entry in entries:
            entry_site(sink, obj, entry, f"{key}[{entry.index}]")
            entry.index = index
            index += 1


def extract_flux(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    images = mapping_keys(spec).get("images") if isinstance(spec, MappingNode) else None
    if images is None:
        return
    sink.claim(images)
    entries, problems = read_entries(images)
    for message, where in problems:
        sink.error(message, where)
    for entry in entries:
        entry_site(sink, found.obj, entry, f"spec.images[{entry.index}]")


def extract_argo(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    if not isinstance(spec, MappingNode):
        return
    prefix = "spec"
    if found.obj.kind == "ApplicationSet":
        template = mapping_keys(spec).get("template")
        inner = mapping_keys(template).get("spec") if isinstance(template, MappingNode) else None
        if not isinstance(inner, MappingNode):
            return
        spec, prefix = inner, "spec.template.spec"
    keys = mapping_keys(spec)
    sources: list[tuple[Node, str]] = []
    if isinstance(keys.get("source"), MappingNode):
        sources.append((keys["source"], f"{prefix}.source"))
    many = keys.get("sources")
    if isinstance(many, SequenceNode):
        sources.extend((item, f"{prefix}.sources[{i}]") for i, item in enumerate(many.value))
    for source, path in sources:
        if not isinstance(source, MappingNode):
            continue
        settings = mapping_keys(source).get("kustomize")
        images = mapping_keys(settings).get("images") if isinstance(settings, MappingNode) else None
        if images is None or (isinstance(images, ScalarNode) and images.tag == NULL_TAG):
            continue
        sink.claim(images)
        if not isinstance(images, SequenceNode):
            sink.error("kustomize.images must be a list of strings", images)
            continue
        for index, item in enumerate(images.value):
            _argo_entry(sink, found.obj, item, index, f"{path}.kustomize.images[{index}]")


def _argo_entry(sink: Sink, obj: K8sObject, node: Node, index: int, field_path: str) -> None:
    if not isinstance(node, ScalarNode) or node.tag != STR_TAG:
        sink.error("Argo CD's kustomize.images are strings: [NAME=]NEWNAME[:TAG][@DIGEST]", node)
        return
    override = parse_argo_image(str(node.value))
    if override is None:
        sink.error(
            f'"{node.value}" is refused by `kustomize edit set image`: write '
            "NAME=NEWNAME, NAME:TAG, NAME@DIGEST or NAME=NEWNAME:TAG@DIGEST",
            node,
        )
        return
    entry = Entry(index, node, override, values={"name": node}, text_form=True)
    entry_site(sink, obj, entry, field_path)


def written_reference(override: kustomize.ImageOverride) -> str | None:
    """What the entry writes whatever the base's image, or None when that depends on it
    (`newName` or `tagSuffix` alone, a name that is a pattern rather than a name)."""
    if not (override.new_tag or override.digest):
        return None
    if override.new_name:
        name = override.new_name
    else:
        name, _tag, _digest = kustomize.split(override.name)
        if not kustomize.is_literal_name(override.name):
            return None
    if override.new_tag:
        name += ":" + override.new_tag
    if override.digest:
        name += "@" + override.digest
    return name


def entry_site(sink: Sink, obj: K8sObject, entry: Entry, field_path: str) -> ImageSite | None:
    """The site of one entry, added to the sink; None (an input error) when the reference it
    writes is too long to be one, as for a pod's image."""
    override = entry.override
    shown = override.name or "(no name)"
    written = written_reference(override)
    if written is not None and len(written) > MAX_IMAGE_CHARS:
        sink.error(
            f"images entry writes an image {len(written):,} characters long, not an image "
            "reference",
            entry.node,
        )
        return None
    site = ImageSite(
        path=sink.source.path,
        span=node_span(entry.node),
        image=written if written is not None else _pending_image(override),
        holder=PullSecretHolder(obj, [], None, obj.line, known=False),
        container=None,
        field="images",
        pull_policy=None,
        origin="kustomize",
        field_path=field_path,
        label=f'images entry "{shown}"',
        key=f"images {shown}",
        components=_components(entry),
        rewrite=entry_rewrite(entry),
    )
    sink.add(site, entry.node)
    if not override.changes_anything:
        site.placeholder = "changes nothing: kustomize writes the base's image as it is"
        site.reference = site.error = None
    elif written is None and site.placeholder is None:
        site.placeholder = NEEDS_BASE
        site.reference = site.error = None
    return site


def _pending_image(override: kustomize.ImageOverride) -> str:
    name = override.new_name or kustomize.split(override.name)[0]
    if override.tag_suffix:
        return f"{name}:<base tag>{override.tag_suffix}"
    return f"{name}:<base tag>"


def _components(entry: Entry) -> dict[str, Span]:
    if entry.text_form:
        return {}
    spans: dict[str, Span] = {}
    name = entry.span("newName") or entry.span("name")
    if name is not None:
        spans["registry"] = spans["repository"] = name
    tag = entry.span("newTag") or entry.span("tagSuffix")
    if tag is not None:
        spans["tag"] = tag
    digest = entry.span("digest")
    if digest is not None:
        spans["digest"] = digest
    return spans


def entry_rewrite(entry: Entry) -> Rewrite:
    """The fixer's hook for an entry: the scalars (or new keys) that make it write `value`."""

    def rewrite(site: ImageSite, value: str) -> list[ValueChange]:
        override = entry.override
        name, tag, digest = kustomize.split(value)
        old_name, old_tag, old_digest = kustomize.split(site.image)
        if entry.text_form:
            prefix = f"{override.name}=" if override.new_name or name != override.name else ""
            return [ValueChange(node_span(entry.node), prefix + value)]
        if tag != old_tag and not override.new_tag:
            raise CannotRewrite("the entry takes its tag from the base image")
        changes: list[ValueChange] = []
        if name != old_name:
            changes.append(_set(entry, "newName", name))
        if tag != old_tag:
            changes.append(_set(entry, "newTag", tag))
        if digest != old_digest:
            if not digest:
                raise CannotRewrite("removing a digest is not a fix imglint makes")
            if not override.new_tag and tag:
                # A digest alone drops the base's tag: write the tag too, as kustomize then
                # writes both (name:tag@digest).
                changes.append(_set(entry, "newTag", tag))
            changes.append(_set(entry, "digest", digest))
        return changes

    return rewrite


def _set(entry: Entry, field: str, value: str) -> ValueChange:
    node = entry.values.get(field)
    if node is not None:
        return ValueChange(node_span(node), value)
    return ValueChange(node_span(entry.node), value, new_key=field)
