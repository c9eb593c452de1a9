"""The GitHub Action (action.yml and imglint.github_action), on a simulated runner: a workspace
made from tests/fixtures/precommit/, the runner's files and variables (GITHUB_WORKSPACE,
GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP, ...), real imglint processes.

The last test runs action.yml's own steps as the runner does (`bash --noprofile --norc -eo
pipefail`, `${{ }}` expressions filled in), installing imglint from a snapshot of this working
tree into a fresh virtual environment (pip needs PyPI, or the configured index).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from imglint.github_action import (
    SUMMARY_LIMIT,
    ActionError,
    Inputs,
    Links,
    Location,
    Result,
    Run,
    md,
    summary,
    unannotated,
)
from tests.test_precommit import SARIF_SCHEMA_FILE, USER_REPO, _project_files

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
REPOSITORY, SHA = "acme/shop", "0123456789abcdef0123456789abcdef01234567"
BLOB = f"https://github.com/{REPOSITORY}/blob/{SHA}"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The checked-out repository: the fixture repository, without its configuration file."""
    repo = tmp_path / "workspace"
    shutil.copytree(USER_REPO, repo)
    (repo / ".imglint.yaml").unlink()
    return repo


class Runner:
    """The files and variables a GitHub runner gives a step."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.home = workspace.parent
        self.summary = self.home / "step_summary.md"
        self.output = self.home / "github_output"
        self.temp = self.home / "runner_temp"
        self.temp.mkdir(exist_ok=True)
        self.summary.touch()
        self.output.touch()

    def env(self, **inputs: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
        base.pop("NO_COLOR", None)
        base.update(
            GITHUB_ACTIONS="true",
            CI="true",
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_STEP_SUMMARY=str(self.summary),
            GITHUB_OUTPUT=str(self.output),
            GITHUB_REPOSITORY=REPOSITORY,
            GITHUB_SHA=SHA,
            GITHUB_SERVER_URL="https://github.com",
            RUNNER_TEMP=str(self.temp),
            XDG_CACHE_HOME=str(self.home / "cache"),
        )
        base.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
        return base

    def step(self, **inputs: str) -> subprocess.CompletedProcess[str]:
        """The action's step, `python -m imglint.github_action`, in the workspace."""
        return subprocess.run(
            [sys.executable, "-m", "imglint.github_action"],
            cwd=self.workspace,
            env=self.env(**inputs),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def runner(workspace: Path) -> Runner:
    return Runner(workspace)


def imglint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return subprocess.run(
        [sys.executable, "-m", "imglint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def sarif_valid(path: Path) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA_FILE.read_text())).validate(log)
    return log


# --- inputs ------------------------------------------------------------------------------------


def test_inputs_defaults_and_quoting() -> None:
    assert Inputs.from_env({}) == Inputs((".",), (), False, "imglint.sarif")
    inputs = Inputs.from_env(
        {
            "INPUT_PATHS": "k8s\n'deploy/my app'  charts/shop.yaml",
            "INPUT_ARGS": '--config ci/imglint.yaml --extend-select "IMG005,IMG009"',
            "INPUT_RESOLVE": "True",
            "INPUT_SARIF_FILE": " reports/imglint.sarif ",
        }
    )
    assert inputs == Inputs(
        ("k8s", "deploy/my app", "charts/shop.yaml"),
        ("--config", "ci/imglint.yaml", "--extend-select", "IMG005,IMG009"),
        True,
        "reports/imglint.sarif",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INPUT_ARGS": "--format json"}, "args: drop --format (the action chooses the formats)"),
        ({"INPUT_ARGS": "--format=json"}, "args: drop --format"),
        ({"INPUT_ARGS": "-o out.txt"}, "use the sarif-file input"),
        ({"INPUT_ARGS": "--pin --diff"}, "args: drop --diff"),
        ({"INPUT_ARGS": "--list-images"}, "args: drop --list-images"),
        ({"INPUT_ARGS": "--statistics"}, "args: drop --statistics"),
        ({"INPUT_ARGS": "--select 'IMG001"}, "cannot split the paths or args input"),
        ({"INPUT_RESOLVE": "yes"}, "resolve must be true or false, not 'yes'"),
    ],
)
def test_bad_inputs(env: dict[str, str], message: str) -> None:
    with pytest.raises(ActionError, match=re.escape(message)):
        Inputs.from_env(env)


def test_a_bad_input_fails_the_step_with_one_annotation(runner: Runner) -> None:
    result = runner.step(args="--format json")
    assert result.returncode == 2
    assert result.stdout == (
        "::error title=imglint action::args: drop --format (the action chooses the formats)\n"
    )


# --- one run: annotations, SARIF, summary, outputs --------------------------------------------


def test_one_run_annotates_writes_the_sarif_and_the_summary(
    runner: Runner, workspace: Path
) -> None:
    result = runner.step(paths="k8s")
    assert result.returncode == 1, result.stderr
    # The annotations are exactly what `imglint --format github` prints for the same files.
    github = imglint(workspace, "--format", "github", "k8s")
    assert github.returncode == 1
    assert result.stdout.splitlines() == github.stdout.splitlines()[:-1]  # less its summary line
    assert len(result.stdout.splitlines()) == 3

    log = sarif_valid(workspace / "imglint.sarif")
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["IMG003", "IMG002", "IMG004"]
    assert runner.outputs() == {
        "exit-code": "1",
        "findings": "3",
        "errors": "0",
        "sarif-file": "imglint.sarif",
    }

    text = runner.summary.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "## imglint"
    assert lines[2] == ":x: 3 findings (2 errors, 1 warning) in 2 files, 4 images. Exit code 1."
    rule_rows = [line for line in lines if line.startswith("| [IMG")]
    assert rule_rows == [
        f"| [IMG002]({docs('img002-latest-tag')}) | latest\\-tag | error | 1 |",
        f"| [IMG003]({docs('img003-missing-tag')}) | missing\\-tag | error | 1 |",
        f"| [IMG004]({docs('img004-implicit-registry')}) | implicit\\-registry | warning | 1 |",
    ]
    finding_rows = [line for line in lines if line.startswith(("| error |", "| warning |"))]
    assert finding_rows[0] == (
        f'| error | IMG003 | [k8s/bad\\.yaml:11]({BLOB}/k8s/bad.yaml#L11) | image "ghcr\\.io/'
        'acme/migrate" has no tag, so the runtime pulls "latest": pin a version tag or a digest '
        "\\(Deployment shop/web, container migrate\\) |"
    )
    assert len(finding_rows) == 3
    assert "GitHub shows at most" not in text  # 3 annotations: all shown


def docs(anchor: str) -> str:
    from imglint import __version__

    return f"https://github.com/imglint/imglint/blob/v{__version__}/docs/rules.md#{anchor}"


def test_clean_run(runner: Runner) -> None:
    result = runner.step(paths="k8s/good.yaml")
    assert (result.returncode, result.stdout) == (0, "")
    assert runner.summary.read_text().splitlines()[2] == (
        ":white_check_mark: All checks passed in 1 file, 2 images."
    )
    assert runner.outputs()["findings"] == "0"


def test_input_errors_are_annotated_summarised_and_fail_the_step(
    runner: Runner, workspace: Path
) -> None:
    (workspace / "k8s" / "broken.yaml").write_text("kind: Pod\nspec: [\n")
    result = runner.step(paths="k8s", sarif_file="out/imglint.sarif")
    assert result.returncode == 2
    assert "::error file=k8s/broken.yaml,line=" in result.stdout
    assert "title=imglint input error::" in result.stdout
    text = runner.summary.read_text()
    assert "3 findings (2 errors, 1 warning) in 3 files, 4 images; 1 file not checked." in text
    assert "### Files not checked" in text
    assert f"[k8s/broken\\.yaml:3]({BLOB}/k8s/broken.yaml#L3)" in text
    assert runner.outputs()["errors"] == "1"
    sarif_valid(workspace / "out" / "imglint.sarif")


def test_imglint_stopping_before_its_report_is_said(runner: Runner, workspace: Path) -> None:
    (workspace / ".imglint.yaml").write_text("fail_on: error\n")
    result = runner.step()
    assert result.returncode == 2
    assert 'unknown key "fail_on"' in result.stderr
    assert "imglint stopped before writing its report (exit code 2)" in runner.summary.read_text()
    assert runner.outputs() == {"exit-code": "2", "findings": "", "errors": "0", "sarif-file": ""}


def test_a_stale_sarif_is_not_taken_for_this_runs(runner: Runner, workspace: Path) -> None:
    (workspace / "imglint.sarif").write_text('{"runs": [{"results": []}]}')
    (workspace / ".imglint.yaml").write_text("jobs: 0\n")
    assert runner.step().returncode == 2
    assert not (workspace / "imglint.sarif").exists()
    assert runner.outputs()["sarif-file"] == ""


def test_absolute_paths_are_annotated_relative_to_the_workspace(
    runner: Runner, workspace: Path
) -> None:
    result = runner.step(paths=str(workspace / "k8s" / "bad.yaml"))
    assert result.returncode == 1
    files = set(re.findall(r"file=([^,]+),", result.stdout))
    assert files == {"k8s/bad.yaml"}


def many_findings(workspace: Path, count: int, image_length: int = 40) -> None:
    path = "x" * max(image_length - 30, 1)
    containers = "".join(
        f"    - name: c{i}\n      image: registry.example.com/{path}/app{i}:latest\n"
        for i in range(count)
    )
    (workspace / "k8s" / "many.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: many, namespace: shop}\n"
        f"spec:\n  containers:\n{containers}"
    )


def test_more_annotations_than_github_shows(runner: Runner, workspace: Path) -> None:
    many_findings(workspace, 12)  # 12 more IMG002 errors: 14 errors and 1 warning in all
    result = runner.step(paths="k8s")
    assert result.returncode == 1
    commands = result.stdout.splitlines()
    assert sum(line.startswith("::error ") for line in commands) == 14
    text = runner.summary.read_text()
    assert (
        "GitHub shows at most 10 annotations of each kind per step (50 per job): 4 of this "
        "run's are not shown on the files. The tables below list every one."
    ) in text
    assert len([line for line in text.splitlines() if line.startswith("| error |")]) == 14


def test_the_summary_is_cut_at_one_mebibyte_and_the_sarif_is_not(
    runner: Runner, workspace: Path
) -> None:
    # 4,000 findings with long images: a table of about 2 MiB.
    many_findings(workspace, 4000, image_length=300)
    runner.summary.write_text("## an earlier step's summary\n" + "x" * 100_000 + "\n")
    result = runner.step(paths="k8s/many.yaml")
    assert result.returncode == 1, result.stderr
    written = runner.summary.read_bytes()
    assert len(written) <= SUMMARY_LIMIT
    assert len(written) > SUMMARY_LIMIT - 5_000  # cut at the limit, not far before it
    text = written.decode("utf-8")
    match = re.search(r"This summary is cut after (\d+) of 4000 rows", text)
    assert match, text[-1000:]
    assert len([line for line in text.splitlines() if line.startswith("| error |")]) == int(
        match.group(1)
    )
    assert "Every finding is in `imglint\\.sarif` and in the step's log." in text
    log = sarif_valid(workspace / "imglint.sarif")
    assert len(log["runs"][0]["results"]) == 4000
    assert len(result.stdout.splitlines()) == 4000
    assert runner.outputs()["findings"] == "4000"


# --- the summary's text ------------------------------------------------------------------------


def test_manifest_text_cannot_shape_the_summary() -> None:
    hostile = "a | b <script>alert(1)</script> [x](https://evil.example) `c` *d*\nnext & more"
    shown = md(hostile)
    assert "<" not in shown and "\n" not in shown
    assert re.search(r"(?<!\\)[|\[\]()`*]", shown) is None  # every such character escaped
    run = Run(
        findings=[
            Result("error", hostile, "IMG002", Location("k8s/a|b.yaml", "k8s/a%7Cb.yaml", 3))
        ],
        notifications=[],
    )
    text = summary(run, 1, "imglint.sarif", Links(BLOB))
    (row,) = [line for line in text.splitlines() if line.startswith("| error |")]
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # four cells
    assert f"({BLOB}/k8s/a%7Cb.yaml#L3)" in row


def test_a_small_limit_keeps_the_headline_and_counts() -> None:
    findings = [
        Result("warning", f"message {i}", "IMG004", Location("a.yaml", "a.yaml", i))
        for i in range(1, 200)
    ]
    run = Run(findings=findings, notifications=[], files_checked=1, images_checked=199)
    text = summary(run, 0, "imglint.sarif", Links(None), limit=3000)
    assert len(text.encode()) <= 3000
    assert "| IMG004 |  | warning | 199 |" in text
    assert "This summary is cut after" in text
    assert summary(run, 0, "imglint.sarif", Links(None), limit=100) == ""


def test_unannotated_counts_each_kind_and_the_job() -> None:
    def results(level: str, n: int) -> list[Result]:
        return [Result(level, "m", "IMG001", Location("a", "a", 1)) for _ in range(n)]

    assert unannotated(Run(results("error", 10) + results("warning", 3), [])) == 0
    assert unannotated(Run(results("error", 25) + results("note", 11), [])) == 16


# --- action.yml, run as the runner runs a composite action --------------------------------------


def expressions(text: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", value, text)


def run_action(
    runner: Runner, action_path: Path, **given: str
) -> tuple[int, dict[str, str], list[str]]:
    """action.yml's steps in order, as the runner runs them; (exit code, outputs, stdout)."""
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update(given)
    values = {f"inputs.{name}": value for name, value in inputs.items()}
    values["github.action_path"] = str(action_path)
    step_outputs: dict[str, dict[str, str]] = {}
    printed: list[str] = []
    code = 0
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        runner.output.write_text("")
        env = runner.env()
        env.update({k: expressions(str(v), values) for k, v in step.get("env", {}).items()})
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=runner.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        printed += done.stdout.splitlines()
        if "id" in step:
            step_outputs[step["id"]] = runner.outputs()
        code = done.returncode
        if code != 0:
            assert step.get("id") == "imglint", done.stderr
            break
    for step_id, outputs in step_outputs.items():
        values.update({f"steps.{step_id}.outputs.{k}": v for k, v in outputs.items()})
    outputs = {name: expressions(spec["value"], values) for name, spec in ACTION["outputs"].items()}
    return code, outputs, printed


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as the runner checks the action out (what `uses:` gets)."""
    snapshot = tmp_path_factory.mktemp("imglint-action")
    for path in _project_files():
        target = snapshot / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target, follow_symlinks=True)
    return snapshot


def test_action_yml_declares_the_inputs_and_runs_the_module() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"paths", "args", "resolve", "sarif-file", "version"}
    assert set(ACTION["outputs"]) == {"exit-code", "findings", "errors", "sarif-file"}
    run_step = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "imglint")
    assert "-m imglint.github_action" in run_step["run"]
    # Inputs reach the step as variables, never pasted into the script (no shell injection).
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step["run"]


def test_the_action_as_a_runner_runs_it(runner: Runner, action_path: Path, workspace: Path) -> None:
    code, outputs, printed = run_action(
        runner, action_path, paths="k8s", args="--extend-select IMG005"
    )
    assert code == 1
    assert outputs == {
        "exit-code": "1",
        "findings": "7",  # and IMG005 for each of the four images
        "errors": "0",
        "sarif-file": "imglint.sarif",
    }
    kinds = [line.split(" ", 1)[0] for line in printed]
    assert (kinds.count("::error"), kinds.count("::warning"), len(kinds)) == (2, 5, 7)
    log = sarif_valid(workspace / "imglint.sarif")
    assert log["runs"][0]["tool"]["driver"]["name"] == "imglint"
    assert "### Findings per rule" in runner.summary.read_text()
    # The virtual environment is the runner's temporary folder's, not the workspace's.
    assert (runner.temp / "imglint-venv" / "bin" / "imglint").exists()
    assert not (workspace / ".venv").exists()
