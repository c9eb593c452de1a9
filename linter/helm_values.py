"""Image declarations in Helm values files: which keys hold an image, and the reference the chart
renders from them.

Pure model: it reads composed YAML nodes (positions kept) and, when the values file belongs to a
chart, what the chart's templates say (imglint.helm_templates) and its subcharts' values. It never
guesses: where the templates at hand do not tell how a value is rendered, the image carries a
`note` instead of a reference.

Shapes recognised (docs/input.md lists them with the reasons for the others):
- a mapping under an image-like key (`image`, or a key ending in `Image` such as `thanosImage`, or a
  mapping of such mappings: `image: {busybox: {...}, kubectl: {...}}`) with a `repository` and
  optional `registry`, `tag` and digest (`digest`, or `sha` holding bare hex or `sha256:...`);
- the split shape `registry` + `image` + `tag` + `digest` (ingress-nginx), also under a key that
  is not image-like when a `tag`, `digest` or `registry` sits beside the `image` string;
- a mapping under any key whose `repository` the templates write on an `image:` line (podinfo's
  `redis: {repository, tag}`);
- a plain string under an image-like key that parses as a reference.
Registry overrides: `global.imageRegistry` replaces the registry of every mapping that has a
`registry` key (Bitnami's `common.images.image`, kube-prometheus-stack); `global.image.registry`
is the registry of split-shape mappings that have none (ingress-nginx's `merge`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint import records
from imglint.documents import node_span
from imglint.findings import Span
from imglint.helm_templates import ChartTemplates, PathUse
from imglint.records import dataclass
from imglint.reference import InvalidReference, parse

_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
REFERENCE_KEYS = ("registry", "repository", "image", "tag", "digest", "sha")
DIGEST_KEYS = ("digest", "sha")
# Keys of a git or chart source, which also has a `repository` (and sometimes a `tag`).
_SOURCE_KEYS = frozenset({"url", "branch", "revision", "path", "ref", "chart", "version", "commit"})
# Values trees deeper than this are not searched further (real charts: under 15 levels).
MAX_DEPTH = 64

# (typing and decimal are not loaded at run time: a run that meets a values file, the
# corpus's worker processes among them, spent more on importing them than on the file)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    Shape = Literal["mapping", "split", "string"]
    PinKind = Literal["digest", "sha-hex", "append"]


@dataclass(frozen=True)
class Part:
    """One scalar of a values file that is part of an image."""

    file: str  # display path of the values file holding it
    field: str  # its dotted path in that file: `controller.image.tag`
    key: str  # its key: registry, repository, image, tag, digest, sha, imageRegistry
    text: str  # the value as the chart renders it (YAML numbers as Helm prints them)
    written: str  # the value as written in the file
    span: Span  # the value scalar
    key_span: Span  # its key
    kind: Literal["str", "null", "number", "bool"] = "str"

    @property
    def empty(self) -> bool:
        return self.text == ""


@dataclass(frozen=True)
class PinTarget:
    """Where `--pin` writes the digest of one values image."""

    part: Part
    # digest: `sha256:...` into a digest key; sha-hex: bare hex into `sha`; append: `@sha256:...`
    # after the value (a tag rendered at the end of the reference, or a whole image string).
    kind: PinKind


@dataclass
class ValuesImage:
    """One image declared in a values file."""

    file: str
    field: str  # `controller.image`; for a plain string, the key holding it
    span: Span  # the declaring key (a mapping's key; a plain string's value)
    shape: Shape
    registry: Part | None = None  # the registry used (own, or the global override)
    repository: Part | None = None  # `repository`, the split shape's `image`, or the string
    tag: Part | None = None
    digest: Part | None = None
    reference: str | None = None  # as the chart renders it; None when that cannot be told
    tag_from: str | None = None  # where an unset tag came from ("appVersion 1.2.3 in Chart.yaml")
    tag_dropped: bool = False  # tag and digest set, and the chart renders only the digest
    note: str | None = None  # why there is no reference
    assumptions: list[str] = records.field(
        default_factory=list
    )  # stated, when templates are not at hand
    warnings: list[str] = records.field(default_factory=list)  # rendered differently than written
    placeholder: str | None = None  # a part holds `{{ }}` (for `tpl`) or is otherwise not final
    overridden_by: str | None = None  # a subchart default a parent's values replace
    pin: PinTarget | None = None
    pin_refusal: str | None = None  # why `--pin` leaves this image alone
    pull_policy: str | None = None  # `pullPolicy` beside the image's keys, as written

    @property
    def parts(self) -> list[Part]:
        return [p for p in (self.registry, self.repository, self.tag, self.digest) if p]


@dataclass
class Layer:
    """A values tree and where it sits in the chart's merged values (`redis-ha` for a subchart)."""

    file: str
    root: Node
    prefix: tuple[str, ...] = ()


@dataclass
class ChartFacts:
    """What is known about the chart a values tree belongs to (all optional)."""

    chart_dir: str | None = None
    app_version: str | None = None
    templates: ChartTemplates | None = None
    # Subcharts by values key: their facts, and their own values (defaults under that key).
    subcharts: dict[str, ChartFacts] = records.field(default_factory=dict)
    subchart_values: dict[str, Layer] = records.field(default_factory=dict)
    # The chart's own values.yaml when the tree read is another values file of the chart.
    # Values files under the one read, earliest first (the chart's values.yaml, then each
    # `--values` file before it): what the file read does not set comes from them.
    defaults: list[Layer] = records.field(default_factory=list)
    # For a subchart's own values.yaml: the parent's values and the key it sits under.
    parent_values: Layer | None = None
    # Where the values come from when no chart is at hand ("Flux HelmRelease spec.values").
    context: str | None = None


def find_images(file: str, root: Node | None, chart: ChartFacts | None = None) -> list[ValuesImage]:
    """Every image declared in the values tree `root` of `file`, in file order."""
    if root is None:  # an empty values file
        return []
    facts = chart or ChartFacts()
    finder = _Finder(file, root, facts)
    found = list(finder.walk(root, (), depth=0))
    return sorted(found, key=lambda i: (i.span.start, i.field))


def image_path(image: ValuesImage) -> tuple[str, ...]:
    return tuple(image.field.split("."))


def is_image_key(key: str) -> bool:
    return key == "image" or (key.endswith("Image") and len(key) > len("Image"))


class _Finder:
    def __init__(self, file: str, root: Node, chart: ChartFacts) -> None:
        self.file = file
        self.chart = chart
        self._walked: set[int] = set()
        self.global_registry = _part_at(file, root, ("global", "imageRegistry"))
        self.global_image_registry = _part_at(file, root, ("global", "image", "registry"))
        for layer in reversed(chart.defaults):  # the latest file that sets it wins
            if self.global_registry is None:
                self.global_registry = _part_at(layer.file, layer.root, ("global", "imageRegistry"))
            if self.global_image_registry is None:
                self.global_image_registry = _part_at(
                    layer.file, layer.root, ("global", "image", "registry")
                )

    def walk(self, node: Node, path: tuple[str, ...], depth: int) -> Iterator[ValuesImage]:
        if depth > MAX_DEPTH or id(node) in self._walked:
            return
        # A subtree reached again through an alias is the same declaration, at the same place:
        # walked once (this also keeps an "alias bomb" from costing more than its nodes).
        self._walked.add(id(node))
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                yield from self.walk(item, (*path, f"[{index}]"), depth + 1)
            return
        if not isinstance(node, MappingNode):
            return
        for key_node, value in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            key = str(key_node.value)
            child = (*path, key)
            if isinstance(value, MappingNode):
                image = self.mapping(key_node, value, child)
                if image is not None:
                    yield image
                    continue
                if is_image_key(key) and not _has_reference_keys(value):
                    # `image: {busybox: {...}, kubectl: {...}}`: each child is an image mapping.
                    for sub_key, sub_value in value.value:
                        if isinstance(sub_key, ScalarNode) and isinstance(sub_value, MappingNode):
                            sub = self.mapping(
                                sub_key, sub_value, (*child, str(sub_key.value)), nested=True
                            )
                            if sub is not None:
                                yield sub
                    continue
                yield from self.walk(value, child, depth + 1)
            elif isinstance(value, SequenceNode):
                yield from self.walk(value, child, depth + 1)
            elif isinstance(value, ScalarNode) and is_image_key(key):
                if _has_split_siblings(node) and key == "image":
                    continue  # the `image` of a split mapping, handled with its mapping
                image = self.string(value, child)
                if image is not None:
                    yield image

    # -- shapes -------------------------------------------------------------------------------

    def mapping(
        self, key_node: ScalarNode, node: MappingNode, path: tuple[str, ...], nested: bool = False
    ) -> ValuesImage | None:
        field_name = ".".join(path)
        own = _parts(self.file, node, field_name)
        defaults = self._defaults(path)
        merged = {**defaults, **own}  # the values file wins over the chart's defaults
        use = self._use(path)
        key = path[-1]
        split_image = merged.get("image")
        if "repository" in merged:
            repository, shape = merged["repository"], "mapping"
        elif split_image is not None and isinstance(_child(node, "image"), ScalarNode | None):
            repository, shape = split_image, "split"
        else:
            return None
        image_like = is_image_key(key) or nested
        told = use is not None and use.in_image_line
        split_siblings = shape == "split" and any(
            k in merged for k in ("tag", "digest", "registry")
        )
        if not (image_like or told or split_siblings or self._looks_like_image(path, node, merged)):
            return None
        if not any(k in own for k in REFERENCE_KEYS):
            return None  # nothing of the image is set here (an overlay's `image: {pullPolicy}`)
        if all(p.empty for p in merged.values() if p.key in REFERENCE_KEYS):
            return None  # all empty: the chart's defaults apply (argo-cd's per-component images)
        image = ValuesImage(
            file=self.file,
            field=field_name,
            span=node_span(key_node),
            shape="mapping" if shape == "mapping" else "split",
            repository=repository,
            tag=merged.get("tag"),
            digest=merged.get("digest") or merged.get("sha"),
            pull_policy=_scalar_text(_child(node, "pullPolicy")),
        )
        self._assemble(image, merged, use, path)
        self._pin(image, merged, own, use)
        self._overridden(image, path)
        return image

    def _looks_like_image(
        self, path: tuple[str, ...], node: MappingNode, merged: dict[str, Part]
    ) -> bool:
        """`redis: {repository: redis, tag: "7.2"}` when no templates are at hand to ask (a
        GitOps object's values): a repository that is an image name, with a tag beside it, and
        no key that a git or chart source has. With the templates at hand, they decide."""
        if self._templates(path) is not None:
            return False
        repository, tag = merged.get("repository"), merged.get("tag")
        if repository is None or tag is None or repository.empty or tag.empty:
            return False
        keys = {k.value for k, _v in node.value if isinstance(k, ScalarNode)}
        if keys & _SOURCE_KEYS or repository.text.endswith(".git") or "://" in repository.text:
            return False
        try:
            reference = parse(repository.text)
        except InvalidReference:
            return False
        return reference.tag is None and reference.digest is None

    def string(self, node: ScalarNode, path: tuple[str, ...]) -> ValuesImage | None:
        part = _part(self.file, ".".join(path), path[-1], None, node)
        if part is None or part.kind != "str" or part.empty:
            return None
        image = ValuesImage(
            file=self.file, field=".".join(path), span=part.span, shape="string", repository=part
        )
        if "{{" in part.text:
            image.placeholder = "template placeholder"
            image.reference = part.text
            return image
        try:
            parse(part.text)
        except InvalidReference:
            return None  # not a reference: `image: "see the README"`
        image.reference = part.text
        use = self._use(path)
        if use is not None and use.string_verbatim and not use.string_other_use:
            image.pin = PinTarget(part, "append")
        elif self._templates(path) is None:
            image.pin_refusal = "the chart's templates are not at hand to show it is rendered as is"
        else:
            image.pin_refusal = "the chart's templates do not render it as is"
        self._overridden(image, path)
        return image

    # -- how the chart renders it -------------------------------------------------------------

    def _assemble(
        self,
        image: ValuesImage,
        merged: dict[str, Part],
        use: PathUse | None,
        path: tuple[str, ...],
    ) -> None:
        repository = image.repository
        assert repository is not None
        parts = [p for p in merged.values() if p.key in REFERENCE_KEYS]
        if any("{{" in p.text for p in parts):
            image.placeholder = "template placeholder (rendered with `tpl`)"
        if repository.empty:
            image.note = f"{repository.field} is empty: the chart supplies the repository"
            return
        registry = self._registry(image, merged)
        image.registry = registry
        name = repository.text if registry is None else f"{registry.text}/{repository.text}"
        for part in parts:
            if part.kind == "number" and part.text != part.written:
                image.warnings.append(
                    f"{part.field} is the number {part.written}: Helm renders it as "
                    f"{part.text}; quote it"
                )
            elif part.kind == "bool":
                image.warnings.append(f"{part.field} is the boolean {part.written}; quote it")
        digest = image.digest if image.digest is not None and not image.digest.empty else None
        digest_text = None
        if digest is not None:
            digest_text = digest.text
            if _HEX_DIGEST.fullmatch(digest_text):
                digest_text = "sha256:" + digest_text
        tag = image.tag if image.tag is not None and not image.tag.empty else None
        tag_text: str | None = tag.text if tag is not None else None
        if tag is None and digest is None:
            tag_text = self._unset_tag(image, use, path)
            if tag_text is None:
                return
        if tag is not None and digest is not None:
            if use is not None and use.drops_tag_with_digest:
                image.tag_dropped = True
                tag_text = None
            elif self._templates(path) is None:
                image.assumptions.append("tag and digest both rendered")
        reference = name
        if tag_text is not None:
            reference += f":{tag_text}"
        if digest_text is not None:
            reference += f"@{digest_text}"
        image.reference = reference
        if self._templates(path) is None and image.note is None:
            what = self.chart.context or "values outside a chart"
            image.assumptions.append(
                f"{what}: assumed the chart renders "
                + ("registry/" if registry is not None else "")
                + "repository"
                + (":tag" if tag_text is not None else "")
                + ("@digest" if digest_text is not None else "")
            )

    def _unset_tag(
        self, image: ValuesImage, use: PathUse | None, path: tuple[str, ...]
    ) -> str | None:
        """The tag the chart renders for an unset one, or None with image.note set."""
        templates = self._templates(path)
        written = "not set" if image.tag is None else "empty"
        if use is not None and use.tag_app_version:
            app_version = self._app_version(path)
            if app_version:
                image.tag_from = f"appVersion {app_version} in Chart.yaml"
                return app_version
            image.note = f"tag {written}: the chart uses its appVersion, which is not set"
            return None
        if use is not None and use.tag_literal_default is not None:
            image.tag_from = f'the templates\' default "{use.tag_literal_default}"'
            return use.tag_literal_default
        if use is not None and use.tag_other_default is not None:
            image.note = (
                f"tag {written}: the chart renders {use.tag_other_default} "
                "(not known before deploy)"
            )
        elif templates is None:
            image.note = (
                f"tag {written}: how the chart fills it cannot be told without its templates"
            )
        else:
            image.note = f"tag {written}: the chart's templates do not say what it renders"
        return None

    def _registry(self, image: ValuesImage, merged: dict[str, Part]) -> Part | None:
        own = merged.get("registry")
        if own is not None and self.global_registry is not None and not self.global_registry.empty:
            return self.global_registry
        if own is not None and not own.empty:
            return own
        shared = self.global_image_registry
        if image.shape == "split" and shared is not None and not shared.empty:
            return shared
        return None

    def _pin(
        self, image: ValuesImage, merged: dict[str, Part], own: dict[str, Part], use: PathUse | None
    ) -> None:
        if image.reference is None or image.placeholder is not None:
            return
        for key in DIGEST_KEYS:
            part = own.get(key)
            if part is None:
                continue
            hex_form = key == "sha"
            if use is not None and use.sha_full:
                hex_form = False
            elif use is not None and use.sha_hex:
                hex_form = True
            image.pin = PinTarget(part, "sha-hex" if hex_form else "digest")
            return
        if any(k in merged for k in DIGEST_KEYS):
            image.pin_refusal = "its digest key is in the chart's values.yaml, not in this file"
            return
        tag = own.get("tag")
        if tag is None or tag.empty:
            inherited = merged.get("tag")
            if inherited is not None and not inherited.empty:
                image.pin_refusal = (
                    f"its tag is set in {inherited.file}:{inherited.span.line}; "
                    "set it here too, or add a digest key, to pin it here"
                )
            elif image.tag_from is not None:
                image.pin_refusal = (
                    f"its tag is the chart's {image.tag_from.split(' in ')[0]}; "
                    "add a digest key (or a tag) to pin it"
                )
            else:
                image.pin_refusal = "no tag in this file to pin"
            return
        if tag.kind != "str":
            image.pin_refusal = f"{tag.field} is not a string: quote it first"
            return
        if self._templates(image_path(image)) is None:
            image.pin_refusal = (
                "no digest key, and the chart's templates are not at hand to show the tag is "
                "rendered verbatim"
            )
            return
        if use is None or (use.tag_verbatim == 0 and use.tag_other_use == 0):
            image.pin_refusal = "no digest key, and the chart's templates do not render its tag"
            return
        if use.tag_other_use or use.tag_other_default or use.tag_app_version:
            image.pin_refusal = (
                "no digest key, and the templates use the tag elsewhere than at the end of the "
                'reference: `tag: "1.2.3@sha256:..."` could render a broken reference'
            )
            return
        image.pin = PinTarget(tag, "append")

    def _overridden(self, image: ValuesImage, path: tuple[str, ...]) -> None:
        """A subchart's default that its parent's values replace: the parent's declaration
        counts (it is linted there), this one is listed as overridden."""
        parent = self.chart.parent_values
        if parent is None:
            return
        entry = _entry_at(parent.root, (*parent.prefix, *path))
        if entry is None:
            return
        key_node, node = entry
        replaces = (
            isinstance(node, ScalarNode)
            if image.shape == "string"
            else (isinstance(node, MappingNode) and _has_reference_keys(node))
        )
        if replaces:
            field_name = ".".join((*parent.prefix, *path))
            image.overridden_by = f"{parent.file}:{key_node.start_mark.line + 1} {field_name}"
            image.pin, image.pin_refusal = None, f"overridden by {image.overridden_by}"

    # -- chart lookups (a path under a subchart's key goes to the subchart) -------------------

    def _split(self, path: tuple[str, ...]) -> tuple[ChartFacts, tuple[str, ...]]:
        if path and path[0] in self.chart.subcharts:
            return self.chart.subcharts[path[0]], path[1:]
        return self.chart, path

    def _templates(self, path: tuple[str, ...]) -> ChartTemplates | None:
        return self._split(path)[0].templates

    def _use(self, path: tuple[str, ...]) -> PathUse | None:
        chart, rest = self._split(path)
        if chart.templates is None:
            return None
        return chart.templates.use(".".join(rest))

    def _app_version(self, path: tuple[str, ...]) -> str | None:
        return self._split(path)[0].app_version

    def _defaults(self, path: tuple[str, ...]) -> dict[str, Part]:
        """The parts the chart's own values give this mapping (when this file overrides them)."""
        found: dict[str, Part] = {}
        layers: list[Layer] = []
        if path and path[0] in self.chart.subchart_values:
            layers.append(self.chart.subchart_values[path[0]])
        layers.extend(self.chart.defaults)
        for layer in layers:  # the subchart's defaults first, then each values file over them
            rest = path[len(layer.prefix) :]
            if path[: len(layer.prefix)] != layer.prefix:
                continue
            node = _node_at(layer.root, rest)
            if isinstance(node, MappingNode):
                found.update(_parts(layer.file, node, ".".join(rest)))
        return found


# -- YAML helpers ------------------------------------------------------------------------------


def _child(node: MappingNode, key: str) -> Node | None:
    found = None
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found = value  # the last duplicate wins, as Helm's YAML decoder does
    return found


def _entry_at(root: Node, path: Sequence[str]) -> tuple[Node, Node] | None:
    """The (key, value) nodes at path, None when any step is missing."""
    parent = _node_at(root, path[:-1])
    if not isinstance(parent, MappingNode) or not path:
        return None
    found = None
    for key_node, value in parent.value:
        if isinstance(key_node, ScalarNode) and key_node.value == path[-1]:
            found = (key_node, value)
    return found


def _node_at(root: Node, path: Sequence[str]) -> Node | None:
    node: Node | None = root
    for key in path:
        if not isinstance(node, MappingNode):
            return None
        node = _child(node, key)
    return node


def _scalar_text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != _NULL:
        return str(node.value)
    return None


def _has_reference_keys(node: MappingNode) -> bool:
    return any(
        isinstance(k, ScalarNode) and k.value in REFERENCE_KEYS and isinstance(v, ScalarNode)
        for k, v in node.value
    )


def _has_split_siblings(node: MappingNode) -> bool:
    keys = {k.value for k, _v in node.value if isinstance(k, ScalarNode)}
    return bool(keys & {"tag", "digest", "registry"}) and "repository" not in keys


def _parts(file: str, node: MappingNode, owner: str) -> dict[str, Part]:
    found: dict[str, Part] = {}
    for key_node, value in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.value not in REFERENCE_KEYS:
            continue
        key = str(key_node.value)
        part = _part(file, f"{owner}.{key}" if owner else key, key, key_node, value)
        if part is not None:
            found[key] = part
    return found


def _part_at(file: str, root: Node, path: tuple[str, ...]) -> Part | None:
    parent = _node_at(root, path[:-1])
    if not isinstance(parent, MappingNode):
        return None
    for key_node, value in parent.value:
        if isinstance(key_node, ScalarNode) and key_node.value == path[-1]:
            return _part(file, ".".join(path), path[-1], key_node, value)
    return None


def _part(file: str, field_name: str, key: str, key_node: Node | None, node: Node) -> Part | None:
    if not isinstance(node, ScalarNode):
        return None
    written = str(node.value)
    kind: Literal["str", "null", "number", "bool"] = "str"
    text = written
    if node.tag == _NULL:
        kind, text = "null", ""
    elif node.tag in (_INT, _FLOAT):
        kind, text = "number", go_number(written)
    elif node.tag == _BOOL:
        kind = "bool"
        text = "true" if written.lower() in ("true", "yes", "on", "y") else "false"
    span = node_span(node)
    return Part(
        file=file,
        field=field_name,
        key=key,
        text=text,
        written=written,
        span=span,
        key_span=node_span(key_node) if key_node is not None else span,
        kind=kind,
    )


def go_number(written: str) -> str:
    """A YAML number as Helm prints it: values become float64 and `{{ }}` prints them with Go's
    %v (shortest digits, exponent form from 1e+06 up and below 1e-04): `1.10` -> `1.1`,
    `20240101` -> `2.0240101e+07`."""
    cleaned = written.replace("_", "")
    try:
        if re.fullmatch(r"[-+]?(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+)", cleaned):
            value = float(int(cleaned, 0))
        else:
            value = float(cleaned)
    except ValueError:
        return written
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    import decimal  # only for a float written in a values file

    # repr() gives the shortest digits that round-trip, as Go's strconv with precision -1.
    sign, digit_tuple, exponent = decimal.Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent - 1  # the decimal exponent of the first digit
    prefix = "-" if sign else ""
    if point < -4 or point >= 6:  # Go's %g with shortest precision decides at 6
        tail = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{prefix}{digits[0]}{tail}e{'-' if point < 0 else '+'}{abs(point):02d}"
    if point >= len(digits) - 1:
        return prefix + digits + "0" * (point - len(digits) + 1)
    if point >= 0:
        return f"{prefix}{digits[: point + 1]}.{digits[point + 1 :]}"
    return f"{prefix}0.{'0' * (-point - 1)}{digits}"
