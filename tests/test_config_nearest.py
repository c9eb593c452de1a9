"""The configuration nearest to each linted file (issue 16), ruff's hierarchical discovery: on a
monorepo where the platform team's root configuration, team A's (which extends it) and team B's
(standalone) each apply to their own folders (tests/fixtures/monorepo-nearest); `extend:`
chains, loops and missing files; run-wide keys in a nested configuration; `--config`; stdin;
each configuration read once per run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from imglint import config as config_module
from imglint.config import PER_FILE_KEYS, load
from imglint.errors import ConfigError
from tests.cli_runner import run
from tests.regserver import RegistryServer
from tests.regserver.content import build_image

MONOREPO = Path(__file__).parent / "fixtures" / "monorepo-nearest"

APPS_WEB = [
    'apps/web.yaml:9:18: IMG012 [error] image "ghcr.io/acme/web:nightly" uses the tag "nightly", '
    'denied by denied-tags entry "nightly" (Deployment apps/web, container web)',
    'apps/web.yaml:11:18: IMG008 [error] image "quay.io/acme/proxy:1.2" comes from registry '
    '"quay.io", which is not in allowed-registries (Deployment apps/web, container proxy)',
]
TEAM_A = [
    'team-a/api.yaml:9:18: IMG005 [warning] image "ghcr.io/team-a/api:1.4" is not pinned by '
    "digest (Deployment team-a/api, container api)",
    'team-a/api.yaml:11:18: IMG005 [warning] image "ghcr.io/acme/cache:edge" is not pinned by '
    "digest (Deployment team-a/api, container cache)",
    'team-a/api.yaml:11:18: IMG008 [error] image "ghcr.io/acme/cache:edge" comes from registry '
    '"ghcr.io", which is not in allowed-registries (Deployment team-a/api, container cache)',
    'team-a/api.yaml:11:18: IMG012 [error] image "ghcr.io/acme/cache:edge" uses the tag "edge", '
    'denied by denied-tags entry "edge" (Deployment team-a/api, container cache)',
    'team-a/legacy/old.yaml:9:18: IMG005 [warning] image "ghcr.io/team-a/old:nightly" is not '
    "pinned by digest (Deployment team-a/old, container old)",
]
TEAM_B = [
    'team-b/worker.yaml:9:18: IMG012 [error] image "quay.io/team-b/worker:2.0-SNAPSHOT" uses the '
    'tag "2.0-SNAPSHOT", denied by denied-tags entry "*-SNAPSHOT" (Deployment team-b/worker, '
    "container worker)",
]
TEAM_B_JOBS = (
    "note: team-b/.imglint.yaml: jobs is run-wide, used only when imglint runs in team-b "
    "(this run's run-wide settings: .imglint.yaml)"
)


def test_each_team_folder_gets_its_nearest_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ruff's nearest configuration (and kube-linter #183's ask for per-path policy): apps/
    has the root's policy; team A's extends it (adds unpinned-image, replaces
    allowed-registries, keeps denied-tags and the root's per-file-ignores for team-a/legacy,
    whose glob is relative to the root); team B's stands alone (no allow-list, its own
    denied-tags, no implicit-registry: `busybox:nightly` passes there). Each folder's exclude
    applies to the walk below it (scratch/ by the root's, team-b/generated/ by team B's), and
    team B's `jobs`, a run-wide key, is said not to apply."""
    monkeypatch.chdir(MONOREPO)
    code, out, err = run(["."], capsys)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        *APPS_WEB,
        *TEAM_A,
        *TEAM_B,
        TEAM_B_JOBS,
        "8 findings (5 errors, 3 warnings) in 4 files, 7 images",
    ]


def test_run_from_a_team_folder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The working folder's configuration is the run's own (team A's, with the root's it
    extends); a folder named outside it still gets its nearest one (team B's)."""
    monkeypatch.chdir(MONOREPO / "team-a")
    code, out, _ = run([".", "../team-b"], capsys)
    assert code == 1
    assert out.splitlines() == [
        *(line.replace("team-b/worker.yaml", "../team-b/worker.yaml") for line in TEAM_B),
        *(
            line.replace("team-a/api.yaml:", "api.yaml:").replace("team-a/legacy", "legacy")
            for line in TEAM_A
        ),
        "note: ../team-b/.imglint.yaml: jobs is run-wide, used only when imglint runs in "
        "../team-b (this run's run-wide settings: .imglint.yaml)",
        "6 findings (3 errors, 3 warnings) in 3 files, 5 images",
    ]


def test_config_forces_one_configuration_for_every_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--config` (ruff's too) applies to all files: team B's policy everywhere, its exclude
    relative to its own folder (scratch/ is read now), and no notice (its jobs is used)."""
    monkeypatch.chdir(MONOREPO)
    code, out, _ = run(["--config", "team-b/.imglint.yaml", "."], capsys)
    assert code == 1
    assert out.splitlines() == [
        'scratch/try.yaml:7:14: IMG002 [error] image "busybox:latest" uses the tag "latest", '
        "which moves: pin a version tag or a digest (Pod try, container try)",
        *TEAM_B,
        "2 findings (2 errors) in 5 files, 8 images",
    ]


def test_stdin_takes_the_configuration_of_its_stdin_filename(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--stdin-filename team-a/api.yaml` lints stdin as that file (team A's configuration,
    as ruff does); stdin without a name gets the working folder's (the root's)."""
    monkeypatch.chdir(MONOREPO)
    text = (MONOREPO / "team-a" / "api.yaml").read_text()
    code, out, _ = run(["--stdin-filename", "team-a/api.yaml", "-"], capsys, stdin=text)
    assert code == 1
    assert out.splitlines()[:-1] == TEAM_A[:4]
    code, out, _ = run(["-"], capsys, stdin=text)
    assert out.splitlines()[:-1] == [
        '-:9:18: IMG008 [error] image "ghcr.io/team-a/api:1.4" comes from registry "ghcr.io", '
        "which is not in allowed-registries (Deployment team-a/api, container api)",
        '-:11:18: IMG012 [error] image "ghcr.io/acme/cache:edge" uses the tag "edge", denied by '
        'denied-tags entry "edge" (Deployment team-a/api, container cache)',
    ]


def test_a_named_file_in_a_nested_excluded_folder_is_not_read_with_force_exclude(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit names every file: team B's `exclude: [generated]` keeps its hook away from
    team-b/generated/, and the note names team B's configuration."""
    monkeypatch.chdir(MONOREPO)
    code, out, _ = run(["--force-exclude", "team-b/generated/out.yaml"], capsys)
    assert code == 0
    assert (
        "note: team-b/generated: excluded by `exclude: generated` in team-b/.imglint.yaml "
        "(force-exclude); not read"
    ) in out.splitlines()


def test_show_settings_names_the_nearest_configuration_and_its_chain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(MONOREPO)
    code, out, _ = run(["--show-settings", "team-a/legacy/old.yaml"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:7] == [
        "team-a/legacy/old.yaml:",
        "  configuration: team-a/.imglint.yaml (extends .imglint.yaml)",
        "    from team-a/.imglint.yaml: extend-select, allowed-registries",
        "    from .imglint.yaml: denied-tags, exclude, per-file-ignores",  # not timeout: run-wide
        "  run-wide settings: .imglint.yaml",
        "  default-namespace: default",
        "  per-file-ignores 'team-a/legacy/*': ignore IMG012",
    ]
    assert "IMG005" in lines[7] and "IMG012" not in lines[7]
    code, out, _ = run(["--show-settings", "team-b/worker.yaml"], capsys)
    assert out.splitlines()[1:3] == [
        "  configuration: team-b/.imglint.yaml",
        "  run-wide settings: .imglint.yaml",
    ]
    assert out.splitlines()[-1] == "  " + TEAM_B_JOBS
    code, out, _ = run(["--show-settings", "apps/web.yaml"], capsys)
    assert out.splitlines()[1:3] == [
        "  configuration: .imglint.yaml",
        "  default-namespace: default",
    ]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: %s}]\n"
)


def test_extend_chains_replace_keys_and_layer_selection(tmp_path: Path) -> None:
    """ruff's `extend`: the extending file's keys replace the extended file's, whole (a list
    or a mapping is not merged), while select/extend-select/ignore layer in order; a chain of
    three; globs keep the folder of the file that wrote them."""
    write(
        tmp_path / "base" / "common.yaml",
        "select: [IMG001, IMG002, IMG003]\nseverity: {IMG002: warning}\n"
        "allowed-registries: [ghcr.io/base]\nexclude: [vendor]\n",
    )
    write(
        tmp_path / "team" / ".imglint.yaml",
        "extend: ../base/common.yaml\nextend-select: [IMG005]\n"
        "allowed-registries: [ghcr.io/team]\n",
    )
    write(
        tmp_path / "team" / "app" / ".imglint.yaml", "extend: ../.imglint.yaml\nignore: [IMG003]\n"
    )
    config = load(None, str(tmp_path / "team" / "app"))
    assert config.enabled == frozenset({"IMG001", "IMG002", "IMG005"})
    assert [p.text for p in config.allowed_registries or ()] == ["ghcr.io/team"]
    assert config.severity["IMG002"].label == "warning"
    assert (
        config.describe_source()
        == ".imglint.yaml (extends ../.imglint.yaml -> ../../base/common.yaml)"
    )
    assert config.folder == str(tmp_path / "team" / "app")
    assert config.folder_for("exclude") == str(tmp_path / "base")
    assert config.folder_for("allowed-registries") == str(tmp_path / "team")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {
                "a/.imglint.yaml": "ignore: [IMG004]\nextend: ../b/.imglint.yaml\n",
                "b/.imglint.yaml": "\nextend: ../a/.imglint.yaml\n",
            },
            "b/.imglint.yaml:2: extend: a loop: a/.imglint.yaml -> b/.imglint.yaml -> "
            "a/.imglint.yaml",
        ),
        ({"a/.imglint.yaml": "extend: .imglint.yaml\n"}, "a/.imglint.yaml:1: extend: a loop"),
        (
            {"a/.imglint.yaml": "ignore: [IMG004]\nextend: ../nope.yaml\n"},
            "a/.imglint.yaml:2: extend: no such file: ../nope.yaml",
        ),
        (
            {"a/.imglint.yaml": "extend: ../base.yaml\n", "base.yaml": "jobs: none\n"},
            "base.yaml:1: jobs must be a whole number",
        ),
        (
            {"a/.imglint.yaml": "extend: ../pyproject.toml\n", "pyproject.toml": "[tool.x]\n"},
            "pyproject.toml: no [tool.imglint] table",
        ),
    ],
    ids=["loop", "itself", "missing", "bad-extended-file", "pyproject-without-table"],
)
def test_extend_problems_are_one_line_configuration_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    message: str,
) -> None:
    """Each stops the run with exit 2 and one line naming the file and line of the problem."""
    for name, text in files.items():
        write(tmp_path / name, text)
    write(tmp_path / "a" / "pod.yaml", POD % "nginx:1.27")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["."], capsys)
    assert (code, out) == (2, "")
    assert err == f"imglint: error: {message}" + err[len("imglint: error: ") + len(message) :]
    assert err.count("\n") == 1
    with pytest.raises(ConfigError, match=r"extend|jobs|table"):
        load(None, str(tmp_path / "a"))


def test_extend_in_pyproject(tmp_path: Path) -> None:
    """`[tool.imglint] extend = "../pyproject.toml"` reads that file's table."""
    write(tmp_path / "pyproject.toml", '[tool.imglint]\nignore = ["IMG004"]\n')
    write(tmp_path / "svc" / "pyproject.toml", '[tool.imglint]\nextend = "../pyproject.toml"\n')
    config = load(None, str(tmp_path / "svc"))
    assert "IMG004" not in config.enabled
    assert config.describe_source() == "pyproject.toml (extends ../pyproject.toml)"


def test_run_wide_keys_are_named_and_every_key_is_classified() -> None:
    """A nested configuration's per-file keys apply to its files; the others are the run's."""
    run_wide = set(config_module._KEYS) - PER_FILE_KEYS
    assert {"jobs", "timeout", "platforms", "fail-on", "mirrors", "image-fields"} <= run_wide
    assert {"select", "allowed-registries", "exclude", "max-image-age", "extend"} <= PER_FILE_KEYS
    assert set(config_module._KEYS) >= PER_FILE_KEYS


def test_each_configuration_is_read_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run over many files in nested folders reads each configuration file once, and looks
    for a configuration in each folder once (counted, not timed)."""
    write(tmp_path / ".imglint.yaml", "denied-tags: [nightly]\n")
    write(tmp_path / "team" / ".imglint.yaml", "extend: ../.imglint.yaml\nignore: [IMG004]\n")
    for team in ("team", "other"):
        for folder in ("a", "b", "a/deep"):
            for number in range(20):
                write(tmp_path / team / folder / f"pod{number}.yaml", POD % "nginx:nightly")
    reads: list[str] = []
    looks: list[str] = []
    read_text = config_module._read_text
    config_file_in = config_module._config_file_in

    def counting_read(path: str, shown: str) -> str:
        reads.append(os.path.relpath(path, tmp_path))
        return read_text(path, shown)

    def counting_look(folder: str) -> str | None:
        looks.append(folder)
        return config_file_in(folder)

    monkeypatch.setattr(config_module, "_read_text", counting_read)
    monkeypatch.setattr(config_module, "_config_file_in", counting_look)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["."], capsys)
    assert code == 1
    assert out.splitlines()[-1] == "180 findings (120 errors, 60 warnings) in 120 files, 120 images"
    assert sorted(reads) == [".imglint.yaml", os.path.join("team", ".imglint.yaml")]
    assert len(looks) == len(set(looks))


def test_a_nested_configuration_without_a_run_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No configuration in the working folder or above it: the defaults are the run's, and a
    folder's own configuration still applies to its files."""
    write(tmp_path / "strict" / ".imglint.yaml", "extend-select: [unpinned-image]\n")
    write(tmp_path / "strict" / "pod.yaml", POD % "ghcr.io/acme/api:1.0")
    write(tmp_path / "loose" / "pod.yaml", POD % "ghcr.io/acme/api:1.0")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["."], capsys)
    assert code == 0
    assert out.splitlines()[:-1] == [
        'strict/pod.yaml:5:33: IMG005 [warning] image "ghcr.io/acme/api:1.0" is not pinned by '
        "digest (Pod p, container a)"
    ]


@pytest.mark.registry
def test_max_image_age_from_an_override_and_from_a_nested_configuration(
    registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Against the real registry: an image built 2020-01-01 is too old for the root's override
    of legacy/ (52w) and for team/'s own configuration (180d); elsewhere no limit applies. The
    run's own configuration sets no limit, yet build times are read (an override or a nested
    configuration asks)."""
    for name, value in (("HOME", "home"), ("DOCKER_CONFIG", "docker"), ("XDG_CACHE_HOME", "c")):
        monkeypatch.setenv(name, str(tmp_path / value))
    image = build_image("nearest/old", created="2020-01-01T00:00:00Z")
    registry.pusher.put_image("nearest/old", image, "1.0")
    ref = f"{registry.host}/nearest/old:1.0"
    write(
        tmp_path / "repo" / ".imglint.yaml",
        "select: [IMG108]\noverrides:\n  - files: [legacy/*]\n    max-image-age: 52w\n",
    )
    write(tmp_path / "repo" / "team" / ".imglint.yaml", "select: [IMG108]\nmax-image-age: 180d\n")
    for folder in ("legacy", "team", "other"):
        write(tmp_path / "repo" / folder / "pod.yaml", POD % ref)
    monkeypatch.chdir(tmp_path / "repo")
    code, out, err = run(
        ["--resolve", "--no-cache", "--timeout", "20", "--format", "json", "."], capsys
    )
    assert code == 0, err  # warnings
    found = [(f["path"], f["code"], f["message"][-25:]) for f in json.loads(out)["findings"]]
    assert found == [
        ("legacy/pod.yaml", "IMG108", "older than max-image-age 52w"[-25:]),
        ("team/pod.yaml", "IMG108", "older than max-image-age 180d"[-25:]),
    ]


def test_helm_values_globs_of_a_nested_configuration_start_at_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """deploy/.imglint.yaml's `helm-values: [env/*.yaml]` names deploy/env/prod.yaml (a glob
    with `/`, from its own folder), not env/prod.yaml at the root, which the root's
    configuration (without helm-values) leaves unread."""
    write(tmp_path / ".imglint.yaml", "denied-tags: [nightly]\n")
    write(tmp_path / "deploy" / ".imglint.yaml", "helm-values: [env/*.yaml]\n")
    values = "redis:\n  repository: docker.io/library/redis\n  tag: latest\n"
    write(tmp_path / "deploy" / "env" / "prod.yaml", values)
    write(tmp_path / "env" / "prod.yaml", values)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["."], capsys)
    assert code == 1
    findings = [line.split(" [")[0] for line in out.splitlines() if " IMG" in line]
    assert findings == ["deploy/env/prod.yaml:3:8: IMG002"]


def test_pull_secrets_take_the_rules_of_their_files_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken pull Secret (IMG011) is reported where the nearest configuration runs IMG011,
    at the severity it gives, and not where it ignores IMG011."""
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: pull}\n"
        "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: bm90IGpzb24=\n"
    )
    write(tmp_path / ".imglint.yaml", "severity: {invalid-pull-secret: warning}\n")
    write(tmp_path / "strict" / "secret.yaml", secret)
    write(tmp_path / "loose" / ".imglint.yaml", "ignore: [invalid-pull-secret]\n")
    write(tmp_path / "loose" / "secret.yaml", secret)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["."], capsys)
    findings = [line.split(" image")[0][:40] for line in out.splitlines() if " IMG" in line]
    assert code == 0, out
    assert [line.split(": ")[0] for line in findings] == ["strict/secret.yaml:6:22"]
    assert "IMG011 [warning]" in out


def test_a_shared_file_that_nested_configurations_extend_is_named_in_the_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run-wide keys of a shared base that a nested configuration extends are not this run's
    either: the note names that file, and the nested file that writes its own."""
    write(tmp_path / "shared" / "base.yaml", "platforms: [linux/arm64]\ndenied-tags: [edge]\n")
    write(tmp_path / "svc" / ".imglint.yaml", "extend: ../shared/base.yaml\ncache-ttl: 1h\n")
    write(tmp_path / "svc" / "pod.yaml", POD % "ghcr.io/acme/api:edge")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["svc"], capsys)
    assert code == 1
    assert out.splitlines()[1:3] == [
        "note: svc/.imglint.yaml: cache-ttl is run-wide, used only when imglint runs in svc "
        "(this run's run-wide settings: the defaults)",
        "note: shared/base.yaml: platforms is run-wide, used only when the run's own "
        "configuration is or extends it (this run's run-wide settings: the defaults)",
    ]


def test_a_discovering_configuration_pickles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes may get the run's configuration (and its `helm-values` test, a bound
    method): it pickles with what it found, and finds the same afterwards."""
    import pickle

    monkeypatch.chdir(MONOREPO)
    config = load(None, str(MONOREPO)).with_discovery(str(MONOREPO))
    assert config.config_for("team-a/api.yaml").source == "team-a/.imglint.yaml"
    copy = pickle.loads(pickle.dumps(config))
    assert copy.config_for("team-a/api.yaml").describe_source() == (
        "team-a/.imglint.yaml (extends .imglint.yaml)"
    )
    assert copy.config_for("team-b/worker.yaml").source == "team-b/.imglint.yaml"
    assert pickle.loads(pickle.dumps(config.is_helm_values))("apps/web.yaml") is False


def test_config_naming_a_file_that_extends_reads_its_chain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--config team-a/.imglint.yaml` is team A's configuration with the root's it extends,
    for every file: apps/web.yaml then gets team A's allow-list and unpinned-image."""
    monkeypatch.chdir(MONOREPO)
    code, out, _ = run(["--config", "team-a/.imglint.yaml", "apps"], capsys)
    assert code == 1
    assert [line.split(" [")[0] for line in out.splitlines()[:-1]] == [
        "apps/web.yaml:9:18: IMG005",
        "apps/web.yaml:9:18: IMG008",
        "apps/web.yaml:9:18: IMG012",
        "apps/web.yaml:11:18: IMG005",
        "apps/web.yaml:11:18: IMG008",
    ]


def test_extend_is_refused_outside_a_file() -> None:
    """A mapping given by a program has no folder for `extend` to start from."""
    with pytest.raises(ConfigError, match="extend works in a configuration file"):
        config_module.from_mapping({"extend": "../.imglint.yaml"})


def test_globs_of_a_nested_configuration_start_at_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """team/.imglint.yaml's `overrides` and `per-file-ignores` globs with a `/` match paths from
    team/ (ruff: paths in a configuration are relative to its folder): team/dev/x.yaml, not a
    dev/ folder at the root; its `default-namespace` decides for its files' overrides."""
    write(
        tmp_path / "team" / ".imglint.yaml",
        "default-namespace: shop\n"
        "overrides:\n  - files: [dev/*]\n    ignore: [latest-tag]\n"
        "  - namespaces: [shop]\n    severity: {missing-tag: warning}\n"
        "per-file-ignores:\n  legacy/*: [implicit-registry]\n",
    )
    monkeypatch.chdir(tmp_path)
    config = load(None, str(tmp_path)).with_discovery(str(tmp_path))
    team_dev = config.choice_for_file("team/dev/x.yaml")
    assert "IMG002" not in team_dev.enabled and team_dev.severity["IMG003"].label == "warning"
    assert "IMG004" not in config.choice_for_file("team/legacy/x.yaml").enabled
    root_dev = config.choice_for_file("dev/x.yaml")
    assert "IMG002" in root_dev.enabled and "IMG003" not in root_dev.severity
    assert "IMG004" in config.choice_for_file("legacy/x.yaml").enabled


def test_each_path_gets_the_configuration_of_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of one folder asked in a row share one look-up; a path whose folder is written
    another way, or that ends in `..` or `.`, is asked about as itself."""
    write(tmp_path / "team" / ".imglint.yaml", "denied-tags: [edge]\n")
    write(tmp_path / "team" / "sub" / "a.yaml", POD % "nginx:1")
    monkeypatch.chdir(tmp_path)
    config = load(None, cwd=str(tmp_path)).with_discovery(str(tmp_path))

    def folder_of(path: str) -> str:
        found = config.config_for(path)
        if found is config:
            return "root"
        assert found.folder is not None
        return os.path.relpath(found.folder, tmp_path)

    paths = {
        "team/a.yaml": "team",
        "team/b.yaml": "team",
        "other/a.yaml": "root",
        "team/sub/../c.yaml": "team",
        "team/sub/a.yaml": "team",
        "team/sub/..": "root",  # (the folder `team`, in the root's folder)
        "team/sub/.": "team",
        "team/sub/": "team",
        "team/../d.yaml": "root",
        "team/../team/e.yaml": "team",
        "e.yaml": "root",
        "team/f.yaml": "team",
    }
    assert {path: folder_of(path) for path in paths} == paths
