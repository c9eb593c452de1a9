"""The chart a values file belongs to, read from disk: Chart.yaml's appVersion, the templates
(what they say about image values), subcharts and their values, and a parent chart's values.

A values file belongs to the chart of the nearest folder at or above it that holds a Chart.yaml
(stopping at a repository root). What cannot be read is left out (the model then says "cannot be
told"), and said in `problems`.
"""

from __future__ import annotations

import os

import yaml
from yaml.nodes import Node

from imglint.findings import InputError
from imglint.helm_templates import read_templates
from imglint.helm_values import ChartFacts, Layer
from imglint.records import dataclass, field

CHART_FILE = "Chart.yaml"
VALUES_FILE = "values.yaml"
MAX_VALUES_BYTES = 16 * 1024 * 1024
# Folders above a values file searched for its Chart.yaml (overlays sit in `env/` and the like).
MAX_LEVELS_UP = 3


@dataclass
class ChartRead:
    facts: ChartFacts | None  # None: no chart at or above the file
    problems: list[InputError] = field(default_factory=list)


def chart_dir_of(values_path: str) -> str | None:
    folder = os.path.dirname(os.path.abspath(values_path))
    for _ in range(MAX_LEVELS_UP + 1):
        if os.path.isfile(os.path.join(folder, CHART_FILE)):
            return folder
        if os.path.isdir(os.path.join(folder, ".git")):
            return None
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


class ChartReader:
    """Reads charts once per run (many values files share one chart)."""

    def __init__(self) -> None:
        self._charts: dict[str, tuple[ChartFacts, list[InputError]]] = {}
        self._values: dict[str, Node | None] = {}

    def for_values_file(self, values_path: str, display_path: str) -> ChartRead:
        chart_dir = chart_dir_of(values_path)
        if chart_dir is None:
            return ChartRead(None)
        base, problems = self._chart(chart_dir)
        facts = ChartFacts(
            chart_dir=base.chart_dir,
            app_version=base.app_version,
            templates=base.templates,
            subcharts=base.subcharts,
            subchart_values=base.subchart_values,
        )
        own_values = os.path.join(chart_dir, VALUES_FILE)
        is_own = os.path.exists(own_values) and _same_file(own_values, values_path)
        if not is_own:
            root = self._read_values(own_values, problems)
            if root is not None:
                facts.defaults = [Layer(_display(display_path, own_values), root)]
        if is_own:
            facts.parent_values = self._parent_values(
                chart_dir, display_path, values_path, problems
            )
        return ChartRead(facts, list(problems))

    def chart(self, chart_dir: str) -> tuple[ChartFacts, list[InputError]]:
        """The chart at chart_dir (its Chart.yaml, templates, subcharts), read once."""
        return self._chart(os.path.abspath(chart_dir))

    def values(self, path: str, problems: list[InputError]) -> Node | None:
        """A values file composed (None: empty or unreadable, said in problems)."""
        return self._read_values(path, problems)

    def _chart(self, chart_dir: str) -> tuple[ChartFacts, list[InputError]]:
        cached = self._charts.get(chart_dir)
        if cached is not None:
            return cached
        problems: list[InputError] = []
        meta = _read_chart_yaml(os.path.join(chart_dir, CHART_FILE), problems)
        facts = ChartFacts(
            chart_dir=chart_dir,
            app_version=_text(meta.get("appVersion")),
            templates=read_templates(chart_dir),
        )
        for key, sub_dir in _subcharts(chart_dir, meta).items():
            sub_meta = _read_chart_yaml(os.path.join(sub_dir, CHART_FILE), problems)
            facts.subcharts[key] = ChartFacts(
                chart_dir=sub_dir,
                app_version=_text(sub_meta.get("appVersion")),
                templates=read_templates(sub_dir),
            )
            values_path = os.path.join(sub_dir, VALUES_FILE)
            root = self._read_values(values_path, problems)
            if root is not None:
                facts.subchart_values[key] = Layer(os.path.relpath(values_path), root, (key,))
        self._charts[chart_dir] = (facts, problems)
        return facts, problems

    def _parent_values(
        self, chart_dir: str, display_path: str, values_path: str, problems: list[InputError]
    ) -> Layer | None:
        """For a subchart's own values.yaml: the parent chart's values, under the subchart's key."""
        charts_folder = os.path.dirname(chart_dir)
        if os.path.basename(charts_folder) != "charts":
            return None
        parent_dir = os.path.dirname(charts_folder)
        if not os.path.isfile(os.path.join(parent_dir, CHART_FILE)):
            return None
        parent_meta = _read_chart_yaml(os.path.join(parent_dir, CHART_FILE), problems)
        key = next(
            (k for k, d in _subcharts(parent_dir, parent_meta).items() if _same_file(d, chart_dir)),
            None,
        )
        if key is None:
            return None
        parent_values = os.path.join(parent_dir, VALUES_FILE)
        root = self._read_values(parent_values, problems)
        if root is None:
            return None
        return Layer(_display(display_path, parent_values), root, (key,))

    def _read_values(self, path: str, problems: list[InputError]) -> Node | None:
        if path in self._values:
            return self._values[path]
        root: Node | None = None
        if os.path.isfile(path):
            try:
                if os.path.getsize(path) > MAX_VALUES_BYTES:
                    raise ValueError("too large")
                with open(path, encoding="utf-8-sig") as handle:
                    root = yaml.compose(handle.read(), Loader=_Loader)
            except (OSError, ValueError, yaml.YAMLError, RecursionError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                problems.append(InputError(os.path.relpath(path), f"not read: {reason}"))
                root = None
        self._values[path] = root
        return root


try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def compose_text(text: str) -> tuple[Node | None, str | None]:
    """One YAML document as nodes, or the reason it is not one (first line of the error)."""
    try:
        return yaml.compose(text, Loader=_Loader), None
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, reason


def _read_chart_yaml(path: str, problems: list[InputError]) -> dict[str, object]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            data = yaml.load(handle.read(), Loader=_Loader)
    except (OSError, ValueError, yaml.YAMLError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problems.append(InputError(os.path.relpath(path), f"not read: {reason}"))
        return {}
    return data if isinstance(data, dict) else {}


def _subcharts(chart_dir: str, meta: dict[str, object]) -> dict[str, str]:
    """Unpacked subcharts (`charts/NAME/` with a Chart.yaml) by the values key they take: the
    dependency's `alias` when Chart.yaml gives one, else the subchart's name."""
    folder = os.path.join(chart_dir, "charts")
    if not os.path.isdir(folder):
        return {}
    aliases: dict[str, str] = {}
    dependencies = meta.get("dependencies")
    if isinstance(dependencies, list):
        for dependency in dependencies:
            if isinstance(dependency, dict):
                name, alias = _text(dependency.get("name")), _text(dependency.get("alias"))
                if name and alias:
                    aliases[name] = alias
    found: dict[str, str] = {}
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return {}
    for entry in entries:
        sub_dir = os.path.join(folder, entry)
        chart_file = os.path.join(sub_dir, CHART_FILE)
        if not os.path.isfile(chart_file):
            continue
        name = _text(_read_chart_yaml(chart_file, []).get("name")) or entry
        found[aliases.get(name, name)] = sub_dir
    return found


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _display(display_path: str, other: str) -> str:
    """`other` shown the way the user named the values file (relative stays relative)."""
    return os.path.abspath(other) if os.path.isabs(display_path) else os.path.relpath(other)
