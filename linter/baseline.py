"""Baselines for legacy repositories: record today's findings, then report only new ones.

Findings are matched by path, object (kind, namespace, name), container and rule code, never by
line number, so edits elsewhere in a file do not resurface recorded findings. Each recorded
finding absorbs one current finding with the same key (a count, not a set): a second `latest`
image added to the same container is still new.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Sequence

from imglint.errors import UsageError
from imglint.findings import Finding

VERSION = 1
Key = tuple[str, str, str, str, str, str]


def key(finding: Finding) -> Key:
    return (
        finding.path,
        finding.kind or "",
        finding.namespace or "",
        finding.object or "",
        finding.container or "",
        finding.code,
    )


def write(path: str, findings: Sequence[Finding]) -> None:
    entries = [
        dict(zip(("path", "kind", "namespace", "object", "container", "code"), key(f), strict=True))
        for f in findings
    ]
    entries.sort(key=lambda e: tuple(e.values()))
    document = {"imglint-baseline": VERSION, "findings": entries}
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"cannot write baseline {path}: {exc.strerror or exc}") from None


def read(path: str) -> Counter[Key]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"baseline {path} is not valid JSON: {exc}") from None
    entries = document.get("findings") if isinstance(document, dict) else None
    if document.get("imglint-baseline") != VERSION or not isinstance(entries, list):
        raise UsageError(f"{path} is not an imglint baseline (version {VERSION})")
    counts: Counter[Key] = Counter()
    fields = ("path", "kind", "namespace", "object", "container", "code")
    for entry in entries:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise UsageError(f"baseline {path} has a malformed entry: {entry!r}")
        counts[tuple(entry[f] for f in fields)] += 1  # type: ignore[index]
    return counts


def filter_new(recorded: Counter[Key], findings: Sequence[Finding]) -> list[Finding]:
    remaining = Counter(recorded)
    new: list[Finding] = []
    for finding in findings:
        k = key(finding)
        if remaining[k] > 0:
            remaining[k] -= 1
        else:
            new.append(finding)
    return new
