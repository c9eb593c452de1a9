"""A regular expression compiled on its first use, for patterns that most runs never need.

Compiling a pattern costs from 0.1 ms to over 1 ms (the reference grammar's), and a module-level
`re.compile` pays it on every start, in every run. `LazyPattern` has the methods imglint calls
on patterns, with the same arguments and results; the first call compiles.
"""

from __future__ import annotations

import re
import sys

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from collections.abc import Iterator


class LazyPattern:
    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self._flags)
        return self._compiled

    def fullmatch(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, pos, endpos)
