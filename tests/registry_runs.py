"""Running the resolver in tests: request counting through httpx event hooks, and one call."""

from __future__ import annotations

from typing import Any

import httpx

from imglint.reference import parse
from imglint.registry import Answers, ResolveOptions, resolve_all
from imglint.registry.credentials import Credentials, CredentialStore


class Counter:
    """httpx event hooks that record every request the resolver sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def on_request(self, request: httpx.Request) -> None:
        self.requests.append(request)

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request]}

    def lines(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]

    def manifests(self, method: str | None = None) -> list[str]:
        return [
            line
            for line in self.lines()
            if "/manifests/" in line and (method is None or line.startswith(method + " "))
        ]

    def without_pings(self) -> list[str]:
        return [line for line in self.lines() if line != "GET /v2/"]


def run(
    images: list[str],
    *,
    store: CredentialStore | None = None,
    counter: Counter | None = None,
    pull_secrets: dict[str, list[list[Credentials]]] | None = None,
    **overrides: Any,
) -> Answers:
    """resolve_all on the images, no cache, no user credentials unless `store` has some."""
    settings: dict[str, Any] = {"use_cache": False, "timeout": 30.0, "backoff": 0.05}
    settings.update(overrides)
    return resolve_all(
        [parse(image) for image in images],
        ResolveOptions(**settings),
        credentials=store or CredentialStore(files=[], env={}),
        pull_secrets=pull_secrets,
        event_hooks=counter.hooks if counter else None,
    )
