"""Which documents of a file need composing, judged from their text before any is composed.

Composing YAML into positioned nodes is most of a run's time, and most documents of real
manifests cannot hold an image or a pull secret (CRDs, RBAC, ConfigMaps, Services). The caller
(`imglint.manifests`, from what the extractors declare: `imglint.extract.document_filter`) says
which documents it wants from each one's `DocumentHead`: its top-level `kind` and `apiVersion`
and which of the extractors' key names occur in its text. `unwanted_ranges` says which documents
are not wanted, and composing a `BlankedText` (those documents blanked) yields exactly the
wanted documents, at the same lines, columns and character offsets as composing the whole text
(offsets read through `imglint.documents.mark_index`: the skipped documents a file starts with
are not given to the composer at all, nor those it ends with, see `composed_stretch`).

A document is skipped only when its text says for certain what composing it would say:

- a `---` marker line at column 0 always starts a document (YAML forbids one inside any node,
  and libyaml refuses it inside a quoted scalar or a flow collection); the text between two of
  them is one document when it has no `...` end marker (otherwise it is composed);
- the document's kind and apiVersion are each written once, plainly, as keys at column 0, and
  its top-level node starts at column 0 (so a line at column 0 is one of its keys, or inside a
  multi-line quoted scalar, which can only hide a key if the real one is absent: then it is no
  object at all, and skipping it changes nothing);
- nothing in it is checked only when it is composed: no anchor or alias (undefined aliases and
  duplicate anchors are composing errors), no merge key (its errors and limits), no quoted,
  tagged, flow or complex key at column 0 (a `kind` that the text would not show plainly);
- it holds no line of a template action (whether such a line is data, inside a multi-line
  scalar, is asked of the composed nodes);
- libyaml's event parse, in C without building any Python object, accepts it: a syntax error
  in a skipped document makes the whole file composed, so the error reported is the one
  composing reports.

A stretch of nothing but blank lines and comments (a licence header before the first `---`) is
skipped as well, and when the text left outside the skipped documents is nothing but marker lines
(`only_markers_between`), nothing is composed: it would yield only empty documents.

The key names a head reports are found as substrings of the document's text: a key is written
plainly or quoted, and only an escape in a double-quoted key could spell one otherwise (a text
with a backslash reports all of them).

A file is composed whole (None) when it has directives (`%YAML`, `%TAG`), line breaks other
than `\\n` and `\\r\\n` (NEL, LS, PS, a lone CR: line-based tests would not see them), a byte
order mark, or a stretch long enough to need its nodes counted.

A document skipped once is remembered by its text's hash (`DocumentFilter.skipped_before`):
the same text met again, in the same file or another (vendored CRDs, an install file and its
variants), is skipped without judging or parsing it again. In a file not composed whole, and
with no template line in it, nothing but a document's text (and the filter) decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import yaml

from imglint.lazy_pattern import LazyPattern

try:  # libyaml's parser, run without building Python objects (only with PyYAML's C extension)
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CParser = None  # type: ignore[misc,assignment]


class DocumentHead:
    """What a document's text says before it is composed: its top-level `kind` and
    `apiVersion`, and which of the key names asked about occur in it (`key_names`: given, or
    searched for in `text` among `asked` when first read; most documents are decided by their
    kind alone, and their text is not searched again)."""

    __slots__ = ("_asked", "_key_names", "_text", "api_version", "kind")

    def __init__(
        self,
        kind: str,
        api_version: str,
        key_names: frozenset[str] | None = None,
        *,
        text: str = "",
        asked: frozenset[str] = frozenset(),
    ) -> None:
        self.kind = kind
        self.api_version = api_version
        self._key_names = key_names
        self._text = text
        self._asked = asked

    @property
    def key_names(self) -> frozenset[str]:
        if self._key_names is None:
            text, asked = self._text, self._asked
            if "\\" in text:
                self._key_names = asked  # an escape in a double-quoted key may spell any of them
            else:
                self._key_names = frozenset(name for name in asked if name in text)
            self._text = ""
        return self._key_names

    @property
    def group(self) -> str:
        """The API group, as `imglint.sites.K8sObject.group` has it."""
        return self.api_version.rpartition("/")[0]

    def __repr__(self) -> str:
        return f"DocumentHead({self.kind!r}, {self.api_version!r}, {sorted(self.key_names)!r})"


class DocumentFilter:
    """Which documents are composed: `wants(head)`. `key_names`: the mapping keys the caller
    finds images under (each head is told which of them its text holds).

    `skipped_before`: the texts of the long documents this filter has skipped, by their hash
    (`unwanted_ranges`). A document's verdict depends on its text alone, and real inputs repeat
    long documents word for word: the same CRDs vendored into several install files, kustomize
    bases and their copies (a third of the corpus's skipped text). A text met again is skipped
    without judging or parsing it again. Bounded: what it holds stays small whatever the input."""

    __slots__ = ("key_names", "skipped_before", "wants")

    def __init__(self, wants: Callable[[DocumentHead], bool], key_names: frozenset[str]) -> None:
        self.wants = wants
        self.key_names = key_names
        self.skipped_before: set[int] = set()


# Documents this long or longer are remembered once skipped (a shorter one is judged again as
# quickly as it is looked up), up to _MOST_REMEMBERED of them (an int and its set entry: about
# 80 bytes each). On the corpus (--workers 1), remembering those of 2,048 characters and more
# saved 548 M instructions of 6,476 M; of 512, 77 M more; of 128, 33 M more.
_REMEMBERED_LENGTH = 128
_MOST_REMEMBERED = 8192


# These three are compiled on first use: the usual texts are told by their first characters
# (`---\n`, what a plain key or a stretch of comments starts with), and a one-file run need not
# compile them at start-up.
# A marker line with nothing after `---` but white space or a comment.
_BARE_START_LINE = LazyPattern(r"---[ \t]*(?:[ \t]#[^\n]*)?\r?(?:\n|\Z)")
# Blank and comment lines are taken whole, once: `(?=(X*))\1` is X* that is never given back
# (an atomic group, written so that Python 3.10 reads it). A plain X* that fails after a licence
# header gives its lines back a character at a time: 0.1-0.4 ms a document on real headers, 5%
# of a run. Giving back a line could never match anyway (what follows needs another line start).
# A stretch of nothing but blank lines and comments (spaces only: a tab at the start of a line
# is a syntax error to libyaml, so a stretch with one is left to the parse that says so).
_EMPTY_STRETCH = LazyPattern(r"(?=((?:[ ]*(?:#[^\r\n]*)?\r?\n)*))\1[ ]*(?:#[^\r\n]*)?")
_EMPTY_STRETCH_STARTS = ("", " ", "#", "\r", "\n")  # what such a stretch can start with
# The first line with content starts at column 0, with what starts a plain key.
_STARTS_AT_COLUMN_0 = LazyPattern(r"(?=((?:[ \t]*(?:#[^\r\n]*)?\r?\n)*))\1[A-Za-z0-9_]")
_PLAIN_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
# A line that starts at column 0 with neither a blank, a comment nor a sequence entry: a
# top-level key, a `...` marker, or text inside a multi-line quoted scalar. (A literal first
# character lets the search skip ahead in C.)
_COLUMN_0_LINE = re.compile(r"\n[^ \t\r\n#-]")
# What starts a key the text would not show plainly: quoted, flow, complex (`?`), tagged,
# anchored or aliased, or a block scalar / directive / reserved indicator.
_ODD_LINE_START = frozenset("\"'{[?!&*|>%@`")
# What may stand before an anchor or alias (`&a`, `*a`), and what its name is made of (libyaml
# takes only these; another character after `&` or `*` where a node starts is a syntax error).
_BEFORE_ANCHOR = frozenset(" \t[{,")
_ANCHOR_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
# Where a node starts, as the last character before the blanks in front of one.
_NODE_START_AFTER = frozenset(":-?[{,")
# The plain forms read. The value must end its line (a comment may follow) and the next line
# must start at column 0: an indented next line could continue a plain scalar (`kind: Con\n
# figMap` is "Con figMap").
_LINE_END = r"(?:[ \t]+#[^\n]*)?[ \t]*\r?(?:\n(?=[^ \t\r\n#])|\n?\Z)"
_KIND = re.compile(r"kind:[ \t]+([A-Za-z][A-Za-z0-9]*)" + _LINE_END)
_API_VERSION = re.compile(r"apiVersion:[ \t]+((?:[a-z0-9][a-z0-9.-]*/)?v[0-9a-z]+)" + _LINE_END)


def unwanted_ranges(
    text: str,
    wanted: DocumentFilter,
    action_lines: Sequence[int] = (),
    longest_allowed: int | None = None,
) -> list[tuple[int, int]] | None:
    """The (start, end) of each document of text that `wanted` refuses (marker lines not
    included), or None when text must be composed whole. `action_lines`: 0-based lines holding
    template actions (their documents are composed: whether each is inside a multi-line scalar
    is asked of the composed nodes). `longest_allowed`: a stretch between markers longer than
    this needs its nodes counted, so the text is composed whole."""
    if _CParser is None or not text:
        return None
    # (`%` alone first: one character is searched ten times as fast, and most texts have none)
    if text.startswith(("%", "\ufeff")) or ("%" in text and "\n%" in text):
        return None  # directives apply to the documents after them; a BOM shifts offsets
    if not text.isascii() and ("\x85" in text or "\u2028" in text or "\u2029" in text):
        return None  # line breaks to libyaml that the line tests here do not see
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    starts = [0, *(start for start in marker_lines(text, "---") if start)]
    ends = [*starts[1:], len(text)]
    if (
        longest_allowed is not None
        and max(e - s for s, e in zip(starts, ends, strict=True)) > longest_allowed
    ):
        return None
    skipped: list[tuple[int, int]] = []
    line = 0
    previous = 0
    key_names = wanted.key_names
    skipped_before = wanted.skipped_before
    for start, end in zip(starts, ends, strict=True):
        if action_lines:
            line += text.count("\n", previous, start)
            previous = start
        body_start = start
        if text.startswith("---", start):
            marker_end = _marker_line_end(text, start)
            if marker_end is None:
                continue  # content after `---` (`--- |`, `--- {...}`): composed
            body_start = marker_end
        if action_lines:
            import bisect  # only files with template lines get here

            first = bisect.bisect_left(action_lines, line)
            last_line = line + text.count("\n", body_start, end) + 1
            if first < len(action_lines) and action_lines[first] <= last_line:
                continue  # a template action: composed, to tell data from template
        body = text[body_start:end]
        # (A bare marker line before a document changes nothing of how its text parses: a
        # document is remembered by its text after that line.)
        remembered = hash(body) if end - body_start >= _REMEMBERED_LENGTH else None
        if remembered is None or remembered not in skipped_before:
            if body[:1] not in _EMPTY_STRETCH_STARTS or not _EMPTY_STRETCH.fullmatch(body):
                head = _head(body, key_names)
                if head is None or wanted.wants(head):
                    continue
            try:
                _CParser(text[start:end]).raw_parse()
            except yaml.YAMLError:
                return None  # composing the whole file reports it exactly
            if remembered is not None and len(skipped_before) < _MOST_REMEMBERED:
                skipped_before.add(remembered)
        skipped.append((body_start, end))
    return skipped


class ShiftedName(str):
    """The name PyYAML gives a string it composes, for a text composed from a later start on
    (`BlankedText`'s `start`): `shift` is how many characters before that start the composer
    was not given, so its marks' offsets are that much short (`imglint.documents.mark_index`
    adds it back). It reads as the name itself wherever a mark shows it."""

    shift: int

    def __new__(cls, name: str, shift: int) -> ShiftedName:
        made = super().__new__(cls, name)
        made.shift = shift
        return made


class BlankedText:
    """A text to compose with some ranges blanked, read by the composer chunk by chunk: neither
    the blanked text nor its UTF-8 encoding is ever held whole (a 30 MB file would take both
    again). `name` is what PyYAML calls a string it composes, so marks read the same.

    A blanked range keeps its length and its line breaks (`\\n`; a `\\r` becomes a space) and
    ends with the same number of characters after its last break; the rest is spaces, with the
    breaks gathered before that last stretch. Nothing inside a range is read as a token, so the
    composer leaves it at the line, column and offset where the text would have left it, and
    the blanks are made by repeating a character (C), not by mapping each one.

    `start`, `stop`: only text[start:stop] is composed (`composed_stretch`), `start` at a line's
    start: the text before it is given as its line breaks alone, so lines and columns are the
    text's own, and the name says by how much offsets are short (`ShiftedName`). libyaml takes
    as long over a blank as over any character, and blanking a file's leading CRDs and RBAC
    before its Deployment was most of the blanks composed (4.3 MB of the corpus's 5.4 MB)."""

    name: str = "<unicode string>"

    def __init__(
        self,
        text: str,
        ranges: Sequence[tuple[int, int]],
        start: int = 0,
        stop: int | None = None,
    ) -> None:
        self._text = text
        self._ranges = ranges
        self._start = self._position = start
        self._stop = len(text) if stop is None else stop
        self._next_range = 0
        # The current range's breaks, gathered at [first, end): found once per range.
        self._breaks_of = -1
        self._breaks = (0, 0)
        self._breaks_before = text.count("\n", 0, start)  # given before text[start:]
        if start:
            self.name = ShiftedName(BlankedText.name, start - self._breaks_before)

    def read(self, size: int = -1) -> str:
        if self._breaks_before:
            count = self._breaks_before if size < 0 else min(size, self._breaks_before)
            self._breaks_before -= count
            return "\n" * count + (self._read(-1) if size < 0 else "")
        return self._read(size)

    def _read(self, size: int) -> str:
        text, ranges = self._text, self._ranges
        start = self._position
        end = self._stop if size < 0 else min(self._stop, start + size)
        parts: list[str] = []
        position = start
        while position < end:
            while self._next_range < len(ranges) and ranges[self._next_range][1] <= position:
                self._next_range += 1
            if self._next_range < len(ranges):
                blank_start, blank_end = ranges[self._next_range]
            else:
                blank_start = blank_end = end
            if position < blank_start:
                stop = min(end, blank_start)
                parts.append(text[position:stop])
            else:
                stop = min(end, blank_end)
                parts.append(self._blank(position, stop, blank_start, blank_end))
            position = stop
        self._position = end
        return parts[0] if len(parts) == 1 else "".join(parts)

    def _blank(self, start: int, stop: int, blank_start: int, blank_end: int) -> str:
        """The blanks for text[start:stop], part of the range [blank_start, blank_end)."""
        if self._breaks_of != self._next_range:
            text = self._text
            last = text.rfind("\n", blank_start, blank_end)
            count = text.count("\n", blank_start, last + 1) if last >= 0 else 0
            after = last + 1 if last >= 0 else blank_start
            self._breaks_of, self._breaks = self._next_range, (after - count, after)
        first_break, after_breaks = self._breaks
        spaces = max(0, min(stop, first_break) - start)
        breaks = max(0, min(stop, after_breaks) - max(start, first_break))
        return " " * spaces + "\n" * breaks + " " * (stop - start - spaces - breaks)

    def whole(self) -> str:
        """What the composer is given, at once (for tests)."""
        return BlankedText(self._text, self._ranges, self._start, self._stop).read()


def blanked_for_composing(text: str, ranges: Sequence[tuple[int, int]]) -> BlankedText:
    """`text` as the reader composes it with `ranges` blanked (a file, and a kustomize base
    alike): only the stretch between the skipped documents it starts and ends with."""
    return BlankedText(text, ranges, *composed_stretch(text, ranges))


def composed_stretch(text: str, ranges: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Where the text to compose with `ranges` blanked starts and ends (`BlankedText`'s
    `start` and `stop`): after the blanked documents it starts with and before those it ends
    with, bare marker lines between them included. Composed, they are empty documents, which
    nothing reads, and the text left says where the rest is: a line after the start is the
    text's own line, and the last document kept ends before a marker line at column 0 either
    way (where the text ends, libyaml's marks are at that line's start too). (0, len(text))
    when there is no such stretch."""
    start = 0
    for range_start, range_end in ranges:
        if range_start != start and not _is_marker_line(text, start, range_start):
            break
        start = range_end
    stop = len(text)
    for range_start, range_end in reversed(ranges):
        if range_end != stop and not _is_marker_line(text, range_end, stop):
            break
        stop = range_start
    if stop < len(text):  # the trailing documents' first marker line goes too
        marker = text.rfind("\n", 0, max(stop - 1, 0)) + 1
        stop = marker if stop and _is_marker_line(text, marker, stop) else len(text)
    if stop <= start:
        return 0, len(text)
    return start, stop


def only_markers_between(text: str, ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether text outside ranges is nothing but `---` marker lines (each ends where a range
    starts): then composing the blanked text yields only empty documents."""
    gap_starts = [0, *(end for _, end in ranges)]
    gap_ends = [*(start for start, _ in ranges), len(text)]
    return all(
        start == end or _is_marker_line(text, start, end)
        for start, end in zip(gap_starts, gap_ends, strict=True)
    )


def _is_marker_line(text: str, start: int, end: int) -> bool:
    return _marker_line_end(text, start) == end


def _marker_line_end(text: str, start: int) -> int | None:
    """Where the bare `---` marker line at start ends (None: no such line there)."""
    if text.startswith("---\n", start):
        return start + 4  # the usual one, told without the pattern
    marker = _BARE_START_LINE.match(text, start)
    return None if marker is None else marker.end()


def marker_lines(text: str, marker: str) -> Iterator[int]:
    """Where lines that are the document marker `---` or `...` start (followed by white space
    or the end: `----` is no marker). One C substring search per marker line."""
    if text.startswith(marker) and text[3:4] in _AFTER_MARKER:
        yield 0
    needle = "\n" + marker
    found = text.find(needle)
    while found >= 0:
        if text[found + 4 : found + 5] in _AFTER_MARKER:
            yield found + 1
        found = text.find(needle, found + 4)


_AFTER_MARKER = ("", " ", "\t", "\r", "\n")


def may_hold_merge_key(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether text[start:end] may hold a merge key: a plain `<<` that a scalar can end after
    (`<<:`, `<< :`, `? <<` at a line's end; never `cat <<EOF` or `a << b`), or a key tagged
    merge (`!!merge`, `!<tag:yaml.org,2002:merge>`)."""
    end = len(text) if end is None else end
    # One-character searches first: `!` and `<` are rare in manifests, `merge` is not.
    if text.find("!", start, end) >= 0 and (
        text.find("!merge", start, end) >= 0 or text.find(":merge", start, end) >= 0
    ):
        return True
    first = text.find("<", start, end)
    if first < 0:
        return False
    found = text.find("<<", first, end)
    while found >= 0:
        after = found + 2
        while text[after : after + 1] in (" ", "\t"):
            after += 1
        if text[after : after + 1] in _AFTER_MERGE_KEY:
            return True
        found = text.find("<<", found + 2, end)
    return False


_AFTER_MERGE_KEY = frozenset(("", ":", "\n", "\r", ",", "}", "]", "#"))


def _head(body: str, key_names: frozenset[str]) -> DocumentHead | None:
    """The document's head when its text says it for certain (see the module docstring);
    None: compose it, and let the composed document say."""
    if body[:1] not in _PLAIN_KEY_START and not _STARTS_AT_COLUMN_0.match(body):
        return None
    keys = _kind_and_api_version(body)
    if keys is None or may_hold_merge_key(body) or _has_anchor_or_alias(body):
        return None
    kind, api_version = keys
    return DocumentHead(kind, api_version, text=body, asked=key_names)


def _kind_and_api_version(body: str) -> tuple[str, str] | None:
    """The kind and apiVersion that the lines at column 0 say, in one pass over them: None
    when one of those lines starts a key the text would not show plainly, is a `...` marker,
    or when kind or apiVersion is not written on exactly one of them in the plain form read
    (`kind :` and `kind-x:` count as a second kind; `kinds:` is another key)."""
    kind: re.Match[str] | None = None
    api_version: re.Match[str] | None = None
    starts = [match.start() + 1 for match in _COLUMN_0_LINE.finditer(body)]
    if body[:1] not in ("", " ", "\t", "\r", "\n", "#", "-"):
        starts.insert(0, 0)
    for start in starts:
        first = body[start]
        if first in _ODD_LINE_START:
            return None
        if first == "." and body.startswith("...", start):
            if body[start + 3 : start + 4] in _AFTER_MARKER:
                return None
        elif first == "k" and body.startswith("kind", start) and _ends_word(body, start + 4):
            if kind is not None:
                return None
            kind = _KIND.match(body, start)
            if kind is None:
                return None
        elif first == "a" and body.startswith("apiVersion", start) and _ends_word(body, start + 10):
            if api_version is not None:
                return None
            api_version = _API_VERSION.match(body, start)
            if api_version is None:
                return None
    if kind is None or api_version is None:
        return None
    return kind.group(1), api_version.group(1)


def _ends_word(body: str, position: int) -> bool:
    after = body[position : position + 1]
    return not (after.isalnum() or after == "_")


def _has_anchor_or_alias(body: str) -> bool:
    """Whether an anchor or alias may start in body: `&name` or `*name` where a node may start
    (after indentation, `key:`, `-`, `?`, a flow indicator or a tag). The same characters in a
    plain scalar's text (`**bold**`, `a && b`, `see *this*`) are no anchor."""
    for indicator in "&*":
        found = body.find(indicator)
        while found >= 0:
            if (
                body[found - 1 : found] in _BEFORE_ANCHOR
                and body[found + 1 : found + 2] in _ANCHOR_NAME
                and _node_may_start(body, found)
            ):
                return True
            found = body.find(indicator, found + 1)
    return False


def _node_may_start(body: str, position: int) -> bool:
    """Whether a node may start at position, judged from its line before it (and, at the start
    of a line, from the line it is part of: the text of a scalar continues there)."""
    line_start = body.rfind("\n", 0, position) + 1
    before = body[line_start:position].rstrip(" \t")
    if not before:
        return not _continues_a_scalar(body, line_start, position - line_start)
    if before[-1] in _NODE_START_AFTER:
        return True
    # A tag (`!!str &a x`): the word before the blanks starts with `!`.
    return before[max(before.rfind(" "), before.rfind("\t")) + 1 :].startswith("!")


def _continues_a_scalar(body: str, line_start: int, indent: int) -> bool:
    """Whether the line at line_start (indented by indent) goes on with a scalar's text: the
    nearest line above it that is less indented ends with a block scalar's header (`|-`, `>`)
    or holds a plain scalar value (`key: words`, `- words`), and no node starts in that text.
    (A CRD's `description: |-` whose text has a line `*Warning: ...` is no alias.)"""
    end = line_start - 1
    while end > 0:
        start = body.rfind("\n", 0, end) + 1
        line = body[start:end]
        content = line.lstrip(" ")
        if content and not content.startswith("#") and content.strip():
            if len(line) - len(content) >= indent:
                end = start - 1
                continue
            if "'" in content or '"' in content:
                return False  # a quoted scalar may open here: not told by this text
            comment = content.find(" #")
            if comment >= 0:
                content = content[:comment]
            content = content.rstrip(" \t\r")
            # (Compiled on first use, through re's cache: most runs never get here.)
            return bool(re.search(_BLOCK_HEADER_END, content) or re.match(_PLAIN_VALUE, content))
        end = start - 1
    return False


# The end of a line that opens a block scalar (`key: |-`, `- >2`), and a line whose value is a
# plain scalar (`key: words`, `- words`, `- key: words`, `some words: more words`): more indented
# lines continue them. (The key may hold blanks: a line of a block scalar's text such as
# `bearerToken is deprecated: this will be removed.` reads as one; either way the lines below
# it that are more indented are text, or a syntax error that libyaml's check reports.)
_BLOCK_HEADER_END = r"(?:^|[ \t])[|>](?:[1-9][-+]?|[-+][1-9]?)?$"
_PLAIN_VALUE = r"(?:-[ \t]+)*(?:[A-Za-z0-9_][^:]*:[ \t]+)?[A-Za-z0-9_(][^:]*$"
