"""The README's CI recipes that are not pre-commit's: GitLab Code Quality, run for real as
tests/test_precommit.py runs the others (the README block's imglint command, on the fixture
repository, its report checked against what GitLab reads)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from tests.test_precommit import checkout, env, imglint_runs, readme_block, sh  # noqa: F401
from tests.test_report_ci import GITLAB_CODE_QUALITY


def test_the_gitlab_code_quality_job(checkout: Path, env: dict[str, str]) -> None:  # noqa: F811
    job = yaml.safe_load(readme_block("# .gitlab-ci.yml, Code Quality"))["imglint"]
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
