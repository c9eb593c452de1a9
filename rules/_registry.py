"""Helpers the registry rules (IMG101-IMG107) share: the answer for a site, display pieces."""

from __future__ import annotations

from imglint.context import Context
from imglint.registry.model import Resolution
from imglint.sites import ImageSite


def answer(site: ImageSite, ctx: Context) -> Resolution | None:
    """The registry's answer for the site (None: not asked, or an invalid reference).

    With --use-pull-secrets the answer for the pod's own secrets comes first: pods that use one
    image with different secrets can get different answers.
    """
    if site.reference is None or not ctx.answers:
        return None
    # Imported here: it pulls in the credential machinery (subprocess, pathlib), which a run
    # without --resolve never needs, and every run imports the rule modules.
    from imglint.registry.pods import answer_key

    key = answer_key(site, ctx.objects)
    found = ctx.answers.get(key) if key is not None else None
    if found is None:
        found = ctx.answers.get(str(site.reference))
    return found if isinstance(found, Resolution) else None


def short(digest: str | None) -> str:
    """`sha256:0123456789ab` (12 hex digits), enough to tell digests apart in a message."""
    if not digest:
        return "?"
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}:{encoded[:12]}"


def with_detail(message: str, result: Resolution) -> str:
    return f"{message} ({result.detail})" if result.detail else message
