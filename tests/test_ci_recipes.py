"""The README's CI recipes that tests/test_precommit.py does not run: GitLab Code Quality (the
block's imglint command on the fixture repository, its report checked against what GitLab reads)
and the GitHub workflow with the imglint action (its inputs given to the action's step)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import yaml

from tests.test_precommit import (  # noqa: F401
    USER_REPO,
    checkout,
    env,
    imglint_runs,
    readme_block,
    sh,
)
from tests.test_report_ci import GITLAB_CODE_QUALITY


def test_the_gitlab_code_quality_job(checkout: Path, env: dict[str, str]) -> None:  # noqa: F811
    job = yaml.safe_load(readme_block("# .gitlab-ci.yml"))["imglint"]  # one job: JUnit too
    assert job["artifacts"]["when"] == "always"
    (command,) = imglint_runs("\n".join(job["script"]))
    result = sh(command, checkout, env)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")
    report = checkout / job["artifacts"]["reports"]["codequality"]
    issues = json.loads(report.read_text())
    jsonschema.Draft7Validator(GITLAB_CODE_QUALITY).validate(issues)
    assert [
        (i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
        for i in issues
    ] == [
        ("IMG003", "major", "k8s/bad.yaml", 11),
        ("IMG002", "major", "k8s/bad.yaml", 14),
        ("IMG004", "minor", "k8s/bad.yaml", 14),
    ]


def test_the_github_action_recipe(tmp_path: Path) -> None:
    """The README's workflow with the action: its inputs are the action's, the upload reads the
    file the action writes and runs when findings fail the step; those inputs, given to the
    action's step on a simulated runner, give the annotations, the SARIF and the summary."""
    from tests.test_github_action import ACTION, Runner, sarif_valid

    workflow = yaml.safe_load(
        readme_block("# .github/workflows/imglint.yml, with the imglint action")
    )
    job = workflow["jobs"]["imglint"]
    assert job["permissions"]["security-events"] == "write"
    (action,) = (s for s in job["steps"] if s.get("uses", "").startswith("imglint/imglint@"))
    assert action["uses"] == "imglint/imglint@v0.1.0"
    inputs = action.get("with", {})
    assert set(inputs) <= set(ACTION["inputs"])
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action"))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["if"] == "success() || failure()"
    sarif_file = inputs.get("sarif-file", ACTION["inputs"]["sarif-file"]["default"])
    assert upload["with"]["sarif_file"] == sarif_file

    workspace = tmp_path / "workspace"
    shutil.copytree(USER_REPO, workspace)
    (workspace / ".imglint.yaml").unlink()
    runner = Runner(workspace)
    result = runner.step(**{name.replace("-", "_"): str(value) for name, value in inputs.items()})
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 3  # the three findings of k8s/bad.yaml
    log = sarif_valid(workspace / sarif_file)
    assert len(log["runs"][0]["results"]) == 3
    assert "### Findings per rule" in runner.summary.read_text()
