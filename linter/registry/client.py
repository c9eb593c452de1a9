"""Ask registries whether image references resolve: the engine behind `imglint --resolve`.

One `HEAD /v2/<path>/manifests/<ref>` per unique reference (Docker Hub does not count HEADs
against the pull rate limit), with an Accept header listing the Docker manifest and manifest
list and the OCI manifest and index types. A GET only where a registry needs it (405, no
`Docker-Content-Digest`) or where the body is needed: the platform check reads each manifest
once per reference, by digest: an image index names its platforms; a single image names its
config blob, whose `os`/`architecture`/`variant` are read with one blob GET (at most 1 MiB,
checked against its digest; a redirect to storage on another host gets no credentials). On
Docker Hub a manifest GET counts as a pull, a blob GET does not: `check_platforms=False` avoids
both. The platforms of a digest never change: with the cache, a warm run sends no GET.

Outcomes: 200 -> ok; 404 -> tag/digest not found, or repository not found when `tags/list`
says NAME_UNKNOWN (a manifest 404 does not tell); 401 -> auth failed, except on Docker Hub,
which answers 401 for missing and private repositories alike; 403 -> auth failed; DNS, TLS,
timeouts, 5xx, 429 after retries -> unreachable, the cause in `detail`. For `name:tag@digest`
the tag is asked first; only when it points elsewhere is the digest asked too (stale digest).

Why asyncio: one event loop with `httpx.AsyncClient` gives connection reuse, a semaphore bounds
concurrency (`jobs`), and cancellation makes the overall deadline exact: when it passes, what
still runs is cancelled and reported unreachable. Per-host locks make the ping and each token
fetch happen once without thread-safety worries. The credential store (which may run
`docker-credential-*` helpers) runs in a worker thread.

Module map: transport.py (TLS, retries, redirects, deadline), endpoint.py (ping, auth, tokens),
auth.py (challenges, realms, token requests), credentials.py, cache.py, media.py, model.py.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from imglint.records import dataclass, field, replace
from imglint.registry.cache import DigestInfo, ResolutionCache, default_cache_dir
from imglint.registry.credentials import Credentials, CredentialStore, is_docker_hub
from imglint.registry.endpoint import Endpoint, who_asked
from imglint.registry.media import (
    ACCEPT,
    IMAGE_TYPES,
    INDEX_TYPES,
    body_digest,
    body_media_type,
    created_time,
    header_digest,
    matches,
    media_type,
    parse_config_created,
    parse_config_descriptor,
    parse_config_platform,
    parse_platform_manifest,
    parse_platforms,
    verifiable,
)
from imglint.registry.model import (
    HUB_MISSING_OR_PRIVATE,
    Answers,
    AuthError,
    ProtocolError,
    RegistryError,
    Resolution,
    ResolveOptions,
    ResolveStats,
    Status,
)
from imglint.registry.transport import Hook, HttpSession, Response

log = logging.getLogger("imglint.registry")

DOCKER_HUB_REGISTRY = "registry-1.docker.io"
MANIFEST_BODY_LIMIT = 4 * 1024 * 1024  # the OCI spec's suggested manifest size limit
CONFIG_BODY_LIMIT = 1024 * 1024  # image configs are a few KiB; a huge history stays far below
TAGS_BODY_LIMIT = 1024 * 1024
TAG_SUGGESTIONS = 3
T = TypeVar("T")


class ReferenceLike(Protocol):
    """What `resolve_all` needs of a reference (imglint.reference.Reference fits)."""

    @property
    def domain(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def tag(self) -> str | None: ...
    @property
    def digest(self) -> str | None: ...


def resolve_all(
    refs: Iterable[ReferenceLike],
    options: ResolveOptions | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: CredentialStore | None = None,
    pull_secrets: Mapping[str, Sequence[Sequence[Credentials] | None]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    event_hooks: Mapping[str, list[Hook]] | None = None,
) -> Answers:
    """Resolve every unique reference; the result is keyed by `str(ref)`.

    `credentials`: the user's docker/podman credentials (default: read from the environment).
    `pull_secrets` (for --use-pull-secrets) maps `str(ref)` to the credential lists of the pods
    using it, one list per distinct set of pull secrets, each in the order kubelet tries them
    (`credentials.pull_secret_credentials`); an empty list means anonymous, None the user's own
    credentials (pods whose secrets the manifests do not show). Each is asked on its own and
    the worst answer is kept: a finding means some pod would not pull; `per_credentials` keeps
    each one's answer. Answers got with pull secrets bypass the cache. `progress(done, total)`
    is called as references finish. `transport` and `event_hooks` are for tests. Raises
    RegistryError only for bad options.
    """
    resolver = Resolver(
        options or ResolveOptions(),
        transport=transport,
        credentials=credentials,
        pull_secrets=pull_secrets,
        progress=progress,
        event_hooks=event_hooks,
    )
    return asyncio.run(resolver.resolve(refs))


def upstream_host(domain: str) -> str:
    """The host serving a registry domain: Docker Hub is `registry-1.docker.io`."""
    return DOCKER_HUB_REGISTRY if domain == "docker.io" else domain


@dataclass
class _Target:
    """One unique thing to ask; every reference string meaning it shares the answer."""

    domain: str
    path: str
    tag: str | None  # "latest" when the reference had neither tag nor digest
    digest: str | None
    secrets: tuple[Credentials, ...] | None  # None: the user's own credentials
    keys: list[str] = field(default_factory=list)


@dataclass
class _Answer:
    status: Status
    digest: str | None = None
    media_type: str | None = None
    detail: str = ""
    body: bytes | None = None  # the manifest, when a GET was needed anyway
    closest_tags: tuple[str, ...] = ()
    hub_missing_or_private: str | None = None  # who asked, when Hub's 401 hides which
    # Why the answer cannot be trusted ("" when nothing contradicts it): the registry's digest
    # header disagrees with the bytes it served, or a manifest does not match its digest.
    contradiction: str = ""
    cached: DigestInfo | None = None  # the answer came from the cache
    http_status: int | None = None  # of a failed request, for messages
    body_mismatch: bool = False  # `body` is not the content of `digest`


@dataclass
class _TagList:
    """A repository's `tags/list` answer."""

    name_unknown: bool = False
    tags: list[str] = field(default_factory=list)


class Resolver:
    def __init__(
        self,
        options: ResolveOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        credentials: CredentialStore | None = None,
        pull_secrets: Mapping[str, Sequence[Sequence[Credentials] | None]] | None = None,
        cache: ResolutionCache | None = None,
        progress: Callable[[int, int], None] | None = None,
        event_hooks: Mapping[str, list[Hook]] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.options = options
        self.stats = ResolveStats()
        self._session = HttpSession(
            options, self.stats, transport=transport, event_hooks=event_hooks, sleep=sleep
        )
        self._store = credentials
        self._pull_secrets = pull_secrets or {}
        self._cache = cache
        # Digests this run learnt itself: the cache holds them too, but an answer built from
        # them was asked of the registry in this run, not taken from an earlier one.
        self._learnt: set[tuple[str, str, str]] = set()
        self._progress = progress
        self._endpoints: dict[str, Endpoint] = {}
        self._user_creds: dict[tuple[str, str], Credentials | None] = {}
        # Every question to a registry, asked once per run whoever asks it: (host, repository,
        # what, credentials) -> the task answering it.
        self._asked: dict[tuple[object, ...], asyncio.Future[Any]] = {}
        # The `created` texts read this run, for the cache: (domain, path, digest) -> {key: text}
        self._created_read: dict[tuple[str, str, str], dict[str, str]] = {}

    # -- the run -------------------------------------------------------------------------------

    async def resolve(self, refs: Iterable[ReferenceLike]) -> Answers:
        started = time.monotonic()
        self._session.start()
        if self._store is None:
            self._store = await asyncio.to_thread(CredentialStore)
        if self._cache is None and self.options.use_cache:
            folder = self.options.cache_dir
            directory = Path(folder).expanduser() if folder else default_cache_dir()
            self._cache = ResolutionCache(directory, tag_ttl=self.options.tag_ttl)
        targets = self._targets(refs)
        self.stats.references = len(targets)
        try:
            results = await self._run(targets)
        finally:
            for task in self._asked.values():
                task.cancel()
            await self._session.aclose()
        answers: dict[str, Resolution] = {}
        per_credentials: dict[tuple[str, tuple[Any, ...] | None], Resolution] = {}
        for target, result in zip(targets, results, strict=True):
            for key in target.keys:
                mine = replace(result, reference=key)
                per_credentials[(key, target.secrets)] = mine
                known = answers.get(key)
                if known is None or _badness(mine) > _badness(known):
                    answers[key] = mine
        if self._cache is not None:
            warning = self._cache.save()
            if warning:
                self.stats.warnings.append(warning)
        self.stats.warnings.extend(self._store.warnings)
        self.stats.elapsed = time.monotonic() - started
        return Answers(answers, self.stats, per_credentials, read_created=self.options.read_created)

    def _targets(self, refs: Iterable[ReferenceLike]) -> list[_Target]:
        by_identity: dict[tuple[object, ...], _Target] = {}
        for ref in refs:
            key = str(ref)
            tag = ref.tag if ref.tag or ref.digest else "latest"
            alternatives = self._pull_secrets.get(key)
            for secrets in [None] if alternatives is None else alternatives:
                frozen = tuple(secrets) if secrets is not None else None
                identity = (ref.domain, ref.path, tag, ref.digest, frozen)
                target = by_identity.get(identity)
                if target is None:
                    target = _Target(ref.domain, ref.path, tag, ref.digest, frozen)
                    by_identity[identity] = target
                if key not in target.keys:
                    target.keys.append(key)
        return list(by_identity.values())

    async def _run(self, targets: list[_Target]) -> list[Resolution]:
        if not targets:
            return []
        tasks = [asyncio.ensure_future(self._guarded(t)) for t in targets]
        finished = 0

        def count(_: object) -> None:
            nonlocal finished
            finished += 1
            if self._progress is not None:
                self._progress(finished, len(targets))

        for task in tasks:
            task.add_done_callback(count)
        # A little grace past the deadline: requests inside give up on their own first.
        grace = max(0.0, self._session.deadline - time.monotonic()) + 1.0
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        late = f"no answer within the deadline of {self.options.timeout:g} s"
        return [
            task.result()
            if task.done() and not task.cancelled()
            else Resolution(reference=target.keys[0], status="unreachable", detail=late)
            for task, target in zip(tasks, targets, strict=True)
        ]

    async def _guarded(self, target: _Target) -> Resolution:
        try:
            return await self._resolve_target(target)
        except RegistryError as exc:
            return _failure(target, exc)
        except Exception as exc:  # a bug must not take the other references down
            log.debug("internal error resolving %s", target.keys[0], exc_info=True)
            return Resolution(
                reference=target.keys[0],
                status="unreachable",
                detail=f"internal error: {type(exc).__name__}: {exc}",
            )

    async def _shared(self, key: tuple[object, ...], ask: Callable[[], Awaitable[T]]) -> T:
        """The answer to a question, asked once per run however many references need it."""
        task = self._asked.get(key)
        if task is None:
            task = self._asked[key] = asyncio.ensure_future(ask())
            # Its askers may all have been cancelled at the deadline: an error nobody awaits
            # must not be printed as "Task exception was never retrieved".
            task.add_done_callback(_retrieve)
        # shielded: one reference cancelled at the deadline does not cancel the others' answer
        result: T = await asyncio.shield(task)
        return result

    # -- one reference -----------------------------------------------------------------------

    async def _resolve_target(self, target: _Target) -> Resolution:
        if not target.domain:
            return Resolution(
                reference=target.keys[0],
                status="unreachable",
                detail="the reference names no registry host",
            )
        upstream = upstream_host(target.domain)
        hosts = [*self.options.mirrors.get(target.domain, ()), upstream]
        # Who the cache may answer for: the user's credentials for every host this reference
        # would be asked of. Answers got with pod secrets stay out of the cache: a later run
        # without them must not learn from the cache that the image could be read.
        who: str | None = None
        if target.secrets is None and self._cache is not None:
            own = [await self._user_credentials(h, target, h == upstream) for h in hosts]
            who = self._cache.identity(own)
        if who is not None:
            cached = self._from_cache(target, who)
            if cached is not None:
                if cached.from_cache:
                    self.stats.from_cache += 1
                return cached
        result: Resolution | None = None
        trusted = True
        # Mirrors first, like containerd; anything but a positive answer moves on to the next.
        for host in hosts:
            if host == upstream and target.secrets is not None:
                candidates: Sequence[Credentials | None] = target.secrets or (None,)
            else:
                candidates = (await self._user_credentials(host, target, host == upstream),)
            for credentials in candidates:
                try:
                    result, trusted = await self._resolve_on(host, target, credentials, who)
                except RegistryError as exc:
                    result = _failure(target, exc, host)
                # kubelet tries the next matching credential only when this one did not work
                if not _auth_trouble(result):
                    break
            if result is not None and result.ok:
                break
        assert result is not None
        if result.ok and who is not None and trusted:
            self._remember(target, result, who)
        return result

    async def _user_credentials(
        self, host: str, target: _Target, upstream: bool
    ) -> Credentials | None:
        # Credentials belong to the registry domain; a mirror only gets its own.
        domain = target.domain if upstream else host
        key = (domain, target.path)
        if key not in self._user_creds:
            store = self._store
            assert store is not None
            found = await asyncio.to_thread(store.for_repository, domain, target.path)
            self._user_creds[key] = found
        return self._user_creds[key]

    async def _endpoint(self, host: str) -> Endpoint:
        endpoint = self._endpoints.get(host)
        if endpoint is None:
            endpoint = self._endpoints[host] = Endpoint(host, self._session)
        await endpoint.ready()
        return endpoint

    async def _resolve_on(
        self, host: str, target: _Target, credentials: Credentials | None, who: str | None
    ) -> tuple[Resolution, bool]:
        """The answer of one host, and whether nothing in it was contradicted (cacheable)."""
        endpoint = await self._endpoint(host)
        if endpoint.error is not None:
            return _failure(target, endpoint.error, host), False
        tag_digest: str | None = None
        notes: list[str] = []
        if target.tag is not None:
            # A tag's meaning comes from the registry whenever a reference also names a digest
            # (the stale-digest check) or an answer will be written (--pin): never the cache.
            by_tag = await self._ask_tag(endpoint, target, credentials)
            answer = by_tag
            if target.digest is not None:
                if by_tag.status in ("auth-failed", "unreachable"):
                    return _resolution(target, host, by_tag), False
                tag_digest = by_tag.digest if by_tag.status == "ok" else None
                if tag_digest is None:
                    notes.append(f"the tag {target.tag} no longer exists")
                if tag_digest != target.digest:
                    answer = await self._ask_digest(
                        endpoint, target, target.digest, credentials, who
                    )
        else:
            assert target.digest is not None
            answer = await self._ask_digest(endpoint, target, target.digest, credentials, who)
        platforms: tuple[str, ...] | None = None
        problem = ""
        trusted = not (answer.contradiction or answer.body_mismatch)
        if answer.contradiction:
            notes.append(answer.contradiction)
        wants_platforms = answer.status == "ok" and self._wants_platforms(answer.media_type)
        if answer.body_mismatch and not wants_platforms:
            notes.append(f"the manifest the registry served does not match {answer.digest}")
        if wants_platforms:
            platforms, problem, verified = await self._platforms(
                endpoint, target, answer, credentials, who
            )
            trusted = trusted and verified
            notes.append(problem)
        result = _resolution(target, host, answer, platforms=platforms, tag_digest=tag_digest)
        detail = "; ".join(dict.fromkeys(x for x in (result.detail, *notes) if x))
        result = replace(result, detail=detail, platform_error=problem)
        if answer.status == "ok" and self.options.read_created:
            keys = self._created_keys(answer.media_type)
            texts = await asyncio.gather(
                *(self._created(endpoint, target, answer, credentials, who, key) for key in keys)
            )
            result = _with_build_time(result, keys, texts)
        return result, trusted

    def _created_keys(self, media: str | None) -> tuple[str, ...]:
        """Which images' `created` a digest's answer holds: an index's images for each of the
        `created_platforms`, or the single image's own ("")."""
        return self.options.created_platforms if media in INDEX_TYPES else ("",)

    async def _created(
        self,
        endpoint: Endpoint,
        target: _Target,
        answer: _Answer,
        credentials: Credentials | None,
        who: str | None,
        key: str,
    ) -> tuple[str | None, str]:
        """(the `created` text of the image's config, "") or (None, why it could not be read).
        For an index, the config of its image for the platform `key`. Each manifest and config
        is read once per digest and run (shared with the platform check), and cached for good."""
        digest = answer.digest
        if digest is None:
            return None, "the registry named no digest"
        if answer.cached is not None and key in answer.cached.created:
            return answer.cached.created[key], ""
        if who is not None and self._cache is not None:
            info = self._cache.digest(target.domain, target.path, digest, who)
            if info is not None and key in info.created:
                return info.created[key], ""
        index = answer.media_type in INDEX_TYPES
        if not index and answer.media_type not in IMAGE_TYPES:
            return None, f"its manifest ({answer.media_type}) is neither an image nor an index"
        body: bytes | None = answer.body
        if body is None or answer.body_mismatch:
            body, problem = await self._verified_manifest(endpoint, target, digest, credentials)
            if body is None:
                return None, problem
        try:
            if index:
                child = parse_platform_manifest(body, key)
                if child is None:  # an index never gains one: cached as a fact like a time
                    record = self._created_read.setdefault((target.domain, target.path, digest), {})
                    record[key] = NO_PLATFORM_IMAGE
                    return NO_PLATFORM_IMAGE, ""
                body, problem = await self._verified_manifest(endpoint, target, child, credentials)
                if body is None:
                    return None, problem
            config, size = parse_config_descriptor(body)
        except ProtocolError as exc:
            return None, str(exc)
        blob, problem = await self._config_blob(endpoint, target, config, size, credentials)
        if blob is None:
            return None, problem
        try:
            text = parse_config_created(blob)
        except ProtocolError as exc:
            return None, str(exc)
        self._created_read.setdefault((target.domain, target.path, digest), {})[key] = text
        return text, ""

    async def _verified_manifest(
        self, endpoint: Endpoint, target: _Target, digest: str, credentials: Credentials | None
    ) -> tuple[bytes | None, str]:
        """The manifest `digest` names, checked against it (one GET per digest and run)."""
        try:
            got = await self._digest_manifest(endpoint, target, digest, credentials)
        except RegistryError as exc:
            return None, f"could not read the manifest {digest}: {exc}"
        if got.status != "ok" or got.body is None:
            why = f"HTTP {got.http_status}" if got.http_status else _why(got)
            return None, f"could not read the manifest {digest} ({why})"
        if got.body_mismatch:
            return None, f"the manifest does not match its digest {digest}"
        return got.body, ""

    def _wants_platforms(self, media: str | None) -> bool:
        return self.options.check_platforms and (media in INDEX_TYPES or media in IMAGE_TYPES)

    # -- manifests -----------------------------------------------------------------------------

    async def _ask_tag(
        self, endpoint: Endpoint, target: _Target, credentials: Credentials | None
    ) -> _Answer:
        """What the tag points at now: a HEAD, or a GET when the digest will be written (the
        digest of the bytes, checked against the registry's header)."""
        tag = target.tag
        assert tag is not None
        read_body = self.options.pinning
        return await self._shared(
            (endpoint.host, target.path, "tag", tag, credentials),
            lambda: self._fetch_manifest(endpoint, target, tag, credentials, read_body=read_body),
        )

    async def _ask_digest(
        self,
        endpoint: Endpoint,
        target: _Target,
        digest: str,
        credentials: Credentials | None,
        who: str | None,
    ) -> _Answer:
        """Whether the registry has the digest: the cache knows for good, else one request."""
        if who is not None and self._cache is not None:
            info = self._cache.digest(target.domain, target.path, digest, who)
            if info is not None and (
                info.platforms is not None or not self._wants_platforms(info.media_type)
            ):
                return _Answer("ok", digest=digest, media_type=info.media_type, cached=info)
        return await self._digest_manifest(endpoint, target, digest, credentials)

    async def _digest_manifest(
        self, endpoint: Endpoint, target: _Target, digest: str, credentials: Credentials | None
    ) -> _Answer:
        # With the platform check or the build times, a GET: its body answers existence and
        # platforms (or leads to the config) at once.
        read_body = self.options.check_platforms or self.options.read_created
        return await self._shared(
            (endpoint.host, target.path, "digest", digest, credentials),
            lambda: self._fetch_manifest(
                endpoint, target, digest, credentials, read_body=read_body, by_digest=True
            ),
        )

    async def _fetch_manifest(
        self,
        endpoint: Endpoint,
        target: _Target,
        ref: str,
        credentials: Credentials | None,
        *,
        read_body: bool,
        by_digest: bool = False,
    ) -> _Answer:
        path = f"/v2/{target.path}/manifests/{ref}"
        accept = {"Accept": ACCEPT}
        try:
            if not read_body:
                response = await endpoint.request(
                    "HEAD", path, target.path, credentials, headers=accept
                )
                digest = header_digest(response.headers)
                if response.status == 200 and (digest or by_digest):
                    return _Answer(
                        "ok",
                        digest=ref if by_digest else digest,
                        media_type=media_type(response.headers),
                    )
                # else: no digest header, or HEAD not allowed (405): the body tells
            if read_body or response.status in (200, 405):
                response = await endpoint.request(
                    "GET",
                    path,
                    target.path,
                    credentials,
                    headers=accept,
                    limit=MANIFEST_BODY_LIMIT,
                )
                if response.status == 200:
                    return _answer_from_body(ref, by_digest, response)
        except AuthError as exc:
            return _Answer("auth-failed", detail=str(exc))
        failed = await self._not_ok(endpoint, target, response, by_digest, credentials)
        return replace(failed, http_status=response.status)

    async def _not_ok(
        self,
        endpoint: Endpoint,
        target: _Target,
        response: Response,
        by_digest: bool,
        credentials: Credentials | None,
    ) -> _Answer:
        status = response.status
        other = endpoint.other_host(response)
        if status == 404:
            missing: Status = "digest-not-found" if by_digest else "tag-not-found"
            return await self._classify_missing(endpoint, target, missing, credentials, other)
        who = who_asked(credentials)
        if status == 401 and other is not None:
            return _Answer(
                "auth-failed",
                detail=f"the registry redirected to {other}, which wants credentials; "
                f"credentials for {endpoint.host} are never sent to another host",
            )
        if status == 401 and is_docker_hub(endpoint.host):
            return _Answer(
                "repository-not-found",
                detail=f"{HUB_MISSING_OR_PRIVATE} ({who})",
                hub_missing_or_private=who,
            )
        if status == 401 and credentials is None:
            return _Answer(
                "auth-failed",
                detail=f"the registry wants credentials and none are configured for "
                f"{target.domain}",
            )
        if status == 401:
            return _Answer("auth-failed", detail=f"the registry refused {who}")
        if status == 403:
            return _Answer("auth-failed", detail=f"access denied (HTTP 403, {who})")
        return _Answer("unreachable", detail=f"unexpected answer HTTP {status}")

    async def _classify_missing(
        self,
        endpoint: Endpoint,
        target: _Target,
        missing: Status,
        credentials: Credentials | None,
        redirected_to: str | None,
    ) -> _Answer:
        """A manifest 404 does not say whether the repository exists; tags/list does."""
        listing = await self._shared(
            (endpoint.host, target.path, "tags/list", credentials),
            lambda: self._tag_list(endpoint, target, credentials),
        )
        if listing is None:
            return _Answer(missing)
        if listing.name_unknown:
            return _Answer("repository-not-found", detail="the registry answered NAME_UNKNOWN")
        if missing == "tag-not-found" and target.tag:
            if target.tag in listing.tags:
                # The registry contradicts itself (a redirect to storage that lost the
                # manifest, a replica behind): the tag's existence cannot be told.
                via = f" (after a redirect to {redirected_to})" if redirected_to else ""
                return _Answer(
                    "unreachable",
                    detail=f"the registry lists the tag {target.tag} but answered 404 for "
                    f"its manifest{via}",
                )
            close = difflib.get_close_matches(target.tag, listing.tags, n=TAG_SUGGESTIONS)
            if close:
                return _Answer(
                    missing, detail="closest tags: " + ", ".join(close), closest_tags=tuple(close)
                )
        return _Answer(missing)

    async def _tag_list(
        self, endpoint: Endpoint, target: _Target, credentials: Credentials | None
    ) -> _TagList | None:
        path = f"/v2/{target.path}/tags/list?n=1000"
        try:
            response = await endpoint.request(
                "GET", path, target.path, credentials, limit=TAGS_BODY_LIMIT
            )
        except RegistryError:
            return None
        if response.status == 404 and "NAME_UNKNOWN" in response.error_codes():
            return _TagList(name_unknown=True)
        if response.status != 200:
            return _TagList()
        try:
            tags = json.loads(response.body).get("tags") or []
        except (ValueError, AttributeError):
            tags = []
        return _TagList(
            tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
        )

    async def _platforms(
        self,
        endpoint: Endpoint,
        target: _Target,
        answer: _Answer,
        credentials: Credentials | None,
        who: str | None,
    ) -> tuple[tuple[str, ...] | None, str, bool]:
        """The platforms of an image index, or the one platform of a single image: (platforms,
        why they could not be read, whether the bytes matched their digests). The manifest is
        the digest's (one GET per digest and run) unless the answer has its body already; a
        single image's config is one blob GET per config. Nothing when cached."""
        if answer.cached is not None and answer.cached.platforms is not None:
            return answer.cached.platforms, "", True
        if who is not None and self._cache is not None and answer.digest:
            info = self._cache.digest(target.domain, target.path, answer.digest, who)
            if info is not None and info.platforms is not None:
                return info.platforms, "", True
        index = answer.media_type in INDEX_TYPES
        what = "image index" if index else "image manifest"
        body = answer.body
        mismatch = answer.body_mismatch
        if body is None and answer.digest:
            try:
                by_digest = await self._digest_manifest(
                    endpoint, target, answer.digest, credentials
                )
            except RegistryError as exc:
                return None, f"could not read the {what}: {exc}", True
            if by_digest.status != "ok" or by_digest.body is None:
                why = f"HTTP {by_digest.http_status}" if by_digest.http_status else _why(by_digest)
                return None, f"could not read the {what} ({why})", True
            body, mismatch = by_digest.body, by_digest.body_mismatch
        if body is None:
            return None, f"could not read the {what}", True
        try:
            found = parse_platforms(body) if index else None
            config, size = ("", None) if index else parse_config_descriptor(body)
        except ProtocolError as exc:
            return None, str(exc), True
        if mismatch:
            # platforms read from bytes that are not the digest's would be someone else's
            return None, f"the {what} does not match its digest {answer.digest}", False
        if found is not None:
            return found, "", True
        platforms, problem = await self._shared(
            (endpoint.host, target.path, "blob", config, credentials),
            lambda: self._image_platform(endpoint, target, config, size, credentials),
        )
        return platforms, problem, True

    async def _image_platform(
        self,
        endpoint: Endpoint,
        target: _Target,
        config: str,
        size: int | None,
        credentials: Credentials | None,
    ) -> tuple[tuple[str, ...] | None, str]:
        """A single image's platform from its config blob (`config` is a verifiable digest)."""
        body, problem = await self._config_blob(endpoint, target, config, size, credentials)
        if body is None:
            return None, problem
        try:
            return (parse_config_platform(body),), ""
        except ProtocolError as exc:
            return None, str(exc)

    async def _config_blob(
        self,
        endpoint: Endpoint,
        target: _Target,
        config: str,
        size: int | None,
        credentials: Credentials | None,
    ) -> tuple[bytes | None, str]:
        """An image config blob, checked against its digest: one GET per config and run,
        whether the platform check or the build time asks."""
        return await self._shared(
            (endpoint.host, target.path, "config", config, credentials),
            lambda: self._fetch_config(endpoint, target, config, size, credentials),
        )

    async def _fetch_config(
        self,
        endpoint: Endpoint,
        target: _Target,
        config: str,
        size: int | None,
        credentials: Credentials | None,
    ) -> tuple[bytes | None, str]:
        if size is not None and size > CONFIG_BODY_LIMIT:
            return None, f"the image config is larger than {CONFIG_BODY_LIMIT // 1024} KiB"
        # Registries often answer a blob GET with a redirect to storage or a CDN on another
        # host: the transport follows it and sends this host's credentials to no other host.
        path = f"/v2/{target.path}/blobs/{config}"
        try:
            response = await endpoint.request(
                "GET", path, target.path, credentials, limit=CONFIG_BODY_LIMIT
            )
        except RegistryError as exc:
            return None, f"could not read the image config: {exc}"
        if response.status != 200:
            other = endpoint.other_host(response)
            where = f" from {other}" if other else ""
            return None, f"could not read the image config (HTTP {response.status}{where})"
        if not matches(config, response.body):
            return None, f"the image config does not match its digest {config}"
        return response.body, ""

    # -- cache ---------------------------------------------------------------------------------

    def _from_cache(self, target: _Target, who: str) -> Resolution | None:
        cache = self._cache
        if cache is None:
            return None
        if target.tag is not None and (target.digest is not None or self.options.pinning):
            return None  # a tag's meaning is asked afresh for these (see _resolve_on)
        tag_digest = cache.tag(target.domain, target.path, target.tag, who) if target.tag else None
        digest = target.digest or tag_digest
        if digest is None:
            return None
        info = cache.digest(target.domain, target.path, digest, who)
        if info is None:
            return None
        wants = self._wants_platforms(info.media_type)
        if wants and info.platforms is None:
            return None
        result = Resolution(
            reference=target.keys[0],
            status="ok",
            digest=digest,
            media_type=info.media_type,
            platforms=info.platforms if wants else None,
            from_cache=(target.domain, target.path, digest) not in self._learnt,
        )
        if self.options.read_created:
            keys = self._created_keys(info.media_type)
            if any(key not in info.created for key in keys):
                return None
            result = _with_build_time(result, keys, [(info.created[key], "") for key in keys])
        return result

    def _remember(self, target: _Target, result: Resolution, who: str) -> None:
        cache = self._cache
        if cache is None or result.digest is None:
            return
        if target.tag is not None:
            tag_digest = result.tag_digest if target.digest else result.digest
            if tag_digest is not None:
                cache.put_tag(target.domain, target.path, target.tag, tag_digest, who)
        self._learnt.add((target.domain, target.path, result.digest))
        cache.put_digest(
            target.domain,
            target.path,
            result.digest,
            result.media_type,
            result.platforms,
            who,
            created=self._created_read.get((target.domain, target.path, result.digest)),
        )


# -- helpers ----------------------------------------------------------------------------------


def _failure(target: _Target, exc: RegistryError, host: str = "") -> Resolution:
    status: Status = "auth-failed" if isinstance(exc, AuthError) else "unreachable"
    return Resolution(reference=target.keys[0], status=status, detail=str(exc), registry=host)


# What the build-time record of an index holds for a platform it has no image for (no `created`
# text can look like this): a digest's content never changes, so a warm run need not ask again.
NO_PLATFORM_IMAGE = "(no image for this platform)"


def _with_build_time(
    result: Resolution, keys: Sequence[str], texts: Sequence[tuple[str | None, str]]
) -> Resolution:
    """The answer with its build time: for an index, its oldest image among the configured
    platforms (the one an age limit fails first; a platform the index lacks, or whose build
    time says nothing, is left out while another's is known), naming that platform."""
    known: list[tuple[datetime, str]] = []
    unknown: list[str] = []
    for key, (text, unread) in zip(keys, texts, strict=True):
        if text == NO_PLATFORM_IMAGE:
            created, why = None, f"its index has no {key} image"
        else:
            created, why = created_time(text) if text is not None else (None, unread)
        if created is not None:
            known.append((created, key))
        else:
            unknown.append(f"{key}: {why}" if len(keys) > 1 else why)
    if not known:
        return replace(result, created=None, created_unknown="; ".join(unknown))
    created, platform = min(known)
    return replace(result, created=created, created_platform=platform, created_unknown="")


def _resolution(
    target: _Target,
    host: str,
    answer: _Answer,
    *,
    platforms: tuple[str, ...] | None = None,
    tag_digest: str | None = None,
) -> Resolution:
    digest = target.digest if answer.status == "ok" and target.digest else answer.digest
    return Resolution(
        reference=target.keys[0],
        status=answer.status,
        digest=digest,
        media_type=answer.media_type,
        platforms=platforms,
        tag_digest=tag_digest,
        detail=answer.detail,
        registry=host,
        closest_tags=answer.closest_tags,
        hub_missing_or_private=answer.hub_missing_or_private,
    )


def _answer_from_body(ref: str, by_digest: bool, response: Response) -> _Answer:
    """An answer from a manifest GET: its digest is the digest of the bytes, and a header or a
    requested digest that disagrees with them is a contradiction, never an answer."""
    body = response.body
    header = header_digest(response.headers)
    media = body_media_type(response.headers, body)
    if by_digest:
        wrong = verifiable(ref) and not matches(ref, body)
        return _Answer("ok", digest=ref, media_type=media, body=body, body_mismatch=wrong)
    # The header's algorithm when imglint can check it (sha512 stays sha512), else sha256.
    if header is not None and verifiable(header):
        algorithm = header.partition(":")[0]
        digest = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
    else:
        digest = body_digest(body)
    contradiction = ""
    if header is not None and verifiable(header) and header != digest:
        contradiction = (
            f"the registry's Docker-Content-Digest {header} does not match the manifest it "
            f"served ({digest})"
        )
    return _Answer("ok", digest=digest, media_type=media, body=body, contradiction=contradiction)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _why(answer: _Answer) -> str:
    return answer.detail or answer.status.replace("-", " ")


def _badness(result: Resolution) -> int:
    """Which answer to keep when several pods ask for one image: the most telling failure."""
    return {"ok": 0, "unreachable": 1}.get(result.status, 2)


def _auth_trouble(result: Resolution | None) -> bool:
    """Whether kubelet would go on to the next credential after this answer."""
    if result is None:
        return True
    return result.status == "auth-failed" or result.hub_missing_or_private is not None
