"""What a rule may look at besides its image site: its settings, the object set, registry answers.

A rule reads everything through the `Context` it is given, never from the configuration:

    settings = ctx.settings_for(site)      # RuleSettings: patterns parsed, lists typed
    if settings.allowed_registries is not None and not matches_any(...): ...
    result = ctx.answer_for(site)          # Resolution | None: typed, one lookup per site

`settings_for` gives the settings that apply to a site: the configuration's `RuleSettings`
(`Config.rule_settings`), or, with `overrides`, the ones chosen for the site's file and
namespace (`Config.settings_for`, cached per file and namespace).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from imglint.records import dataclass, field

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    from imglint.findings import Span
    from imglint.patterns import DeniedRegistry, ImagePattern, RegistryPattern, TagPattern
    from imglint.registry import Resolution
    from imglint.sites import ImageSite, K8sObject

    _T = TypeVar("_T")

# The platform every image must offer when the configuration names none (the registry check).
DEFAULT_PLATFORMS = ("linux/amd64",)
# The Secret types the kubelet reads pull credentials from (others are ignored for pulls).
PULL_SECRET_TYPES = ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")


@dataclass(frozen=True, slots=True)
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
    error: str | None = None  # why the kubelet cannot use it (IMG011), in a few words
    problem: Span | None = None  # where that is: the offending value, else the Secret's type
    obj: K8sObject | None = field(default=None, repr=False, compare=False)
    # The file's lines, for suppression comments (shared with the file's image sites).
    source_lines: list[str] = field(default_factory=list, repr=False, compare=False)


@dataclass(frozen=True)
class PodSecrets:
    """The pull secrets the kubelet will use for a site's pod, as far as the manifest set tells.

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
        return self._lookup("service_accounts", self.service_accounts, namespace, name)

    def secret(self, namespace: str | None, name: str) -> PullSecret | None:
        return self._lookup("secrets", self.secrets, namespace, name)

    def other_secret(self, namespace: str | None, name: str) -> str | None:
        """The type of a Secret of the set that is not a pull secret (None: no such Secret)."""
        return self._lookup("other_secrets", self.other_secrets, namespace, name)

    def _lookup(
        self,
        table_name: str,
        table: Mapping[tuple[str | None, str], _T],
        namespace: str | None,
        name: str,
    ) -> _T | None:
        found = table.get((namespace, name))
        if found is None and namespace is not None:
            found = table.get((None, name))
        if found is None and namespace is None:
            # The pod does not name its namespace: any object of that name could be the one
            # (the first of the set).
            first = self._first_keys(table_name, table).get(name)
            if first is not None:
                return table[first]
        return found

    def _first_keys(
        self, table_name: str, table: Mapping[tuple[str | None, str], object]
    ) -> dict[str, tuple[str | None, str]]:
        """Each name's first key in the table: looked up by name, not found by a walk through
        every key for every pod (sites times objects: quadratic in the input's size). Made
        again when keys were added (no key is ever removed); not a field of the record."""
        made: dict[str, tuple[int, dict[str, tuple[str | None, str]]]]
        made = self.__dict__.setdefault("_first_keys_by_table", {})
        known = made.get(table_name)
        if known is None or known[0] != len(table):
            first: dict[str, tuple[str | None, str]] = {}
            for key in table:
                first.setdefault(key[1], key)
            known = made[table_name] = (len(table), first)
        return known[1]

    def pod_secrets(self, site: ImageSite) -> PodSecrets:
        """The names of the pull secrets `site`'s image is pulled with: the one home of the
        admission rule, for the pull-secret rules and for --use-pull-secrets alike."""
        holder = site.holder
        if not holder.known:
            return PodSecrets((), None, False)
        if holder.image_pull_secrets or not holder.service_account_applies:
            return PodSecrets(tuple(holder.image_pull_secrets), None, True)
        account = holder.service_account or "default"
        listed = self.service_account(site.obj.namespace, account)
        if listed is None:
            return PodSecrets((), account, False)
        return PodSecrets(tuple(listed), account, True)


@dataclass(frozen=True)
class ImageAgeLimit:
    """`max-image-age`: how long ago an image may have been built (IMG108)."""

    seconds: float
    text: str  # as configured ("180d"), for messages


@dataclass(frozen=True)
class RuleSettings:
    """The configuration as rules read it, built once per configuration (never per site)."""

    private_registries: tuple[RegistryPattern, ...] = ()
    allowed_registries: tuple[RegistryPattern, ...] | None = None  # None: no allow-list
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS  # every image must offer these (IMG106)
    # An image passes the allow-lists when an entry of either allows it (None: no such list).
    allowed_images: tuple[ImagePattern, ...] | None = None
    denied_tags: tuple[TagPattern, ...] = ()  # IMG012
    allowed_tags: tuple[TagPattern, ...] | None = None  # IMG012; None: every tag allowed
    # IMG013: the configuration's entries, then the built-in ones it does not replace
    denied_registries: tuple[DeniedRegistry, ...] = ()
    max_image_age: ImageAgeLimit | None = None  # None: no limit (IMG108 reports nothing)


@dataclass
class Context:
    """Everything a rule's `check` may read. Rules never do I/O and never walk manifests."""

    objects: ObjectIndex = field(default_factory=ObjectIndex)
    settings: RuleSettings = field(default_factory=RuleSettings)
    answers: RegistryAnswers | None = None  # None: the registry check did not run
    # Per-file and per-namespace settings (the configuration's overrides); None: `settings`.
    chooser: Callable[[ImageSite], RuleSettings] | None = None

    def settings_for(self, site: ImageSite) -> RuleSettings:
        """The settings that apply to `site`: the configuration's, or what its `overrides`
        choose for the site's file and namespace."""
        return self.settings if self.chooser is None else self.chooser(site)

    def answer_for(self, site: ImageSite) -> Resolution | None:
        """The registry's answer for `site` (None: not asked, or an invalid reference)."""
        return None if self.answers is None else self.answers.for_site(site)


class RegistryAnswers(Mapping[str, "Resolution"]):
    """The registry check's answers for a run: a mapping of canonical reference to its answer,
    and, where pods using one image pull it with different secrets (--use-pull-secrets), each
    site's answer for its own secrets, which `for_site` gives first.
    """

    def __init__(
        self,
        by_reference: Mapping[str, Resolution],
        by_site: Iterable[tuple[ImageSite, Resolution]] = (),
    ) -> None:
        self._by_reference = dict(by_reference)
        # Keyed by identity: sites are mutable records; the site is kept to make that safe.
        self._by_site = {id(site): (site, answer) for site, answer in by_site}

    def for_site(self, site: ImageSite) -> Resolution | None:
        if site.reference is None:
            return None
        own = self._by_site.get(id(site))
        if own is not None and own[0] is site:
            return own[1]
        return self._by_reference.get(str(site.reference))

    def __getitem__(self, reference: str) -> Resolution:
        return self._by_reference[reference]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_reference)

    def __len__(self) -> int:
        return len(self._by_reference)
