"""What the registry check answers, and how it is configured. No network code (no httpx).

A `Resolution` carries what the answer means as typed fields (status, digests, platforms,
closest tags, Docker Hub's ambiguity); `detail` is only the human words. Rules read answers
through `Context.answer_for(site)`; `imglint.resolve` builds `ResolveOptions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from imglint import __version__
from imglint.errors import ImglintError
from imglint.records import dataclass, field

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, Literal

    Status = Literal[
        "ok",
        "tag-not-found",
        "repository-not-found",
        "auth-failed",
        "digest-not-found",
        "unreachable",
    ]
else:
    Status = str  # what a status is at run time (the report renders it without importing typing)

MISSING_STATUSES = ("tag-not-found", "repository-not-found", "digest-not-found")
HUB_MISSING_OR_PRIVATE = "Docker Hub answers 401 for missing and private repositories alike"


@dataclass(frozen=True)
class Resolution:
    """The registry's answer for one unique reference."""

    reference: str  # canonical "name[:tag][@digest]" that was asked (the answers key)
    status: Status
    digest: str | None = None  # what the tag (or digest) resolves to now
    media_type: str | None = None
    # With the platform check: an image index's "os/arch[/variant]" entries, or a single image's
    # own platform (from its config blob); None when not checked or it could not be read.
    platforms: tuple[str, ...] | None = None
    # For "name:tag@digest": where the tag points now (None: not asked, or the tag is gone).
    tag_digest: str | None = None
    detail: str = ""  # a human reason, e.g. "HTTP 503 after 3 tries"; never parsed
    from_cache: bool = False
    registry: str = ""  # the host that answered ("registry-1.docker.io", a mirror, ...)
    # Why the platform check could not read the image index (or a single image's manifest or
    # config) of an "ok" answer ("" if it could, or was not asked): the platforms are unknown.
    platform_error: str = ""
    # "tag-not-found": the repository's tags closest to the one asked, closest first.
    closest_tags: tuple[str, ...] = ()
    # "repository-not-found" from Docker Hub's 401, which it answers for missing and private
    # repositories alike: who asked ("anonymous access", "as user x"); None for any other answer.
    hub_missing_or_private: str | None = None
    # With `read_created`: when the image was built, from its config's `created` (for an index,
    # the oldest of its images for the `created_platforms`, `created_platform` saying which; ""
    # for a single image); None when unknown, and `created_unknown` says why (no `created`, a
    # reproducible-build timestamp, the config could not be read).
    created: datetime | None = None
    created_platform: str = ""
    created_unknown: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def single_image(self) -> bool:
        """Whether the digest names one image (its platform is from its config), not an index."""
        # Imported here: the media module brings hashlib, which a run without answers never needs.
        from imglint.registry.media import IMAGE_TYPES

        return self.media_type in IMAGE_TYPES


@dataclass(frozen=True)
class ResolveOptions:
    """How to ask registries. Times are in seconds."""

    jobs: int = 16  # concurrent requests (and pooled connections)
    timeout: float = 60.0  # one deadline for the whole check
    request_timeout: float = 10.0  # per request (connect, read, write, pool)
    tries: int = 3  # attempts per request on 429/502/503/504 and connection errors
    backoff: float = 0.5  # first retry delay, doubled each time (Retry-After wins if given)
    max_retry_after: float = 30.0  # a longer Retry-After is not waited for
    # Read platforms: one manifest GET per image (index or single image), plus one
    # config blob GET per single image. On Docker Hub a manifest GET counts as a pull against the
    # rate limit; a HEAD or a blob GET does not.
    check_platforms: bool = True
    ca_file: str | None = None  # extra CA bundle (PEM), added to the system trust store
    # hosts ("host[:port]") that may be used over plain HTTP or with an unverified certificate
    insecure_registries: tuple[str, ...] = ()
    # registry -> mirrors tried first, e.g. {"docker.io": ("mirror.gcr.io",)}
    mirrors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    use_cache: bool = True
    cache_dir: str | None = None  # default: $XDG_CACHE_HOME/imglint or ~/.cache/imglint
    tag_ttl: float = 600.0  # how long a cached tag -> digest answer is trusted
    # The answers will be written into files (--pin): every tag is asked the registry (never the
    # cache), with a GET, so that the digest given is the digest of the manifest's bytes.
    pinning: bool = False
    # Token realm hosts trusted although they resolve to a private or loopback address.
    trusted_realm_hosts: tuple[str, ...] = ()
    # Read when each image was built (IMG108): a single image's config blob, or for an index the
    # manifest and config of its image for each of the `created_platforms` (the configured
    # platforms); once per digest (cached for good).
    read_created: bool = False
    created_platforms: tuple[str, ...] = ("linux/amd64",)
    user_agent: str = f"imglint/{__version__}"


@dataclass
class ResolveStats:
    """What the run cost, for the summary line and for tests."""

    references: int = 0  # unique references asked
    from_cache: int = 0
    requests: int = 0  # HTTP requests sent, all kinds
    manifest_requests: int = 0  # HEAD or GET on /v2/<name>/manifests/<ref>
    elapsed: float = 0.0
    # host -> last `ratelimit-remaining` seen (Docker Hub: "76;w=21600")
    ratelimit_remaining: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # credential helper trouble, cache, ...


@dataclass(frozen=True)
class RegistrySummary:
    """What the registry check did: the summary line, and JSON's `summary.registry`."""

    images: int  # unique image references asked about
    # Answers counted below: one per image, or with --use-pull-secrets one per image and set of
    # pull secrets its pods use (an image one pod may pull and another may not counts twice).
    answers: int
    found: int
    missing: int  # tag, repository or digest not found
    refused: int  # credentials missing or refused
    unreachable: int
    from_cache: int
    requests: int
    seconds: float
    # (host, the registry's `ratelimit-remaining` header: "76;w=21600"), by host
    rate_limit_left: tuple[tuple[str, str], ...] = ()
    # Images found whose build time is unknown (max-image-age did not judge them); None when
    # build times were not read (no max-image-age).
    build_time_unknown: int | None = None

    def text(self) -> str:
        """`14 images in 1.2 s: 12 found, 1 not found, 1 unreachable (3 from cache)`."""
        parts = [f"{self.found} found"]
        for count, words in (
            (self.missing, "not found"),
            (self.refused, "refused"),
            (self.unreachable, "unreachable"),
        ):
            if count:
                parts.append(f"{count} {words}")
        images = f"{self.images} image" + ("" if self.images == 1 else "s")
        if self.answers != self.images:
            images += f" ({self.answers} answers for the pods' pull secrets)"
        text = f"{images} in {self.seconds:.1f} s: " + ", ".join(parts)
        extras = []
        if self.from_cache:
            extras.append(f"{self.from_cache} from cache")
        for host, remaining in self.rate_limit_left:
            extras.append(f"{host} pulls left: {_rate_limit_words(remaining)}")
        return text + (f" ({'; '.join(extras)})" if extras else "")


def rate_limit_fields(value: str) -> tuple[int | None, int | None]:
    """`76;w=21600` -> (76, 21600): pulls left and the window in seconds (None: not said)."""
    count, _, window = value.partition(";w=")
    left = int(count) if count.strip().isdigit() else None
    seconds = int(window) if window.strip().isdigit() else None
    return left, seconds


def _rate_limit_words(value: str) -> str:
    """`76;w=21600` -> `76 per 6 h`."""
    left, seconds = rate_limit_fields(value)
    if left is None or seconds is None:
        return value
    unit = f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"
    return f"{left} per {unit}"


class Answers(dict[str, Resolution]):
    """`resolve_all`'s result: canonical reference -> Resolution, plus the run's stats.

    With pull secrets, a reference used by pods with different secrets maps to the worst answer;
    `per_credentials[(reference, credentials)]` keeps the answer for each credential list
    (None: the user's own credentials).
    """

    def __init__(
        self,
        answers: Mapping[str, Resolution],
        stats: ResolveStats,
        per_credentials: Mapping[tuple[str, tuple[Any, ...] | None], Resolution] | None = None,
        *,
        read_created: bool = False,
    ) -> None:
        super().__init__(answers)
        self.stats = stats
        self.per_credentials = dict(per_credentials or {})
        self.read_created = read_created  # whether build times were read (IMG108)

    def unknown_build_times(self) -> list[Resolution]:
        """The images found whose build time is unknown (none when build times were not read):
        a reproducible-build timestamp, no `created`, a config that could not be read."""
        if not self.read_created:
            return []
        return [answer for answer in self.values() if answer.ok and answer.created is None]

    def summary(self) -> RegistrySummary:
        """The run in numbers. Each answer counts: with pull secrets, one per image and set of
        pull secrets (the worst answer per image would hide the pods that do pull it)."""
        counted = list(self.per_credentials.values()) or list(self.values())
        counts: dict[str, int] = {}
        for result in counted:
            counts[result.status] = counts.get(result.status, 0) + 1
        stats = self.stats
        return RegistrySummary(
            images=len(self),
            answers=len(counted),
            found=counts.get("ok", 0),
            missing=sum(counts.get(s, 0) for s in MISSING_STATUSES),
            refused=counts.get("auth-failed", 0),
            unreachable=counts.get("unreachable", 0),
            from_cache=stats.from_cache,
            requests=stats.requests,
            seconds=stats.elapsed,
            rate_limit_left=tuple(sorted(stats.ratelimit_remaining.items())),
            build_time_unknown=len(self.unknown_build_times()) if self.read_created else None,
        )


# -- errors ----------------------------------------------------------------------------------


class RegistryError(ImglintError):
    """Base of registry errors. Per-reference failures never escape `resolve_all`: they become
    a Resolution status; only bad options (an unreadable --ca-file) are raised."""


class TransportError(RegistryError):
    """DNS, connection, TLS, timeout or deadline trouble: the registry could not be asked."""


class ProtocolError(RegistryError):
    """The registry or token service answered something unusable (malformed body, bad redirect)."""


class AuthError(RegistryError):
    """Credentials are missing or were refused, or the token service refused to answer."""


class RealmRejected(AuthError):
    """A token realm imglint will not talk to (plain HTTP, private address on another host)."""


class RetriesExhausted(TransportError):
    """429/502/503/504 until the tries or the deadline ran out."""


# -- platforms ---------------------------------------------------------------------------------

# The variant a platform means when it names none (containerd's platforms.Normalize).
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


def normalize_platform(text: str) -> tuple[str, str, str]:
    """ "os/arch[/variant]" -> (os, arch, variant) with containerd's defaults filled in."""
    parts = text.strip().lower().split("/")
    os_name = parts[0] if parts else ""
    arch = parts[1] if len(parts) > 1 else ""
    variant = parts[2] if len(parts) > 2 else ""
    arch = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}.get(
        arch, arch
    )
    if arch == "armel":
        arch, variant = "arm", variant or "v6"
    return os_name, arch, variant or _DEFAULT_VARIANT.get(arch, "")


def platform_available(wanted: str, available: tuple[str, ...]) -> bool:
    """Whether an index offering `available` serves `wanted` ("linux/arm64" ~ "linux/arm64/v8").

    An entry without variant serves any variant of its architecture, except on arm where the
    variant decides (v6 binaries run on v7, not the reverse; we ask for an exact variant).
    """
    want = normalize_platform(wanted)
    for entry in available:
        have = normalize_platform(entry)
        if have[:2] != want[:2]:
            continue
        if want[1] in ("amd64", "386") or have[2] == want[2]:
            return True
    return False
