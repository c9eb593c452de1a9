"""Configuration: discovery, every key, the error messages, and command-line overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imglint.config import Config, discover, from_mapping, load
from imglint.errors import ConfigError, UsageError
from imglint.findings import Severity
from imglint.patterns import ImageGlobs, registry_patterns

DEFAULTS = frozenset({"IMG001", "IMG002", "IMG003", "IMG004", "IMG006", "IMG007", "IMG008"})


def offline(codes: frozenset[str]) -> frozenset[str]:
    """The offline part of a rule set (registry rules come and go with their engineer)."""
    return frozenset(c for c in codes if c <= "IMG010")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, name: str = ".imglint.yaml") -> str:
    write(tmp_path / name, text)
    with pytest.raises(ConfigError) as info:
        load(None, str(tmp_path))
    return str(info.value)


# --- defaults and discovery --------------------------------------------------------------------


def test_defaults() -> None:
    config = Config()
    assert config.source is None
    assert offline(config.enabled) == DEFAULTS
    assert config.fail_on is Severity.ERROR
    assert config.allowed_registries is None
    assert config.private_registries == ()
    assert config.platforms == ("linux/amd64",)
    assert (config.cache_ttl, config.timeout, config.jobs) == (None, None, None)


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    assert load(None, str(tmp_path)) == Config()


def test_discovered_upward_and_nearest_wins(tmp_path: Path) -> None:
    write(tmp_path / ".imglint.yaml", "fail-on: warning\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    config = load(None, str(deep))
    assert config.fail_on is Severity.WARNING
    assert config.source == "../../.imglint.yaml"
    write(tmp_path / "a" / ".imglint.yaml", "fail-on: info\n")
    assert load(None, str(deep)).fail_on is Severity.INFO


def test_pyproject_with_table_is_found(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.imglint]\nfail-on = "info"\n'
    )
    config = load(None, str(tmp_path))
    assert (config.fail_on, config.source) == (Severity.INFO, "pyproject.toml")


def test_pyproject_subtable_counts(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.imglint.severity]\nIMG004 = "error"\n')
    assert load(None, str(tmp_path)).severity == {"IMG004": Severity.ERROR}


def test_pyproject_without_table_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / ".imglint.yaml", "fail-on: warning\n")
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "imglint-user"\n')
    assert discover(str(tmp_path / "sub")) == str(tmp_path / ".imglint.yaml")
    assert load(None, str(tmp_path / "sub")).fail_on is Severity.WARNING


def test_yaml_beats_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.imglint]\nfail-on = "info"\n')
    write(tmp_path / ".imglint.yaml", "fail-on: warning\n")
    assert load(None, str(tmp_path)).fail_on is Severity.WARNING


def test_explicit_config_file(tmp_path: Path) -> None:
    write(tmp_path / ".imglint.yaml", "fail-on: warning\n")
    chosen = write(tmp_path / "ci" / "lint.yaml", "fail-on: info\n")
    config = load(str(chosen), str(tmp_path))
    assert (config.fail_on, config.source) == (Severity.INFO, str(chosen))
    toml = write(tmp_path / "ci" / "imglint.toml", '[tool.imglint]\nignore = ["IMG004"]\n')
    assert "IMG004" not in load(str(toml), str(tmp_path)).enabled


def test_explicit_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(str(tmp_path / "nope.yaml"), str(tmp_path))
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such configuration file"
    toml = write(tmp_path / "other.toml", "[tool.black]\nline-length = 100\n")
    with pytest.raises(ConfigError) as info:
        load(str(toml), str(tmp_path))
    assert str(info.value) == f"{toml}: no [tool.imglint] table"


def test_empty_file_is_the_defaults(tmp_path: Path) -> None:
    write(tmp_path / ".imglint.yaml", "# nothing yet\n")
    assert load(None, str(tmp_path)) == Config(source=".imglint.yaml")


# --- every key ---------------------------------------------------------------------------------

FULL = """\
select: [IMG001, latest-tag, IMG003, IMG004, IMG005]
extend-select: [docker-hub-anonymous]
ignore: [IMG004]
severity:
  IMG003: warning
  unpinned-image: info
fail-on: warning
private-registries: [registry.example.com, "*.corp.example", docker.io/acme]
allowed-registries: [docker.io, ghcr.io/acme, "registry.local:5000"]
ignore-images: ["registry.example.com/sandbox/*", nginx]
exclude: [charts/, "*.tpl.yaml"]
platforms: [linux/amd64, linux/arm64/v8]
insecure-registries: ["registry.local:5000"]
mirrors:
  docker.io: [mirror.gcr.io, registry.example.com/dockerhub]
  Quay.io: quay-mirror.example.com
cache-ttl: 12h
timeout: 30
jobs: 16
"""


def test_every_key(tmp_path: Path) -> None:
    write(tmp_path / ".imglint.yaml", FULL)
    config = load(None, str(tmp_path))
    assert config == Config(
        source=".imglint.yaml",
        enabled=frozenset({"IMG001", "IMG002", "IMG003", "IMG005", "IMG009"}),
        severity={"IMG003": Severity.WARNING, "IMG005": Severity.INFO},
        fail_on=Severity.WARNING,
        private_registries=registry_patterns(
            ("registry.example.com", "*.corp.example", "docker.io/acme")
        ),
        allowed_registries=registry_patterns(("docker.io", "ghcr.io/acme", "registry.local:5000")),
        ignore_images=ImageGlobs.compile(("registry.example.com/sandbox/*", "nginx")),
        exclude=("charts/", "*.tpl.yaml"),
        platforms=("linux/amd64", "linux/arm64/v8"),
        insecure_registries=("registry.local:5000",),
        mirrors={
            "docker.io": ("mirror.gcr.io", "registry.example.com/dockerhub"),
            "quay.io": ("quay-mirror.example.com",),
        },
        cache_ttl=43200.0,
        timeout=30.0,
        jobs=16,
    )


def test_pyproject_same_keys(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        "[tool.imglint]\n"
        'extend-select = ["ALL"]\n'
        'ignore = ["implicit-registry"]\n'
        'allowed-registries = ["ghcr.io"]\n'
        'cache-ttl = "90m"\n'
        "[tool.imglint.severity]\n"
        'IMG002 = "warning"\n',
    )
    config = load(None, str(tmp_path))
    assert "IMG004" not in config.enabled and {"IMG005", "IMG009", "IMG010"} <= config.enabled
    assert config.allowed_registries == registry_patterns(("ghcr.io",))
    assert config.cache_ttl == 5400.0
    assert config.severity == {"IMG002": Severity.WARNING}


def test_rule_lists_accept_a_comma_separated_string() -> None:
    config = from_mapping({"select": "IMG001, latest-tag,", "extend-select": "IMG005"})
    assert config.enabled == {"IMG001", "IMG002", "IMG005"}


def test_select_all_then_ignore() -> None:
    config = from_mapping({"select": ["ALL"], "ignore": ["IMG005", "IMG009"]})
    assert {"IMG005", "IMG009"}.isdisjoint(config.enabled)
    assert {"IMG001", "IMG010"} <= config.enabled


def test_empty_allow_list_allows_nothing() -> None:
    assert from_mapping({"allowed-registries": []}).allowed_registries == ()
    assert from_mapping({"allowed-registries": None}).allowed_registries is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (90, 90.0),
        (1.5, 1.5),
        ("500ms", 0.5),
        ("45s", 45.0),
        ("10m", 600.0),
        ("2d", 172800.0),
    ],
)
def test_durations(value: object, seconds: float) -> None:
    assert from_mapping({"cache-ttl": value}).cache_ttl == seconds


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fail_on: warning\n", '.imglint.yaml:1: unknown key "fail_on" (did you mean "fail-on"?)'),
        ("select: [IMG001]\nbogus: 1\n", '.imglint.yaml:2: unknown key "bogus"'),
        (
            "select:\n  - IMG001\n  - IMG999\n",
            ".imglint.yaml:3: select: unknown rule 'IMG999' (see imglint --list-rules)",
        ),
        (
            "ignore: [latest-tags]\n",
            ".imglint.yaml:1: ignore: unknown rule 'latest-tags' (see imglint --list-rules)",
        ),
        ("select: 5\n", ".imglint.yaml:1: select must be a list of rule codes or names"),
        (
            "fail-on: fatal\n",
            ".imglint.yaml:1: fail-on: unknown severity 'fatal' (choose from info, warning, error)",
        ),
        (
            "fail-on: [error]\n",
            ".imglint.yaml:1: fail-on must be error, warning or info, not ['error']",
        ),
        (
            "severity:\n  IMG002: warning\n  IMG404: info\n",
            ".imglint.yaml:3: severity: unknown rule 'IMG404' (see imglint --list-rules)",
        ),
        (
            "severity:\n  IMG002: loud\n",
            ".imglint.yaml:2: severity.IMG002: unknown severity 'loud' (choose "
            "from info, warning, error)",
        ),
        (
            "severity: [IMG002]\n",
            ".imglint.yaml:1: severity must map rule codes or names to error, warning or info",
        ),
        (
            "private-registries: ghcr.io\n",
            ".imglint.yaml:1: private-registries must be a list of strings, not a single string",
        ),
        (
            "allowed-registries:\n  - ghcr.io\n  - https://quay.io\n",
            ".imglint.yaml:3: allowed-registries[1]: 'https://quay.io': write a "
            "registry host, not a URL",
        ),
        (
            "ignore-images: [nginx, 3]\n",
            ".imglint.yaml:1: ignore-images[1] must be a non-empty string, not 3",
        ),
        ("exclude: {a: b}\n", ".imglint.yaml:1: exclude must be a list of strings"),
        (
            "platforms: [linux/amd64, amd64]\n",
            ".imglint.yaml:1: platforms: 'amd64' is not a platform like "
            "linux/amd64 or linux/arm64/v8",
        ),
        (
            "insecure-registries: [http://registry.local]\n",
            ".imglint.yaml:1: insecure-registries[0]: 'http://registry.local' is "
            "not a registry host[:port]",
        ),
        (
            "insecure-registries: [10.0.0.0/33]\n",
            ".imglint.yaml:1: insecure-registries[0]: '10.0.0.0/33' is not an IP range",
        ),
        (
            "trusted-realm-hosts: ['https://auth.internal/token']\n",
            ".imglint.yaml:1: trusted-realm-hosts[0]: 'https://auth.internal/token' is not a "
            "host name",
        ),
        (
            "mirrors: [mirror.gcr.io]\n",
            ".imglint.yaml:1: mirrors must map a registry host to a list of mirrors",
        ),
        (
            "mirrors:\n  docker.io: []\n",
            ".imglint.yaml:2: mirrors.docker.io must be a list of mirror hosts",
        ),
        (
            "cache-ttl: forever\n",
            ".imglint.yaml:1: cache-ttl must be seconds (0) or a duration like "
            "30s, 10m, 12h, not 'forever'",
        ),
        (
            "timeout: 0\n",
            ".imglint.yaml:1: timeout must be seconds (more than 0) or a duration "
            "like 30s, 10m, 12h, not 0",
        ),
        ("jobs: 0\n", ".imglint.yaml:1: jobs must be a whole number of at least 1, not 0"),
        ("jobs: true\n", ".imglint.yaml:1: jobs must be a whole number of at least 1, not True"),
        (
            "workers: 0\n",
            ".imglint.yaml:1: workers must be a whole number of at least 1, not 0",
        ),
        ("- select\n", ".imglint.yaml: the configuration must be a mapping of keys to values"),
        (
            "select: [IMG001\nfail-on: x\n",
            ".imglint.yaml:2: invalid YAML: did not find expected ',' or ']'",
        ),
    ],
)
def test_yaml_errors(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[tool.imglint]\nselect = ["IMG001"]\nfail_on = "info"\n',
            'pyproject.toml:3: unknown key "fail_on" (did you mean "fail-on"?)',
        ),
        (
            '[tool.imglint]\njobs = 2\n\n[tool.imglint.severity]\nIMG002 = "huge"\n',
            "pyproject.toml:4: severity.IMG002: unknown severity 'huge' (choose "
            "from info, warning, error)",
        ),
        ("[tool.imglint]\nselect = [\n", "pyproject.toml: invalid TOML: "),
    ],
)
def test_pyproject_errors(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text, "pyproject.toml").startswith(message)


def test_tool_imglint_must_be_a_table(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.toml", "[tool]\nimglint = 3\n")
    with pytest.raises(ConfigError) as info:
        load(str(path), str(tmp_path))
    assert str(info.value) == f"{path}: [tool.imglint] must be a table"


def test_from_mapping_error_names_the_source() -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping({"jobs": -1}, "inline")
    assert str(info.value) == "inline: jobs must be a whole number of at least 1, not -1"


# --- command-line overrides --------------------------------------------------------------------


def test_select_replaces_the_file_selection() -> None:
    file = from_mapping({"extend-select": ["IMG005"], "ignore": ["IMG004"]})
    assert file.with_overrides(select=["IMG004", "missing-tag"]).enabled == {"IMG003", "IMG004"}


def test_extend_select_adds_even_what_the_file_ignores() -> None:
    file = from_mapping({"ignore": ["IMG004"]})
    config = file.with_overrides(extend_select=["implicit-registry", "IMG010"])
    assert offline(config.enabled) == DEFAULTS | {"IMG010"}


def test_ignore_removes_after_selecting() -> None:
    config = Config().with_overrides(select=["ALL"], ignore=["IMG005"], extend_select=["IMG005"])
    assert "IMG005" not in config.enabled and "IMG010" in config.enabled


def test_no_overrides_change_nothing() -> None:
    file = from_mapping({"fail-on": "warning", "ignore": ["IMG004"]})
    assert file.with_overrides(select=None, extend_select=None, ignore=None, fail_on=None) == file


def test_fail_on_and_registry_overrides() -> None:
    config = Config().with_overrides(fail_on="info", platforms=["linux/arm64"], jobs=4, timeout=9)
    assert (config.fail_on, config.platforms, config.jobs, config.timeout) == (
        Severity.INFO,
        ("linux/arm64",),
        4,
        9.0,
    )
    assert Config().with_overrides(fail_on=Severity.WARNING).fail_on is Severity.WARNING


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"select": ["IMG404"]}, "--select: unknown rule 'IMG404' (see imglint --list-rules)"),
        ({"ignore": ["nope"]}, "--ignore: unknown rule 'nope' (see imglint --list-rules)"),
        (
            {"fail_on": "never"},
            "--fail-on: unknown severity 'never' (choose from info, warning, error)",
        ),
        (
            {"platforms": ["arm64"]},
            "--platform: 'arm64' is not a platform like linux/amd64 or linux/arm64/v8",
        ),
        ({"jobs": 0}, "--jobs must be a whole number of at least 1, not 0"),
    ],
)
def test_override_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as info:
        Config().with_overrides(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_the_documented_examples_are_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    yaml_example = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    toml_example = re.search(r"```toml\n(.*?)```", doc, re.DOTALL)
    assert yaml_example and toml_example
    write(tmp_path / "a" / ".imglint.yaml", yaml_example.group(1))
    assert load(None, str(tmp_path / "a")).allowed_registries is not None
    write(tmp_path / "b" / "pyproject.toml", toml_example.group(1))
    assert load(None, str(tmp_path / "b")).severity == {"IMG003": Severity.WARNING}


def test_python_310_without_tomli_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import imglint.config

    monkeypatch.setattr(imglint.config, "_toml_loads", lambda: None)
    write(tmp_path / "pyproject.toml", '[tool.imglint]\nfail-on = "info"\n')
    with pytest.raises(ConfigError) as info:
        load(None, str(tmp_path))
    assert str(info.value) == (
        "pyproject.toml: reading [tool.imglint] on Python 3.10 needs the 'tomli' package "
        "(pip install tomli), or move the settings to .imglint.yaml"
    )
    # A pyproject.toml without the table is never parsed, so it needs no TOML reader.
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert load(None, str(tmp_path)) == Config()


def test_insecure_registries_take_ip_ranges() -> None:
    config = from_mapping(
        {"insecure-registries": ["registry.local:5000", "10.0.0.0/8", "fd00::/8"]}
    )
    assert config.insecure_registries == ("registry.local:5000", "10.0.0.0/8", "fd00::/8")


def test_workers_from_the_file_and_the_command_line() -> None:
    assert from_mapping({"workers": 3}).workers == 3
    assert from_mapping({"workers": 3}).with_overrides(workers=1).workers == 1
    assert Config().workers is None  # one per core, for an input large enough
    with pytest.raises(UsageError, match="--workers must be a whole number of at least 1"):
        Config().with_overrides(workers=0)
