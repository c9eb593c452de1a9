"""The registry check as a run uses it: options from the configuration, pull secrets from the
manifest set, progress and warnings on stderr, and the summary line. The glue between the
application and `imglint.registry`, which knows nothing of configuration or rule codes.

    answers, summary = run_resolve(sites, config, objects=..., use_pull_secrets=..., ...)
    resolver = make_resolver(config, ...)      # for --pin: list[Reference] -> answers
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from imglint import records
from imglint.context import RegistryAnswers
from imglint.registry import Answers, Resolution, ResolveOptions, resolve_all
from imglint.registry.model import RegistrySummary
from imglint.registry.pods import pod_credentials, site_credentials

if TYPE_CHECKING:
    from imglint.config import Config
    from imglint.context import ObjectIndex
    from imglint.reference import Reference
    from imglint.sites import ImageSite

PLATFORM_RULE = "IMG106"  # the platform check costs a GET per index: only when the rule runs
AGE_RULE = "IMG108"  # build times cost the config reads: only when the rule runs and has a limit
log = logging.getLogger("imglint.registry")


def options_from(
    config: Config,
    *,
    ca_file: str | None = None,
    use_cache: bool = True,
    cache_dir: str | None = None,
    read_platforms: bool = False,
) -> ResolveOptions:
    """ResolveOptions from the configuration (which holds the command line's --jobs, --timeout
    and --platform already); the registry check's own defaults for what neither says. Platforms
    are read when the platform rule runs, or when `read_platforms` asks (the inventory)."""
    defaults = ResolveOptions()
    return ResolveOptions(
        jobs=config.jobs or defaults.jobs,
        timeout=config.timeout or defaults.timeout,
        # rules any file's configuration (or override) selects: each site then runs its own
        check_platforms=read_platforms or PLATFORM_RULE in config.selected_anywhere(),
        ca_file=ca_file,
        insecure_registries=tuple(config.insecure_registries),
        mirrors={k: tuple(v) for k, v in config.mirrors.items()},
        use_cache=use_cache,
        cache_dir=cache_dir,
        tag_ttl=config.cache_ttl if config.cache_ttl is not None else defaults.tag_ttl,
        trusted_realm_hosts=config.trusted_realm_hosts,
        read_created=AGE_RULE in config.selected_anywhere() and config.limits_image_age(),
        # an index's build time is its oldest image's among the configured platforms
        created_platforms=config.platforms or defaults.created_platforms,
    )


def run_resolve(
    sites: Sequence[ImageSite],
    config: Config,
    *,
    objects: ObjectIndex,
    use_pull_secrets: bool = False,
    ca_file: str | None = None,
    use_cache: bool = True,
    cache_dir: str | None = None,
    verbose: bool = False,
    progress: bool = False,
    messages: TextIO | None = None,
    read_platforms: bool = False,
) -> tuple[RegistryAnswers, RegistrySummary]:
    """Resolve every image of `sites`; returns (the answers, what the check did)."""
    err = messages or sys.stderr
    refs = {str(s.reference): s.reference for s in sites if s.reference is not None}
    secrets = pod_credentials(sites, objects) if use_pull_secrets else None
    options = options_from(
        config,
        ca_file=ca_file,
        use_cache=use_cache,
        cache_dir=cache_dir,
        read_platforms=read_platforms,
    )
    with _verbose_logging(verbose, err):
        answers = resolve_all(
            list(refs.values()),
            options,
            pull_secrets=secrets,
            progress=_progress_line(err) if progress else None,
        )
    if progress:
        err.write("\r\033[K")
        err.flush()
    for warning in answers.stats.warnings:
        print(f"imglint: warning: {warning}", file=err)
    if options.read_created:
        _say_unknown_ages(answers, verbose, err)
    own: list[tuple[ImageSite, Resolution]] = []
    if secrets is not None:
        # each pod's answer for its own secrets: pods that use one image with different
        # secrets can get different answers
        for site in sites:
            if site.reference is None:
                continue
            creds = site_credentials(site, objects)
            asked = None if creds is None else tuple(creds)
            found = answers.per_credentials.get((str(site.reference), asked))
            if found is not None:
                own.append((site, found))
    return RegistryAnswers(answers, own), summary(answers)


def make_resolver(
    config: Config,
    *,
    ca_file: str | None = None,
    use_cache: bool = True,
    cache_dir: str | None = None,
    messages: TextIO | None = None,
) -> Callable[[list[Reference]], Mapping[str, Resolution]]:
    """For --pin: a function from tag references to their answers (no platform reads; every
    tag asked the registry, never the cache, and its manifest read so that the digest written
    is the digest of its bytes)."""
    options = options_from(config, ca_file=ca_file, use_cache=use_cache, cache_dir=cache_dir)
    options = records.replace(options, check_platforms=False, read_created=False, pinning=True)

    def resolve(refs: list[Reference]) -> Mapping[str, Resolution]:
        answers = resolve_all(refs, options)
        for warning in answers.stats.warnings:
            print(f"imglint: warning: {warning}", file=messages or sys.stderr)
        return answers

    return resolve


# -- output -------------------------------------------------------------------------------------


def summary(answers: Answers) -> RegistrySummary:
    """The registry check's numbers, for the summary line and JSON's `summary.registry`."""
    return answers.summary()


def _say_unknown_ages(answers: Answers, verbose: bool, err: TextIO) -> None:
    """Images whose build time is unknown are not judged by max-image-age: say how many (and,
    with -v, which and why), never count them as old or pass them silently."""
    unknown = answers.unknown_build_times()
    if not unknown:
        return
    count = f"{len(unknown)} image" + ("s" if len(unknown) > 1 else "")
    more = "" if verbose else " (-v says which)"
    print(
        f"imglint: note: max-image-age: the build time of {count} is unknown, so "
        f"{'they were' if len(unknown) > 1 else 'it was'} not checked{more}",
        file=err,
    )
    if verbose:
        for answer in sorted(unknown, key=lambda a: a.reference):
            why = answer.created_unknown or "it was not read"
            print(f"imglint: note: {answer.reference}: build time unknown: {why}", file=err)


def _progress_line(err: TextIO) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        err.write(f"\r\033[Kresolving images: {done}/{total}")
        err.flush()

    return show


@contextlib.contextmanager
def _verbose_logging(verbose: bool, err: TextIO) -> Iterator[None]:
    """With -v, registry requests are logged to stderr (methods, URLs, statuses; no secrets)."""
    if not verbose:
        yield
        return
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("imglint: registry: %(message)s"))
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
