"""Small pieces several formats share: the object label, the summary line, safe display text."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence

from imglint.findings import Declaration, Finding, Severity
from imglint.report import Report

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, TextIO, TypeVar

    _T = TypeVar("_T")

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# The JSON outputs' `schema_version` (`--format json`, `--list-images --format json`): bumped
# when a key changes meaning or shape, so that consumers can tell. 2: `summary.registry` became
# an object of numbers (it was a sentence).
SCHEMA_VERSION = 2


def printable(text: str, keep: str = "") -> str:
    """`text` with every control, format or lone-surrogate character shown as an escape.

    Manifests are untrusted: an image string or a file name may carry ANSI escape sequences,
    newlines or bidi overrides (format characters) that would forge, hide or reorder output.
    Characters in `keep` pass through (a format that escapes newlines itself keeps them).
    """
    if keep:
        # Split on the kept characters so each piece can take the fast path below.
        parts = _keep_pattern(keep).split(text)
        return "".join(part if i % 2 else printable(part) for i, part in enumerate(parts))
    if text.isprintable():  # str.isprintable is False for Cc, Cf, Cs, Co, Cn and Z* but " "
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


@functools.lru_cache(maxsize=8)
def _keep_pattern(keep: str) -> re.Pattern[str]:
    return re.compile(f"([{re.escape(keep)}])")


def _escape(ch: str) -> str:
    named = _NAMED_ESCAPES.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        # A byte that was not valid UTF-8 in a file name (surrogateescape): show the byte.
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def severity_count(severity: Severity, count: int) -> str:
    if severity is Severity.INFO:
        return f"{count} info"  # "infos" reads wrong; info is uncountable
    return plural(count, severity.label)


def object_label(kind: str | None, namespace: str | None, name: str | None) -> str:
    """`Deployment prod/web`, `Deployment web` (no namespace given), or what is known."""
    ident = f"{namespace}/{name}" if namespace and name else (name or "")
    return " ".join(part for part in (kind or "", ident) if part)


def finding_context(finding: Finding) -> str:
    """`Deployment prod/web, container app`: where in the manifest set a finding sits (a site
    that is not a pod's container says it in its own words: `Task build, step compile`)."""
    if finding.label:
        return finding.label
    parts = []
    label = object_label(finding.kind, finding.namespace, finding.object)
    if label:
        parts.append(label)
    if finding.container:
        parts.append(f"container {finding.container}")
    elif finding.unnamed_container:
        parts.append(finding.unnamed_container)  # `containers[1]`: it has no name
    return ", ".join(parts)


def message_with_context(finding: Finding) -> str:
    context = finding_context(finding)
    text = f"{finding.message} ({context})" if context else finding.message
    declared = declared_words(finding.declared_at)
    return f"{text} ({declared})" if declared else text


def declared_words(declared_at: Sequence[Declaration]) -> str:
    """`from charts/shop/values.yaml:14 image.tag`: the values key that declared an image on
    rendered Helm output (of a finding, or of an inventory entry); every candidate when the
    values declare it twice."""
    if not declared_at:
        return ""
    if len(declared_at) == 1:
        return f"from {declared_at[0]}"
    return "from one of " + ", ".join(str(d) for d in declared_at)


def summary_line(report: Report) -> str:
    """`3 findings (2 errors, 1 warning) in 12 files, 40 images` or `All checks passed (...)`;
    `; 2 images are placeholders, not checked` after the image count when there are any."""
    scope = f"{plural(report.files_checked, 'file')}, {plural(report.images_checked, 'image')}"
    if report.placeholders:
        # Said in the summary, so that nothing is skipped silently (--list-images shows which).
        verb = "is a placeholder" if report.placeholders == 1 else "are placeholders"
        scope += f"; {plural(report.placeholders, 'image')} {verb}, not checked"
    if not report.findings and not report.errors:
        return f"All checks passed ({scope})"
    if report.findings:
        by_severity = ", ".join(
            severity_count(severity, count)
            for severity, count in report.severity_counts().items()
            if count
        )
        line = f"{plural(len(report.findings), 'finding')} ({by_severity}) in {scope}"
    else:
        line = f"No findings in {scope}"
    if report.errors:
        line += f"; {plural(len(report.errors), 'input error')}"
    return line


class JsonArray(list):  # type: ignore[type-arg]
    """A JSON array for `write_json` whose items are made one at a time, as the encoder
    reaches them: `JsonArray(report.findings, finding_dict)` holds no dictionary per finding
    (about 650 bytes each, all alive at once while the report was written). `write_json`
    writes lists and tuples as arrays; this one is a list in name, with the length and items of
    `items`."""

    def __init__(self, items: Sequence[_T], convert: Callable[[_T], Any]) -> None:
        super().__init__()
        self._items = items
        self._convert = convert

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return map(self._convert, self._items)


def write_json(document: Any, out: TextIO) -> None:
    """`json.dumps(document, indent=2, ensure_ascii=True)` and a newline, byte for byte, written
    in pieces: the text of a large report as one list of its small pieces (what `dumps` joins)
    was the run's high-water mark of memory, above everything it had read. Arrays of many items
    may be `JsonArray`s, made as they are written.

    Not json's own encoder: with an indent it is its Python one (a generator per level, a yield
    per token), three times as slow on a corpus report; strings go through json's C escaper,
    and an object of plain values (a finding's) is made as one piece."""
    writer = _JsonWriter(out)
    writer.value(document, "\n")
    writer.pieces.append("\n")
    writer.flush()


class _JsonWriter:
    """Values written as `json.dumps(..., indent=2)` writes them; `newline` is the line break
    and indentation that the value's own items would follow."""

    def __init__(self, out: TextIO) -> None:
        from json.encoder import encode_basestring_ascii

        self.out = out
        self.pieces: list[str] = []
        self.quoted: Callable[[str], str] = encode_basestring_ascii
        self.flat_chars = 0  # of the pieces not yet written, those made as one (`object`)

    def flush(self) -> None:
        self.out.write("".join(self.pieces))
        self.pieces.clear()
        self.flat_chars = 0

    def value(self, value: Any, newline: str) -> None:
        if isinstance(value, str):
            self.pieces.append(self.quoted(value))
        elif isinstance(value, (list, tuple)):
            self.array(value, newline)
        elif isinstance(value, dict):
            self.object(value, newline)
        else:
            self.pieces.append(_json_scalar(value))

    def array(self, items: Sequence[Any], newline: str) -> None:
        if not len(items):  # (a JsonArray's length is its items')
            self.pieces.append("[]")
            return
        inner = newline + "  "
        pieces = self.pieces
        separator = "[" + inner
        for item in items:
            pieces.append(separator)
            self.value(item, inner)
            separator = "," + inner
            if len(pieces) >= _PIECES_PER_WRITE or self.flat_chars >= _CHARS_PER_WRITE:
                self.flush()
        pieces.append(newline + "]")

    def object(self, members: dict[Any, Any], newline: str) -> None:
        if not members:
            self.pieces.append("{}")
            return
        inner = newline + "  "
        pieces, quoted = self.pieces, self.quoted
        # Members that are strings, integers or null, under string keys: the object as one
        # piece (a piece per token cost most of a corpus report's time).
        members_text = []
        for key, member in members.items():
            kind = type(member)
            if kind is str:
                text = quoted(member)
            elif member is None:
                text = "null"
            elif kind is int:
                text = int.__repr__(member)
            else:
                break
            if type(key) is not str:
                break
            members_text.append(quoted(key) + ": " + text)
        else:
            flat = "{" + inner + ("," + inner).join(members_text) + newline + "}"
            pieces.append(flat)
            self.flat_chars += len(flat)
            return
        separator = "{" + inner
        for key, member in members.items():
            pieces.append(separator)
            pieces.append(quoted(key if isinstance(key, str) else _json_key(key)))
            pieces.append(": ")
            if isinstance(member, str):
                pieces.append(quoted(member))
            else:
                self.value(member, inner)
            separator = "," + inner
        pieces.append(newline + "}")


# About 64 kB of a report's text at a time.
_PIECES_PER_WRITE = 8192
_CHARS_PER_WRITE = 65536


def _json_scalar(value: object) -> str:
    """A number, true, false or null as json writes it (NaN and the infinities as JavaScript
    names them, as `allow_nan` does)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_key(key: object) -> str:
    """A key that is not a string, as json turns it into one."""
    if key is None or isinstance(key, (bool, int, float)):
        return _json_scalar(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
