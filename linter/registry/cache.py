"""On-disk cache of registry answers, so a pre-commit hook does not ask again on every commit.

One JSON file, `registry-v1.json`, in `$XDG_CACHE_HOME/imglint` (else `~/.cache/imglint`, or the
folder given). Two tables, keyed by registry, repository and reference:
  * tags    "docker.io/library/nginx:1.27" -> digest, trusted for `tag_ttl` seconds;
  * digests "docker.io/library/nginx@sha256:..." -> media type (+ platforms: an index's
    entries, or a single image's own from its config), for good: content behind a digest never
    changes.
Only positive answers are stored (a tag missing now may be pushed in a minute), and never a
credential or token. Writes are atomic (temporary file + rename) and merge with what another
run wrote meanwhile; an unreadable or corrupt file is ignored, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from imglint.records import dataclass

FILE_NAME = "registry-v1.json"
MAX_ENTRIES = 20_000  # per table; the oldest go first
CLOCK_SKEW = 60.0  # a timestamp this far in the future is not trusted


@dataclass(frozen=True)
class DigestInfo:
    media_type: str | None
    platforms: tuple[str, ...] | None  # None: not read


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".cache"
    return root / "imglint"


class ResolutionCache:
    def __init__(
        self,
        directory: Path,
        *,
        tag_ttl: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = directory / FILE_NAME
        self.tag_ttl = tag_ttl
        self._clock = clock
        loaded = _read(self.path)
        self._tags: dict[str, dict[str, Any]] = loaded[0]
        self._digests: dict[str, dict[str, Any]] = loaded[1]
        self._new_tags: dict[str, dict[str, Any]] = {}
        self._new_digests: dict[str, dict[str, Any]] = {}

    # -- lookups ---------------------------------------------------------------------------

    def tag(self, registry: str, repository: str, tag: str) -> str | None:
        entry = self._tags.get(f"{registry}/{repository}:{tag}")
        if entry is None:
            return None
        age = self._clock() - float(entry["at"])
        if age > self.tag_ttl or age < -CLOCK_SKEW:
            return None
        return str(entry["digest"])

    def digest(self, registry: str, repository: str, digest: str) -> DigestInfo | None:
        entry = self._digests.get(f"{registry}/{repository}@{digest}")
        if entry is None:
            return None
        platforms = entry.get("platforms")
        return DigestInfo(
            media_type=entry.get("media_type"),
            platforms=tuple(platforms) if platforms is not None else None,
        )

    # -- updates ---------------------------------------------------------------------------

    def put_tag(self, registry: str, repository: str, tag: str, digest: str) -> None:
        entry = {"digest": digest, "at": self._clock()}
        key = f"{registry}/{repository}:{tag}"
        self._tags[key] = self._new_tags[key] = entry

    def put_digest(
        self,
        registry: str,
        repository: str,
        digest: str,
        media_type: str | None,
        platforms: tuple[str, ...] | None,
    ) -> None:
        key = f"{registry}/{repository}@{digest}"
        old = self._digests.get(key)
        if platforms is None and old is not None and old.get("platforms") is not None:
            platforms = tuple(old["platforms"])  # keep what an earlier run read
        entry = {
            "media_type": media_type,
            "platforms": list(platforms) if platforms is not None else None,
            "at": self._clock(),
        }
        self._digests[key] = self._new_digests[key] = entry

    def save(self) -> str | None:
        """Write new entries (merged with the file as it is now). Returns a warning or None."""
        if not self._new_tags and not self._new_digests:
            return None
        tags, digests = _read(self.path)
        tags.update(self._new_tags)
        digests.update(self._new_digests)
        data = {"version": 1, "tags": _prune(tags), "digests": _prune(digests)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".registry-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, separators=(",", ":"))
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            return f"cannot write the registry cache {self.path}: {exc.strerror or exc}"
        self._new_tags.clear()
        self._new_digests.clear()
        return None


def _prune(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if len(table) <= MAX_ENTRIES:
        return table
    newest = sorted(table.items(), key=lambda item: float(item[1]["at"]), reverse=True)
    return dict(newest[:MAX_ENTRIES])


def _read(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The file's valid entries; anything unreadable counts as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    if not isinstance(data, dict) or data.get("version") != 1:
        return {}, {}
    return (
        _valid(data.get("tags"), _valid_tag),
        _valid(data.get("digests"), _valid_digest),
    )


def _valid(table: object, check: Callable[[Any], bool]) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(k, str) and check(v)}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _valid_tag(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("digest"), str)
        and ":" in entry["digest"]
        and _number(entry.get("at"))
    )


def _valid_digest(entry: Any) -> bool:
    if not isinstance(entry, dict) or not _number(entry.get("at")):
        return False
    media_type = entry.get("media_type")
    platforms = entry.get("platforms")
    return (media_type is None or isinstance(media_type, str)) and (
        platforms is None
        or (isinstance(platforms, list) and all(isinstance(p, str) for p in platforms))
    )
