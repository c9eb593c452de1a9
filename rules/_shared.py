"""Helpers several rules share: what the set says of a pull secret, display pieces. Private to
the rule catalogue (a pod's pull secrets are `ObjectIndex.pod_secrets`, registry patterns
`imglint.patterns`)."""

from __future__ import annotations

from collections.abc import Iterable

from imglint.context import PULL_SECRET_TYPES, Context, PullSecret
from imglint.records import dataclass
from imglint.sites import ImageSite


@dataclass(frozen=True)
class SecretState:
    """What the manifest set says about one named pull secret."""

    name: str
    secret: PullSecret | None  # a usable dockerconfigjson/dockercfg Secret of the set
    other_type: str | None  # the Secret is in the set with a type the kubelet ignores

    @property
    def known(self) -> bool:
        """Whether we know every registry key this secret gives the kubelet."""
        if self.secret is not None:
            return self.secret.error is None
        return self.other_type is not None

    @property
    def keys(self) -> tuple[str, ...]:
        if self.secret is None or self.secret.error is not None:
            return ()
        return self.secret.keys


def secret_state(name: str, site: ImageSite, ctx: Context) -> SecretState:
    namespace = site.obj.namespace
    secret = ctx.objects.secret(namespace, name)
    other = None if secret is not None else ctx.objects.other_secret(namespace, name)
    if other in PULL_SECRET_TYPES:
        other = None  # a pull secret the loader could not index: unknown, not ignored
    return SecretState(name, secret, other)


def unusable_secrets(names: Iterable[str], site: ImageSite, ctx: Context) -> list[tuple[str, str]]:
    """The named pull Secrets that are in the set but broken (IMG011), with why."""
    found: list[tuple[str, str]] = []
    for name in names:
        secret = secret_state(name, site, ctx).secret
        if secret is not None and secret.error is not None:
            found.append((name, secret.error))
    return found


def reasons_text(unusable: Iterable[tuple[str, str]]) -> str:
    return "; ".join(f'"{name}": {error}' for name, error in unusable)


def quoted_list(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
