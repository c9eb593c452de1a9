"""On-disk cache of registry answers, so a pre-commit hook does not ask again on every commit.

One JSON file, `registry-v2.json`, in the cache folder: `--cache-dir`, else `$IMGLINT_CACHE_DIR`,
else `$XDG_CACHE_HOME/imglint`, else `~/.cache/imglint`. Two tables, keyed by registry,
repository and reference, and by who asked:
  * tags    "docker.io/library/nginx:1.27" -> digest, trusted for `tag_ttl` seconds;
  * digests "docker.io/library/nginx@sha256:..." -> media type (+ platforms: an index's
    entries, or a single image's own from its config; + the config's `created` time, by
    platform for an index), for good: content behind a digest never changes.
Who asked: an anonymous answer is shared by every run; an answer got with credentials is keyed
by `identity(credentials)`, an HMAC-SHA256 of them under a random key kept in the folder's
`key` file (0600), so it answers only a run presenting the same credentials, and the cache file
holds no secret nor a plain hash of one that could be tested against guesses offline.

Only positive answers are stored (a tag missing now may be pushed in a minute). Trust: the
folder and every file in it must belong to the user and be writable by nobody else, else the
cache is not used at all (a file another user could write could hold digests no registry gave);
`notes` says why, for `-v`. Writes hold an exclusive lock on the folder while they merge
with what other runs wrote and replace the file atomically (temporary file + rename), so
parallel jobs sharing one folder lose no entries. An unreadable or corrupt file is ignored,
never fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imglint.records import dataclass, field

if TYPE_CHECKING:
    from imglint.registry.credentials import Credentials

log = logging.getLogger("imglint.registry")

FILE_NAME = "registry-v2.json"
VERSION = 2
KEY_FILE = "key"
KEY_BYTES = 32
MAX_ENTRIES = 20_000  # per table; the oldest go first
CLOCK_SKEW = 60.0  # a timestamp this far in the future is not trusted
LOCK_WAIT = 10.0  # seconds a save waits for another run's save
ANONYMOUS = ""  # the identity of answers got without credentials


@dataclass(frozen=True)
class DigestInfo:
    media_type: str | None
    platforms: tuple[str, ...] | None  # None: not read
    # The `created` text of its config ("" when it has none), by the platform asked for an
    # index (registry.client.NO_PLATFORM_IMAGE: the index has no image for it), "" for a single
    # image; what is not listed was not read.
    created: Mapping[str, str] = field(default_factory=dict)


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    chosen = env.get("IMGLINT_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = env.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".cache"
    return root / "imglint"


def untrusted_reason(path: Path) -> str | None:
    """Why a cache file or folder may not be trusted (None: it may, or it does not exist):
    it belongs to another user, or another user may write it."""
    getuid = getattr(os, "getuid", None)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None  # created 0700/0600 when written, or the write fails and says why
    except OSError as exc:
        return f"cannot inspect it ({exc.strerror or exc})"
    if getuid is not None and info.st_uid != getuid():
        return f"it belongs to user id {info.st_uid}, not to you"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"others may write it (mode {stat.S_IMODE(info.st_mode):o})"
    return None


class ResolutionCache:
    def __init__(
        self,
        directory: Path,
        *,
        tag_ttl: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME
        self.tag_ttl = tag_ttl
        self.notes: list[str] = []  # why (parts of) the cache were not used, for -v
        self._clock = clock
        self._key: bytes | None = None
        self._key_failed = False
        self.usable = self._check_folder()
        loaded = self._read() if self.usable else ({}, {})
        self._tags: dict[str, dict[str, Any]] = loaded[0]
        self._digests: dict[str, dict[str, Any]] = loaded[1]
        self._new_tags: dict[str, dict[str, Any]] = {}
        self._new_digests: dict[str, dict[str, Any]] = {}

    # -- who asked --------------------------------------------------------------------------

    def identity(self, credentials: Sequence[Credentials | None]) -> str | None:
        """The cache identity of answers got with `credentials` (one per host asked, None for
        anonymous): `ANONYMOUS` when there are none, else a keyed fingerprint; None when the
        answers may not be cached (no key could be kept)."""
        present = [c for c in credentials if c is not None]
        if not present:
            return ANONYMOUS
        key = self._hmac_key()
        if key is None:
            return None
        canonical = json.dumps(
            [
                None
                if c is None
                else [c.username, c.password, c.identity_token or "", c.registry_token or ""]
                for c in credentials
            ]
        )
        return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()[:32]

    def _hmac_key(self) -> bytes | None:
        if self._key is not None or self._key_failed or not self.usable:
            return self._key
        path = self.directory / KEY_FILE
        try:
            self._make_folder()
            if not path.exists():
                # Written whole under a temporary name, then linked into place: a run reading
                # the key never sees half of one, and of two runs creating it one wins.
                fd, tmp = tempfile.mkstemp(prefix=".key-", dir=self.directory)
                try:
                    with os.fdopen(fd, "wb") as out:
                        out.write(secrets.token_bytes(KEY_BYTES))
                    with contextlib.suppress(FileExistsError):
                        os.link(tmp, path)
                finally:
                    os.unlink(tmp)
            problem = untrusted_reason(path)
            info = path.stat()
            if problem is None and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                problem = f"others may read it (mode {stat.S_IMODE(info.st_mode):o})"
            if problem is not None:
                self._note(f"not using the cache key {path}: {problem}")
            else:
                key = path.read_bytes()
                if len(key) >= KEY_BYTES:
                    self._key = key
                else:
                    self._note(f"not using the cache key {path}: it is too short")
        except OSError as exc:
            self._note(f"cannot keep the cache key {path}: {exc.strerror or exc}")
        if self._key is None:
            self._key_failed = True
            self._note("answers got with credentials are not cached in this run")
        return self._key

    # -- lookups ---------------------------------------------------------------------------

    def tag(self, registry: str, repository: str, tag: str, who: str = ANONYMOUS) -> str | None:
        entry = self._tags.get(_key(f"{registry}/{repository}:{tag}", who))
        if entry is None:
            return None
        age = self._clock() - float(entry["at"])
        if age > self.tag_ttl or age < -CLOCK_SKEW:
            return None
        return str(entry["digest"])

    def digest(
        self, registry: str, repository: str, digest: str, who: str = ANONYMOUS
    ) -> DigestInfo | None:
        entry = self._digests.get(_key(f"{registry}/{repository}@{digest}", who))
        if entry is None:
            return None
        platforms = entry.get("platforms")
        return DigestInfo(
            media_type=entry.get("media_type"),
            platforms=tuple(platforms) if platforms is not None else None,
            created=dict(entry.get("created") or {}),
        )

    # -- updates ---------------------------------------------------------------------------

    def put_tag(
        self, registry: str, repository: str, tag: str, digest: str, who: str = ANONYMOUS
    ) -> None:
        entry = {"digest": digest, "at": self._clock()}
        key = _key(f"{registry}/{repository}:{tag}", who)
        self._tags[key] = self._new_tags[key] = entry

    def put_digest(
        self,
        registry: str,
        repository: str,
        digest: str,
        media_type: str | None,
        platforms: tuple[str, ...] | None,
        who: str = ANONYMOUS,
        created: Mapping[str, str] | None = None,
    ) -> None:
        key = _key(f"{registry}/{repository}@{digest}", who)
        old = self._digests.get(key)
        if platforms is None and old is not None and old.get("platforms") is not None:
            platforms = tuple(old["platforms"])  # keep what an earlier run read
        known = dict(old.get("created") or {}) if old is not None else {}
        known.update(created or {})
        entry: dict[str, Any] = {
            "media_type": media_type,
            "platforms": list(platforms) if platforms is not None else None,
            "at": self._clock(),
        }
        if known:
            entry["created"] = known
        self._digests[key] = self._new_digests[key] = entry

    def save(self) -> str | None:
        """Write new entries (merged with the file as it is now). Returns a warning or None."""
        if not self.usable or (not self._new_tags and not self._new_digests):
            return None
        try:
            self._make_folder()
            with self._locked() as locked:
                if not locked:
                    return f"the registry cache {self.path} stayed locked; not saving this run"
                tags, digests = self._read()
                tags.update(self._new_tags)
                digests.update(self._new_digests)
                data = {"version": VERSION, "tags": _prune(tags), "digests": _prune(digests)}
                fd, tmp = tempfile.mkstemp(prefix=".registry-", dir=self.directory)
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

    # -- the folder ------------------------------------------------------------------------

    def _note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)
            log.info("%s", message)  # shown with -v

    def _check_folder(self) -> bool:
        problem = untrusted_reason(self.directory)
        if problem is not None:
            self._note(f"not using the registry cache folder {self.directory}: {problem}")
            return False
        return True

    def _make_folder(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """Hold the folder's lock file (True), or give up after LOCK_WAIT seconds (False)."""
        try:
            import fcntl
        except ImportError:  # no advisory locks (Windows): atomic replace still holds
            yield True
            return
        # The folder itself is the lock: no lock file to leave behind or to be planted.
        fd = os.open(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            give_up = time.monotonic() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > give_up:
                        yield False
                        return
                    time.sleep(0.01)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _read(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The file's valid entries; anything unreadable or untrusted counts as empty."""
        problem = untrusted_reason(self.path)
        if problem is not None:
            self._note(f"not using the registry cache {self.path}: {problem}")
            return {}, {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}, {}
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return {}, {}
        return (
            _valid(data.get("tags"), _valid_tag),
            _valid(data.get("digests"), _valid_digest),
        )


def _key(what: str, who: str) -> str:
    return f"{what}#{who}" if who else what


def _prune(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if len(table) <= MAX_ENTRIES:
        return table
    newest = sorted(table.items(), key=lambda item: float(item[1]["at"]), reverse=True)
    return dict(newest[:MAX_ENTRIES])


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
    created = entry.get("created", {})
    return (
        (media_type is None or isinstance(media_type, str))
        and (
            platforms is None
            or (isinstance(platforms, list) and all(isinstance(p, str) for p in platforms))
        )
        and isinstance(created, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in created.items())
    )
