"""Baselines for legacy repositories: record today's findings, then report only new ones.

Findings are matched by path, object (kind, namespace, name), container and rule code, never by
line number, so edits elsewhere in a file do not resurface recorded findings. Each recorded
finding absorbs one current finding with the same key (a count, not a set): a second `latest`
image added to the same container is still new.

Paths are compared normalized (`./k8s/a.yaml`, `k8s//a.yaml` and an absolute path below the
working directory are all `k8s/a.yaml`), because the same file reaches imglint under different
names: pre-commit passes `k8s/a.yaml`, a CI job may run `imglint ./k8s`.
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
FIELDS = ("path", "kind", "namespace", "object", "container", "code")
Key = tuple[str, str, str, str, str, str]


def key(finding: Finding) -> Key:
    return (
        normal_path(finding.path),
        finding.kind or "",
        finding.namespace or "",
        finding.object or "",
        finding.container or "",
        finding.code,
    )


def normal_path(path: str) -> str:
    """One spelling per file: normalized, relative to the working directory when below it,
    with forward slashes (a baseline written on Windows still matches on Linux)."""
    norm = os.path.normpath(path)
    if os.path.isabs(norm):
        with contextlib.suppress(ValueError):  # another drive on Windows: keep it absolute
            relative = os.path.relpath(norm)
            if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
                norm = relative
    return norm.replace(os.sep, "/")


def write(path: str, findings: Sequence[Finding]) -> None:
    entries = [dict(zip(FIELDS, key(f), strict=True)) for f in findings]
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
    except ValueError as exc:  # bad JSON, or bytes that are not UTF-8
        raise UsageError(f"baseline {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise UsageError(f"baseline {path} is not valid JSON: nested too deep") from None
    if not isinstance(document, dict) or "imglint-baseline" not in document:
        raise UsageError(f"{path} is not an imglint baseline (write one with --write-baseline)")
    version = document["imglint-baseline"]
    if version != VERSION:
        raise UsageError(
            f"baseline {path} has version {_short(version)}; this imglint reads version {VERSION}"
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise UsageError(f'baseline {path} has no "findings" list')
    counts: Counter[Key] = Counter()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in FIELDS):
            raise UsageError(
                f"baseline {path}: finding {number} is malformed ({_short(entry)}); each needs "
                f"the strings {', '.join(FIELDS)}"
            )
        file_path, kind, namespace, obj, container, code = (entry[f] for f in FIELDS)
        counts[(normal_path(file_path), kind, namespace, obj, container, code)] += 1
    return counts


def filter_new(recorded: Counter[Key], findings: Sequence[Finding]) -> list[Finding]:
    """The findings the baseline does not account for, in their original order."""
    remaining = Counter(recorded)
    new: list[Finding] = []
    for finding in findings:
        k = key(finding)
        if remaining[k] > 0:
            remaining[k] -= 1
        else:
            new.append(finding)
    return new


def _short(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
