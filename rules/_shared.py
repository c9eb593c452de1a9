"""Helpers several rules share: the pod's pull secrets, display pieces. Private to the rule
catalogue (registry patterns are `imglint.patterns`, parsed by the configuration)."""

from __future__ import annotations

from collections.abc import Iterable

from imglint.context import Context, PullSecret
from imglint.records import dataclass
from imglint.sites import ImageSite

PULL_SECRET_TYPES = frozenset({"kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"})


@dataclass(frozen=True)
class PodSecrets:
    """The pull secrets the kubelet will use for a pod, as far as the manifest set tells.

    The ServiceAccount admission plugin copies the ServiceAccount's imagePullSecrets into a pod
    only when the pod lists none (never merged), and the ServiceAccount is `default` when unset.
    """

    names: tuple[str, ...]
    service_account: str | None  # set when the names come from (or would come from) the SA
    # False: the pod lists none and its ServiceAccount is not in the manifest set, or the file
    # does not say which pod pulls the image (service_account is then None)
    known: bool

    def describe(self) -> str:
        if self.service_account is None:
            return "the pod's imagePullSecrets"
        return f'ServiceAccount "{self.service_account}"'


def pod_secrets(site: ImageSite, ctx: Context) -> PodSecrets:
    holder = site.holder
    if not holder.known:
        return PodSecrets((), None, False)
    if holder.image_pull_secrets or not holder.service_account_applies:
        return PodSecrets(tuple(holder.image_pull_secrets), None, True)
    account = holder.service_account or "default"
    listed = ctx.objects.service_account(site.obj.namespace, account)
    if listed is None:
        return PodSecrets((), account, False)
    return PodSecrets(tuple(listed), account, True)


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


def quoted_list(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
