"""YAML and JSON text read into positioned node trees, as kubectl would read it, within limits.

A Source's text is composed into YAML nodes (never constructed into Python objects, so every
scalar keeps its line and column, and an alias bomb stays a small graph of shared nodes), one
document at a time. This module owns everything about reading the text: the size and alias
limits, `<<` merge keys (expanded as kubectl's decoder does), mapping YAML errors to one-line
input errors at their position, and telling a Helm template from a manifest. It knows nothing
of images: `FileReading.run` hands each document to a callback (the extractors, through
`imglint.manifests`), and `objects` turns a document into the Kubernetes objects in it.

    reading = FileReading(source)
    ok = reading.run(lambda document: ...)  # False: the file failed; reading.errors says why
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from functools import lru_cache

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.document_filter import (
    BlankedText,
    DocumentFilter,
    ShiftedName,
    blanked_for_composing,
    marker_lines,
    may_hold_merge_key,
    only_markers_between,
    unwanted_ranges,
)
from imglint.findings import EMPTY, InputError, Span
from imglint.lazy_pattern import LazyPattern
from imglint.sites import K8sObject
from imglint.sources import HELM_HINT, Source, template_action_lines

try:  # the C composer is ~10x faster; the pure-Python one is a correct fallback
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# Even the C composer asks Python for every node's tag: PyYAML's resolver tries its patterns on
# each plain scalar (650,000 calls, a fifth of composing the corpus). A plain scalar's tag
# depends only on its text (this loader has no path resolvers), so it is remembered, in C
# (`lru_cache`), for the scalars every manifest repeats (keys, `true`, `Always`...).
_RESOLVER = yaml.resolver.Resolver()
_TAG_CACHE_SIZE = 1 << 15


@lru_cache(maxsize=_TAG_CACHE_SIZE)
def _resolved_tag(kind: type[Node], value: str | None, implicit: object) -> str:
    return str(_RESOLVER.resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


class ManifestLoader(_BaseLoader):
    """PyYAML's safe loader with the tag of plain scalars remembered; without path resolvers,
    descending and ascending the tree need no bookkeeping (the composer calls both for every
    node: `slice` and `tuple` accept the same arguments, in C, and do nothing)."""

    resolve = staticmethod(_resolved_tag)
    descend_resolver = staticmethod(slice)  # type: ignore[assignment]
    ascend_resolver = staticmethod(tuple)  # type: ignore[assignment]


STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
# Entries that `<<` merge keys may copy in one file. Real manifests merge a few small mappings;
# mappings that merge mappings that merge... double at each level (a "merge bomb").
MAX_MERGED_ENTRIES = 1_000_000
# Input errors shown per file: 20 MB of containers with `image: 1` made 250,000 of them.
MAX_ERRORS_PER_FILE = 1_000
# YAML nodes in one document. Composed nodes cost ~400 bytes each, so this bounds a document
# near 400 MB (a dense 30 MB document needed 1.5 GB; the largest corpus document is far below
# 100,000 nodes). A node takes at least two characters, so only longer texts are counted first.
MAX_NODES_PER_DOCUMENT = 1_000_000
# Text that any Kubernetes object has, in YAML or JSON form.
_MENTIONS_OBJECT = LazyPattern(r"""["']?\bapiVersion["']?\s*:""")  # (only a .json file that fails)


def compose_documents(text: str) -> list[Node]:
    """Every YAML document of text as a node tree (raises yaml.YAMLError, RecursionError).

    The cyclic garbage collector is paused meanwhile: composing allocates hundreds of thousands
    of nodes, none of them in a cycle, and the collector walking them again and again made
    composing a large file 4-5x slower (argo-cd's install.yaml: 1.4-1.9 s against 0.37 s).
    """
    with gc_paused():
        return list(yaml.compose_all(text, Loader=ManifestLoader))


class gc_paused:
    """The cyclic garbage collector paused (as it was after): what is built meanwhile holds no
    cycles, and each collection would walk every object the run keeps, again and again. (A
    class, not contextlib's decorator: a one-file run does not load contextlib.)"""

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self._enabled:
            gc.enable()


class Unreadable(Exception):
    """The file cannot be read as kubectl would read it (or is past a limit); reported at
    node, and nothing else of the file is kept. Extractors raise it for their own limits."""

    def __init__(self, message: str, node: Node | None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.line = line  # 1-based, when there is no node to point at


class FileReading:
    """One source being read: its documents, and the errors and notices about it."""

    def __init__(self, source: Source, *, template_actions_are_data: bool = False) -> None:
        self.source = source
        # A Helm values file holds `{{ }}` for `tpl` and in comments: data, not a template.
        self.template_actions_are_data = template_actions_are_data
        self.errors: list[InputError] = []
        self.notices: list[str] = []
        self.failed = False
        self.merge_budget = MAX_MERGED_ENTRIES
        self.reported: set[InputError] = set()
        # Entries as written of the mappings merge keys expanded (this document's), by node id.
        self.written: dict[int, list[tuple[Node, Node]]] = {}

    def run(self, visit: Callable[[Node], None], wanted: DocumentFilter | None = None) -> bool:
        """Compose each document (merge keys expanded) and pass it to visit, one at a time.

        With `wanted`, the documents whose text shows that it refuses them are not composed
        (`imglint.document_filter`); every error, notice and position is the same as when
        composing them all. Returns False when the file failed: then errors/notices hold only
        why, and whatever visit gathered must be dropped (a file that fails is reported, never
        half linted).
        """
        text = self.source.text
        action_lines = [] if self.template_actions_are_data else template_action_lines(text)
        covered: set[int] = set()  # lines inside multi-line scalars: data, not template actions
        longest_allowed = 2 * MAX_NODES_PER_DOCUMENT  # a node takes two characters at least
        try:
            skipped = None
            if wanted is not None:
                skipped = unwanted_ranges(text, wanted, action_lines, longest_allowed)
            if skipped is None and _longest_document(text) > longest_allowed:
                self._check_document_sizes(text)
            elif skipped and not action_lines and only_markers_between(text, skipped):
                return True  # every document is skipped: composing the blanks finds nothing
            composed: str | BlankedText = text
            if skipped:
                composed = blanked_for_composing(text, skipped)
            with gc_paused():
                self._compose(composed, visit, action_lines, covered)
        except yaml.MarkedYAMLError as exc:
            self._discard()
            self._yaml_error(exc)
        except yaml.reader.ReaderError as exc:
            self._discard()
            self._reader_error(exc)
        except yaml.YAMLError as exc:
            self._discard()
            self.error("YAML error: " + " ".join(str(exc).split()))
        except Unreadable as exc:
            self._discard()
            self.error(exc.message, exc.node, exc.line)
        except RecursionError:
            self._discard()
            self.error("nesting too deep to read")
        except MemoryError:
            # Only a limit the user set (ulimit -v) gets here: say so instead of crashing.
            self._discard()
            self.error(f"too large to read in the memory available ({len(text):,} characters)")
        else:
            if any(line not in covered for line in action_lines):
                self._discard()
                self._template()
        return not self.failed

    def _compose(
        self,
        composed: str | BlankedText,
        visit: Callable[[Node], None],
        action_lines: list[int],
        covered: set[int],
    ) -> None:
        """Compose text's documents one at a time, each dropped once read: memory follows the
        largest document, not the file (a 10 MB file of small Pods held 850 MB as one list),
        and no node is left for the collector to walk when it is resumed. Template lines and
        merge keys are asked about per document, so one of them in a 30 MB stream does not
        send every other document through a Python walk."""
        text = self.source.text
        for document in yaml.compose_all(composed, Loader=ManifestLoader):
            start, end = document.start_mark, document.end_mark
            if action_lines and _any_between(action_lines, start.line, end.line):
                _cover_multiline_scalars(document, covered)
            self.written = {}
            if may_hold_merge_key(text, mark_index(start), mark_index(end)):
                self._expand_merges(document)
            visit(document)
        self.written = {}

    def objects(
        self, document: MappingNode
    ) -> Iterator[tuple[K8sObject, MappingNode, dict[str, Node]]]:
        """The Kubernetes object of a document, or every object of a `List` (nested too), each
        with its mapping node and that node's keys (`mapping_keys`).

        Iterative, and an item reached again through an alias is the same object, read once:
        Lists of aliased Lists (`items: [*l8, *l8, ...]`) would otherwise expand exponentially,
        and a List among its own items would recurse forever. A document without `kind` and
        `apiVersion` is no object (a values file, a compose file, CI configuration).
        """
        seen: set[int] = set()
        stack: list[tuple[MappingNode, bool]] = [(document, False)]
        while stack:
            node, in_list = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            keys = mapping_keys(node)
            kind = scalar_text(keys.get("kind"))
            api_version = scalar_text(keys.get("apiVersion"))
            if not kind or (not api_version and not in_list):
                continue
            items = keys.get("items")
            if kind.endswith("List") and isinstance(items, SequenceNode):
                members = [item for item in items.value if isinstance(item, MappingNode)]
                stack.extend((item, True) for item in reversed(members))
                continue
            yield self._object(node, keys, kind, api_version or ""), node, keys

    def _object(
        self, node: MappingNode, keys: dict[str, Node], kind: str, api_version: str
    ) -> K8sObject:
        meta = keys.get("metadata")
        meta_keys = mapping_keys(meta) if isinstance(meta, MappingNode) else {}
        annotations_node = meta_keys.get("annotations")
        annotations: dict[str, str] = {}
        if isinstance(annotations_node, MappingNode):
            for key_node, value_node in annotations_node.value:
                key, value = scalar_text(key_node), scalar_text(value_node)
                if key is not None and value is not None:
                    annotations[key] = value
        return K8sObject(
            kind=kind,
            api_version=api_version,
            name=scalar_text(meta_keys.get("name")),
            namespace=scalar_text(meta_keys.get("namespace")),
            annotations=annotations or EMPTY,
            path=self.source.path,
            line=node.start_mark.line + 1,
            generate_name=scalar_text(meta_keys.get("generateName")),
        )

    def check_ambiguous(self, mapping: MappingNode, key: str, value: Node, where: str) -> None:
        """Report a value that YAML decoders read differently.

        kubectl apply keeps the last of duplicate keys where kustomize refuses the file; and a key
        written before a merge key (<<) that merges the same key is overridden for kubectl
        (go-yaml v2) but wins for kustomize and the YAML merge spec. imglint lints what kubectl
        applies (`value`) and says that the file is ambiguous.
        """
        entries: list[tuple[Node, Node]] = self.written.get(id(mapping)) or mapping.value
        written = [(k, v) for k, v in entries if isinstance(k, ScalarNode) and k.value == key]
        if len(written) > 1:
            self.error(
                f"{key} given twice in one {where} (also on line "
                f"{written[0][0].start_mark.line + 1}): kubectl apply uses this one, kustomize "
                "refuses the file",
                written[-1][0],
            )
        elif written and written[0][1] is not value:
            self.error(
                f"{key} overridden by the merge key (<<) after it: kubectl apply uses the "
                f"merged one (line {value.start_mark.line + 1}), kustomize this one; "
                "write << first",
                written[0][0],
            )

    def error(self, message: str, node: Node | None = None, line: int | None = None) -> None:
        """Report an input error at node (or line); the same error twice is reported once."""
        column = None
        if node is not None:
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
        error = InputError(self.source.path, message, line, column)
        # One anchored value aliased by many containers is one error, not one per container.
        if error in self.reported or len(self.reported) > MAX_ERRORS_PER_FILE:
            return
        self.reported.add(error)
        if len(self.reported) <= MAX_ERRORS_PER_FILE:
            self.errors.append(error)
        else:
            more = f"more than {MAX_ERRORS_PER_FILE:,} errors in this file; the rest are not shown"
            self.errors.append(InputError(self.source.path, more, line, column))

    def _discard(self) -> None:
        """Forget what was reported so far: the file's failure is all that is said about it."""
        self.failed = True
        self.errors = []
        self.notices = []
        self.reported = set()

    @staticmethod
    def _check_document_sizes(text: str) -> None:
        """Refuse a document with too many nodes before composing it: counting parse events
        holds one event at a time, composing holds every node of the document at once."""
        count, start = 0, 1
        for event in yaml.parse(text, Loader=ManifestLoader):
            if isinstance(event, yaml.DocumentStartEvent):
                mark = event.start_mark
                count, start = 0, (mark.line + 1 if mark is not None else 1)
            elif isinstance(event, (yaml.ScalarEvent, yaml.NodeEvent)) and not isinstance(
                event, yaml.AliasEvent
            ):
                count += 1
                if count > MAX_NODES_PER_DOCUMENT:
                    raise Unreadable(
                        f"a YAML document of more than {MAX_NODES_PER_DOCUMENT:,} nodes is too "
                        "large to read; split it",
                        None,
                        start,
                    )

    def _template(self) -> None:
        message = f"looks like a template, not a manifest; {HELM_HINT}"
        if self.source.named:
            self.errors.append(InputError(self.source.path, message))
        else:
            self.notices.append(f"{self.source.path}: skipped, {message}")

    def _yaml_error(self, exc: yaml.MarkedYAMLError) -> None:
        if not self.template_actions_are_data and template_action_lines(self.source.text):
            self._template()
            return
        if (
            not self.source.named
            and self.source.path.endswith(".json")
            and not _MENTIONS_OBJECT.search(self.source.text)
        ):
            # A .json file met while walking a folder that neither parses nor names any object:
            # a JSON-with-comments editor config (tsconfig.json, .vscode), not a broken manifest.
            # (A .yaml file that does not parse stays an input error: it may be a manifest.)
            self.notices.append(
                f"{self.source.path}: skipped, not JSON and no Kubernetes object in it"
            )
            return
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        if (
            "tab" not in problem
            and mark
            and _char_at(self.source.text, mark.line, mark.column) == "\t"
        ):
            # libyaml only says "found character that cannot start any token"
            problem += " (a tab: YAML indents with spaces only)"
        self.errors.append(InputError(self.source.path, f"YAML: {problem}", line, column))

    def _reader_error(self, exc: yaml.reader.ReaderError) -> None:
        """A character YAML forbids (a control character, U+FFFE...), at its line and column.

        The error's position counts characters or UTF-8 bytes depending on the loader; the
        reader stops at the first forbidden character, so the first occurrence is the one.
        """
        code = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        )
        message = f"YAML: unacceptable character U+{code:04X} ({exc.reason})"
        text = self.source.text
        index = text.find(chr(code))
        if index < 0:
            self.errors.append(InputError(self.source.path, message))
            return
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        self.errors.append(InputError(self.source.path, message, line, column))

    def _expand_merges(self, document: Node) -> None:
        """Expand `<<` merge keys in place, as kubectl apply's YAML decoder (go-yaml v2) does.

        The merged mappings' entries take the place of the `<<` entry. With `mapping_keys` (the last
        entry wins) a key written after `<<` overrides the merged one and a key written before
        it is overridden; in a list of merged mappings the earlier ones win. Every mapping is
        expanded once, after the mappings it merges (post-order, without recursion, so a chain
        of 100,000 merges is fine), and the entries copied per file are capped.
        """
        entered: set[int] = set()
        done: set[int] = set()
        stack: list[tuple[Node, bool]] = [(document, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                if isinstance(node, MappingNode):
                    self._expand_mapping(node, done)
                done.add(id(node))
                continue
            if id(node) in entered:
                continue
            entered.add(id(node))
            stack.append((node, True))
            if isinstance(node, MappingNode):
                for key, value in reversed(node.value):
                    stack.append((value, False))
                    stack.append((key, False))
            elif isinstance(node, SequenceNode):
                stack.extend((item, False) for item in reversed(node.value))

    def _expand_mapping(self, node: MappingNode, done: set[int]) -> None:
        if not any(isinstance(k, ScalarNode) and k.tag == _MERGE for k, _ in node.value):
            return
        entries: list[tuple[Node, Node]] = []
        for key, value in node.value:
            if not (isinstance(key, ScalarNode) and key.tag == _MERGE):
                entries.append((key, value))
                continue
            # A mapping, or a list of them written in place: go-yaml v2 refuses an alias of a
            # list here (an aliased node starts before the key that refers to it).
            if isinstance(value, MappingNode):
                merged = [value]
            elif isinstance(value, SequenceNode) and value.start_mark.index > key.start_mark.index:
                merged = list(value.value)
            else:
                raise Unreadable("a merge key (<<) takes a mapping or a list of mappings", value)
            for source in reversed(merged):  # earlier mappings win, so their entries go last
                if not isinstance(source, MappingNode):
                    raise Unreadable("a merge key (<<) takes only mappings", source)
                if id(source) not in done:
                    raise Unreadable("a merge key (<<) merges a mapping into itself", source)
                self.merge_budget -= len(source.value)
                if self.merge_budget < 0:
                    raise Unreadable(
                        f"merge keys (<<) copy more than {MAX_MERGED_ENTRIES:,} entries "
                        "(a merge-key bomb?)",
                        value,
                    )
                entries.extend(source.value)
        self.written[id(node)] = node.value
        node.value = entries


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column ("" past the end)."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column : start + column + 1]


def mapping_keys(node: MappingNode) -> dict[str, Node]:
    """A mapping's string keys to value nodes (the last duplicate wins, as in kubectl's decoder)."""
    return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}


def scalar_text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
        value = node.value
        return value if isinstance(value, str) else None
    return None


def _any_between(lines: list[int], first: int, last: int) -> bool:
    """Whether the sorted lines hold one from first to last (inclusive)."""
    import bisect  # only files with template lines ask: a one-file run goes without it

    index = bisect.bisect_left(lines, first)
    return index < len(lines) and lines[index] <= last


def _cover_multiline_scalars(document: Node, covered: set[int]) -> None:
    """Add the (0-based) lines that multi-line scalars of the document span to covered."""
    seen: set[int] = set()
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.end_mark.line > node.start_mark.line:
                covered.update(range(node.start_mark.line, node.end_mark.line + 1))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def node_span(node: Node) -> Span:
    """Where a node sits: its start and end marks as a Span."""
    start, end = node.start_mark, node.end_mark
    return Span(
        line=start.line + 1,
        column=start.column + 1,
        end_line=end.line + 1,
        end_column=end.column + 1,
        start=mark_index(start),
        end=mark_index(end),
    )


def mark_index(mark: Mark) -> int:
    """A mark's offset in the text read. A reading that composes a text from a later start on
    (`imglint.document_filter.BlankedText`) names it with how many characters before that
    start the composer was not given (`ShiftedName`): its marks' lines and columns are the
    text's own, their offsets that much short. Every offset of a composed node that is
    compared with the text or with a Span is read through this."""
    name = mark.name
    return mark.index + name.shift if isinstance(name, ShiftedName) else mark.index


def _longest_document(text: str) -> int:
    """The most characters between two document markers (`---`, `...`: YAML forbids either at
    the start of a line inside any node, so each ends a document): no document can hold more
    nodes than half of it, so only a text with a longer stretch needs its events counted
    (C substring searches, instead of a Python pass over every event of a 30 MB stream)."""
    import heapq  # only for a text composed whole

    longest, start = 0, 0
    for marker in heapq.merge(marker_lines(text, "---"), marker_lines(text, "...")):
        longest = max(longest, marker - start)
        start = marker
    return max(longest, len(text) - start)
