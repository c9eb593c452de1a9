"""Reading a set of sources into image sites and the object index: the small front.

Per file: `imglint.documents` composes the text into positioned documents (limits, merge keys,
errors at their lines); each document goes to the file extractors that accept the file, and
each Kubernetes object in it is indexed (`imglint.pull_secrets`: ServiceAccounts and pull
Secrets) and searched for images (`imglint.extract`). A file that fails contributes only its
error: nothing of it is half linted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

from yaml.nodes import MappingNode, Node

from imglint import records
from imglint.context import ObjectIndex
from imglint.document_filter import DocumentFilter
from imglint.documents import FileReading
from imglint.extract import (
    document_filter,
    extract_object,
    file_extractors_for,
    is_kustomization_path,
)
from imglint.extract.sink import FoundObject, Sink
from imglint.findings import InputError
from imglint.image_fields import ResourceSettings
from imglint.pull_secrets import index_object
from imglint.records import dataclass
from imglint.reference import Reference
from imglint.sites import ImageSite, NodePlacement
from imglint.sources import Source

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from imglint.kustomize_tree import KustomizationLinks

# Compose every document, as before the pre-filter (`imglint.document_filter`): the tests that
# hold the fast path to the full composition set it.
COMPOSE_EVERY_DOCUMENT = False


@dataclass
class Manifests:
    """Everything read from a set of sources."""

    sites: list[ImageSite] = records.field(default_factory=list)
    objects: ObjectIndex = records.field(default_factory=ObjectIndex)
    errors: list[InputError] = records.field(default_factory=list)
    notices: list[str] = records.field(default_factory=list)
    object_count: int = 0  # objects composed and read (not those of skipped documents)
    # What was not checked and why, for -v (kustomize entries whose bases are not all known,
    # image-like fields of kinds no extractor reads).
    details: list[str] = records.field(default_factory=list)
    # Each kustomization file's links (what it names), by path key, read from the document the
    # reader composed (`imglint.kustomize_tree.kustomization_links`): settling uses them
    # instead of composing the files again. A file whose links it could not take as the Tree
    # would read them (a failed read, merge keys expanded) is not in it.
    kustomization_links: dict[str, KustomizationLinks] = records.field(default_factory=dict)

    def add(self, part: Manifests, shared: SharedValues | None = None) -> None:
        """One more file's sites and objects (files in order: the last of a name wins).
        `shared`: the tables the run's parts share equal frozen values through (parts that
        come from workers; in one process they are shared already)."""
        _share_strings(part.sites, shared)
        self.sites.extend(part.sites)
        for index_field in records.fields(ObjectIndex):  # every table of the index
            getattr(self.objects, index_field.name).update(getattr(part.objects, index_field.name))
        self.errors.extend(part.errors)
        self.notices.extend(part.notices)
        self.details.extend(part.details)
        self.object_count += part.object_count
        if part.kustomization_links:
            self.kustomization_links.update(part.kustomization_links)


@dataclass
class SharedValues:
    """Tables of frozen values that many sites hold equal copies of: each worker's results
    come unpickled with copies of their own (in one process, parsing is cached and pods'
    placements are shared as they are read: see `imglint.extract.placement`)."""

    references: dict[Reference, Reference] = records.field(default_factory=dict)
    placements: dict[NodePlacement, NodePlacement] = records.field(default_factory=dict)


def _share_strings(sites: Sequence[ImageSite], shared: SharedValues | None = None) -> None:
    """One string for each text the run keeps many times: images, field paths, container names,
    kinds, names, service accounts are written again and again across files (each composed
    scalar, and each worker's result as it is unpickled, is a string of its own). Interned
    strings are freed with their last user. With `shared`, one parsed reference and one pod
    placement (frozen) for equal ones."""
    intern = sys.intern
    objects = set()
    for site in sites:
        holder = site.holder
        if shared is not None:
            if site.reference is not None:
                site.reference = shared.references.setdefault(site.reference, site.reference)
            if holder.placement is not None:
                holder.placement = shared.placements.setdefault(holder.placement, holder.placement)
        site.image = intern(site.image)
        site.field_path = intern(site.field_path)
        if site.container is not None:
            site.container = intern(site.container)
        if site.pull_policy is not None:
            site.pull_policy = intern(site.pull_policy)
        if site.label is not None:
            site.label = intern(site.label)
        if holder.service_account is not None:
            holder.service_account = intern(holder.service_account)
        obj = holder.obj
        if id(obj) not in objects:
            objects.add(id(obj))
            obj.kind = intern(obj.kind)
            obj.api_version = intern(obj.api_version)
            if obj.name is not None:
                obj.name = intern(obj.name)
            if obj.namespace is not None:
                obj.namespace = intern(obj.namespace)


def load(
    sources: list[Source],
    selections: Mapping[str, Callable[[str], bool]] | None = None,
    settings: ResourceSettings | None = None,
) -> Manifests:
    """`selections`: configuration keys that select files for a file extractor, and their
    path tests (`helm-values`); `settings`: how custom resources are read (image-fields...)."""
    result = Manifests()
    wanted = document_filter(settings)
    for source in sources:
        result.add(read_source(source, selections, settings, wanted))
    return settle(result, sources)


def settle(
    result: Manifests, sources: Sequence[Source], groups: dict[str, str] | None = None
) -> Manifests:
    """The steps that need every file of the set, once all are read: kustomize entries
    depend on their bases, other files of the set. `groups`: `settle_opens(...)`, when the
    caller has it already."""
    if any(site.origin == "kustomize" for site in result.sites):
        from imglint.kustomize_sites import settle as settle_entries

        if groups is None:
            groups = settle_opens(result, sources)
        result.sites, details = settle_entries(
            result.sites, sources, groups, result.kustomization_links
        )
        result.details.extend(details)
    result.kustomization_links = {}  # settled: nothing reads them again
    return result


def settle_opens(result: Manifests, sources: Sequence[Source]) -> dict[str, str]:
    """The files of the set that `settle` may open again (path keys of kustomization files and
    of the files they name, to their group; empty when there is no kustomize entry), and what
    `settle` then takes as `groups`. Every other source may be dropped before it."""
    if not any(site.origin == "kustomize" for site in result.sites):
        return {}
    from imglint.kustomize_sites import kustomization_groups

    return kustomization_groups(sources, result.kustomization_links)


def needed_sources(
    result: Manifests, sources: Iterable[Source], opened: Callable[[str], bool] | None
) -> list[Source]:
    """The sources a run keeps once every file is read: those its sites still hold (see
    `ImageSite.source`), stdin (a rendered chart's findings are traced through its text), and
    those `settle` may open (`opened`: `opened_by` the groups `settle_opens` found; None when
    it opens none). Any other file keeps nothing (its path, its stamp: about 400 bytes each)."""
    with_sites = {id(site.source) for site in result.sites}
    return [
        source
        for source in sources
        if source.file_path is None
        or id(source) in with_sites
        or (opened is not None and opened(source.file_path))
    ]


def opened_by(opens: Mapping[str, object]) -> Callable[[str], bool]:
    """Whether `settle` may open the file at a path (`opens`: path keys, `settle_opens`).
    A run asks this of every file it packed, thousands of them, folder after folder: each
    folder is keyed once (and not at all when no key of `opens` is in it), and a path is cut
    at its last separator, not split and joined again."""
    from imglint.kustomize_tree import path_key

    cwd = os.getcwd()
    if os.sep != "/" or os.altsep is not None:  # (a path may mix separators: split it)
        folders: dict[str, str] = {}

        def opened_anywhere(path: str) -> bool:
            folder, name = os.path.split(path)
            key = folders.get(folder)
            if key is None:
                key = folders[folder] = path_key(folder, cwd)
            return os.path.join(key, name) in opens

        return opened_anywhere
    # The folders that hold a key of `opens`, and each folder met: the start of its files' keys
    # (its key and a separator), or None when it holds none.
    holding = {os.path.dirname(key) for key in opens}
    base = os.path.normpath(cwd).rstrip("/")  # "" for the root
    prefixes: dict[str, str | None] = {}

    def opened(path: str) -> bool:
        cut = path.rfind("/") + 1
        folder = path[:cut]
        prefix = prefixes.get(folder, "")
        if prefix == "":
            # path_key's, without normpath's pass where a folder has nothing to normalize.
            if folder and folder[0] != "/" and "//" not in folder and "/." not in "/" + folder:
                key = base + "/" + folder[:-1]
            else:
                key = path_key(folder or ".", cwd)
            prefix = prefixes[folder] = (key.rstrip("/") + "/") if key in holding else None
        return prefix is not None and prefix + path[cut:] in opens

    return opened


def read_source(
    source: Source,
    selections: Mapping[str, Callable[[str], bool]] | None = None,
    settings: ResourceSettings | None = None,
    wanted: DocumentFilter | None = None,
) -> Manifests:
    """One source's sites and objects, or only the reason it could not be read. `wanted`:
    `imglint.extract.document_filter(settings)`, built once per set (built here if None)."""
    file_extractors = file_extractors_for(source, selections)
    reading = FileReading(
        source,
        template_actions_are_data=any(e.template_actions_are_data for e in file_extractors),
    )
    sink = Sink(reading, settings)
    result = Manifests()
    # A kustomization file's path key: its links are read from its first document.
    kustomization_key = _kustomization_key(source)
    first_document = True
    links: KustomizationLinks | None = None

    def visit(document: Node) -> None:
        nonlocal first_document, links
        if first_document:
            first_document = False
            # (Not when merge keys were expanded in place: the Tree reads them as written.)
            if kustomization_key is not None and not reading.written:
                links = _kustomization_links(kustomization_key, document)
        sink.start_document()
        for file_extractor in file_extractors:
            file_extractor.extract(document, sink)
        if not isinstance(document, MappingNode):
            return
        for obj, node, keys in reading.objects(document):
            result.object_count += 1
            index_object(result.objects, obj, keys, node, sink.lines)
            extract_object(FoundObject(obj, node, keys), sink)

    # Documents that nothing reading an object can use are not composed; a file that file
    # extractors read is composed whole (they read every document, object or not).
    if file_extractors or COMPOSE_EVERY_DOCUMENT:
        wanted = None
    elif wanted is None:
        wanted = document_filter(settings)
    if reading.run(visit, wanted):
        # Init containers come before containers in a pod spec's walk but may follow them in
        # the file: keep each file's sites in file order.
        sink.sites.sort(key=lambda site: site.span.start)
        result.sites = sink.sites
        result.details = sink.verbose_notes
        if kustomization_key is not None:
            if first_document:  # none at all
                links = _kustomization_links(kustomization_key, None)
            if links is not None:
                result.kustomization_links[kustomization_key] = links
    else:
        result = Manifests()
    result.errors = reading.errors
    result.notices = reading.notices
    return result


def _kustomization_key(source: Source) -> str | None:
    """The path key of a kustomization file (`imglint.kustomize_tree.path_key`), else None."""
    if source.file_path is None or not is_kustomization_path(source.path):
        return None
    from imglint.kustomize_tree import path_key

    return path_key(source.file_path)


def _kustomization_links(real: str, document: Node | None) -> KustomizationLinks:
    from imglint.kustomize_tree import kustomization_links

    return kustomization_links(real, document)
