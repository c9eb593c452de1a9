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
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import httpx

from imglint.records import dataclass, field, replace
from imglint.registry.cache import ResolutionCache, default_cache_dir
from imglint.registry.credentials import Credentials, CredentialStore, is_docker_hub
from imglint.registry.endpoint import Endpoint, who_asked
from imglint.registry.media import (
    ACCEPT,
    IMAGE_TYPES,
    INDEX_TYPES,
    body_digest,
    body_media_type,
    header_digest,
    matches,
    media_type,
    parse_config_descriptor,
    parse_config_platform,
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
        self._progress = progress
        self._endpoints: dict[str, Endpoint] = {}
        self._user_creds: dict[tuple[str, str], Credentials | None] = {}

    # -- the run -------------------------------------------------------------------------------

    async def resolve(self, refs: Iterable[ReferenceLike]) -> Answers:
        started = time.monotonic()
        self._session.start()
        if self._store is None:
            self._store = await asyncio.to_thread(CredentialStore)
        if self._cache is None and self.options.use_cache:
            folder = self.options.cache_dir
            directory = Path(folder) if folder else default_cache_dir()
            self._cache = ResolutionCache(directory, tag_ttl=self.options.tag_ttl)
        targets = self._targets(refs)
        self.stats.references = len(targets)
        try:
            results = await self._run(targets)
        finally:
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
        return Answers(answers, self.stats, per_credentials)

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

    # -- one reference -----------------------------------------------------------------------

    async def _resolve_target(self, target: _Target) -> Resolution:
        if not target.domain:
            return Resolution(
                reference=target.keys[0],
                status="unreachable",
                detail="the reference names no registry host",
            )
        if target.secrets is None:
            cached = self._from_cache(target)
            if cached is not None:
                self.stats.from_cache += 1
                return cached
        upstream = upstream_host(target.domain)
        result: Resolution | None = None
        # Mirrors first, like containerd; anything but a positive answer moves on to the next.
        for host in [*self.options.mirrors.get(target.domain, ()), upstream]:
            if host == upstream and target.secrets is not None:
                candidates: Sequence[Credentials | None] = target.secrets or (None,)
            else:
                candidates = (await self._user_credentials(host, target, host == upstream),)
            for credentials in candidates:
                try:
                    result = await self._resolve_on(host, target, credentials)
                except RegistryError as exc:
                    result = _failure(target, exc, host)
                # kubelet tries the next matching credential only when this one did not work
                if not _auth_trouble(result):
                    break
            if result is not None and result.ok:
                break
        assert result is not None
        # Answers got with pod secrets stay out of the cache: a later run without them must
        # not learn from the cache that the image could be read.
        if result.ok and target.secrets is None:
            self._remember(target, result)
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
        self, host: str, target: _Target, credentials: Credentials | None
    ) -> Resolution:
        endpoint = await self._endpoint(host)
        if endpoint.error is not None:
            return _failure(target, endpoint.error, host)
        tag_digest: str | None = None
        notes: list[str] = []
        if target.digest is not None and target.tag is not None:
            by_tag = await self._manifest(endpoint, target, target.tag, credentials)
            if by_tag.status in ("auth-failed", "unreachable"):
                return _resolution(target, host, by_tag)
            tag_digest = by_tag.digest if by_tag.status == "ok" else None
            if tag_digest is None:
                notes.append(f"the tag {target.tag} no longer exists")
            if tag_digest == target.digest:
                answer = by_tag
            else:
                answer = await self._manifest(endpoint, target, target.digest, credentials)
        else:
            ref = target.digest or target.tag
            assert ref is not None
            answer = await self._manifest(endpoint, target, ref, credentials)
        platforms: tuple[str, ...] | None = None
        problem = ""
        if answer.status == "ok" and self._wants_platforms(answer.media_type):
            platforms, problem = await self._platforms(endpoint, target, answer, credentials)
            notes.append(problem)
        result = _resolution(target, host, answer, platforms=platforms, tag_digest=tag_digest)
        detail = "; ".join(x for x in (result.detail, *notes) if x)
        return replace(result, detail=detail, platform_error=problem)

    def _wants_platforms(self, media: str | None) -> bool:
        return self.options.check_platforms and (media in INDEX_TYPES or media in IMAGE_TYPES)

    # -- manifests -----------------------------------------------------------------------------

    async def _manifest(
        self, endpoint: Endpoint, target: _Target, ref: str, credentials: Credentials | None
    ) -> _Answer:
        by_digest = ref == target.digest
        path = f"/v2/{target.path}/manifests/{ref}"
        accept = {"Accept": ACCEPT}
        try:
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
            if response.status in (200, 405):  # no digest header, or HEAD not allowed
                response = await endpoint.request(
                    "GET",
                    path,
                    target.path,
                    credentials,
                    headers=accept,
                    limit=MANIFEST_BODY_LIMIT,
                )
                if response.status == 200:
                    digest = header_digest(response.headers) or body_digest(response.body)
                    return _Answer(
                        "ok",
                        digest=ref if by_digest else digest,
                        media_type=body_media_type(response.headers, response.body),
                        body=response.body,
                    )
        except AuthError as exc:
            return _Answer("auth-failed", detail=str(exc))
        return await self._not_ok(endpoint, target, response, by_digest, credentials)

    async def _not_ok(
        self,
        endpoint: Endpoint,
        target: _Target,
        response: Response,
        by_digest: bool,
        credentials: Credentials | None,
    ) -> _Answer:
        status = response.status
        if status == 404:
            missing: Status = "digest-not-found" if by_digest else "tag-not-found"
            return await self._classify_missing(endpoint, target, missing, credentials)
        who = who_asked(credentials)
        other = endpoint.other_host(response)
        if status == 401 and other is not None:
            return _Answer(
                "auth-failed",
                detail=f"the registry redirected to {other}, which wants credentials; "
                f"credentials for {endpoint.host} are never sent to another host",
            )
        if status == 401 and is_docker_hub(endpoint.host):
            return _Answer("repository-not-found", detail=f"{HUB_MISSING_OR_PRIVATE} ({who})")
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
    ) -> _Answer:
        """A manifest 404 does not say whether the repository exists; tags/list does."""
        path = f"/v2/{target.path}/tags/list?n=1000"
        try:
            response = await endpoint.request(
                "GET", path, target.path, credentials, limit=TAGS_BODY_LIMIT
            )
        except RegistryError:
            return _Answer(missing)
        if response.status == 404 and "NAME_UNKNOWN" in response.error_codes():
            return _Answer("repository-not-found", detail="the registry answered NAME_UNKNOWN")
        if response.status == 200 and missing == "tag-not-found" and target.tag:
            try:
                tags = json.loads(response.body).get("tags") or []
            except (ValueError, AttributeError):
                tags = []
            close = difflib.get_close_matches(
                target.tag, [t for t in tags if isinstance(t, str)], n=TAG_SUGGESTIONS
            )
            if close:
                return _Answer(missing, detail="closest tags: " + ", ".join(close))
        return _Answer(missing)

    async def _platforms(
        self,
        endpoint: Endpoint,
        target: _Target,
        answer: _Answer,
        credentials: Credentials | None,
    ) -> tuple[tuple[str, ...] | None, str]:
        """The platforms of an image index, or the one platform of a single image: (platforms,
        why they could not be read). The manifest is read by digest (one GET) unless the answer
        has its body already; a single image's config is one blob GET. Nothing when cached."""
        if self._cache is not None and answer.digest:
            info = self._cache.digest(target.domain, target.path, answer.digest)
            if info is not None and info.platforms is not None:
                return info.platforms, ""
        index = answer.media_type in INDEX_TYPES
        what = "image index" if index else "image manifest"
        body = answer.body
        if body is None:
            path = f"/v2/{target.path}/manifests/{answer.digest}"
            try:
                response = await endpoint.request(
                    "GET",
                    path,
                    target.path,
                    credentials,
                    headers={"Accept": ACCEPT},
                    limit=MANIFEST_BODY_LIMIT,
                )
            except RegistryError as exc:
                return None, f"could not read the {what}: {exc}"
            if response.status != 200:
                return None, f"could not read the {what} (HTTP {response.status})"
            body = response.body
        try:
            if index:
                return parse_platforms(body), ""
            # The config digest is only as good as the manifest naming it.
            if answer.digest and verifiable(answer.digest) and not matches(answer.digest, body):
                return None, f"the image manifest does not match its digest {answer.digest}"
            config, size = parse_config_descriptor(body)
        except ProtocolError as exc:
            return None, str(exc)
        return await self._image_platform(endpoint, target, config, size, credentials)

    async def _image_platform(
        self,
        endpoint: Endpoint,
        target: _Target,
        config: str,
        size: int | None,
        credentials: Credentials | None,
    ) -> tuple[tuple[str, ...] | None, str]:
        """A single image's platform from its config blob (`config` is a verifiable digest)."""
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
        try:
            return (parse_config_platform(response.body),), ""
        except ProtocolError as exc:
            return None, str(exc)

    # -- cache ---------------------------------------------------------------------------------

    def _from_cache(self, target: _Target) -> Resolution | None:
        cache = self._cache
        if cache is None:
            return None
        tag_digest = cache.tag(target.domain, target.path, target.tag) if target.tag else None
        digest = target.digest or tag_digest
        if digest is None or (target.tag and tag_digest is None):
            return None
        info = cache.digest(target.domain, target.path, digest)
        if info is None:
            return None
        wants = self._wants_platforms(info.media_type)
        if wants and info.platforms is None:
            return None
        return Resolution(
            reference=target.keys[0],
            status="ok",
            digest=digest,
            media_type=info.media_type,
            platforms=info.platforms if wants else None,
            tag_digest=tag_digest if target.digest and target.tag else None,
            from_cache=True,
        )

    def _remember(self, target: _Target, result: Resolution) -> None:
        cache = self._cache
        if cache is None or result.digest is None:
            return
        if target.tag is not None:
            tag_digest = result.tag_digest if target.digest else result.digest
            if tag_digest is not None:
                cache.put_tag(target.domain, target.path, target.tag, tag_digest)
        cache.put_digest(
            target.domain, target.path, result.digest, result.media_type, result.platforms
        )


# -- helpers ----------------------------------------------------------------------------------


def _failure(target: _Target, exc: RegistryError, host: str = "") -> Resolution:
    status: Status = "auth-failed" if isinstance(exc, AuthError) else "unreachable"
    return Resolution(reference=target.keys[0], status=status, detail=str(exc), registry=host)


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
    )


def _badness(result: Resolution) -> int:
    """Which answer to keep when several pods ask for one image: the most telling failure."""
    return {"ok": 0, "unreachable": 1}.get(result.status, 2)


def _auth_trouble(result: Resolution | None) -> bool:
    """Whether kubelet would go on to the next credential after this answer."""
    if result is None:
        return True
    return result.status == "auth-failed" or (
        result.status == "repository-not-found" and result.detail.startswith(HUB_MISSING_OR_PRIVATE)
    )
