"""Display pieces the registry rules (IMG101-IMG108) share. Their answers come typed from
`Context.answer_for(site)`."""

from __future__ import annotations


def short(digest: str | None) -> str:
    """`sha256:0123456789ab` (12 hex digits), enough to tell digests apart in a message."""
    if not digest:
        return "?"
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}:{encoded[:12]}"
