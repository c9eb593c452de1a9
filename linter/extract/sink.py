"""What an extractor works with: the object it was given, and the sink it emits sites into.

`Sink` is one file's collection of image sites. It turns an image scalar into an ImageSite
(`scalar_site`: checks that it is a string of sane length, records its span), decides once,
for every site, whether the value is a placeholder or a reference to parse (`add`), keeps the
per-file limits, and records which nodes an extractor has claimed (`claim`, `take_items`) so
that the generic pod-spec walker, which runs last, does not report them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.documents import NULL_TAG, STR_TAG, FileReading, Unreadable, mapping_keys
from imglint.documents import node_span as node_span  # extractors build their spans with it
from imglint.image_fields import ResourceSettings
from imglint.placeholders import POD_IMAGE_SYNTAXES, Syntax, placeholder_kind
from imglint.records import dataclass
from imglint.sites import NO_LINES, ImageSite, K8sObject, PullSecretHolder, parse_image
from imglint.sources import Source

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from imglint.sites import Origin

# Nodes that the objects of a List may reach again through aliases (items sharing an anchored
# template), per file: beyond it, Lists of items sharing one huge subtree cost items x subtree.
MAX_SHARED_VISITS = 100_000
# Image sites per file. The largest file of the corpus has 32; each site costs ~4 KB through
# linting and reporting, so this keeps one hostile file (50 MB of tiny Pods) near 200 MB.
MAX_SITES_PER_FILE = 50_000
# An image value longer than this is no reference (DNS names stop at 253 characters, paths at
# 255, tags at 128, digests at 135): an input error, so no message quotes a megabyte of it.
MAX_IMAGE_CHARS = 4096


@dataclass
class FoundObject:
    """A Kubernetes object as an object extractor receives it."""

    obj: K8sObject
    node: MappingNode  # the object's mapping (merge keys already expanded)
    keys: dict[str, Node]  # node's string keys to value nodes (the last duplicate wins)


@dataclass(frozen=True)
class ObjectExtractor:
    """Finds images in the objects of some (API group, kind) pairs.

    `kinds`: (group, kind) pairs, `"*"` as the kind for every kind of a group, the group ""
    for the core group (`v1`); None for every object (only the generic pod-spec walker).
    """

    name: str
    kinds: frozenset[tuple[str, str]] | None
    extract: Callable[[FoundObject, Sink], None]
    # For an extractor of every object (kinds None): the mapping keys it finds images only
    # beside or below (the pod-spec walker: `containers`, `initContainers`). A document of no
    # listed kind whose text holds none of them is not composed (`imglint.extract.
    # document_filter`); None: it may find images in any object, so every object is composed.
    key_names: frozenset[str] | None = None


@dataclass(frozen=True)
class FileExtractor:
    """Finds images in files of a role (a kustomization, a Helm values file), whether or not
    their documents are Kubernetes objects. `accepts` sees the source before it is read;
    `extract` then receives each document of an accepted file (any node: mapping, list,
    scalar), after merge keys are expanded, before the file's objects are searched."""

    name: str
    accepts: Callable[[Source], bool]
    extract: Callable[[Node, Sink], None]
    # Its files may hold Go-template actions as data (Helm values rendered with `tpl`, examples
    # in comments): never refused as templates.
    template_actions_are_data: bool = False
    # A configuration key whose path globs name more files for it (`helm-values`), beyond the
    # ones `accepts` recognises by themselves.
    selected_by: str | None = None


class Sink:
    """The image sites found in one file, and the bookkeeping every extractor shares."""

    def __init__(self, reading: FileReading, settings: ResourceSettings | None = None) -> None:
        self.reading = reading  # its errors, the merge-key ambiguity check
        self.settings = settings or ResourceSettings()  # image-fields, Crossplane's registry
        # Said with -v: image-like fields of kinds no extractor knows (never findings).
        self.verbose_notes: list[str] = []
        self.source = reading.source
        self.sites: list[ImageSite] = []
        self._lines: list[str] | None = None
        self._shared_budget = MAX_SHARED_VISITS
        self._document_walked: set[int] = set()  # nodes walked by earlier objects of a document
        self.claimed: set[int] = set()  # ids of the nodes of the current object already taken

    # -- for extractors ------------------------------------------------------------------------

    def claim(self, node: Node) -> None:
        """Take node (and everything below it) away from the extractors that run later."""
        self.claimed.add(id(node))

    def take_items(self, node: Node | None) -> Iterator[tuple[int, MappingNode, dict[str, Node]]]:
        """The mappings of a list not claimed yet, each claimed as it is given out, with its
        index and keys (`containers`, `steps`...); nothing when node is no list."""
        if not isinstance(node, SequenceNode):
            return
        claimed = self.claimed
        for index, item in enumerate(node.value):
            if isinstance(item, MappingNode) and id(item) not in claimed:
                claimed.add(id(item))
                yield index, item, mapping_keys(item)

    def error(self, message: str, node: Node | None = None) -> None:
        """An input error at node (the rest of the file is still read)."""
        self.reading.error(message, node)

    def scalar_site(
        self,
        node: Node,
        holder: PullSecretHolder,
        *,
        field: str,
        field_path: str,
        container: str | None = None,
        pull_policy: str | None = None,
        origin: Origin = "pod",
        label: str | None = None,
        key: str | None = None,
        default_registry: str | None = None,
        placeholders: Sequence[Syntax] = POD_IMAGE_SYNTAXES,
    ) -> ImageSite | None:
        """The site of one image scalar, added; None (and an input error) when the node is no
        string or far too long to be a reference. `placeholders`: the substitution forms the
        object's kind expands before apply (see imglint.placeholders)."""
        if not isinstance(node, ScalarNode):
            shape = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self.error(f"image must be a string, not {shape}", node)
            return None
        if node.tag == NULL_TAG:
            value = ""  # `image:` left empty: the runtime sees an empty reference
        elif node.tag != STR_TAG:
            kind = node.tag.rsplit(":", 1)[-1]
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            self.error(f"image must be a string, not {kind} {shown!r} (quote it)", node)
            return None
        else:
            value = node.value
        if len(value) > MAX_IMAGE_CHARS:
            self.error(f"image is {len(value):,} characters long, not an image reference", node)
            return None
        site = ImageSite(
            path=self.source.path,
            span=node_span(node),
            image=value,
            holder=holder,
            container=container,
            field=field,
            pull_policy=pull_policy,
            origin=origin,
            field_path=field_path,
            label=label,
            key=key,
            default_registry=default_registry,
        )
        self.add(site, node, placeholders=placeholders)
        return site

    def add(
        self,
        site: ImageSite,
        node: Node | None = None,
        *,
        placeholders: Sequence[Syntax] = POD_IMAGE_SYNTAXES,
    ) -> None:
        """Add a site (made by scalar_site, or assembled by an extractor): the one place that
        decides whether its value is a placeholder or a reference, and parses it."""
        if len(self.sites) >= MAX_SITES_PER_FILE:
            raise Unreadable(
                f"more than {MAX_SITES_PER_FILE:,} images in one file; split it to lint it", node
            )
        site.source_lines = self.lines()
        site.source = self.source
        if site.placeholder is None:  # an extractor may have said why already
            site.placeholder = placeholder_kind(site.image, placeholders)
        if site.placeholder is None:
            parse_image(site)
        self.sites.append(site)

    def lines(self) -> list[str]:
        """The file's lines, split once and shared by everything found in it (suppressions).

        Only suppression comments read them: a file that cannot hold one (no `imglint` in it)
        keeps none, so what a run keeps does not grow with the text it reads."""
        if self._lines is None:
            text = self.source.text
            self._lines = text.splitlines() if "imglint" in text else NO_LINES
        return self._lines

    # -- for the reader ------------------------------------------------------------------------

    def start_document(self) -> None:
        self._document_walked = set()

    def start_object(self) -> None:
        self.claimed = set()

    def finish_object(self, node: MappingNode) -> None:
        """Objects of one List may share nodes through aliases; each walks them again (and
        reports their images with its own name), up to a budget."""
        self._shared_budget -= len(self.claimed & self._document_walked)
        if self._shared_budget < 0:
            raise Unreadable(
                f"aliases lead imglint through the same nodes more than {MAX_SHARED_VISITS:,} "
                "times (an alias bomb?)",
                node,
            )
        self._document_walked |= self.claimed
