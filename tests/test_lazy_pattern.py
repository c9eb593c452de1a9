"""imglint.lazy_pattern answers as the compiled pattern does, compiling on first use only."""

from __future__ import annotations

import re

import pytest

from imglint.lazy_pattern import LazyPattern


def test_answers_as_re_does() -> None:
    text = "a1 b22 c333"
    lazy = LazyPattern(r"([a-z])(\d+)", re.ASCII)
    compiled = re.compile(r"([a-z])(\d+)", re.ASCII)
    assert lazy.fullmatch("b22") is not None and lazy.fullmatch(text) is None
    assert lazy.match(text, 3).group(0) == compiled.match(text, 3).group(0) == "b22"  # type: ignore[union-attr]
    assert lazy.match(text, 0, 1) is None
    assert lazy.search(text, 1).span() == compiled.search(text, 1).span()  # type: ignore[union-attr]
    assert [m.groups() for m in lazy.finditer(text, 3)] == [("b", "22"), ("c", "333")]
    assert lazy.pattern == compiled.pattern


def test_flags_are_kept() -> None:
    assert LazyPattern(r"^x", re.MULTILINE).search("a\nx") is not None
    assert LazyPattern(r"^x").search("a\nx") is None
    assert LazyPattern(r"\w", re.ASCII).fullmatch("é") is None
    assert LazyPattern(r"\w").fullmatch("é") is not None


def test_compiles_once_on_first_use() -> None:
    lazy = LazyPattern(r"[")  # invalid: defining it raises nothing, using it does
    with pytest.raises(re.error):
        lazy.search("x")
    valid = LazyPattern(r"x+")
    assert valid.compiled is valid.compiled
