"""Helm values as image sites (the work behind imglint.extract.helm, imported only when a file
holds values): a chart's `values.yaml`, and the values inside Flux HelmRelease, Argo CD
Application and kustomize `helmCharts`.

The model (`imglint.helm_values`) says which keys declare an image and the reference the chart
renders from them; this module turns each into an ImageSite:

- `span` is the declaring key (`image:`), and `components` place the registry, repository, tag
  and digest keys of the same file, so each rule's finding lands on the key it concerns;
- `image` is the assembled reference; an image whose reference cannot be told (an empty tag the
  chart fills from the cluster, a subchart default its parent overrides) is a site with a
  `placeholder` saying why: listed by `--list-images`, never linted;
- `rewrite` writes a pin where the chart's convention says (the digest key, `sha` as bare hex,
  else `tag: "1.2.3@sha256:..."` where the templates render the tag verbatim), and refuses
  anything else with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from yaml.nodes import MappingNode, Node

from imglint.extract.sink import MAX_IMAGE_CHARS, FoundObject, Sink
from imglint.helm_values import ChartFacts, PinTarget, ValuesImage, find_images
from imglint.helm_values_chart import ChartReader
from imglint.helm_values_gitops import (
    EmbeddedValues,
    argo_application,
    flux_helm_release,
    kustomize_helm_charts,
)
from imglint.reference import InvalidReference, parse
from imglint.sites import (
    CannotRewrite,
    ImageSite,
    K8sObject,
    PullSecretHolder,
    Rewrite,
    ValueChange,
)


def extract_values_file(document: Node, sink: Sink) -> None:
    source = sink.source
    if not isinstance(document, MappingNode):
        return  # an empty values file, or one that is a list: nothing Helm would merge
    read = ChartReader().for_values_file(source.file_path or source.path, source.path)
    for problem in read.problems:  # the chart around it: what is missing only adds notes
        sink.reading.notices.append(f"{problem} (Helm values of {source.path})")
    context = "values outside a chart"
    facts = read.facts or ChartFacts(context=context)
    obj = K8sObject("HelmValues", "", None, None, {}, source.path, 1)
    images = find_images(source.path, document, facts)
    _emit(images, sink, obj, prefix="", context=None)
    if read.facts is None:
        _state_assumption(images, sink, context, document)


def extract_kustomization(document: Node, sink: Sink) -> None:
    for embedded in kustomize_helm_charts(document):
        obj = K8sObject(
            "Kustomization", "kustomize.config.k8s.io/v1beta1", None, None, {}, sink.source.path, 1
        )
        _embedded(embedded, sink, obj)


def extract_flux(found: FoundObject, sink: Sink) -> None:
    for embedded in flux_helm_release(found.node, found.obj.name):
        _embedded(embedded, sink, found.obj)


def extract_argo(found: FoundObject, sink: Sink) -> None:
    for embedded in argo_application(found.node, found.obj.name, sink.source.text):
        _embedded(embedded, sink, found.obj)


def _embedded(embedded: EmbeddedValues, sink: Sink, obj: K8sObject) -> None:
    if embedded.problem is not None:
        where = embedded.node
        line = f":{where.start_mark.line + 1}" if where is not None else ""
        sink.reading.notices.append(
            f"{sink.source.path}{line}: {embedded.context}: {embedded.problem}"
        )
    if embedded.root is None:
        return
    sink.claim(embedded.root)  # the pod-spec walker must not report a values sidecar again
    facts = ChartFacts(context=embedded.context)
    images = find_images(sink.source.path, embedded.root, facts)
    _emit(images, sink, obj, prefix=embedded.field_prefix + ".", context=embedded.context)
    _state_assumption(images, sink, embedded.context, embedded.root)


def _state_assumption(images: Sequence[ValuesImage], sink: Sink, context: str, where: Node) -> None:
    """Once per values tree whose chart is not at hand: how its images were assembled."""
    if any(image.assumptions for image in images):
        sink.reading.notices.append(
            f"{sink.source.path}:{where.start_mark.line + 1}: {context}: the chart's templates "
            "are not at hand; its images are taken as registry/repository:tag@digest, and an "
            "empty tag is not guessed"
        )


def _emit(
    images: Sequence[ValuesImage], sink: Sink, obj: K8sObject, *, prefix: str, context: str | None
) -> None:
    path = sink.source.path
    for image in images:
        if image.overridden_by is None and image.reference is None and image.note is None:
            continue
        field_path = prefix + image.field
        text = image.reference or _partial(image)
        if len(text) > MAX_IMAGE_CHARS:  # as a pod's image: an input error, never a site
            sink.reading.error(
                f"value {field_path} makes an image {len(text):,} characters long, not an image "
                "reference",
                line=image.span.line,
            )
            continue
        holder = PullSecretHolder(obj, [], None, image.span.line, known=False)
        components = {
            name: part.span
            for name, part in (
                ("registry", image.registry),
                ("repository", image.repository),
                ("tag", image.tag),
                ("digest", image.digest),
            )
            if part is not None and part.file == path and image.shape != "string"
        }
        if image.tag_dropped:
            components.pop("tag", None)
        site = ImageSite(
            path=path,
            span=image.span,
            image=text,
            holder=holder,
            container=None,
            field="values",
            pull_policy=image.pull_policy,
            origin="helm-values",
            field_path=field_path,
            label=f"{context}, value {image.field}" if context else f"Helm value {image.field}",
            key=field_path,
            components=components,
            rewrite=_rewrite_hook(image, path),
        )
        if image.overridden_by is not None:
            site.placeholder = f"overridden by {image.overridden_by}"
        elif image.reference is None:
            site.placeholder = image.note
        elif image.placeholder is not None:
            site.placeholder = image.placeholder
        sink.add(site)
        where = f"{path}:{image.span.line}"
        for warning in image.warnings:
            sink.reading.notices.append(f"{where}: {warning}")


def _partial(image: ValuesImage) -> str:
    """What can be told of a reference that cannot be assembled (for listings)."""
    parts = [p.text for p in (image.registry, image.repository) if p is not None and p.text]
    return "/".join(parts) or image.field


def _rewrite_hook(image: ValuesImage, path: str) -> Rewrite:
    target = image.pin
    refusal = image.pin_refusal

    def rewrite(site: ImageSite, value: str) -> Sequence[ValueChange]:
        try:
            new = parse(value)
        except InvalidReference as exc:
            raise CannotRewrite(str(exc)) from None
        current = site.reference
        if current is None or new.name != current.name or new.tag != current.tag:
            raise CannotRewrite(
                "a values file is rewritten only to pin a digest (--pin, --repin); "
                "change its keys by hand"
            )
        if new.digest is None or new.digest == current.digest:
            return ()
        if target is None:
            raise CannotRewrite(refusal or "no place in the values to write a digest")
        if target.part.file != path:
            raise CannotRewrite(f"its digest key is in {target.part.file}")
        return (ValueChange(target.part.span, _pinned_value(target, new.digest)),)

    return rewrite


def _pinned_value(target: PinTarget, digest: str) -> str:
    if target.kind == "digest":
        return digest
    if target.kind == "sha-hex":
        return digest.partition(":")[2]
    base = target.part.text.partition("@")[0]
    return f"{base}@{digest}"
