"""What imglint reports: findings from rules, input errors from files it could not read, and
suppressions that silenced nothing. The model every layer shares; renderers live in `report/`."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence

from imglint.records import dataclass, field

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import NoReturn

    _EmptyBase = Mapping[str, NoReturn]
else:
    _EmptyBase = Mapping

# The exit status of every run: nothing at or above fail-on, findings, or an error of any kind.
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Empty(_EmptyBase):
    """What most findings and sites hold in their mappings: one shared, read-only empty one (an
    empty dictionary each is 64 bytes per finding or site, for nothing). Shown as `{}`, equal to
    any empty mapping; it pickles as itself."""

    __slots__ = ()

    def __getitem__(self, key: str) -> NoReturn:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __reduce__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()


class Severity(enum.IntEnum):
    """Ordered so that `severity >= fail_on` decides the exit code."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


# A span's six numbers, packed into one int: each field's bits, and its place from the lowest.
# 40 bits hold any offset, line or column of a text that fits in memory.
_SPAN_BITS = 40
_SPAN_MASK = (1 << _SPAN_BITS) - 1
_START, _LENGTH, _LINE, _COLUMN, _END_COLUMN, _LINES = (i * _SPAN_BITS for i in range(6))


class Span(int):
    """Where a scalar sits in its file: 1-based line and column, end exclusive.

    `start` and `end` are character offsets into the decoded text (what a fixer replaces).

    A span is its six numbers packed into one int: a run keeps one for every image site and
    finding (tens of thousands for a large input), and as a record of six fields each cost
    about 170 bytes with its numbers; packed it is 64, and pickles as one number. The fields
    that are mostly zero (the lines a scalar spans, its length) sit in the highest bits, so
    the number stays short. Only the fields mean anything: compare spans with `==` alone.
    """

    __slots__ = ()

    def __new__(
        cls, line: int, column: int, end_line: int, end_column: int, start: int, end: int
    ) -> Span:
        length, lines = end - start, end_line - line
        if (start | length | line | column | end_column | lines) >> _SPAN_BITS:  # or negative
            raise ValueError(
                f"span out of range: {line}:{column}-{end_line}:{end_column} [{start}:{end}]"
            )
        return int.__new__(
            cls,
            start
            | length << _LENGTH
            | line << _LINE
            | column << _COLUMN
            | end_column << _END_COLUMN
            | lines << _LINES,
        )

    @property
    def line(self) -> int:
        return self >> _LINE & _SPAN_MASK

    @property
    def column(self) -> int:
        return self >> _COLUMN & _SPAN_MASK

    @property
    def end_line(self) -> int:
        return (self >> _LINE & _SPAN_MASK) + (self >> _LINES)

    @property
    def end_column(self) -> int:
        return self >> _END_COLUMN & _SPAN_MASK

    @property
    def start(self) -> int:
        return self & _SPAN_MASK

    @property
    def end(self) -> int:
        return (self & _SPAN_MASK) + (self >> _LENGTH & _SPAN_MASK)

    def moved_up(self, lines: int) -> Span:
        """The same span `lines` lines higher (its offsets unchanged): where it sits in a
        document cut out of the text."""
        return Span(
            self.line - lines,
            self.column,
            self.end_line - lines,
            self.end_column,
            self.start,
            self.end,
        )

    def __repr__(self) -> str:
        return (
            f"Span(line={self.line}, column={self.column}, end_line={self.end_line}, "
            f"end_column={self.end_column}, start={self.start}, end={self.end})"
        )

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, tuple[type[Span], int]]:
        # Made again from its number by int's own constructor: no call into Python per span
        # when the parent unpickles a worker's results.
        return int.__new__, (Span, int(self))


@dataclass(frozen=True, slots=True)
class Declaration:
    """Where the image of a finding on rendered output was written: a Helm values key (the
    one the finding concerns: `image.tag` for a tag finding), found by `--values` tracing."""

    path: str
    line: int
    column: int
    field: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.field}"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    path: str  # as shown to the user ("-" or --stdin-filename for stdin)
    span: Span
    image: str | None
    kind: str | None = None
    namespace: str | None = None
    object: str | None = None
    container: str | None = None
    # Where the image sits in its object, in words, when it is not a pod's container
    # ("Task build, step compile"); not part of the finding's identity (baselines, SARIF).
    label: str | None = field(default=None, compare=False, hash=False)
    # `containers[1]` when the container has no name: shown, never part of the identity.
    unnamed_container: str | None = field(default=None, compare=False, hash=False)
    # A Helm `# Source:` mapping may move the finding to another file; kept for dedup/baselines.
    extra: Mapping[str, str] = field(default=EMPTY, compare=False, hash=False)
    # For rendered Helm output: the values key(s) that declared the image (several when the
    # values declare the same image twice). Not part of the finding's identity.
    declared_at: tuple[Declaration, ...] = field(default=(), compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.column, self.code)


@dataclass(frozen=True, slots=True)
class InputError:
    """A file (or part of one) imglint could not read. Always exit code 2."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class UnusedSuppression:
    """A suppression comment or annotation that silenced nothing in this run.

    `codes` are the codes it names, as written; empty for a suppression of every code.
    `column` is None for an object annotation, which has no single column.
    """

    path: str
    line: int
    codes: tuple[str, ...] = ()
    column: int | None = None

    @property
    def message(self) -> str:
        if not self.codes:
            return "unused suppression (nothing was suppressed)"
        return f"unused suppression of {', '.join(self.codes)}"


def exit_code(findings: Iterable[Finding], errors: Sequence[InputError], fail_on: Severity) -> int:
    """0 clean, 1 a finding at or above `fail_on`, 2 any input or config error (2 wins)."""
    if errors:
        return EXIT_ERROR
    if any(f.severity >= fail_on for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK
