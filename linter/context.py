"""What a rule may look at besides its image site: its settings, the object set, registry answers.

A rule reads everything through the `Context` it is given, never from the configuration:

    settings = ctx.settings_for(site)      # RuleSettings: patterns parsed, lists typed
    if settings.allowed_registries is not None and not matches_any(...): ...

`settings_for` is the seam for settings that vary by file or namespace (overrides): a run has
one `RuleSettings` today, built once from the configuration (`Config.rule_settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from imglint.records import dataclass, field

if TYPE_CHECKING:
    from imglint.manifests import ImageSite
    from imglint.patterns import RegistryPattern

# The platform every image must offer when the configuration names none (the registry check).
DEFAULT_PLATFORMS = ("linux/amd64",)

_T = TypeVar("_T")


@dataclass(frozen=True)
class PullSecret:
    """A `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg` Secret of the set."""

    name: str
    namespace: str | None
    type: str
    path: str
    line: int
    # registry keys exactly as written in the secret ("https://index.docker.io/v1/", "ghcr.io", ...)
    keys: tuple[str, ...] = ()
    # key -> (username, password); only used by --use-pull-secrets, never printed
    credentials: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    error: str | None = None  # the secret's data could not be decoded


@dataclass
class ObjectIndex:
    """ServiceAccounts and pull Secrets of the whole manifest set, by (namespace, name).

    A namespace of None means the manifest did not say (kubectl's -n decides at apply time).
    """

    service_accounts: dict[tuple[str | None, str], list[str]] = field(default_factory=dict)
    secrets: dict[tuple[str | None, str], PullSecret] = field(default_factory=dict)
    # names of all Secrets of any type, so a pull secret of the wrong type is still "known"
    other_secrets: dict[tuple[str | None, str], str] = field(default_factory=dict)

    def service_account(self, namespace: str | None, name: str) -> list[str] | None:
        return _lookup(self.service_accounts, namespace, name)

    def secret(self, namespace: str | None, name: str) -> PullSecret | None:
        return _lookup(self.secrets, namespace, name)

    def other_secret(self, namespace: str | None, name: str) -> str | None:
        """The type of a Secret of the set that is not a pull secret (None: no such Secret)."""
        return _lookup(self.other_secrets, namespace, name)


def _lookup(
    table: Mapping[tuple[str | None, str], _T], namespace: str | None, name: str
) -> _T | None:
    found = table.get((namespace, name))
    if found is None and namespace is not None:
        found = table.get((None, name))
    if found is None and namespace is None:
        # The pod does not name its namespace: any object of that name could be the one.
        for (_, other_name), value in table.items():
            if other_name == name:
                return value
    return found


@dataclass(frozen=True)
class RuleSettings:
    """The configuration as rules read it, built once per configuration (never per site)."""

    private_registries: tuple[RegistryPattern, ...] = ()
    allowed_registries: tuple[RegistryPattern, ...] | None = None  # None: no allow-list
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS  # every image must offer these (IMG106)


@dataclass
class Context:
    """Everything a rule's `check` may read. Rules never do I/O and never walk manifests."""

    objects: ObjectIndex = field(default_factory=ObjectIndex)
    settings: RuleSettings = field(default_factory=RuleSettings)
    # Registry answers from --resolve, keyed by the site's canonical reference string
    # (imglint.registry.Resolution values); empty when the registry check did not run.
    answers: Mapping[str, Any] = field(default_factory=dict)

    def settings_for(self, site: ImageSite) -> RuleSettings:
        """The settings that apply to `site`: one set per run today; per-file and per-namespace
        overrides choose here, so rules need not change when they come."""
        return self.settings
