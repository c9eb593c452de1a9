"""Placeholder: the distribution/reference grammar is being written (see tests/test_reference.py)."""

from __future__ import annotations

from dataclasses import dataclass


class InvalidReference(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reference:
    original: str
    domain: str
    path: str
    tag: str | None
    digest: str | None


def parse(text: str) -> Reference:
    raise InvalidReference("not implemented")
