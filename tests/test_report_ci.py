"""The CI formats' integrations: GitLab Code Quality (`--format gitlab`) and what GitHub code
scanning reads from SARIF beyond the schema (help links, tags, security severities).

Golden files are in tests/fixtures/report/ (regenerate as tests/test_report.py says).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from imglint import __version__, records, rules
from imglint.findings import Finding, InputError, Severity, UnusedSuppression
from imglint.report import Report
from tests.test_report import (
    SARIF_SCHEMA_FILE,
    check_golden,
    clean_report,
    finding,
    mixed_report,
    rendered,
    span,
)

ROOT = Path(__file__).resolve().parents[1]

# What GitLab reads of a Code Quality report, as its documentation lists it ("Code Quality report
# format"): an array of issues, each with these fields; severity one of GitLab's five.
GITLAB_CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^(/|\\./)"}},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def gitlab(report: Report) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = json.loads(rendered("gitlab", report))
    jsonschema.Draft7Validator(GITLAB_CODE_QUALITY).validate(issues)
    return issues


# --- GitLab Code Quality -----------------------------------------------------------------------


def test_gitlab_golden() -> None:
    check_golden("mixed.gitlab.json", rendered("gitlab", mixed_report()))
    check_golden("clean.gitlab.json", rendered("gitlab", clean_report()))
    assert rendered("gitlab", clean_report()) == "[]\n"


def test_gitlab_issues() -> None:
    issues = gitlab(mixed_report())
    assert [(i["check_name"], i["severity"], i["location"]["path"]) for i in issues] == [
        ("IMG002", "major", "k8s/web.yaml"),
        ("IMG004", "minor", "k8s/web.yaml"),
        ("IMG002", "major", "my charts/ünïcode app.yaml"),
        ("IMG005", "info", "k8s/worker.yaml"),  # `./` dropped: GitLab wants the repository path
        ("imglint/input-error", "critical", "k8s/broken.yaml"),
        ("imglint/input-error", "critical", "k8s/chart/templates/deploy.yaml"),
        ("imglint/unused-suppression", "minor", "k8s/web.yaml"),
    ]
    first = issues[0]
    assert first["description"] == (
        'IMG002 latest-tag: image "nginx:latest" uses the latest tag '
        "(Deployment prod/web, container app)"
    )
    assert first["location"]["lines"] == {"begin": 12, "end": 12}
    assert issues[3]["location"]["lines"] == {"begin": 7, "end": 8}
    # Control characters shown, never passed on (a newline would split the widget's line).
    assert "\x1b" not in issues[3]["description"] and "\\x1b[31m" in issues[3]["description"]
    assert "\n" not in issues[2]["description"]
    # An error with no line points at the file's first line: the format needs one.
    assert issues[5]["location"]["lines"]["begin"] == 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def moved(report: Report, lines: int) -> Report:
    report.findings = [
        records.replace(f, span=span(f.span.line + lines, 1, 3)) for f in report.findings
    ]
    report.errors = [
        InputError(e.path, e.message, None if e.line is None else e.line + lines, e.column)
        for e in report.errors
    ]
    report.unused_suppressions = [
        UnusedSuppression(u.path, u.line + lines, u.codes, u.column)
        for u in report.unused_suppressions or ()
    ]
    return report


def test_gitlab_fingerprints_survive_line_moves() -> None:
    before = [i["fingerprint"] for i in gitlab(mixed_report())]
    after = [i["fingerprint"] for i in gitlab(moved(mixed_report(), 10))]
    assert before == after


def test_gitlab_fingerprint_is_the_baseline_identity() -> None:
    """Matched as a baseline matches: the same file however it was named, the same object,
    container and rule; a change to any of them is a new finding."""
    base = finding("IMG002", Severity.ERROR, "m", "k8s/web.yaml", span(3, 1, 5), "nginx:latest")

    def print_of(f: Finding) -> str:
        report = clean_report()
        report.findings = [f]
        return str(gitlab(report)[0]["fingerprint"])

    same = [
        records.replace(base, path="./k8s/web.yaml"),
        records.replace(base, path="k8s//web.yaml"),
        records.replace(base, message="another wording", image="nginx:latest@x"),
    ]
    assert {print_of(f) for f in same} == {print_of(base)}
    different = [
        records.replace(base, path="k8s/api.yaml"),
        records.replace(base, object="api"),
        records.replace(base, container="sidecar"),
        records.replace(base, code="IMG003"),
    ]
    prints = [print_of(f) for f in different]
    assert print_of(base) not in prints and len(set(prints)) == len(prints)


def test_gitlab_fingerprints_stay_distinct_for_repeats() -> None:
    """GitLab shows one finding per fingerprint: two alike findings need two."""
    report = mixed_report()
    report.findings = [report.findings[0], report.findings[0]]
    report.errors, report.unused_suppressions = [], None
    first, second = (i["fingerprint"] for i in gitlab(report))
    assert first != second


def test_gitlab_security_category_follows_the_rules() -> None:
    report = clean_report()
    report.rules = list(rules.RULES)
    report.findings = [
        finding("IMG008", Severity.ERROR, "m", "a.yaml", span(1, 1, 1), "quay.io/x:1"),
        finding("IMG002", Severity.ERROR, "m", "a.yaml", span(2, 1, 1), "x:latest"),
    ]
    assert [i["categories"] for i in gitlab(report)] == [["Security"], ["Bug Risk"]]


def test_gitlab_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n"
        "spec:\n  containers:\n    - {name: app, image: 'nginx:latest'}\n"
    )
    (tmp_path / "k8s" / "broken.yaml").write_text("a: [\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "imglint", *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)

    result = run("--format", "gitlab", "k8s")
    assert (result.returncode, result.stderr) == (2, "")
    issues = json.loads(result.stdout)
    jsonschema.Draft7Validator(GITLAB_CODE_QUALITY).validate(issues)
    assert [(i["check_name"], i["location"]["path"]) for i in issues] == [
        ("IMG002", "k8s/pod.yaml"),
        ("IMG004", "k8s/pod.yaml"),
        ("imglint/input-error", "k8s/broken.yaml"),
    ]
    statistics = run("--format", "gitlab", "--statistics", "k8s")
    assert statistics.returncode == 2
    assert "--statistics works with --format text or json, not gitlab" in statistics.stderr


# --- SARIF for GitHub code scanning ------------------------------------------------------------


def all_rules_sarif() -> dict[str, Any]:
    report = clean_report()
    report.rules = list(rules.RULES)
    document: dict[str, Any] = json.loads(rendered("sarif", report))
    return document


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation but `-` and `_`
    dropped, spaces as `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_sarif_rules_link_to_their_documentation() -> None:
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    anchors = {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", doc, re.MULTILINE)}
    descriptors = all_rules_sarif()["runs"][0]["tool"]["driver"]["rules"]
    assert len(descriptors) == len(rules.RULES)
    prefix = f"https://github.com/imglint/imglint/blob/v{__version__}/docs/rules.md#"
    for descriptor in descriptors:
        uri = descriptor["helpUri"]
        assert uri.startswith(prefix), uri
        assert uri.removeprefix(prefix) in anchors, f"{uri}: no such heading in docs/rules.md"
    assert descriptors[1]["helpUri"] == prefix + "img002-latest-tag"


def test_sarif_security_is_only_on_supply_chain_rules() -> None:
    descriptors = all_rules_sarif()["runs"][0]["tool"]["driver"]["rules"]
    security = {
        d["id"]: d["properties"]["security-severity"]
        for d in descriptors
        if "security" in d["properties"]["tags"]
    }
    # unpinned-image (medium) and disallowed-registry (high): see docs/rules.md for why only they.
    assert security == {"IMG005": "5.0", "IMG008": "7.5"}
    for descriptor in descriptors:
        tags = descriptor["properties"]["tags"]
        assert tags[:2] == ["kubernetes", "container-image"]
        assert len(set(tags)) == len(tags)
        # GitHub reads security-severity only on rules tagged security: none elsewhere.
        assert ("security-severity" in descriptor["properties"]) == ("security" in tags)
        assert ("registry" in tags) == rules.BY_CODE[descriptor["id"]].needs_registry
        score = descriptor["properties"].get("security-severity")
        if score is not None:
            assert 0.0 < float(score) <= 10.0


def test_sarif_of_every_rule_is_valid() -> None:
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    report = mixed_report()
    report.rules = list(rules.RULES)
    for document in (all_rules_sarif(), json.loads(rendered("sarif", report))):
        errors = jsonschema.Draft4Validator(schema).iter_errors(document)
        assert [f"{list(e.path)}: {e.message}" for e in errors] == []


@pytest.mark.parametrize("code", ["IMG005", "IMG008"])
def test_security_rules_say_so_in_their_docs(code: str) -> None:
    rule = rules.BY_CODE[code]
    assert "supply-chain security" in rules.render_explain(rule).splitlines()[0]
    assert "Rules marked *security* report supply-chain risks" in rules.render_markdown()
