"""The README's "In pre-commit and CI" recipes, run for real.

pre-commit: the project's own `.pre-commit-hooks.yaml`, installed by pre-commit from a git
repository holding a snapshot of this working tree (what pytest is testing, including files not
committed yet), on a temporary user repository made from tests/fixtures/precommit/. pre-commit
builds the hook's virtual environment once (pip installs the project: PyPI, or the configured
index, must be reachable), in a temporary PRE_COMMIT_HOME shared by this module's tests;
`try-repo` builds its own, once. The configurations are the README's code blocks, with only the
repository URL and rev pointed at the snapshot.

CI: the imglint command lines of the README's GitHub Actions and GitLab CI jobs and of its
Helm, Kustomize and baseline recipes, run against fixtures, their output validated (SARIF
against the schema, JUnit as XML, GitHub workflow commands by shape).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.test_helm_kustomize import PROD, SHOP

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
USER_REPO = FIXTURES / "precommit"
# The OASIS SARIF 2.1.0 schema, kept in the repository so the suite runs on any machine.
SARIF_SCHEMA_FILE = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"
HELM_HINT = "render it first: `helm template CHART | imglint -`"
BIN = Path(sys.executable).parent  # the test environment's scripts: imglint
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
README_REPO = "https://github.com/imglint/imglint"
README_REV = "v0.1.0"
# Not part of the project: never copied into the snapshot the hooks are installed from.
SNAPSHOT_SKIP = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".mypy_cache"}
SNAPSHOT_SKIP |= {".ruff_cache", ".hypothesis"}

# What imglint says about tests/fixtures/precommit/k8s/bad.yaml.
BAD = [
    'k8s/bad.yaml:11:18: IMG003 [error] image "ghcr.io/acme/migrate" has no tag, so the runtime '
    'pulls "latest": pin a version tag or a digest (Deployment shop/web, container migrate)',
    'k8s/bad.yaml:14:18: IMG002 [error] image "nginx:latest" uses the tag "latest", which moves: '
    "pin a version tag or a digest (Deployment shop/web, container web)",
    'k8s/bad.yaml:14:18: IMG004 [warning] image "nginx:latest" names no registry, so it is pulled '
    'from Docker Hub as "docker.io/library/nginx:latest" (Deployment shop/web, container web)',
]
_FINDING = re.compile(r"^\S+:\d+:\d+: IMG\d{3} ")


# -- the README ----------------------------------------------------------------------------------


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## In pre-commit and CI\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def readme_blocks(language: str) -> list[str]:
    fence = re.compile(r"^```" + language + r"\n(.*?)^```$", re.MULTILINE | re.DOTALL)
    return fence.findall(readme_section())


def readme_block(first_line: str) -> str:
    """The README code block whose first line is `first_line` (a comment naming the file)."""
    found = [b for b in readme_blocks(r"\w*") if b.split("\n", 1)[0] == first_line]
    assert len(found) == 1, f"README: expected one code block starting {first_line!r}"
    return found[0]


def readme_commands(*needles: str) -> list[str]:
    """The README's `sh` lines that contain every needle, without trailing comments."""
    lines = [
        line.split("  #")[0].strip()
        for block in readme_blocks("sh")
        for line in block.splitlines()
        if all(needle in line for needle in needles)
    ]
    assert lines, f"README: no sh line with {needles}"
    return lines


def imglint_runs(script: str) -> list[str]:
    """The imglint command lines of a CI script (installing imglint is not ours to test)."""
    return [
        line.strip()
        for line in script.splitlines()
        if "imglint " in line and not line.strip().startswith("pip ")
    ]


# -- processes -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment that keeps git and pre-commit away from the developer's own settings."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = imglint tests\n\temail = tests@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    clean.update(
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return clean


def sh(
    command: str | list[str], cwd: Path, env: dict[str, str], *, shell: str = "bash -e"
) -> subprocess.CompletedProcess[str]:
    """Run a command list, or a script line with `shell` as CI would."""
    argv = command if isinstance(command, list) else [*shell.split(), "-c", command]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900
    )


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    result = sh(["git", *args], cwd, env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def pre_commit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return sh([*PRE_COMMIT, *args], cwd, env)


def shown(result: subprocess.CompletedProcess[str]) -> list[str]:
    """pre-commit's output without its one-time "[INFO] Installing environment" lines."""
    return [line for line in result.stdout.splitlines() if not line.startswith("[INFO] ")]


def hook_output(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines a hook printed (pre-commit shows them after its status block)."""
    return [line for line in result.stdout.splitlines() if _FINDING.match(line)]


def _project_files() -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SNAPSHOT_SKIP and not d.endswith(".egg-info"))
        for name in sorted(files):
            # In a `git worktree` checkout `.git` is a file naming the real repository: copied,
            # the snapshot's `git commit` would land on the developer's branch.
            if name not in SNAPSHOT_SKIP and not name.endswith((".pyc", ".tmp")):
                yield Path(folder, name)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """A git repository holding this working tree, and its commit: what pre-commit installs."""
    repo = tmp_path_factory.mktemp("imglint-snapshot")
    for path in _project_files():
        target = repo / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target, follow_symlinks=True)
    git(repo, env, "init", "-q")
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "-m", "snapshot")
    return repo, git(repo, env, "rev-parse", "HEAD")


@pytest.fixture
def user_repo(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> Callable[..., Path]:
    """`user_repo(config)`: a fresh git repository from the fixture files, all of them staged,
    with `config` (a README block) as .pre-commit-config.yaml, pointed at the snapshot."""

    def make(config: str, *, layout: Callable[[Path], None] | None = None) -> Path:
        repo = tmp_path / "user"
        shutil.copytree(USER_REPO, repo)
        if layout is not None:
            layout(repo)
        (repo / ".pre-commit-config.yaml").write_text(point_at_snapshot(config, hook_repo))
        git(repo, env, "init", "-q")
        git(repo, env, "add", "-A")
        return repo

    return make


def point_at_snapshot(config: str, hook_repo: tuple[Path, str]) -> str:
    assert config.count(f"repo: {README_REPO}\n") == 1
    assert config.count(f"rev: {README_REV}\n") == 1
    path, rev = hook_repo
    return config.replace(README_REPO, str(path)).replace(README_REV, rev)


# -- pre-commit ----------------------------------------------------------------------------------


def test_try_repo_fails_a_bad_manifest_and_shows_its_findings(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    """`pre-commit try-repo`: the hook as published, built from scratch."""
    repo = tmp_path / "user"
    shutil.copytree(USER_REPO, repo)
    git(repo, env, "init", "-q")
    git(repo, env, "add", "-A")
    files = ["k8s/bad.yaml", "k8s/good.yaml", ".github/workflows/ci.yml", "compose.yaml"]
    result = pre_commit(repo, env, "try-repo", str(hook_repo[0]), "imglint", "--files", *files)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert (
        "imglint..................................................................Failed" in lines
    )
    assert "- hook id: imglint" in lines and "- exit code: 1" in lines
    assert hook_output(result) == BAD
    assert "3 findings (2 errors, 1 warning) in 4 files, 4 images" in lines


@pytest.fixture
def readme_config(user_repo: Callable[..., Path]) -> Path:
    return user_repo(readme_block("# .pre-commit-config.yaml"))


def test_the_readme_config_passes_manifests_without_findings_and_other_yaml(
    readme_config: Path, env: dict[str, str]
) -> None:
    files = [
        "k8s/good.yaml",
        ".github/workflows/ci.yml",  # `image: node:latest`, in a workflow: not Kubernetes
        "compose.yaml",
        "chart/Chart.yaml",
        "chart/values.yaml",
        "package.json",
        ".imglint.yaml",
        ".pre-commit-config.yaml",
    ]
    result = pre_commit(readme_config, env, "run", "imglint", "--files", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert shown(result) == [
        "imglint..................................................................Passed"
    ]


def test_chart_templates_and_json_with_comments_pass_the_hook_with_a_note(
    readme_config: Path, env: dict[str, str]
) -> None:
    """The hooks exclude nothing: imglint skips them itself, as in a folder walk."""
    files = ["chart/templates/deployment.yaml", "tsconfig.json"]
    result = pre_commit(readme_config, env, "run", "imglint", "--verbose", "--files", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = shown(result)
    assert lines[0] == (
        "imglint..................................................................Passed"
    )
    assert "note: chart/templates: Helm chart templates skipped; " + HELM_HINT in lines
    assert "note: tsconfig.json: skipped, not JSON and no Kubernetes object in it" in lines


def test_a_templates_folder_that_is_no_chart_is_linted_by_the_hook(
    readme_config: Path, env: dict[str, str]
) -> None:
    web = readme_config / "k8s" / "templates" / "web.yaml"
    web.parent.mkdir()
    shutil.copy(readme_config / "k8s" / "bad.yaml", web)
    git(readme_config, env, "add", "k8s/templates/web.yaml")
    result = pre_commit(readme_config, env, "run", "imglint", "--files", "k8s/templates/web.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert hook_output(result) == [
        line.replace("k8s/bad.yaml", "k8s/templates/web.yaml") for line in BAD
    ]


def test_the_configurations_exclude_applies_to_the_files_pre_commit_names(
    user_repo: Callable[..., Path], env: dict[str, str]
) -> None:
    # A user's `args:` replaces the hook's; --force-exclude is in its `entry`, so it stays.
    config = readme_block("# .pre-commit-config.yaml").replace(
        "      - id: imglint            # offline and fast: on every commit\n",
        "      - id: imglint\n        args: [--fail-on, warning]\n",
    )
    assert "args: [--fail-on, warning]" in config
    repo = user_repo(config)
    (repo / ".imglint.yaml").write_text(
        "private-registries: [registry.example.com]\nexclude: [k8s/bad.yaml, team]\n"
    )
    files = ["k8s/bad.yaml", "k8s/good.yaml", "team/billing.yaml"]
    result = pre_commit(repo, env, "run", "imglint", "--verbose", "--files", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = shown(result)
    assert (
        "note: k8s/bad.yaml: excluded by `exclude: k8s/bad.yaml` in .imglint.yaml "
        "(force-exclude); not read"
    ) in lines
    assert "note: team: excluded by `exclude: team` in .imglint.yaml (force-exclude); not read" in (
        lines
    )


def test_the_hooks_declare_the_pre_commit_version_they_need() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert hook["entry"].startswith("imglint --force-exclude")
        assert "exclude" not in hook
        # `types_or` came with pre-commit 2.9.0.
        assert "types_or" in hook and hook["minimum_pre_commit_version"] == "2.9.0"


def test_all_files_are_linted_in_one_process(readme_config: Path, env: dict[str, str]) -> None:
    """The team/ Deployments get their pull secret from a ServiceAccount in another file: split
    between parallel processes, some would be reported as missing it."""
    result = pre_commit(readme_config, env, "run", "--all-files")
    assert result.returncode == 1
    assert hook_output(result) == BAD
    summaries = [line for line in result.stdout.splitlines() if " in 1" in line]
    assert summaries == ["3 findings (2 errors, 1 warning) in 17 files, 11 images"]
    # The registry hook runs on push, not on commit.
    assert "imglint (registry check)" not in result.stdout


def test_a_charts_values_file_is_checked_by_the_hook(
    readme_config: Path, env: dict[str, str]
) -> None:
    """In a chart repository the hook reads values.yaml as image declarations (its templates
    are never passed to it)."""
    values = readme_config / "chart" / "values.yaml"
    values.write_text("image:\n  repository: docker.io/library/nginx\n  tag: latest\n")
    files = ["chart/values.yaml", "chart/Chart.yaml"]
    result = pre_commit(readme_config, env, "run", "imglint", "--files", *files)
    assert result.returncode == 1, result.stdout + result.stderr
    [finding] = hook_output(result)
    assert finding.startswith(
        'chart/values.yaml:3:8: IMG002 [error] image "docker.io/library/nginx:latest"'
    )


def test_a_commit_with_a_bad_manifest_is_refused(readme_config: Path, env: dict[str, str]) -> None:
    installed = pre_commit(
        readme_config, env, "install", "--hook-type", "pre-commit", "--hook-type", "pre-push"
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    refused = sh(["git", "commit", "-m", "add manifests"], readme_config, env)
    assert refused.returncode == 1
    # git shows a hook's output on stderr.
    output = refused.stderr.splitlines()
    assert [line for line in output if _FINDING.match(line)] == BAD
    # The README shows what a refused commit prints.
    sample = readme_blocks("text")[0].splitlines()
    assert [line for line in sample if line not in output] == []

    git(readme_config, env, "rm", "-q", "-f", "k8s/bad.yaml")
    accepted = sh(["git", "commit", "-m", "add manifests"], readme_config, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "imglint..................................................................Passed" in (
        accepted.stderr.splitlines()
    )
    assert git(readme_config, env, "log", "--format=%s") == "add manifests"


def test_the_whole_folder_recipe_sees_the_service_account(
    user_repo: Callable[..., Path], env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    def team_in_k8s(repo: Path) -> None:
        shutil.rmtree(repo / "k8s")
        (repo / "team").rename(repo / "k8s")

    repo = user_repo(readme_block("# .pre-commit-config.yaml"), layout=team_in_k8s)
    whole_folder = readme_block("# .pre-commit-config.yaml, linting the whole folder")
    (repo / "whole-folder.yaml").write_text(point_at_snapshot(whole_folder, hook_repo))
    # A commit changing one Deployment: the ServiceAccount with its pull secret is not passed.
    one_file = pre_commit(repo, env, "run", "imglint", "--files", "k8s/billing.yaml")
    assert one_file.returncode == 1
    assert [line.split(" [")[0] for line in hook_output(one_file)] == [
        "k8s/billing.yaml:12:18: IMG006"
    ]
    assert 'ServiceAccount "deployer" is not in the linted files' in one_file.stdout
    whole = pre_commit(
        repo, env, "run", "-c", "whole-folder.yaml", "imglint", "--files", "k8s/billing.yaml"
    )
    assert whole.returncode == 0, whole.stdout + whole.stderr


def test_the_baseline_recipe(user_repo: Callable[..., Path], env: dict[str, str]) -> None:
    repo = user_repo(readme_block("# .pre-commit-config.yaml, with a baseline"))
    write, add, check = readme_commands(".imglint-baseline.json")
    recorded = sh(write, repo, env)
    assert (recorded.returncode, recorded.stderr) == (
        0,
        "imglint: wrote 3 findings to .imglint-baseline.json\n",
    )
    assert sh(add, repo, env).returncode == 0
    checked = sh(check, repo, env)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.splitlines()[0] == (
        "note: 3 findings recorded in baseline .imglint-baseline.json not shown"
    )

    hooked = pre_commit(repo, env, "run", "imglint", "--files", "k8s/bad.yaml")
    assert hooked.returncode == 0, hooked.stdout + hooked.stderr
    (repo / "k8s" / "new.yaml").write_text(
        (repo / "k8s" / "bad.yaml").read_text().replace("  name: web\n", "  name: shop-web\n")
    )
    new = pre_commit(repo, env, "run", "imglint", "--files", "k8s/bad.yaml", "k8s/new.yaml")
    assert new.returncode == 1
    assert hook_output(new) == [
        line.replace("k8s/bad.yaml", "k8s/new.yaml").replace("shop/web,", "shop/shop-web,")
        for line in BAD
    ]


@pytest.mark.registry
def test_the_registry_hook_runs_on_push(
    readme_config: Path, env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    seeded: Any = request.getfixturevalue("seeded")
    host = seeded.registry.host
    (readme_config / ".imglint.yaml").write_text(f"insecure-registries: ['{host}']\n")
    (readme_config / "k8s" / "pinned.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n"
        f"    - name: known\n      image: {seeded.ref('team/app:1.0')}\n"
        f"    - name: unknown\n      image: {seeded.ref('team/app:9.9')}\n"
    )
    # pre-commit lints what is staged (it stashes the rest while hooks run).
    git(readme_config, env, "add", ".imglint.yaml", "k8s/pinned.yaml")
    cached = {**env, "XDG_CACHE_HOME": str(readme_config.parent / "cache")}
    result = pre_commit(
        readme_config, cached, "run", "--hook-stage", "pre-push", "imglint-resolve",
        "--files", "k8s/pinned.yaml",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert [line.split(" [")[0] for line in hook_output(result)] == ["k8s/pinned.yaml:9:14: IMG101"]


# -- CI ------------------------------------------------------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A CI checkout: the fixture repository (the recipes lint its k8s/ folder)."""
    repo = tmp_path / "checkout"
    shutil.copytree(USER_REPO, repo)
    (repo / ".imglint.yaml").unlink()
    return repo


def test_the_github_actions_job(checkout: Path, env: dict[str, str]) -> None:
    workflow = yaml.safe_load(readme_block("# .github/workflows/imglint.yml"))
    job = workflow["jobs"]["imglint"]
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    # One run gives the annotations and the SARIF file (--report): registries are asked once.
    (annotate,) = (s for s in steps if "imglint " in s.get("run", "") and "pip" not in s["run"])
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    # Findings fail the imglint step; the SARIF it wrote is uploaded all the same.
    assert upload["if"] == "success() || failure()"

    (command,) = imglint_runs(annotate["run"])
    result = sh(command, checkout, env)
    assert result.returncode == 1
    commands = result.stdout.splitlines()[:-1]
    assert commands == [
        "::error file=k8s/bad.yaml,line=11,col=18,endLine=11,endColumn=38,title=IMG003 "
        'missing-tag::image "ghcr.io/acme/migrate" has no tag, so the runtime pulls "latest": '
        "pin a version tag or a digest (Deployment shop/web, container migrate)",
        "::error file=k8s/bad.yaml,line=14,col=18,endLine=14,endColumn=30,title=IMG002 "
        'latest-tag::image "nginx:latest" uses the tag "latest", which moves: pin a version tag '
        "or a digest (Deployment shop/web, container web)",
        "::warning file=k8s/bad.yaml,line=14,col=18,endLine=14,endColumn=30,title=IMG004 "
        'implicit-registry::image "nginx:latest" names no registry, so it is pulled from Docker '
        'Hub as "docker.io/library/nginx:latest" (Deployment shop/web, container web)',
    ]

    log = json.loads((checkout / upload["with"]["sarif_file"]).read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA_FILE.read_text())).validate(log)
    results = log["runs"][0]["results"]
    assert [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    ] == [
        ("IMG003", "k8s/bad.yaml", 11),
        ("IMG002", "k8s/bad.yaml", 14),
        ("IMG004", "k8s/bad.yaml", 14),
    ]


def test_the_gitlab_job(checkout: Path, env: dict[str, str]) -> None:
    job = yaml.safe_load(readme_block("# .gitlab-ci.yml"))["imglint"]
    assert job["artifacts"]["when"] == "always"
    (command,) = imglint_runs("\n".join(job["script"]))  # one run, both reports
    assert sh(command, checkout, env).returncode == 1
    suites = ET.fromstring((checkout / job["artifacts"]["reports"]["junit"]).read_text())
    cases = suites.findall(".//testcase")
    assert [(c.get("classname"), c.get("name"), c.find("failure") is not None) for c in cases] == [
        ("k8s/bad.yaml", "IMG003 missing-tag: Deployment shop/web, container migrate", True),
        ("k8s/bad.yaml", "IMG002 latest-tag: Deployment shop/web, container web", True),
        ("k8s/bad.yaml", "IMG004 implicit-registry: Deployment shop/web, container web", False),
    ]


@pytest.fixture
def renderers(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """`helm` and `kustomize` stand-ins on PATH that print the stored renderings (and check they
    were called as the README calls them)."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name, expected_args, rendering in (
        ("helm", "template shop charts/shop", FIXTURES / "helm" / "shop.rendered.yaml"),
        ("kustomize", "build overlays/prod", FIXTURES / "kustomize" / "prod.rendered.yaml"),
    ):
        script = tools / name
        script.write_text(
            "#!/bin/sh\n"
            f'[ "$*" = "{expected_args}" ] || {{ echo "{name}: unexpected $*" >&2; exit 3; }}\n'
            '[ -z "$RENDER_FAILS" ] || { echo "Error: render failed" >&2; exit 1; }\n'
            f"cat '{rendering}'\n"
        )
        script.chmod(0o755)
    return {**env, "PATH": f"{tools}{os.pathsep}{env['PATH']}"}


def test_the_helm_and_kustomize_pipes(checkout: Path, renderers: dict[str, str]) -> None:
    (checkout / "charts" / "shop").mkdir(parents=True)
    (checkout / "charts" / "shop" / "Chart.yaml").write_text("apiVersion: v2\nname: shop\n")
    (helm,) = readme_commands("helm template", "| imglint")
    result = sh(helm, checkout, renderers, shell="bash -eo pipefail")
    assert result.returncode == 1, result.stderr
    found = [tuple(line.split(" [")[0].split(": ")) for line in result.stdout.splitlines()[:-1]]
    assert found == [(f"charts/{where}", code) for where, code in SHOP]

    (kustomize,) = readme_commands("kustomize build", "| imglint")
    result = sh(kustomize, checkout, renderers, shell="bash -eo pipefail")
    assert result.returncode == 1, result.stderr
    found = [tuple(line.split(" [")[0].split(": ")) for line in result.stdout.splitlines()[:-1]]
    assert found == [(where.replace("-", "overlays/prod", 1), code) for where, code in PROD]


def test_the_github_helm_step(checkout: Path, renderers: dict[str, str]) -> None:
    (step,) = yaml.safe_load(readme_block("# a step for .github/workflows/imglint.yml"))
    assert step["shell"] == "bash"  # GitHub runs it as `bash --noprofile --norc -eo pipefail`
    (checkout / "charts" / "shop").mkdir(parents=True)
    (checkout / "charts" / "shop" / "Chart.yaml").write_text("apiVersion: v2\nname: shop\n")
    bash = "bash --noprofile --norc -eo pipefail"
    result = sh(step["run"], checkout, renderers, shell=bash)
    assert result.returncode == 1
    files = [re.match(r"::\w+ file=([^,]+),", line) for line in result.stdout.splitlines()[:-1]]
    assert [m.group(1) for m in files if m] == [f"charts/{w.split(':')[0]}" for w, _ in SHOP]

    failing = sh(step["run"], checkout, {**renderers, "RENDER_FAILS": "1"}, shell=bash)
    assert failing.returncode != 0
    assert "Error: render failed" in failing.stderr
