"""The registry check (`imglint --resolve`): ask registries whether image references resolve.

Importing this package is cheap: the result and option types live in `model` (no httpx), and
`resolve_all` / `Resolver` (client.py, which imports httpx) are loaded on first use. The package
knows nothing of imglint's configuration or rule codes: `imglint.resolve` is the glue that runs
it for the command line.

    from imglint.registry import ResolveOptions, resolve_all
    answers = resolve_all(references, ResolveOptions(jobs=16, timeout=60))
    answers["docker.io/library/nginx:1.27"].status  # "ok", "tag-not-found", ...
"""

from __future__ import annotations

from imglint.registry.model import (
    Answers,
    AuthError,
    ProtocolError,
    RealmRejected,
    RegistryError,
    Resolution,
    ResolveOptions,
    ResolveStats,
    RetriesExhausted,
    Status,
    TransportError,
    platform_available,
)

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any

    from imglint.registry.client import Resolver, resolve_all

__all__ = [
    "Answers",
    "AuthError",
    "ProtocolError",
    "RealmRejected",
    "RegistryError",
    "Resolution",
    "ResolveOptions",
    "ResolveStats",
    "Resolver",
    "RetriesExhausted",
    "Status",
    "TransportError",
    "platform_available",
    "resolve_all",
]


def __getattr__(name: str) -> Any:
    if name in ("resolve_all", "Resolver"):
        from imglint.registry import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
