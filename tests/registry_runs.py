"""Running the resolver in tests: request counting through httpx event hooks, and one call;
and the command line's registry check on a Deployment of given images."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from imglint.cli import main
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


def deployment(folder: Path, *images: str) -> Path:
    """folder/deploy.yaml: a Deployment whose containers c0, c1, ... run the images (the first
    image at line 10, each next one two lines further)."""
    containers = "".join(
        f"        - name: c{n}\n          image: {image}\n" for n, image in enumerate(images)
    )
    path = folder / "deploy.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  template:\n    spec:\n      containers:\n" + containers
    )
    return path


def lint_json(
    args: Sequence[str], capsys: pytest.CaptureFixture[str], *, cache: bool = False
) -> tuple[int, dict[str, Any], str]:
    """`imglint --format json --resolve [--no-cache] ARGS`: the exit code, the report, stderr."""
    code = main(["--format", "json", "--resolve", *([] if cache else ["--no-cache"]), *args])
    captured = capsys.readouterr()
    report: dict[str, Any] = json.loads(captured.out)
    return code, report, captured.err
