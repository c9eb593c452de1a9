"""Configuration: `.imglint.yaml`, `[tool.imglint]` in pyproject.toml, or `--config FILE`.

Discovery is ruff's: each linted file gets the configuration nearest to it, walking up from its
folder to the filesystem root; in each folder `.imglint.yaml` wins over a `pyproject.toml` that
has a `[tool.imglint]` table, and a pyproject.toml without one is passed over. Configurations do
not merge, unless one says `extend: ../.imglint.yaml`. The run's own configuration (the one
nearest to the working folder, or `--config FILE`, which then applies to every file) gives the
run-wide settings (registry options, platforms, fail-on...). Every key is validated here, once,
into the typed `Config`; a bad file is a one-line `ConfigError` naming the file (and the line when
it is known). Each configuration file is read once per run (`NearestConfigs` keeps them by
folder).

Rule selection is layered like ruff's: the defaults, then the file's `select` (replaces),
`extend-select` (adds) and `ignore` (removes), then the command line's in the same order. So
`--select` starts over from exactly what it names, and `--extend-select X` re-enables a rule the
file ignores.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

import yaml

from imglint import image_fields, records, rules
from imglint.context import DEFAULT_PLATFORMS, ImageAgeLimit, RuleSettings
from imglint.errors import ConfigError, UsageError
from imglint.findings import Severity
from imglint.image_fields import ResourceSettings
from imglint.lazy_pattern import LazyPattern
from imglint.patterns import (
    BUILTIN_DENIED_REGISTRIES,
    DeniedRegistry,
    ImageGlobs,
    ImagePattern,
    RegistryPattern,
    TagPattern,
    denied_registry,
)
from imglint.records import dataclass, field
from imglint.sources import CONFIG_FILE

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from imglint.sites import ImageSite
    from imglint.sources import Exclusions

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PYPROJECT = "pyproject.toml"
ALL = "ALL"
_DENIED_REGISTRY = "IMG013"  # its findings say what `--fix` moves (moved_name)

_PLATFORM = LazyPattern(r"[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?")
_DURATION = LazyPattern(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_AGE = LazyPattern(r"0*(\d{1,6})\s*(h|d|w)", re.ASCII)
_AGE_UNITS = {"h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_PYPROJECT_TABLE = LazyPattern(r"^\s*\[\s*tool\s*\.\s*imglint\s*[\].]", re.MULTILINE)


def default_codes() -> frozenset[str]:
    return frozenset(r.code for r in rules.RULES if r.default_enabled)


@dataclass(frozen=True)
class SiteChoice:
    """What applies to one site when settings vary by file or namespace."""

    enabled: frozenset[str]
    severity: Mapping[str, Severity]
    settings: RuleSettings


def _path_matches(glob: str, path: str, folder: str | None) -> bool:
    """ruff's per-file-ignores globs: a glob without `/` matches the file name at any depth,
    one with `/` the path from the configuration's folder (`*` spans `/`)."""
    from imglint.sources import Exclusions

    return Exclusions((glob,), folder).match(path) is not None


@dataclass(frozen=True)
class FileIgnore:
    """A `per-file-ignores` entry: files matching `glob` do not run `codes`."""

    glob: str
    codes: frozenset[str]

    def matches(self, path: str, folder: str | None) -> bool:
        return _path_matches(self.glob, path, folder)


@dataclass(frozen=True)
class Override:
    """An `overrides` entry: for sites in its `files` and/or `namespaces`, a layer of rule
    selection and severities and replaced policy lists (RuleSettings fields)."""

    index: int
    files: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)  # RuleSettings field -> value
    keys: tuple[str, ...] = ()  # what it sets, as written, for --show-settings

    def matches_file(self, path: str, folder: str | None) -> bool:
        return not self.files or any(_path_matches(g, path, folder) for g in self.files)

    def applies(self, path: str, namespace: str, folder: str | None) -> bool:
        in_namespace = not self.namespaces or namespace in self.namespaces
        return in_namespace and self.matches_file(path, folder)

    def describe(self) -> str:
        scope = []
        if self.files:
            scope.append(f"files {list(self.files)}")
        if self.namespaces:
            scope.append(f"namespaces {list(self.namespaces)}")
        return f"overrides[{self.index}] ({', '.join(scope)}): sets {', '.join(self.keys)}"


@dataclass(frozen=True)
class ConfigFile:
    """One configuration file as read: where it is, its keys, and how to find a key's line."""

    path: str  # absolute
    shown: str  # as messages name it
    data: Mapping[str, Any] = field(compare=False, repr=False)
    # The text, to find a key's line again (only on an error path); kept rather than a closure
    # over it so that a configuration pickles (worker processes).
    text: str = field(compare=False, repr=False)
    toml: bool = field(compare=False, repr=False)
    config: Config = field(compare=False, repr=False)  # this file's keys alone, validated

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(map(str, self.data))

    def line_of(self, where: tuple[str | int, ...]) -> int | None:
        return _toml_line(self.text, where) if self.toml else _yaml_line(self.text, where)

    def where(self, key: str) -> str:
        line = self.line_of((key,))
        return f"{self.shown}:{line}" if line else self.shown


@dataclass(frozen=True)
class Config:
    """Validated settings. Build it with `load()`; `Config()` is the default configuration."""

    source: str | None = None  # the file it was read from, as displayed; None: defaults only
    enabled: frozenset[str] = field(default_factory=default_codes)  # rule codes to run
    severity: Mapping[str, Severity] = field(default_factory=dict)  # code -> override
    fail_on: Severity = Severity.ERROR
    # Patterns are parsed here, once: rules and the engine receive them typed.
    private_registries: tuple[RegistryPattern, ...] = ()
    allowed_registries: tuple[RegistryPattern, ...] | None = None  # None: no allow-list
    ignore_images: ImageGlobs = ImageGlobs()  # against written and normalized image
    allowed_images: tuple[ImagePattern, ...] | None = None  # None: no allow-list
    denied_tags: tuple[TagPattern, ...] = ()
    allowed_tags: tuple[TagPattern, ...] | None = None  # None: every tag allowed
    denied_registries: tuple[DeniedRegistry, ...] = BUILTIN_DENIED_REGISTRIES
    # Per-file and per-namespace settings (ruff's per-file-ignores; overrides), chosen per site.
    per_file_ignores: tuple[FileIgnore, ...] = ()
    overrides: tuple[Override, ...] = ()
    default_namespace: str = "default"  # where an object without metadata.namespace goes
    exclude: tuple[str, ...] = ()  # path globs, applied while collecting files
    force_exclude: bool = False  # exclude applies to paths named on the command line too
    # The absolute folder of the file read (exclude globs start there). Not compared: where a
    # file lies is not one of its settings.
    folder: str | None = field(default=None, compare=False)
    helm_values: tuple[str, ...] = ()  # path globs of Helm values files (beyond charts' own)
    # Registry check settings; None means "the registry check's own default".
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    insecure_registries: tuple[str, ...] = ()  # hosts reached over plain HTTP / unverified TLS
    mirrors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # registry -> mirrors
    # Image fields of custom kinds (`image-fields`) and Crossplane's default package registry.
    resources: ResourceSettings = field(default_factory=ResourceSettings)
    cache_ttl: float | None = None  # seconds
    # token realm hosts trusted although they resolve to a private or loopback address
    trusted_realm_hosts: tuple[str, ...] = ()
    max_image_age: ImageAgeLimit | None = None  # IMG108; None: no limit
    timeout: float | None = None  # seconds
    jobs: int | None = None
    # Processes reading the files (`workers`, --workers); None: one per core, for a large input.
    workers: int | None = None
    # Where it came from: the file read, then the files it extends (empty: no file). The folder
    # of a key written by an extended file, when not `folder` (its globs start there).
    chain: tuple[ConfigFile, ...] = field(default=(), compare=False, repr=False)
    key_folders: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # The command line's --select/--extend-select/--ignore, layered on every configuration.
    cli_selection: tuple[frozenset[str] | None, frozenset[str], frozenset[str]] | None = field(
        default=None, compare=False, repr=False
    )
    # The run's own configuration finds the nearest one of each linted file through this (None:
    # this configuration applies to every file: `--config`, a nested one, or a library caller).
    nearest: NearestConfigs | None = field(default=None, compare=False, repr=False)

    def with_overrides(
        self,
        *,
        select: Sequence[str] | None = None,
        extend_select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        fail_on: str | Severity | None = None,
        platforms: Sequence[str] | None = None,
        jobs: int | None = None,
        timeout: float | None = None,
        force_exclude: bool | None = None,
        workers: int | None = None,
    ) -> Config:
        """Apply command-line options on top of the file; raises UsageError for bad values."""
        changes: dict[str, Any] = {}
        try:
            if select is not None or extend_select or ignore:
                selection = (
                    None if select is None else _codes(select, "--select"),
                    _codes(extend_select or (), "--extend-select"),
                    _codes(ignore or (), "--ignore"),
                )
                changes["enabled"] = _layer(self.enabled, *selection)
                changes["cli_selection"] = selection
            if fail_on is not None:
                changes["fail_on"] = (
                    fail_on if isinstance(fail_on, Severity) else _severity(fail_on, "--fail-on")
                )
            if jobs is not None:
                changes["jobs"] = _jobs(jobs, "--jobs")
            if timeout is not None:
                changes["timeout"] = _seconds(timeout, "--timeout", allow_zero=False)
            if platforms is not None:
                changes["platforms"] = tuple(_platform(p, "--platform") for p in platforms)
            if force_exclude is not None:
                changes["force_exclude"] = force_exclude
            if workers is not None:
                changes["workers"] = _jobs(workers, "--workers")
        except _Invalid as exc:
            raise UsageError(exc.message) from None
        return records.replace(self, **changes)

    def severity_of(self, rule: rules.Rule) -> Severity:
        return self.severity.get(rule.code, rule.severity)

    def folder_for(self, key: str) -> str | None:
        """The folder `key`'s globs start from: that of the file that wrote it."""
        return self.key_folders.get(key, self.folder)

    def config_for(self, path: str) -> Config:
        """The configuration that applies to the file `path` (as its sites name it): the one
        nearest to it, else this one."""
        if self.nearest is None:
            return self
        return self.nearest.for_path(path) or self

    def configurations(self) -> list[Config]:
        """This configuration, then every other one found for a file of the run so far."""
        return [self] if self.nearest is None else [self, *self.nearest.found()]

    @property
    def varies(self) -> bool:
        """Whether settings, selection or severity may differ between sites."""
        if self.per_file_ignores or self.overrides:
            return True
        return self.nearest is not None and bool(self.nearest.found())

    def selected_anywhere(self) -> frozenset[str]:
        """The rules that run on some site: selected by a configuration of the run or by one
        of its overrides (each site then runs its own)."""
        enabled: set[str] = set()
        for config in self.configurations():
            enabled |= config.enabled
            for override in config.overrides:
                enabled |= override.extend_select | (override.select or frozenset())
        return frozenset(enabled)

    def limits_image_age(self) -> bool:
        """Whether some site has a `max-image-age` (a configuration's or an override's)."""
        return any(
            config.max_image_age is not None
            or any(o.settings.get("max_image_age") is not None for o in config.overrides)
            for config in self.configurations()
        )

    def choice_for(self, site: ImageSite) -> SiteChoice:
        """Selection, severities and rule settings for `site`: those of the configuration
        nearest to its file, then each of its overrides whose files and namespaces match the
        site (in order), then its per-file-ignores."""
        config = self.config_for(site.path)
        return config._choose(site.path, site.obj.namespace or config.default_namespace)

    def choice_for_file(self, path: str, namespace: str | None = None) -> SiteChoice:
        """What applies to objects of `path` in `namespace` (None: the default namespace)."""
        config = self.config_for(path)
        return config._choose(path, namespace or config.default_namespace)

    def settings_for(self, site: ImageSite) -> RuleSettings:
        config = self.config_for(site.path)
        if config.per_file_ignores or config.overrides:
            return config._choose(
                site.path, site.obj.namespace or config.default_namespace
            ).settings
        return config.rule_settings

    def settings_chooser(self) -> Callable[[ImageSite], RuleSettings]:
        """`settings_for`, remembered per file and namespace (for a run's Context)."""
        chosen: dict[tuple[str, str | None], RuleSettings] = {}

        def choose(site: ImageSite) -> RuleSettings:
            key = (site.path, site.obj.namespace)
            found = chosen.get(key)
            if found is None:
                found = chosen[key] = self.settings_for(site)
            return found

        return choose

    def describe_source(self) -> str:
        """The file read, and the files it extends, for `--show-settings`."""
        if self.source is None:
            return "none found (the defaults)"
        extended = [f.shown for f in self.chain[1:]]
        return self.source + (f" (extends {' -> '.join(extended)})" if extended else "")

    def keys_by_file(self) -> list[tuple[str, list[str]]]:
        """With `extend`: each file of the chain and the keys whose values come from it (the
        selection keys of every file count: they layer), for `--show-settings`."""
        taken: set[str] = set()
        out = []
        for file in self.chain:
            own = [
                k for k in file.keys if k != "extend" and (k in _SELECTION_KEYS or k not in taken)
            ]
            taken.update(file.keys)
            out.append((file.shown, own))
        return out

    def applying(self, path: str, namespace: str | None) -> list[str]:
        """Words for `--show-settings`: which overrides and per-file-ignores of the
        configuration nearest to `path` apply to it (for objects in `namespace`, or whatever
        namespace when None)."""
        config = self.config_for(path)
        lines = []
        overrides_folder = config.folder_for("overrides")
        for override in config.overrides:
            if override.matches_file(path, overrides_folder) and (
                namespace is None or not override.namespaces or namespace in override.namespaces
            ):
                lines.append(override.describe())
        ignores_folder = config.folder_for("per-file-ignores")
        for entry in config.per_file_ignores:
            if entry.matches(path, ignores_folder):
                codes = ", ".join(sorted(entry.codes))
                lines.append(f"per-file-ignores {entry.glob!r}: ignore {codes}")
        return lines

    def _choose(self, path: str, namespace: str) -> SiteChoice:
        enabled = self.enabled
        severity = dict(self.severity)
        changes: dict[str, Any] = {}
        overrides_folder = self.folder_for("overrides")
        for override in self.overrides:
            if not override.applies(path, namespace, overrides_folder):
                continue
            enabled = _layer(enabled, override.select, override.extend_select, override.ignore)
            severity.update(override.severity)
            changes.update(override.settings)
        ignores_folder = self.folder_for("per-file-ignores")
        for entry in self.per_file_ignores:
            if entry.matches(path, ignores_folder):
                enabled = enabled - entry.codes
        settings = records.replace(self.rule_settings, **changes) if changes else self.rule_settings
        return SiteChoice(enabled, severity, settings)

    def selects(self, site: ImageSite, code: str) -> bool:
        """Whether rule `code` runs at `site` (its file's configuration, overrides and
        per-file-ignores): `--fix` applies a rule's fix only where its finding is reported."""
        enabled = self.choice_for(site).enabled if self.varies else self.enabled
        return code in enabled

    def moved_name(self, site: ImageSite) -> str | None:
        """Where `site`'s repository is now, when a `denied-registries` entry names a
        replacement for its registry (what `--fix` rewrites it to); else None. Nothing moves
        where IMG013 is not selected (`ignore: [IMG013]` keeps k8s.gcr.io as written)."""
        ref = site.reference
        if ref is None or not self.selects(site, _DENIED_REGISTRY):
            return None
        entry = denied_registry(self.settings_for(site).denied_registries, ref)
        return None if entry is None else entry.moved_name(ref)

    def is_helm_values(self, path: str) -> bool:
        """Whether the `helm-values` globs of the configuration nearest to `path` select it."""
        config = self.config_for(path)
        if not config.helm_values:
            return False
        from imglint.sources import Exclusions

        return (
            Exclusions(config.helm_values, config.folder_for("helm-values")).match(path) is not None
        )

    def exclusions(self) -> Exclusions:
        """The `exclude` globs as a walk applies them: each folder's nearest configuration's."""
        from imglint.sources import Exclusions

        nearest = self.nearest
        return Exclusions(
            self.exclude,
            self.folder_for("exclude"),
            self.force_exclude,
            self.source,
            nearest=None if nearest is None else nearest.exclusions_for,
        )

    def with_discovery(self, cwd: str, stdin_name: str | None = None) -> Config:
        """This configuration (the run's own, found from `cwd`) with each linted file's
        nearest one applying to it (not for `--config`, which applies to every file)."""
        return records.replace(self, nearest=NearestConfigs(self, cwd, stdin_name))

    @property
    def rule_settings(self) -> RuleSettings:
        """What the rules read of this configuration (see `Context.settings_for`)."""
        return RuleSettings(
            private_registries=self.private_registries,
            allowed_registries=self.allowed_registries,
            platforms=self.platforms,
            allowed_images=self.allowed_images,
            denied_tags=self.denied_tags,
            allowed_tags=self.allowed_tags,
            denied_registries=self.denied_registries,
            max_image_age=self.max_image_age,
        )


def load(config_file: str | None, cwd: str) -> Config:
    """The run's own configuration: `config_file` if given, else the one discovered from `cwd`
    upward, else the defaults. (`Config.with_discovery` then finds each file's nearest one.)"""
    if config_file is not None:
        if not os.path.isfile(os.path.join(cwd, config_file)):
            raise ConfigError(f"{config_file}: no such configuration file")
        config = _load_chain(config_file, cwd, shown=config_file, required=True)
        assert config is not None  # required: a file without the table is an error
        return config
    found_path = discover(cwd)
    if found_path is None:
        return Config()
    return _load_chain(found_path, cwd) or Config()


def discover(start: str) -> str | None:
    """The nearest `.imglint.yaml`, or pyproject.toml with `[tool.imglint]`, at or above
    `start`; None when there is none up to the filesystem root."""
    folder = os.path.abspath(start)
    while True:
        found = _config_file_in(folder)
        if found is not None:
            return found
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _config_file_in(folder: str) -> str | None:
    """The configuration file of `folder` itself, if it has one."""
    candidate = os.path.join(folder, CONFIG_FILE)
    if os.path.isfile(candidate):
        return candidate
    candidate = os.path.join(folder, PYPROJECT)
    if os.path.isfile(candidate) and _mentions_imglint(candidate):
        return candidate
    return None


# What the configuration nearest to a file decides for its sites. Every other key is run-wide:
# it comes from the run's own configuration (the working folder's, or --config), and a nested
# configuration that writes one gets a notice.
PER_FILE_KEYS = frozenset(
    {
        "extend",
        "select",
        "extend-select",
        "ignore",
        "severity",
        "private-registries",
        "allowed-registries",
        "ignore-images",
        "allowed-images",
        "denied-tags",
        "allowed-tags",
        "denied-registries",
        "per-file-ignores",
        "overrides",
        "default-namespace",
        "exclude",
        "helm-values",
        "max-image-age",
    }
)
# The Config fields those keys set, and where they came from.
_PER_FILE_FIELDS = (
    "enabled",
    "severity",
    "private_registries",
    "allowed_registries",
    "ignore_images",
    "allowed_images",
    "denied_tags",
    "allowed_tags",
    "denied_registries",
    "per_file_ignores",
    "overrides",
    "default_namespace",
    "exclude",
    "helm_values",
    "max_image_age",
    "source",
    "folder",
    "chain",
    "key_folders",
)


# Folders whose nearest configuration is remembered at most (see NearestConfigs._by_folder).
_FOLDERS_REMEMBERED = 256
# What ends a path without naming a file in its folder.
_NOT_NAMES = ("", os.curdir, os.pardir)


class NearestConfigs:
    """For each linted file, the configuration nearest to it (ruff's hierarchical discovery),
    given the run's own `run`: per-file keys from the nearest file, run-wide ones from `run`,
    the command line's rule selection layered on each.

    Each configuration file is read once, however many files a run lints, and each folder is
    looked at about once (the last folders asked about are remembered, and a walk asks about a
    folder after its parent; the last linted path asked about is remembered, as a file's sites
    ask in a row: a dict of every path or folder would keep every one).
    """

    def __init__(self, run: Config, cwd: str, stdin_name: str | None = None) -> None:
        """`run`: the configuration `load` discovered from `cwd` (not a --config one)."""
        self._run = run
        self._cwd = cwd
        self._stdin_name = stdin_name
        self._own = frozenset(file.path for file in run.chain)
        # The folders looked at last (emptied when it holds _FOLDERS_REMEMBERED: a walk asks
        # about a folder after its parent, so a few are all it asks again; a dict of every
        # folder grew with the input)
        self._by_folder: dict[str, Config | None] = {}
        self._by_file: dict[str, Config | None] = {}  # None: the run's own configuration
        if run.chain:
            self._by_file[run.chain[0].path] = None
        # `load` walked up from the working folder to the run's file: those folders are known.
        self._known: dict[str, Config | None] = {}
        top = os.path.dirname(run.chain[0].path) if run.chain else None
        folder = os.path.abspath(cwd)
        while True:
            self._known[folder] = None
            parent = os.path.dirname(folder)
            if folder == top or parent == folder:
                break
            folder = parent
        self._last_path: tuple[str, Config | None] | None = None
        self._last_folder: tuple[str, Config | None] | None = None  # as a path writes it
        self._read: dict[str, ConfigFile] = {file.path: file for file in run.chain}
        self._found: list[Config] = []
        self._exclusions: dict[int, Exclusions] = {}
        self._noticed: set[str] = set()
        self.notices: list[str] = []  # run-wide keys in nested configurations

    def for_path(self, path: str) -> Config | None:
        """The configuration nearest to the file `path` (stdin: the `--stdin-filename` path,
        or the working folder's), or None when that is the run's own."""
        last = self._last_path
        if last is not None and last[0] == path:
            return last[1]
        found = None
        if path != "-":
            found = self._for_stdin(path) if path == self._stdin_name else self._for_file(path)
        self._last_path = (path, found)
        return found

    def _for_stdin(self, path: str) -> Config | None:
        absolute = os.path.abspath(os.path.join(self._cwd, path))
        # `helm template charts/shop | imglint --stdin-filename charts/shop -`: a folder
        if os.path.isdir(absolute):
            return self.for_folder(absolute)
        return self.for_folder(os.path.dirname(absolute))

    def _for_file(self, path: str) -> Config | None:
        # A walk finds a folder's files in a row: their folder, as written, is asked once.
        # (Unless the path ends in `.`, `..` or a separator: then it is not its folder.)
        written, name = os.path.split(path)
        last_folder = self._last_folder
        if last_folder is not None and last_folder[0] == written and name not in _NOT_NAMES:
            return last_folder[1]
        found = self.for_folder(os.path.dirname(os.path.abspath(os.path.join(self._cwd, path))))
        if name not in _NOT_NAMES:
            self._last_folder = (written, found)
        return found

    def for_folder(self, folder: str) -> Config | None:
        """The configuration nearest to the absolute `folder` (None: the run's own)."""
        walked: list[str] = []
        current = folder
        while True:
            if current in self._by_folder:
                found = self._by_folder[current]
                break
            if current in self._known:
                found = self._known[current]
                break
            walked.append(current)
            file = _config_file_in(current)
            if file is not None:
                found = self._config_in(file)
                break
            parent = os.path.dirname(current)
            if parent == current:
                found = None  # none up to the root: the run's own applies
                break
            current = parent
        if len(self._by_folder) + len(walked) > _FOLDERS_REMEMBERED:
            self._by_folder.clear()
        for each in walked:
            self._by_folder[each] = found
        return found

    def found(self) -> list[Config]:
        """The configurations other than the run's own that apply to some file so far."""
        return self._found

    def exclusions_for(self, folder: str) -> Exclusions | None:
        """The `exclude` of the configuration nearest to `folder` (None: the run's own)."""
        config = self.for_folder(folder)
        if config is None:
            return None
        found = self._exclusions.get(id(config))
        if found is None:
            from imglint.sources import Exclusions

            found = self._exclusions[id(config)] = Exclusions(
                config.exclude, config.folder_for("exclude"), self._run.force_exclude, config.source
            )
        return found

    def _config_in(self, file: str) -> Config | None:
        if file in self._by_file:
            return self._by_file[file]
        loaded = _load_chain(file, self._cwd, known=self._read)
        config = None
        if loaded is not None:
            run = self._run
            changes = {name: getattr(loaded, name) for name in _PER_FILE_FIELDS}
            if run.cli_selection is not None:
                changes["enabled"] = _layer(loaded.enabled, *run.cli_selection)
            config = records.replace(run, nearest=None, **changes)
            self._found.append(config)
            self._say_run_wide(loaded.chain)
        self._by_file[file] = config
        return config

    def _say_run_wide(self, chain: Sequence[ConfigFile]) -> None:
        """A notice per nested file that writes run-wide keys: they are not used here."""
        for file in chain:
            if file.path in self._own or file.path in self._noticed:
                continue
            self._noticed.add(file.path)
            keys = [key for key in file.keys if key not in PER_FILE_KEYS]
            if not keys:
                continue
            what = f"{keys[0]} is" if len(keys) == 1 else f"{', '.join(keys)} are"
            if file is chain[0]:
                folder = _display(os.path.dirname(file.path), self._cwd)
                when = f"when imglint runs in {folder}"
            else:  # a shared file that nested configurations extend
                when = "when the run's own configuration is or extends it"
            taken = self._run.source or "the defaults"
            self.notices.append(
                f"{file.shown}: {what} run-wide, used only {when} "
                f"(this run's run-wide settings: {taken})"
            )


def from_mapping(data: Mapping[str, Any], source: str | None = None) -> Config:
    """Validate an already-parsed configuration (keys as in the file); raises ConfigError."""
    if "extend" in data:
        raise ConfigError(f"{source or 'configuration'}: extend works in a configuration file")
    try:
        return _build(data, source)
    except _Invalid as exc:
        raise ConfigError(f"{source or 'configuration'}: {exc.message}") from None


# --- reading files -----------------------------------------------------------------------------


def _load_chain(
    path: str,
    cwd: str,
    *,
    shown: str | None = None,
    required: bool = False,
    known: dict[str, ConfigFile] | None = None,
) -> Config | None:
    """The configuration of the file `path` and of the files it extends, merged; None for a
    pyproject.toml without a [tool.imglint] table unless `required`.

    `extend: FILE` (relative to the extending file's folder) reads FILE first: the extending
    file's keys replace FILE's, except rule selection, which layers as ruff's does (FILE's
    select/extend-select/ignore, then the extending file's). Globs keep the folder of the file
    that wrote them. `known`: files already read this run, by absolute path (read once).
    """
    layers: list[ConfigFile] = []
    current = os.path.normpath(os.path.join(cwd, path))
    current_shown = shown or _display(current, cwd)
    while True:
        layer = None if known is None else known.get(current)
        if layer is None:
            layer = _read_layer(current, current_shown, required=required or bool(layers))
            if layer is None:
                return None
            if known is not None:
                known[current] = layer
        layers.append(layer)
        extend = layer.data.get("extend")
        if extend is None:
            break
        target = os.path.normpath(
            os.path.join(os.path.dirname(current), os.path.expanduser(str(extend).strip()))
        )
        if not os.path.isfile(target):
            raise ConfigError(f"{layer.where('extend')}: extend: no such file: {extend}")
        if any(target == seen.path for seen in layers):
            cycle = " -> ".join([*(seen.shown for seen in layers), _display(target, cwd)])
            raise ConfigError(f"{layer.where('extend')}: extend: a loop: {cycle}")
        current, current_shown = target, _display(target, cwd)
    return _merged(layers)


def _merged(layers: Sequence[ConfigFile]) -> Config:
    nearest = layers[0]
    folder = os.path.dirname(nearest.path)
    chain = tuple(layers)
    if len(layers) == 1:
        return records.replace(nearest.config, folder=folder, chain=chain)
    data: dict[str, Any] = {}
    folders: dict[str, str] = {}
    enabled = default_codes()
    for layer in reversed(layers):  # the extended file first
        get = layer.data.get
        enabled = _layer(
            enabled,
            None if get("select") is None else _rule_list(get("select"), "select"),
            _rule_list(get("extend-select", []), "extend-select"),
            _rule_list(get("ignore", []), "ignore"),
        )
        for key, value in layer.data.items():
            if key not in _SELECTION_KEYS and key != "extend":
                data[key] = value
                folders[key] = os.path.dirname(layer.path)
    try:  # each file was valid alone, and keys do not depend on each other
        config = _build(data, nearest.shown)
    except _Invalid as exc:  # pragma: no cover - defensive
        raise ConfigError(f"{nearest.shown}: {exc.message}") from None
    return records.replace(
        config,
        enabled=enabled,
        folder=folder,
        chain=chain,
        key_folders={key: where for key, where in folders.items() if where != folder},
    )


_SELECTION_KEYS = ("select", "extend-select", "ignore")


def _display(path: str, cwd: str) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path


def _read_text(path: str, shown: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None


def _read_layer(path: str, shown: str, *, required: bool) -> ConfigFile | None:
    if os.path.basename(path).endswith(".toml"):
        return _read_pyproject(path, shown, required=required)
    return _read_yaml(path, shown)


def _read_yaml(path: str, shown: str) -> ConfigFile:
    text = _read_text(path, shown)
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}" if mark else shown
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown}: invalid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{shown}: the configuration must be a mapping of keys to values")
    return _located(path, shown, data, text, toml=False)


def _located(
    path: str, shown: str, data: Mapping[str, Any], text: str, *, toml: bool
) -> ConfigFile:
    def line_of(where: tuple[str | int, ...]) -> int | None:
        return _toml_line(text, where) if toml else _yaml_line(text, where)

    return ConfigFile(path, shown, data, text, toml, _build_located(data, shown, line_of))


def _mentions_imglint(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return _PYPROJECT_TABLE.search(handle.read()) is not None
    except OSError:
        return False


def _toml_loads() -> Callable[[str], dict[str, Any]] | None:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads
    try:  # pragma: no cover - Python 3.10 only
        import tomli  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover
        return None
    return tomli.loads  # type: ignore[no-any-return,unused-ignore]  # pragma: no cover


def _read_pyproject(path: str, shown: str, *, required: bool) -> ConfigFile | None:
    text = _read_text(path, shown)
    loads = _toml_loads()
    if loads is None:  # Python 3.10 without tomli
        raise ConfigError(
            f"{shown}: reading [tool.imglint] on Python 3.10 needs the 'tomli' package "
            "(pip install tomli), or move the settings to .imglint.yaml"
        )
    try:
        document = loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None
    table = document.get("tool", {}).get("imglint") if isinstance(document, dict) else None
    if table is None:
        if required:
            raise ConfigError(f"{shown}: no [tool.imglint] table")
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{shown}: [tool.imglint] must be a table")
    return _located(path, shown, table, text, toml=True)


def _build_located(
    data: Mapping[str, Any], shown: str, line_of: Callable[[tuple[str | int, ...]], int | None]
) -> Config:
    """_build, with a bad value reported at its line in the file (found only on that path)."""
    try:
        return _build(data, shown)
    except _Invalid as exc:
        line = line_of(exc.where)
        where = f"{shown}:{line}" if line else shown
        raise ConfigError(f"{where}: {exc.message}") from None


def _yaml_line(text: str, where: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the key or item at `where`, found again with positions (only on the
    error path, so a valid configuration is parsed once)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:  # pragma: no cover - it was just parsed successfully
        return None
    line = None
    for step in where:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if key.value == step:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return line
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _toml_line(text: str, where: tuple[str | int, ...]) -> int | None:
    """Best effort: the first line inside [tool.imglint...] that assigns the top-level key."""
    if not where or not isinstance(where[0], str):
        return None
    key = re.escape(where[0])
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = _PYPROJECT_TABLE.match(line) is not None
            if inside and re.match(rf"\[\s*tool\s*\.\s*imglint\s*\.\s*\"?{key}\"?\s*\]", stripped):
                return number
        elif inside and re.match(rf"\"?{key}\"?\s*=", stripped):
            return number
    return None


# --- validation --------------------------------------------------------------------------------


class _Invalid(Exception):
    """A bad value; `where` is its key path, to find its line."""

    def __init__(self, message: str, where: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.where = where


if TYPE_CHECKING:
    _Value = Any  # a value read from the configuration, not checked yet


def _build(data: Mapping[str, Any], source: str | None) -> Config:
    for key in data:
        if not isinstance(key, str) or key not in _KEYS:
            import difflib  # only on this error path: it costs start-up time

            guess = difflib.get_close_matches(str(key).replace("_", "-"), _KEYS, n=1)
            hint = f' (did you mean "{guess[0]}"?)' if guess else ""
            raise _Invalid(f'unknown key "{key}"{hint}', (str(key),))
    get = data.get
    if "extend" in data and (not isinstance(data["extend"], str) or not data["extend"].strip()):
        raise _Invalid("extend must be the path of a configuration file", ("extend",))
    enabled = _layer(
        default_codes(),
        None if get("select") is None else _rule_list(get("select"), "select"),
        _rule_list(get("extend-select", []), "extend-select"),
        _rule_list(get("ignore", []), "ignore"),
    )
    allowed = get("allowed-registries")
    allowed_images = get("allowed-images")
    allowed_tags = get("allowed-tags")
    return Config(
        source=source,
        enabled=enabled,
        severity=_severities(get("severity", {})),
        fail_on=_severity(get("fail-on", "error"), "fail-on"),
        private_registries=_patterns(get("private-registries", []), "private-registries"),
        allowed_registries=None if allowed is None else _patterns(allowed, "allowed-registries"),
        ignore_images=ImageGlobs.compile(_strings(get("ignore-images", []), "ignore-images")),
        allowed_images=None if allowed_images is None else _image_patterns(allowed_images),
        denied_tags=_tag_patterns(get("denied-tags", []), "denied-tags"),
        allowed_tags=None if allowed_tags is None else _tag_patterns(allowed_tags, "allowed-tags"),
        denied_registries=_denied_registries(get("denied-registries", {})),
        per_file_ignores=_per_file_ignores(get("per-file-ignores", {})),
        overrides=_overrides(get("overrides", [])),
        default_namespace=_namespace(
            get("default-namespace", "default"), "default-namespace", ("default-namespace",)
        ),
        exclude=_strings(get("exclude", []), "exclude"),
        force_exclude=_flag(get("force-exclude", False), "force-exclude"),
        helm_values=_strings(get("helm-values", []), "helm-values"),
        platforms=tuple(
            _platform(p, "platforms", i)
            for i, p in enumerate(_strings(get("platforms", list(DEFAULT_PLATFORMS)), "platforms"))
        ),
        insecure_registries=_insecure(get("insecure-registries", [])),
        mirrors=_mirrors(get("mirrors", {})),
        cache_ttl=None if get("cache-ttl") is None else _seconds(get("cache-ttl"), "cache-ttl"),
        trusted_realm_hosts=_hosts(get("trusted-realm-hosts", []), "trusted-realm-hosts"),
        max_image_age=None
        if get("max-image-age") is None
        else _image_age(get("max-image-age"), "max-image-age"),
        timeout=None
        if get("timeout") is None
        else _seconds(get("timeout"), "timeout", allow_zero=False),
        jobs=None if get("jobs") is None else _jobs(get("jobs"), "jobs"),
        workers=None if get("workers") is None else _jobs(get("workers"), "workers"),
        resources=_resources(get("image-fields", []), get("crossplane-registry")),
    )


_KEYS = (
    "extend",
    "select",
    "extend-select",
    "ignore",
    "severity",
    "fail-on",
    "private-registries",
    "allowed-registries",
    "ignore-images",
    "allowed-images",
    "denied-tags",
    "allowed-tags",
    "denied-registries",
    "per-file-ignores",
    "overrides",
    "default-namespace",
    "exclude",
    "force-exclude",
    "helm-values",
    "platforms",
    "insecure-registries",
    "mirrors",
    "cache-ttl",
    "trusted-realm-hosts",
    "max-image-age",
    "timeout",
    "jobs",
    "workers",
    "image-fields",
    "crossplane-registry",
)


def _layer(
    base: frozenset[str],
    select: frozenset[str] | None,
    extend: frozenset[str],
    ignore: frozenset[str],
) -> frozenset[str]:
    enabled = base if select is None else select
    return (enabled | extend) - ignore


def _flag(value: _Value, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{key} must be true or false, not {value!r}", (key,))
    return value


def _strings(value: _Value, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise _Invalid(f"{key} must be a list of strings, not a single string", (key,))
    if not isinstance(value, list):
        raise _Invalid(f"{key} must be a list of strings", (key,))
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _Invalid(f"{key}[{index}] must be a non-empty string, not {item!r}", (key, index))
    return tuple(item.strip() for item in value)


def _rule_list(value: _Value, key: str) -> frozenset[str]:
    # A comma-separated string is accepted too, as on the command line.
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise _Invalid(f"{key} must be a list of rule codes or names", (key,))
    return _codes(items, key)


def _codes(items: Iterable[Any], key: str) -> frozenset[str]:
    codes: set[str] = set()
    for index, item in enumerate(items):
        text = item.strip() if isinstance(item, str) else None
        if not text:
            if isinstance(item, str):
                continue  # "IMG001,,IMG002" or a trailing comma
            raise _Invalid(f"{key}: {item!r} is not a rule code or name", (key, index))
        if text.upper() == ALL:
            codes.update(r.code for r in rules.RULES)
            continue
        rule = rules.lookup(text)
        if rule is None:
            raise _Invalid(f"{key}: unknown rule {text!r} (see imglint --list-rules)", (key, index))
        codes.add(rule.code)
    return frozenset(codes)


def _severity(value: _Value, key: str) -> Severity:
    if not isinstance(value, str):
        raise _Invalid(f"{key} must be error, warning or info, not {value!r}", (key,))
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise _Invalid(f"{key}: {exc}", (key,)) from None


def _severities(value: _Value) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise _Invalid(
            "severity must map rule codes or names to error, warning or info", ("severity",)
        )
    out: dict[str, Severity] = {}
    for name, level in value.items():
        rule = rules.lookup(name) if isinstance(name, str) else None
        if rule is None:
            raise _Invalid(
                f"severity: unknown rule {name!r} (see imglint --list-rules)",
                ("severity", str(name)),
            )
        if not isinstance(level, str):
            raise _Invalid(
                f"severity.{name} must be error, warning or info, not {level!r}", ("severity", name)
            )
        try:
            out[rule.code] = Severity.parse(level)
        except ValueError as exc:
            raise _Invalid(f"severity.{name}: {exc}", ("severity", name)) from None
    return out


def _patterns(
    value: _Value, key: str, where: tuple[str | int, ...] | None = None
) -> tuple[RegistryPattern, ...]:
    at = (key,) if where is None else where
    try:
        items = _strings(value, key)
    except _Invalid as exc:  # found again at its place in the file
        raise _Invalid(exc.message, (*at, *exc.where[1:])) from None
    patterns = []
    for index, item in enumerate(items):
        try:
            patterns.append(RegistryPattern.parse(item))
        except ValueError as exc:
            raise _Invalid(f"{key}[{index}]: {exc}", (*at, index)) from None
    return tuple(patterns)


def _image_patterns(value: _Value) -> tuple[ImagePattern, ...]:
    key = "allowed-images"
    patterns = []
    for index, item in enumerate(_strings(value, key)):
        try:
            patterns.append(ImagePattern.parse(item))
        except ValueError as exc:
            raise _Invalid(f"{key}[{index}]: {exc}", (key, index)) from None
    return tuple(patterns)


def _tag_patterns(value: _Value, key: str) -> tuple[TagPattern, ...]:
    """Items are a pattern, or `{pattern: P, registries: [host[/path], ...]}` to scope it."""
    if not isinstance(value, list):
        raise _Invalid(f"{key} must be a list of tag patterns", (key,))
    patterns = []
    for index, item in enumerate(value):
        where: tuple[str | int, ...] = (key, index)
        scope: tuple[RegistryPattern, ...] = ()
        if isinstance(item, dict):
            unknown = sorted(str(k) for k in item if k not in ("pattern", "registries"))
            if unknown or "pattern" not in item:
                raise _Invalid(
                    f"{key}[{index}] must be a pattern or a mapping with `pattern` and "
                    f"optionally `registries`" + (f", not {unknown[0]!r}" if unknown else ""),
                    where,
                )
            if "registries" in item:
                name = f"{key}[{index}].registries"
                scope = _patterns(item["registries"], name, (*where, "registries"))
                if not scope:
                    raise _Invalid(f"{name} is empty: leave it out to apply everywhere", where)
            text = item["pattern"]
            where = (*where, "pattern")
        else:
            text = item
        if not isinstance(text, str):
            raise _Invalid(f"{key}[{index}] must be a tag pattern, not {text!r}", where)
        try:
            patterns.append(TagPattern.parse(text, scope))
        except ValueError as exc:
            raise _Invalid(f"{key}[{index}]: {exc}", where) from None
    return tuple(patterns)


def _denied_registries(value: _Value) -> tuple[DeniedRegistry, ...]:
    """A mapping `registry: replacement-or-null`, or a list of registries and one-entry
    mappings; the built-in entries follow, except those for a registry the file names."""
    key = "denied-registries"
    pairs: list[tuple[Any, Any, tuple[str | int, ...]]] = []
    if isinstance(value, dict):
        pairs = [(registry, new, (key, str(registry))) for registry, new in value.items()]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict) and len(item) == 1:
                ((registry, new),) = item.items()
                pairs.append((registry, new, (key, index)))
            else:
                pairs.append((item, None, (key, index)))
    else:
        raise _Invalid(f"{key} must map registries to their replacement (or null)", (key,))
    entries = []
    for registry, new, where in pairs:
        if not isinstance(registry, str):
            raise _Invalid(f"{key}: {registry!r} is not a registry pattern", where)
        try:
            pattern = RegistryPattern.parse(registry)
        except ValueError as exc:
            raise _Invalid(f"{key}: {exc}", where) from None
        replacement = None
        if new is not None:
            if not isinstance(new, str):
                raise _Invalid(f"{key}.{registry}: {new!r} is not a registry", where)
            replacement = new.strip().rstrip("/")
            try:
                moved = RegistryPattern.parse(replacement)
            except ValueError as exc:
                raise _Invalid(f"{key}.{registry}: replacement {exc}", where) from None
            if any("*" in part or "?" in part for part in (pattern.text, moved.text)):
                raise _Invalid(
                    f"{key}.{registry}: a registry with a replacement cannot be a glob", where
                )
        entries.append(DeniedRegistry(pattern, replacement))
    named = {entry.pattern for entry in entries}
    return tuple(entries) + tuple(
        entry for entry in BUILTIN_DENIED_REGISTRIES if entry.pattern not in named
    )


def _per_file_ignores(value: _Value) -> tuple[FileIgnore, ...]:
    key = "per-file-ignores"
    if not isinstance(value, dict):
        raise _Invalid(f"{key} must map file globs to rule codes or names", (key,))
    entries = []
    for glob, codes in value.items():
        where = (key, str(glob))
        if not isinstance(glob, str) or not glob.strip():
            raise _Invalid(f"{key}: {glob!r} is not a file glob", where)
        items = codes.split(",") if isinstance(codes, str) else codes
        if not isinstance(items, list):
            raise _Invalid(f"{key}.{glob} must be a list of rule codes or names", where)
        try:
            entries.append(FileIgnore(glob.strip(), _codes(items, f"{key}.{glob}")))
        except _Invalid as exc:
            raise _Invalid(exc.message, where) from None
    return tuple(entries)


_NAMESPACE = LazyPattern(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# What an override may change besides selection and severity: the policy settings rules read.
_OVERRIDE_LISTS = (
    "private-registries",
    "allowed-registries",
    "allowed-images",
    "denied-tags",
    "allowed-tags",
    "denied-registries",
    "max-image-age",  # IMG108 reads its limit per site, as the lists
)
_OVERRIDE_KEYS = ("files", "namespaces", "select", "extend-select", "ignore", "severity")


def _namespace(value: _Value, key: str, where: tuple[str | int, ...]) -> str:
    if not isinstance(value, str) or not _NAMESPACE.fullmatch(value) or len(value) > 63:
        raise _Invalid(f"{key}: {value!r} is not a Kubernetes namespace name", where)
    return value


def _overrides(value: _Value) -> tuple[Override, ...]:
    key = "overrides"
    if not isinstance(value, list):
        raise _Invalid(f"{key} must be a list of {{files and/or namespaces, settings}}", (key,))
    out = []
    for index, item in enumerate(value):
        where: tuple[str | int, ...] = (key, index)
        name = f"{key}[{index}]"
        if not isinstance(item, dict):
            raise _Invalid(f"{name} must be a mapping", where)
        for option in item:
            if option not in _OVERRIDE_KEYS and option not in _OVERRIDE_LISTS:
                raise _Invalid(
                    f'{name}: unknown key "{option}" (an override takes '
                    f"{', '.join(_OVERRIDE_KEYS + _OVERRIDE_LISTS)})",
                    (*where, str(option)),
                )
        files = _strings(item["files"], f"{name}.files") if "files" in item else ()
        namespaces = tuple(
            _namespace(n, f"{name}.namespaces", (*where, "namespaces"))
            for n in (
                _strings(item["namespaces"], f"{name}.namespaces") if "namespaces" in item else ()
            )
        )
        if not files and not namespaces:
            raise _Invalid(f"{name} needs `files` and/or `namespaces`", where)
        try:
            get = item.get
            settings: dict[str, Any] = {}
            if "private-registries" in item:
                settings["private_registries"] = _patterns(
                    get("private-registries"), "private-registries"
                )
            if "allowed-registries" in item:
                allowed = get("allowed-registries")
                settings["allowed_registries"] = (
                    None if allowed is None else _patterns(allowed, "allowed-registries")
                )
            if "allowed-images" in item:
                images = get("allowed-images")
                settings["allowed_images"] = None if images is None else _image_patterns(images)
            if "denied-tags" in item:
                settings["denied_tags"] = _tag_patterns(get("denied-tags") or [], "denied-tags")
            if "allowed-tags" in item:
                tags = get("allowed-tags")
                settings["allowed_tags"] = (
                    None if tags is None else _tag_patterns(tags, "allowed-tags")
                )
            if "denied-registries" in item:
                settings["denied_registries"] = _denied_registries(get("denied-registries") or {})
            if "max-image-age" in item:
                age = get("max-image-age")
                limit = None if age is None else _image_age(age, "max-image-age")
                settings["max_image_age"] = limit
            override = Override(
                index=index,
                files=files,
                namespaces=namespaces,
                select=None if get("select") is None else _rule_list(get("select"), "select"),
                extend_select=_rule_list(get("extend-select", []), "extend-select"),
                ignore=_rule_list(get("ignore", []), "ignore"),
                severity=_severities(get("severity", {})),
                settings=settings,
                keys=tuple(str(k) for k in item if k not in ("files", "namespaces")),
            )
        except _Invalid as exc:
            raise _Invalid(f"{name}.{exc.message}", (*where, *exc.where)) from None
        out.append(override)
    return tuple(out)


def _insecure(value: _Value) -> tuple[str, ...]:
    """Hosts (`host[:port]`) and, as Docker's daemon allows, IP ranges (`10.0.0.0/8`)."""
    key = "insecure-registries"
    items = _strings(value, key)
    for index, item in enumerate(items):
        if "/" in item and "://" not in item:
            import ipaddress

            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise _Invalid(
                    f"{key}[{index}]: {item!r} is not an IP range", (key, index)
                ) from None
        elif "://" in item or any(c.isspace() for c in item):
            raise _Invalid(f"{key}[{index}]: {item!r} is not a registry host[:port]", (key, index))
    return items


def _hosts(value: _Value, key: str) -> tuple[str, ...]:
    """Host names (`auth.internal`, optionally with a port, which is ignored), lowercase."""
    items = _strings(value, key)
    for index, item in enumerate(items):
        if not item.strip() or "/" in item or any(c.isspace() for c in item.strip()):
            raise _Invalid(f"{key}[{index}]: {item!r} is not a host name", (key, index))
    return tuple(item.strip().lower() for item in items)


def _mirrors(value: _Value) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _Invalid("mirrors must map a registry host to a list of mirrors", ("mirrors",))
    out: dict[str, tuple[str, ...]] = {}
    for registry, mirrors in value.items():
        if not isinstance(registry, str) or not registry.strip() or "/" in registry:
            raise _Invalid(
                f"mirrors: {registry!r} is not a registry host", ("mirrors", str(registry))
            )
        listed = [mirrors] if isinstance(mirrors, str) else mirrors
        items = _strings(listed, f"mirrors.{registry}") if isinstance(listed, list) else None
        if not items:
            raise _Invalid(
                f"mirrors.{registry} must be a list of mirror hosts", ("mirrors", registry)
            )
        for item in items:
            if "://" in item or any(c.isspace() for c in item):
                raise _Invalid(
                    f"mirrors.{registry}: {item!r} is not a registry host[:port][/path]",
                    ("mirrors", registry),
                )
        out[registry.strip().lower()] = items
    return out


def _platform(value: _Value, key: str, index: int | None = None) -> str:
    where: tuple[str | int, ...] = (key,) if index is None else (key, index)
    if not isinstance(value, str) or not _PLATFORM.fullmatch(value.strip()):
        raise _Invalid(
            f"{key}: {value!r} is not a platform like linux/amd64 or linux/arm64/v8", where
        )
    return value.strip()


def _seconds(value: _Value, key: str, *, allow_zero: bool = True) -> float:
    """A number of seconds, or a duration with a unit: 500ms, 30s, 10m, 12h, 7d."""
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int of 400 digits: no number of seconds
            seconds = None
    elif isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if (
        seconds is None
        or not math.isfinite(seconds)  # `--timeout nan` and `inf` are no deadline
        or seconds < 0
        or (seconds == 0 and not allow_zero)
    ):
        lowest = "0" if allow_zero else "more than 0"
        raise _Invalid(
            f"{key} must be seconds ({lowest}) or a duration like 30s, 10m, 12h, not {value!r}",
            (key,),
        )
    return seconds


def _resources(fields: _Value, crossplane: _Value) -> ResourceSettings:
    parsed = image_fields.parse_entries(fields)
    if isinstance(parsed, image_fields.EntryError):
        if parsed.index is None:
            raise _Invalid(parsed.reason, ("image-fields",))
        where: tuple[str | int, ...] = ("image-fields", parsed.index)
        if parsed.key is not None:
            where += (parsed.key,)
        raise _Invalid(f"image-fields[{parsed.index}]: {parsed.reason}", where)
    registry = image_fields.CROSSPLANE_REGISTRY
    if crossplane is not None:
        try:
            registry = image_fields.check_registry(crossplane)
        except image_fields.InvalidField as exc:
            raise _Invalid(f"crossplane-registry: {exc}", ("crossplane-registry",)) from None
    return ResourceSettings(image_fields=parsed, crossplane_registry=registry)


def _image_age(value: _Value, key: str) -> ImageAgeLimit:
    """A whole number of hours, days or weeks: 36h, 180d, 26w (no bare numbers: seconds or
    days would both be guesses)."""
    match = _AGE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise _Invalid(
            f"{key} must be a duration of hours, days or weeks like 36h, 180d or 26w, "
            f"not {value!r}",
            (key,),
        )
    count, unit = int(match.group(1)), match.group(2)
    return ImageAgeLimit(count * _AGE_UNITS[unit], f"{count}{unit}")


def _jobs(value: _Value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(f"{key} must be a whole number of at least 1, not {value!r}", (key,))
    return value
