"""Kustomizations as files: their `images:` entries with positions, and what each entry matches
in the bases it builds on, modelled on kustomize v5's build order.

A kustomization builds, in order: its `resources:` (files, and folders built first as
kustomizations of their own; then the deprecated `bases:`), merges the `configurations:` image
field specs (a base's stay in force above it), runs its chart generators (`helmCharts`: the
images their `valuesInline` declares join the build here), runs its `components:` (each adds
its resources
and runs its own entries over everything accumulated so far), applies its patches, then runs its
`images:` entries one after the other (and the deprecated `imageTags:` after them). The model
follows that order over the files of the linted set only: a base that is remote, outside the
linted set, or built by something not modelled here (what Helm charts render beyond their
`valuesInline`, generator and transformer plugins, replacements into image fields) makes the
outcome unknown, with the reason, and then nothing is concluded from a missing match.

The order is kustomize's `accumulateTarget` (api/internal/target/kusttarget.go): resources,
configurations, generators (HelmChartInflationGenerator among them), components, then the
builtin transformers (patches first, ImageTagTransformer after them) over everything
accumulated, generated resources included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint import kustomize
from imglint.document_filter import (
    DocumentFilter,
    DocumentHead,
    blanked_for_composing,
    unwanted_ranges,
)
from imglint.documents import ManifestLoader, gc_paused, node_span
from imglint.extract.kustomize import KUSTOMIZATION_FILE_NAMES, is_kustomization_path
from imglint.findings import InputError, Span
from imglint.kustomize import FieldSpec, ImageOverride
from imglint.records import dataclass, field
from imglint.sources import MAX_FILE_BYTES, Source, SourceChanged, decode

KUSTOMIZE_GROUP = "kustomize.config.k8s.io"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
# The fields of an `images:` entry. kustomize reads the file through Go's encoding/json, which
# matches field names regardless of case (`newtag` sets newTag) and refuses any other field.
ENTRY_FIELDS = {
    "name": "name",
    "newname": "newName",
    "newtag": "newTag",
    "digest": "digest",
    "tagsuffix": "tagSuffix",
}
# Plain scalars Go's YAML 1.1 reader takes as numbers although PyYAML reads them as strings
# (`08`, `1e5`): kustomize refuses them where a string is expected.
_GO_NUMBER = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?")
# Resource strings kustomize fetches instead of reading (git repositories, URLs).
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)|\?ref=|//",
    re.IGNORECASE,
)
# The placeholder of an entry site whose reference needs the image of its base (the tag).
NEEDS_BASE = "tag from the base image"
# How many times the transformer rewrites a chart's image: charts render their images in the
# pod templates of Deployments, StatefulSets, DaemonSets and Jobs, or in Pods, which both of
# its walks select (only `tagSuffix` notices: a CronJob's image gets it once, not twice).
CHART_SELECTIONS = 2
# Builds nested deeper than this are not followed (kustomize has no limit; real trees use 2-4).
MAX_DEPTH = 32


def path_key(path: str, cwd: str | None = None) -> str:
    """A file's identity in the model: its absolute, normalized path. (Not the real path:
    resolving symbolic links costs a system call per file, for every file of a large run; give
    `cwd` when keying many relative paths, for the same reason.)"""
    if os.path.isabs(path):
        return os.path.normpath(path)
    return os.path.normpath(os.path.join(cwd if cwd is not None else os.getcwd(), path))


@dataclass
class Entry:
    """One `images:` entry as written, with the scalars of its fields."""

    index: int
    node: Node  # the entry's mapping (or the `name=newName:tag` string of Argo CD)
    override: ImageOverride
    # Field (`name`, `newName`, `newTag`, `digest`, `tagSuffix`) -> its value scalar, for
    # mapping entries; the key scalar too, so an edit can add a field after it.
    values: dict[str, ScalarNode] = field(default_factory=dict)
    keys: dict[str, ScalarNode] = field(default_factory=dict)
    # What kustomize refuses in the entry (its build fails): (message, node).
    problems: list[tuple[str, Node]] = field(default_factory=list)
    text_form: bool = False  # an Argo CD string

    def span(self, name: str) -> Span | None:
        node = self.values.get(name)
        return node_span(node) if node is not None else None


def read_entries(node: Node) -> tuple[list[Entry], list[tuple[str, Node]]]:
    """The entries of an `images:` list (kustomization or Flux), and what kustomize refuses."""
    problems: list[tuple[str, Node]] = []
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return [], problems
    if not isinstance(node, SequenceNode):
        problems.append(("images must be a list of entries", node))
        return [], problems
    entries = []
    for index, item in enumerate(node.value):
        entry = _entry(index, item)
        if entry is not None:
            entries.append(entry)
            problems.extend(entry.problems)
        else:
            problems.append(("an images entry must be a mapping with a name", item))
    return entries, problems


def _entry(index: int, node: Node) -> Entry | None:
    if not isinstance(node, MappingNode):
        return None
    entry = Entry(index, node, ImageOverride(""))
    texts: dict[str, str] = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            entry.problems.append(("an images entry's keys are field names", key))
            continue
        name = ENTRY_FIELDS.get(key.value.lower())
        if name is None:
            known = ", ".join(ENTRY_FIELDS.values())
            entry.problems.append(
                (f'kustomize refuses the unknown field "{key.value}" (fields: {known})', key)
            )
            continue
        if not isinstance(value, ScalarNode):
            entry.problems.append((f"{name} must be a string", value))
            continue
        if value.tag == _NULL:
            texts.pop(name, None)
            entry.values.pop(name, None)
            continue
        if value.tag != _STR or (value.style is None and _GO_NUMBER.fullmatch(value.value)):
            kind = "a number" if value.tag != "tag:yaml.org,2002:bool" else "a boolean"
            entry.problems.append(
                (f"kustomize refuses {name}: {value.value} is {kind} there (quote it)", value)
            )
            continue
        texts[name] = value.value  # the last of duplicate (or differently cased) keys wins
        entry.values[name] = value
        entry.keys[name] = key
    entry.override = ImageOverride(
        texts.get("name", ""),
        texts.get("newName", ""),
        texts.get("newTag", ""),
        texts.get("digest", ""),
        texts.get("tagSuffix", ""),
    )
    return entry


def parse_argo_image(text: str) -> ImageOverride | None:
    """An Argo CD `kustomize.images` string, read as `kustomize edit set image` reads it
    (Argo CD runs that command): `[NAME=]NEWNAME[:TAG][@DIGEST]`; None when it refuses it."""
    key, separator, value = text.partition("=")
    if not separator:
        key, value = "", text
    name, tag, digest = kustomize.split(value)
    if name == text:
        return None
    if key:
        return ImageOverride(key, name, tag, digest)
    return ImageOverride(name, "", tag, digest)


def kustomization_kind(document: MappingNode) -> str | None:
    """`Kustomization` or `Component` for a kustomize file's document, else None."""
    kind = scalar(child(document, "kind"))
    api_version = scalar(child(document, "apiVersion"))
    if api_version is not None and api_version.rpartition("/")[0] != KUSTOMIZE_GROUP:
        return None
    if kind is None:
        return "Kustomization"
    return kind if kind in ("Kustomization", "Component") else None


@dataclass
class ChartValue:
    """An image a kustomization's `helmCharts[].valuesInline` declares, as the chart is assumed
    to render it (registry/repository:tag@digest, imglint.helm_values_gitops): kustomize runs
    its chart generators before its transformers, so the build's `images:` entries (its own,
    its components', and those of every overlay above it) rewrite what the chart renders."""

    value: str
    span: Span  # the declaring key, as the Helm values site has it
    field_path: str  # `helmCharts[0].valuesInline.redis`
    path: str  # display path of the kustomization
    real_path: str
    tag: Span | None = None  # where its tag is written in the kustomization, if it is


@dataclass
class Kustomization:
    """The parts of one kustomization file that decide which images its entries see."""

    path: str  # real path of the file
    display: str  # its path as shown to the user
    kind: str
    entries: list[Entry]
    resources: list[str]
    components: list[str]
    configurations: list[str]
    patch_files: list[str]
    inline_patches: list[Node]
    # Why the images it builds cannot all be known (features this model does not follow).
    unmodelled: list[str]
    problems: list[tuple[str, Node]]
    # The images its charts' valuesInline declares (what its chart generators render of them).
    chart_values: list[ChartValue] = field(default_factory=list)


def read_kustomization(path: str, display: str, document: MappingNode) -> Kustomization | None:
    kind = kustomization_kind(document)
    if kind is None:
        return None
    entries: list[Entry] = []
    problems: list[tuple[str, Node]] = []
    for key in ("images", "imageTags"):  # imageTags: the deprecated name, applied after
        node = child(document, key)
        if node is not None:
            found, refused = read_entries(node)
            entries.extend(found)
            problems.extend(refused)
    for index, entry in enumerate(entries):
        entry.index = index
    unmodelled = []
    for key, why in (
        # valuesInline is read (linted where it is written), but what a chart renders also
        # comes from its templates and its own values.yaml, fetched by kustomize.
        (
            "helmCharts",
            "its Helm charts render images from their templates and own values, which are not "
            "at hand (only valuesInline is read)",
        ),
        ("helmChartInflationGenerator", "its Helm charts' images are known only once rendered"),
        ("generators", "its generator plugins may write images"),
        ("transformers", "its transformer plugins may rewrite images"),
    ):
        if child(document, key) is not None:
            unmodelled.append(f"{display}: {key}: {why}")
    replacements = child(document, "replacements")
    if replacements is not None and _mentions(replacements, "image"):
        unmodelled.append(f"{display}: replacements may write image fields")
    patch_files, inline = _patches(document)
    return Kustomization(
        path=path,
        display=display,
        kind=kind,
        entries=entries,
        resources=_resources(document),
        components=_strings(child(document, "components")),
        configurations=_strings(child(document, "configurations")),
        patch_files=patch_files,
        inline_patches=inline,
        unmodelled=unmodelled,
        problems=problems,
        chart_values=_chart_values(path, display, document),
    )


def _resources(document: MappingNode) -> list[str]:
    return _strings(child(document, "resources")) + _strings(child(document, "bases"))


def _patches(document: MappingNode) -> tuple[list[str], list[Node]]:
    """The patch files a kustomization names, and its inline patches (the patch strings)."""
    patch_files: list[str] = []
    inline: list[Node] = []
    for key in ("patches", "patchesJson6902"):
        for item in _items(child(document, key)):
            file = scalar(child(item, "path")) if isinstance(item, MappingNode) else None
            patch = child(item, "patch") if isinstance(item, MappingNode) else None
            if file:
                patch_files.append(file)
            elif isinstance(patch, ScalarNode):
                inline.append(patch)
    for item in _items(child(document, "patchesStrategicMerge")):
        text = scalar(item)
        if text is not None and "\n" not in text.strip():
            patch_files.append(text.strip())
        elif isinstance(item, ScalarNode):
            inline.append(item)
    return patch_files, inline


@dataclass(frozen=True, slots=True)
class KustomizationLinks:
    """The files and folders a kustomization file names, as path keys, by what they are to
    its builds. The reader, which composes every kustomization file of a run anyway, keeps
    this much of each (`kustomization_links`): settling then groups kustomizations
    (`imglint.kustomize_sites.kustomization_groups`) and finds the users of components and
    the `configurations:` files of the set (`Tree`) without composing them again."""

    resources: tuple[str, ...] = ()  # `resources:`, then the deprecated `bases:`
    components: tuple[str, ...] = ()
    patches: tuple[str, ...] = ()  # patch files
    configurations: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        """What `Tree.references` gives for the file."""
        return self.resources + self.components + self.patches + self.configurations


def kustomization_links(real: str, document: Node | None) -> KustomizationLinks:
    """The links of a kustomization file (path key `real`) whose first document is
    `document`, as composed (None: it has none); empty when it is no kustomization, as the
    Tree reads it."""
    if not isinstance(document, MappingNode) or kustomization_kind(document) is None:
        return KustomizationLinks()
    folder = os.path.dirname(real)

    def keys(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(path_key(os.path.join(folder, name)) for name in names)

    return KustomizationLinks(
        keys(_resources(document)),
        keys(_strings(child(document, "components"))),
        keys(_patches(document)[0]),
        keys(_strings(child(document, "configurations"))),
    )


def _chart_values(path: str, display: str, document: MappingNode) -> list[ChartValue]:
    """The images of `helmCharts[].valuesInline` whose rendered reference can be told (as the
    Helm values sites of the same file are read: imglint.extract.helm_values)."""
    if child(document, "helmCharts") is None:
        return []
    from imglint.helm_values import ChartFacts, find_images
    from imglint.helm_values_gitops import kustomize_helm_charts

    found = []
    for embedded in kustomize_helm_charts(document):
        facts = ChartFacts(context=embedded.context)
        for image in find_images(display, embedded.root, facts):
            if image.reference is None or image.placeholder or image.overridden_by:
                continue
            tag = image.tag
            found.append(
                ChartValue(
                    image.reference,
                    image.span,
                    f"{embedded.field_prefix}.{image.field}",
                    display,
                    path,
                    tag.span if tag is not None and tag.file == display else None,
                )
            )
    return found


@dataclass(frozen=True)
class Match:
    """An image value an entry rewrote: where the base writes it and what the entry made of it."""

    before: str  # the value as the entry saw it
    after: str  # what the entry wrote
    path: str  # display path of the file the value is written in
    span: Span
    field_path: str
    real_path: str = ""  # that file's real path ("" for a value of an inline patch)
    # A `helmCharts[].valuesInline` image (not an object's field), and where its tag is written.
    chart_value: bool = False
    tag: Span | None = None


@dataclass
class EntryOutcome:
    """What an entry did in every build the linted set shows it in."""

    matches: list[Match] = field(default_factory=list)
    # Why the images it could match are not all known (remote or unlisted bases, plugins).
    unknown: list[str] = field(default_factory=list)
    builds: int = 0  # how many builds ran it (a component runs in each kustomization using it)
    # The image values it was tried against (the first hundred), for a hint when none matched.
    seen: list[str] = field(default_factory=list)


@dataclass
class _Object:
    document: MappingNode
    path: str  # display path
    # Where its values are shown when their own positions are not the file's (an inline
    # patch: a YAML text inside a string of the kustomization): the patch string.
    shown_at: Span | None = None
    patch: bool = False  # a patch's object: its values are candidates, not objects of the output
    real_path: str = ""


@dataclass
class _Build:
    objects: list[_Object] = field(default_factory=list)
    # Rewritten image values, by node id (by ChartValue id for a chart's values).
    values: dict[int, str] = field(default_factory=dict)
    specs: list[FieldSpec] = field(default_factory=list)  # from `configurations:`
    unknown: list[str] = field(default_factory=list)
    chart_values: list[ChartValue] = field(default_factory=list)
    # The entries that rewrote a chart value, in order, by ChartValue id: (kustomization, index).
    writers: dict[int, tuple[tuple[str, int], ...]] = field(default_factory=dict)

    def absorb(self, other: _Build) -> None:
        self.objects.extend(other.objects)
        self.values.update(other.values)
        self.chart_values.extend(other.chart_values)
        self.writers.update(other.writers)
        for spec in other.specs:
            if spec not in self.specs:
                self.specs.append(spec)
        for reason in other.unknown:
            if reason not in self.unknown:
                self.unknown.append(reason)

    def copy(self) -> _Build:
        return _Build(
            list(self.objects),
            dict(self.values),
            list(self.specs),
            list(self.unknown),
            list(self.chart_values),
            dict(self.writers),
        )


class Tree:
    """The kustomizations of a linted set and what their entries match.

    `field_specs`: kustomize's own image field specs (defaults: those of kustomize v5.6 and
    later, which also rewrite image volumes). `from_disk`: read local files that are not among
    `sources` too (to trace `kustomize build` output back to its files, where there is no
    linted set); remote bases are never fetched either way. `links`: what kustomization files
    of `sources` name, by path key, as the reader read them (`kustomization_links`): the
    model reads those instead of composing a file to know them.
    """

    def __init__(
        self,
        sources: Iterable[Source],
        field_specs: Sequence[FieldSpec] = kustomize.DEFAULT_FIELD_SPECS
        + kustomize.VOLUME_FIELD_SPECS,
        *,
        from_disk: bool = False,
        links: Mapping[str, KustomizationLinks] | None = None,
    ) -> None:
        self._sources: dict[str, Source] = {}
        cwd = os.getcwd()
        for source in sources:
            if source.file_path is not None:
                self._sources[path_key(source.file_path, cwd)] = source
        # Image fields per field specs and object: a base's objects are searched once, not again
        # at every level of every overlay built on it. (The specs are looked up once per build:
        # hashing them is hashing each spec.)
        self._fields: dict[tuple[FieldSpec, ...], dict[int, list[kustomize.ImageField]]] = {}
        self._from_disk = from_disk
        self._links: Mapping[str, KustomizationLinks] = links if links is not None else {}
        self._field_specs = tuple(field_specs)
        self._documents: dict[str, list[Node] | None] = {}
        self._kustomizations: dict[str, Kustomization | None] = {}
        self._built: dict[str, _Build] = {}
        self._outcomes: dict[tuple[str, int], EntryOutcome] = {}
        self._users: dict[str, list[str]] | None = None  # component folder -> its users
        # Resources are composed without the documents that hold no image field; None: whole.
        self._resource_documents: dict[str, list[Node] | None] = {}
        self._resource_filter: DocumentFilter | None = None
        self._resource_filter_decided = False

    # -- the linted set --------------------------------------------------------------------

    def _source(self, real: str) -> Source | None:
        found = self._sources.get(real)
        if found is None and self._from_disk and real not in self._documents:
            found = _read_from_disk(real)
            if found is not None:
                self._sources[real] = found
        return found

    def _display(self, real: str) -> str:
        source = self._sources.get(real)
        return source.path if source is not None else os.path.relpath(real)

    def documents(self, real: str) -> list[Node] | None:
        """The YAML documents of a linted file; None when it is not linted or does not parse."""
        if real not in self._documents:
            self._documents[real] = self._compose(real)
        return self._documents[real]

    def _compose(self, real: str, wanted: DocumentFilter | None = None) -> list[Node] | None:
        source = self._source(real)
        if source is None:
            return None
        try:
            text = source.text
            skipped = unwanted_ranges(text, wanted) if wanted is not None else None
            # (Only what lies between the skipped documents a file starts and ends with, as
            # the reader composes it: its nodes' offsets are read through node_span.)
            composed = blanked_for_composing(text, skipped) if skipped else text
            with gc_paused():  # as the reader composes: many nodes, no cycles
                return list(yaml.compose_all(composed, Loader=ManifestLoader))
        except (yaml.YAMLError, RecursionError, SourceChanged):
            return None

    def resource_documents(self, real: str) -> list[Node] | None:
        """The documents of a linted file that a build reads as a resource: `documents`, with
        those whose text shows they hold no image field the builds look at blanked (as the
        reader skips documents: `imglint.document_filter`), so a base's CRDs and ConfigMaps
        are not composed to find nothing. None when it is not linted or does not parse."""
        wanted = self._filter_for_resources()
        if wanted is None or real in self._documents:
            return self.documents(real)
        if real not in self._resource_documents:
            self._resource_documents[real] = self._compose(real, wanted)
        return self._resource_documents[real]

    def _filter_for_resources(self) -> DocumentFilter | None:
        """Which documents of a resource can hold an image field: a List, or an object whose
        text holds a key that a field spec ends in (kustomize's `containers` and
        `initContainers` walk, `image`, `reference`, and those of every `configurations:` file
        of the set), except a CustomResourceDefinition (never transformed). None (compose
        whole) when files are read from disk: the specs are not all known beforehand."""
        if not self._resource_filter_decided:
            self._resource_filter_decided = True
            if not self._from_disk:
                specs = list(self._field_specs)
                for real in sorted(self._sources):
                    for configuration in self._named(real, "configurations"):
                        specs.extend(self._configuration_specs_at(configuration) or ())
                self._resource_filter = _image_field_filter(specs)
        return self._resource_filter

    def _named(self, real: str, key: str) -> tuple[str, ...]:
        """The path keys of the `components` or `configurations` (`key`) that a file of the
        set names: () for a file that is no kustomization. From its links where the reader
        gave them, else from the composed file (only when its text holds the key at all)."""
        if not is_kustomization_path(real):
            return ()
        links = self._links.get(real)
        if links is not None:
            return links.components if key == "components" else links.configurations
        source = self._sources.get(real)
        if source is None or key not in _text_of(source):
            return ()
        found = self.kustomization(real)
        if found is None:
            return ()
        names = found.components if key == "components" else found.configurations
        return tuple(path_key(os.path.join(os.path.dirname(real), name)) for name in names)

    def kustomization(self, real: str) -> Kustomization | None:
        if real not in self._kustomizations:
            self._kustomizations[real] = self._read_kustomization(real, self.documents(real))
        return self._kustomizations[real]

    def _read_kustomization(self, real: str, docs: list[Node] | None) -> Kustomization | None:
        first = docs[0] if docs else None
        if not isinstance(first, MappingNode):
            return None
        return read_kustomization(real, self._display(real), first)

    def references(self, real: str) -> list[str]:
        """The files and folders a kustomization file's builds may open (resources, components,
        patches, configurations), as path keys: what ties it to other files of the set. (Read
        and dropped: a run asks this of every kustomization file it lints.)"""
        found = self._kustomizations.get(real)
        if found is None:
            docs = self._compose(real)
            return list(kustomization_links(real, docs[0] if docs else None).references)
        folder = os.path.dirname(real)
        named = [*found.resources, *found.components, *found.patch_files, *found.configurations]
        return [path_key(os.path.join(folder, name)) for name in named]

    def _folder_kustomization(self, folder: str) -> tuple[Kustomization | None, str]:
        """The kustomization of a folder, or why it is not known."""
        for name in KUSTOMIZATION_FILE_NAMES:
            candidate = os.path.join(folder, name)
            if self._source(candidate) is not None:
                found = self.kustomization(candidate)
                if found is None:
                    return None, f"{self._display(candidate)} could not be read"
                return found, ""
        shown = os.path.relpath(folder)
        if os.path.isdir(folder):
            return None, f"the kustomization in {shown}/ is not among the linted files"
        return None, f"{shown} does not exist"

    def forget_builds(self) -> None:
        """Drop the composed files, the kustomizations read and the builds: a run that has
        settled every entry of a set of files no later entry builds on calls it, so that the
        model of a large set is held one part at a time, not all at once."""
        self._documents.clear()
        self._resource_documents.clear()
        self._kustomizations.clear()
        self._fields.clear()  # keyed by node ids, which new nodes may take again
        self._built.clear()
        self._outcomes.clear()

    # -- analysis --------------------------------------------------------------------------

    def outcome(self, kustomization_path: str, index: int) -> EntryOutcome:
        """What the entry `index` of the kustomization file did in the linted set's builds."""
        real = path_key(kustomization_path)
        self._run_builds_of(real)
        found = self._outcomes.get((real, index))
        if found is None:
            found = EntryOutcome(
                unknown=["no kustomization among the linted files uses this component"]
            )
        return found

    def unknown(self, kustomization_path: str) -> list[str]:
        """Why the images of a kustomization's build are not all known ([]: they are)."""
        return list(self._build(os.path.dirname(path_key(kustomization_path)), []).unknown)

    def chart_values_rewritten(
        self, kustomization_path: str
    ) -> dict[int, tuple[str, tuple[tuple[str, int], ...]]]:
        """The `helmCharts[].valuesInline` images of a kustomization that the entries of its
        own build (its own and its components') rewrite, by the start of the declaring key:
        the reference that build deploys, and the entries that wrote it (kustomization path,
        entry index), in order. Overlays above it rewrite it again in their own builds."""
        real = path_key(kustomization_path)
        found = self.kustomization(real)
        if found is None or found.kind != "Kustomization" or not found.chart_values:
            return {}
        folder = os.path.dirname(real)
        if self._folder_kustomization(folder)[0] is not found:
            return {}  # not the file kustomize builds the folder from
        self._build(folder, [])
        build = self._built.get(folder)
        if build is None:
            return {}  # it builds on itself
        rewritten = {}
        for chart_value in found.chart_values:
            writers = build.writers.get(id(chart_value))
            if writers:
                rewritten[chart_value.span.start] = (build.values[id(chart_value)], writers)
        return rewritten

    def field_specs(self, kustomization_path: str) -> tuple[FieldSpec, ...]:
        """The image field specs in force where a kustomization's entries run."""
        build = self._build(os.path.dirname(path_key(kustomization_path)), [])
        return self._field_specs + tuple(build.specs)

    def rendered_images(self, kustomization_path: str) -> list[tuple[str, str, str]]:
        """(kind, field path, value) of every image field the build of a kustomization writes,
        sorted: what `kustomize build` of its folder outputs, where the build is known (patches
        not applied). For checking the model against the real tool."""
        folder = os.path.dirname(path_key(kustomization_path))
        build = self._build(folder, [])
        specs = self._field_specs + tuple(build.specs)
        found = []
        for obj in build.objects:
            if obj.patch:
                continue
            kind = scalar(child(obj.document, "kind")) or ""
            for image_field in kustomize.image_fields(obj.document, specs):
                key = id(image_field.node)
                value = build.values[key] if key in build.values else str(image_field.node.value)
                found.append((kind, image_field.path, value))
        return sorted(found)

    def entries_in_build_order(
        self, folder: str
    ) -> list[tuple[Kustomization, Entry, EntryOutcome]]:
        """Every entry run by the build of a folder, in the order kustomize runs them."""
        self._build(path_key(folder), [])
        found = []
        for (path, index), outcome in self._outcomes.items():
            kustomization = self._kustomizations.get(path)
            if kustomization is not None and index < len(kustomization.entries):
                found.append((kustomization, kustomization.entries[index], outcome))
        return found

    def patch_images(self, folder: str) -> list[tuple[str, Span, str, str]]:
        """(display path, span, kind, value) of the image fields the build's patches write."""
        build = self._build(path_key(folder), [])
        specs = self._field_specs + tuple(build.specs)
        found = []
        for obj in build.objects:
            if not obj.patch:
                continue
            kind = scalar(child(obj.document, "kind")) or ""
            for image_field in kustomize.image_fields(obj.document, specs):
                span = obj.shown_at or node_span(image_field.node)
                found.append((obj.path, span, kind, str(image_field.node.value)))
        return found

    def _run_builds_of(self, real: str, seen: frozenset[str] = frozenset()) -> None:
        """Build what runs a kustomization's entries: its own folder, or for a component every
        kustomization of the set that uses it (through components that use it, too)."""
        found = self.kustomization(real)
        if found is None or real in seen:
            return
        folder = os.path.dirname(real)
        if found.kind == "Kustomization":
            self._build(folder, [])
            return
        for user in self._component_users(folder):
            self._run_builds_of(user, seen | {real})

    def _component_users(self, folder: str) -> list[str]:
        """The kustomization files of the set whose `components:` name a folder."""
        if self._users is None:
            self._users = {}
            for real in sorted(self._sources):
                for target in self._named(real, "components"):
                    self._users.setdefault(target, []).append(real)
        return self._users.get(folder, [])

    def _build(self, folder: str, stack: list[str]) -> _Build:
        cached = self._built.get(folder)
        if cached is not None:
            return cached.copy()
        found, why = self._folder_kustomization(folder)
        if found is None:
            return _Build(unknown=[why])
        if folder in stack or len(stack) > MAX_DEPTH:
            return _Build(unknown=[f"{found.display} builds on itself"])
        build = _Build()
        self._accumulate(found, build, [*stack, folder])
        self._run_entries(found, build)
        self._built[folder] = build
        return build.copy()

    def _accumulate(self, found: Kustomization, build: _Build, stack: list[str]) -> None:
        """Everything a kustomization's entries run over: resources, configurations,
        components and patches, in kustomize's order."""
        folder = os.path.dirname(found.path)
        build.unknown.extend(found.unmodelled)
        for resource in found.resources:
            if _REMOTE.search(resource):
                build.unknown.append(f"{found.display}: remote resource {resource} is not opened")
                continue
            target = path_key(os.path.join(folder, resource))
            if os.path.isdir(target):
                build.absorb(self._build(target, stack))
            else:
                self._add_file(found, resource, target, build, patch=False)
        for configuration in found.configurations:
            self._add_configuration(found, configuration, build)
        # Its chart generators run next (before its components and transformers:
        # api/internal/target/kusttarget.go, accumulateTarget), so every entry from here up
        # runs over what the charts render.
        build.chart_values.extend(found.chart_values)
        for component in found.components:
            target = path_key(os.path.join(folder, component))
            if _REMOTE.search(component):
                build.unknown.append(f"{found.display}: remote component {component} is not opened")
                continue
            inner, why = self._folder_kustomization(target)
            if inner is None:
                build.unknown.append(why)
                continue
            if inner.kind != "Component" or target in stack:
                build.unknown.append(f"{found.display}: {component} is not a usable component")
                continue
            self._accumulate(inner, build, [*stack, target])
            self._run_entries(inner, build)
        for patch in found.patch_files:
            self._add_file(found, patch, path_key(os.path.join(folder, patch)), build, patch=True)
        for node in found.inline_patches:
            self._add_inline_patch(found, node, build)

    def _add_file(
        self, found: Kustomization, name: str, real: str, build: _Build, *, patch: bool
    ) -> None:
        # A patch is read whole: `$patch: delete` and JSON patches count, images or not.
        docs = self.documents(real) if patch else self.resource_documents(real)
        if docs is None:
            where = "patch" if patch else "resource"
            state = (
                "is not among the linted files" if real not in self._sources else "does not parse"
            )
            build.unknown.append(f"{found.display}: {where} {name} {state}")
            return
        for doc in docs:
            self._add_document(doc, self._display(real), build, found, patch, real_path=real)

    def _add_document(
        self,
        doc: Node,
        display: str,
        build: _Build,
        found: Kustomization,
        patch: bool,
        shown_at: Span | None = None,
        real_path: str = "",
    ) -> None:
        if isinstance(doc, SequenceNode) and patch:
            if _mentions(doc, "image"):
                build.unknown.append(f"{found.display}: a JSON patch may set images")
            return
        if not isinstance(doc, MappingNode):
            return
        items = child(doc, "items")
        kind = scalar(child(doc, "kind")) or ""
        if kind.endswith("List") and isinstance(items, SequenceNode):
            for item in items.value:
                self._add_document(item, display, build, found, patch, shown_at, real_path)
            return
        if patch and scalar(child(doc, "$patch")) == "delete":
            # A strategic-merge delete: the object it names leaves the build.
            name = scalar(child(child(doc, "metadata"), "name"))
            build.objects = [
                obj
                for obj in build.objects
                if obj.patch
                or scalar(child(obj.document, "kind")) != kind
                or scalar(child(child(obj.document, "metadata"), "name")) != name
            ]
            return
        build.objects.append(_Object(doc, display, shown_at, patch, real_path))

    def _add_inline_patch(self, found: Kustomization, node: Node, build: _Build) -> None:
        text = scalar(node) or ""
        try:
            docs = list(yaml.compose_all(text, Loader=ManifestLoader))
        except (yaml.YAMLError, RecursionError):
            build.unknown.append(f"{found.display}: an inline patch does not parse")
            return
        for doc in docs:
            self._add_document(doc, found.display, build, found, True, node_span(node))

    def _add_configuration(self, found: Kustomization, name: str, build: _Build) -> None:
        specs = self._configuration_specs(found, name)
        if specs is None:
            build.unknown.append(
                f"{found.display}: configuration {name} is not among the linted files"
            )
            return
        for spec in specs:
            if spec not in build.specs:
                build.specs.append(spec)

    def _configuration_specs(self, found: Kustomization, name: str) -> list[FieldSpec] | None:
        """The image field specs of a `configurations:` file (None: not linted or unreadable)."""
        real = path_key(os.path.join(os.path.dirname(found.path), name))
        return self._configuration_specs_at(real)

    def _configuration_specs_at(self, real: str) -> list[FieldSpec] | None:
        """The same, of the file at a path key."""
        docs = self.documents(real)
        if docs is None:
            return None
        specs: list[FieldSpec] = []
        for doc in docs:
            for item in _items(child(doc, "images") if isinstance(doc, MappingNode) else None):
                path = scalar(child(item, "path"))
                if path:
                    specs.append(
                        FieldSpec(
                            path,
                            scalar(child(item, "kind")) or "",
                            scalar(child(item, "group")) or "",
                            scalar(child(item, "version")) or "",
                        )
                    )
        return specs

    def _image_fields(
        self, objects: list[_Object], specs: tuple[FieldSpec, ...]
    ) -> list[tuple[_Object, kustomize.ImageField]]:
        """Each object's image fields under `specs`, in order."""
        by_document = self._fields.setdefault(specs, {})
        fields: list[tuple[_Object, kustomize.ImageField]] = []
        for obj in objects:
            found = by_document.get(id(obj.document))
            if found is None:
                found = by_document[id(obj.document)] = kustomize.image_fields(obj.document, specs)
            fields.extend((obj, image_field) for image_field in found)
        return fields

    def _run_entries(self, found: Kustomization, build: _Build) -> None:
        specs = self._field_specs + tuple(build.specs)
        fields = self._image_fields(build.objects, specs)
        for entry in found.entries:
            outcome = self._outcomes.setdefault((found.path, entry.index), EntryOutcome())
            outcome.builds += 1
            for reason in build.unknown:
                if reason not in outcome.unknown:
                    outcome.unknown.append(reason)
            if entry.problems:
                continue
            for obj, image_field in fields:
                key = id(image_field.node)
                before = build.values[key] if key in build.values else str(image_field.node.value)
                if len(outcome.seen) < 100 and before not in outcome.seen:
                    outcome.seen.append(before)
                after = kustomize.apply(entry.override, before, image_field.selections)
                if after is None:
                    continue
                build.values[key] = after
                span = obj.shown_at or node_span(image_field.node)
                match = Match(before, after, obj.path, span, image_field.path, obj.real_path)
                if match not in outcome.matches:
                    outcome.matches.append(match)
            for chart_value in build.chart_values:
                key = id(chart_value)
                before = build.values.get(key, chart_value.value)
                if len(outcome.seen) < 100 and before not in outcome.seen:
                    outcome.seen.append(before)
                after = kustomize.apply(entry.override, before, CHART_SELECTIONS)
                if after is None:
                    continue
                build.values[key] = after
                build.writers[key] = (*build.writers.get(key, ()), (found.path, entry.index))
                match = Match(
                    before,
                    after,
                    chart_value.path,
                    chart_value.span,
                    chart_value.field_path,
                    chart_value.real_path,
                    chart_value=True,
                    tag=chart_value.tag,
                )
                if match not in outcome.matches:
                    outcome.matches.append(match)


def _image_field_filter(specs: Sequence[FieldSpec]) -> DocumentFilter | None:
    """The documents a build's image fields can be in (see `Tree._filter_for_resources`);
    None when a spec's last field is not a plain key."""
    keys = set(kustomize.LEGACY_FIELDS)
    for spec in specs:
        last = kustomize.split_path(spec.path)[-1].partition("[")[0]
        if not last.isidentifier():
            return None
        keys.add(last)
    key_names = frozenset(keys)

    def wants(head: DocumentHead) -> bool:
        if head.kind.endswith("List"):
            return True
        return head.kind != kustomize.DENIED_KIND and not key_names.isdisjoint(head.key_names)

    return DocumentFilter(wants, key_names)


def _text_of(source: Source) -> str:
    """A linted file's text ("" when it changed since it was read: it is not known then)."""
    try:
        return source.text
    except SourceChanged:
        return ""


def _read_from_disk(real: str) -> Source | None:
    try:
        if not os.path.isfile(real) or os.path.getsize(real) > MAX_FILE_BYTES:
            return None
        with open(real, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    decoded = decode(data)
    if isinstance(decoded, InputError):
        return None
    text, encoding, bom = decoded
    return Source(os.path.relpath(real), text, real, encoding, bom, named=False)


def child(node: Node | None, key: str) -> Node | None:
    """The value of `key` in a mapping node (the last duplicate wins, as in kustomize's
    decoder); None for anything else."""
    if not isinstance(node, MappingNode):
        return None
    found: Node | None = None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            found = v
    return found


def scalar(node: Node | None) -> str | None:
    """A scalar's text; None for a null or anything else."""
    if isinstance(node, ScalarNode) and node.tag != _NULL:
        return str(node.value)
    return None


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _strings(node: Node | None) -> list[str]:
    return [text for item in _items(node) if (text := scalar(item))]


def _mentions(node: Node, word: str) -> bool:
    return any(word in text.lower() for text in _scalars(node))


def _scalars(node: Node) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ScalarNode):
            yield current.value
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
