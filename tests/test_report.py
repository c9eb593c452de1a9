"""Output formats: golden files for text, json, github and junit, schema validation for SARIF,
and the escaping edge cases each format must get right.

Golden files live in tests/fixtures/report/. After an intended output change, regenerate them
with

    IMGLINT_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_report.py

and review the diff before committing.
"""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from imglint import __version__, records
from imglint.context import Context
from imglint.findings import Finding, InputError, Severity, Span, UnusedSuppression
from imglint.reference import InvalidReference, parse
from imglint.registry.model import RegistrySummary
from imglint.report import (
    FORMATS,
    Report,
    render,
    render_inventory,
    rule_counts,
)
from imglint.report.common import printable, summary_line
from imglint.report.github import escape_data, escape_property
from imglint.report.sarif import artifact_uri, cap, full_description
from imglint.rules import Rule
from imglint.sites import ImageSite, K8sObject, PullSecretHolder

GOLDEN = Path(__file__).parent / "fixtures" / "report"
# The OASIS SARIF 2.1.0 schema, kept in the repository so the suite runs on any machine.
SARIF_SCHEMA_FILE = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"
REGEN = os.environ.get("IMGLINT_REGEN_GOLDEN") == "1"


def _no_check(site: ImageSite, ctx: Context) -> Iterable[str]:
    return ()


def make_rule(code: str, name: str, severity: Severity, doc: str) -> Rule:
    return Rule(
        code=code,
        name=name,
        severity=severity,
        default_enabled=True,
        needs_registry=False,
        doc=doc,
        check=_no_check,
    )


RULES = [
    make_rule(
        "IMG002",
        "latest-tag",
        Severity.ERROR,
        """Flags images pinned to the mutable `latest` tag.

## What it does
Reports an image reference whose tag is `latest`.

## Why is this bad?
`latest` moves: two nodes can run different images.

## Example
```yaml
image: nginx:latest
```

## Use instead
```yaml
image: nginx:1.25.3
```
""",
    ),
    make_rule(
        "IMG004",
        "implicit-registry",
        Severity.WARNING,
        "Flags images that silently come from Docker Hub.\n\nNo registry is named, so the"
        " runtime pulls from docker.io.\n",
    ),
    make_rule("IMG005", "unpinned-image", Severity.INFO, ""),
]


def span(line: int, column: int, length: int, end_line: int | None = None) -> Span:
    return Span(line, column, end_line or line, column + length, 0, length)


def finding(
    code: str,
    severity: Severity,
    message: str,
    path: str,
    where: Span,
    image: str | None,
    kind: str | None = "Deployment",
    namespace: str | None = "prod",
    obj: str | None = "web",
    container: str | None = "app",
) -> Finding:
    names = {"IMG002": "latest-tag", "IMG004": "implicit-registry", "IMG005": "unpinned-image"}
    return Finding(
        code=code,
        name=names.get(code, "unknown-rule"),
        severity=severity,
        message=message,
        path=path,
        span=where,
        image=image,
        kind=kind,
        namespace=namespace,
        object=obj,
        container=container,
    )


def mixed_report() -> Report:
    """A bit of everything, including the awkward characters each format must escape."""
    findings = [
        finding(
            "IMG002",
            Severity.ERROR,
            'image "nginx:latest" uses the latest tag',
            "k8s/web.yaml",
            span(12, 16, 12),
            "nginx:latest",
        ),
        finding(
            "IMG004",
            Severity.WARNING,
            "image nginx:latest comes from Docker Hub (docker.io/library/nginx:latest)",
            "k8s/web.yaml",
            span(12, 16, 12),
            "nginx:latest",
        ),
        finding(
            "IMG002",
            Severity.ERROR,
            "100% latest, twice: a, b\nsecond line\r\nthird",
            "my charts/ünïcode app.yaml",
            span(3, 14, 8),
            "app:latest",
            kind="CronJob",
            namespace=None,
            obj="nightly",
            container="job,main",
        ),
        finding(
            "IMG005",
            Severity.INFO,
            "image is not pinned by digest \x1b[31mred\x1b[0m",
            "./k8s/worker.yaml",
            span(7, 5, 20, end_line=8),
            "redis:7",
            kind=None,
            namespace=None,
            obj=None,
            container=None,
        ),
    ]
    return Report(
        findings=findings,
        errors=[
            InputError(
                "k8s/broken.yaml", "could not parse YAML: mapping values are not allowed", 4, 9
            ),
            InputError("k8s/chart/templates/deploy.yaml", "a Helm template; pipe `helm template`"),
        ],
        files_checked=12,
        images_checked=40,
        rules=RULES,
        fail_on=Severity.ERROR,
        notices=["skipped chart templates in k8s/chart/templates (pipe `helm template` output)"],
        registry=RegistrySummary(
            images=3,
            answers=3,
            found=2,
            missing=1,
            refused=0,
            unreachable=0,
            from_cache=1,
            requests=5,
            seconds=0.4,
            rate_limit_left=(("registry-1.docker.io", "76;w=21600"),),
        ),
        unused_suppressions=[UnusedSuppression("k8s/web.yaml", 20, ("IMG004",), 5)],
    )


def clean_report() -> Report:
    return Report(
        findings=[],
        errors=[],
        files_checked=1,
        images_checked=1,
        rules=RULES,
        fail_on=Severity.ERROR,
    )


def rendered(fmt: str, report: Report, **options: bool) -> str:
    out = io.StringIO()
    render(fmt, report, out, **options)
    return out.getvalue()


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"missing golden file {path}; run with IMGLINT_REGEN_GOLDEN=1"
    assert actual == path.read_bytes().decode("utf-8")


GOLDEN_CASES = [
    ("text", "mixed.txt", mixed_report, {}),
    ("text", "clean.txt", clean_report, {}),
    ("text", "mixed.statistics.txt", mixed_report, {"statistics": True}),
    ("json", "mixed.json", mixed_report, {}),
    ("json", "clean.json", clean_report, {}),
    ("json", "mixed.statistics.json", mixed_report, {"statistics": True}),
    ("github", "mixed.github.txt", mixed_report, {}),
    ("github", "clean.github.txt", clean_report, {}),
    ("junit", "mixed.junit.xml", mixed_report, {}),
    ("junit", "clean.junit.xml", clean_report, {}),
    ("sarif", "mixed.sarif", mixed_report, {}),
]


@pytest.mark.parametrize(
    ("fmt", "golden", "make", "options"), GOLDEN_CASES, ids=[c[1] for c in GOLDEN_CASES]
)
def test_golden(fmt: str, golden: str, make: Any, options: dict[str, bool]) -> None:
    check_golden(golden, rendered(fmt, make(), **options))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic(fmt: str) -> None:
    assert rendered(fmt, mixed_report()) == rendered(fmt, mixed_report())


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        render("yaml", clean_report(), io.StringIO())


def test_exit_code() -> None:
    report = mixed_report()
    assert report.exit_code == 2  # input errors win
    report.errors = []
    assert report.exit_code == 1
    report.findings = [f for f in report.findings if f.severity < Severity.ERROR]
    assert report.exit_code == 0
    report.fail_on = Severity.INFO
    assert report.exit_code == 1
    assert clean_report().exit_code == 0


# --- text -----------------------------------------------------------------------------------


def test_summary_lines() -> None:
    assert summary_line(clean_report()) == "All checks passed (1 file, 1 image)"
    assert summary_line(mixed_report()) == (
        "4 findings (2 errors, 1 warning, 1 info) in 12 files, 40 images; 2 input errors"
    )
    only_errors = mixed_report()
    only_errors.findings = []
    only_errors.errors = only_errors.errors[:1]
    assert summary_line(only_errors) == "No findings in 12 files, 40 images; 1 input error"


def test_text_finding_line() -> None:
    first = rendered("text", mixed_report()).splitlines()[0]
    assert first == (
        'k8s/web.yaml:12:16: IMG002 [error] image "nginx:latest" uses the latest tag'
        " (Deployment prod/web, container app)"
    )


def test_text_color_only_when_asked() -> None:
    plain = rendered("text", mixed_report())
    colored = rendered("text", mixed_report(), color=True)
    assert "\x1b" not in plain  # the message's own escape codes are shown, not sent
    assert colored.splitlines()[0] == (
        "\x1b[1mk8s/web.yaml\x1b[0m\x1b[2m:12\x1b[0m\x1b[2m:16\x1b[0m: \x1b[1m\x1b[31mIMG002\x1b[0m"
        ' \x1b[31m[error]\x1b[0m image "nginx:latest" uses the latest tag'
        " \x1b[2m(Deployment prod/web, container app)\x1b[0m"
    )
    assert colored.splitlines()[-1] == (
        "\x1b[1m\x1b[31m4 findings (2 errors, 1 warning, 1 info) in 12 files, 40 images;"
        " 2 input errors\x1b[0m"
    )
    assert rendered("text", clean_report(), color=True) == (
        "\x1b[1m\x1b[32mAll checks passed (1 file, 1 image)\x1b[0m\n"
    )


def test_text_keeps_hostile_values_on_one_line() -> None:
    text = rendered("text", mixed_report())
    lines = text.splitlines()
    assert (
        "my charts/ünïcode app.yaml:3:14: IMG002 [error] 100% latest, twice: a, b\\nsecond line"
        "\\r\\nthird (CronJob nightly, container job,main)"
    ) in lines
    assert (
        "./k8s/worker.yaml:7:5: IMG005 [info] image is not pinned by digest \\x1b[31mred\\x1b[0m"
        in lines
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain ünïcode 日本 ✓", "plain ünïcode 日本 ✓"),
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x1b[2J\x07\x00\x7f\x85", "\\x1b[2J\\x07\\x00\\x7f\\x85"),
        ("bad-\udcff-byte", "bad-\\xff-byte"),
        ("lone \ud800", "lone \\ud800"),
        ("rtl \u202eevil\u202c", "rtl \\u202eevil\\u202c"),
        ("nul \U000e0001 tag", "nul \\U000e0001 tag"),
        ("no-break\xa0space", "no-break\\xa0space"),
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_keeps_what_it_is_told() -> None:
    assert printable("a\nb\x1b\n\r\n", keep="\n") == "a\nb\\x1b\n\\r\n"
    assert printable("\n\n", keep="\r\n") == "\n\n"


def test_statistics() -> None:
    counts = rule_counts(mixed_report().findings)
    assert [(c.code, c.count, c.severity) for c in counts] == [
        ("IMG002", 2, Severity.ERROR),
        ("IMG004", 1, Severity.WARNING),
        ("IMG005", 1, Severity.INFO),
    ]


# --- json -----------------------------------------------------------------------------------


def test_json_finding_keys_and_values() -> None:
    document = json.loads(rendered("json", mixed_report()))
    assert list(document) == [
        "schema_version",
        "findings",
        "errors",
        "unused_suppressions",
        "notices",
        "summary",
    ]
    assert document["findings"][2] == {
        "code": "IMG002",
        "name": "latest-tag",
        "severity": "error",
        "path": "my charts/ünïcode app.yaml",
        "line": 3,
        "column": 14,
        "end_line": 3,
        "end_column": 22,
        "image": "app:latest",
        "message": "100% latest, twice: a, b\nsecond line\r\nthird",
        "kind": "CronJob",
        "namespace": None,
        "object": "nightly",
        "container": "job,main",
        "label": None,
    }
    assert document["summary"] == {
        "files": 12,
        "images": 40,
        "placeholders": 0,
        "findings": 4,
        "by_severity": {"error": 2, "warning": 1, "info": 1},
        "input_errors": 2,
        "fail_on": "error",
        "exit_code": 2,
        "registry": {
            "images": 3,
            "answers": 3,
            "found": 2,
            "missing": 1,
            "refused": 0,
            "unreachable": 0,
            "from_cache": 1,
            "requests": 5,
            "seconds": 0.4,
            "rate_limit_left": [
                {
                    "host": "registry-1.docker.io",
                    "remaining": 76,
                    "window_seconds": 21600,
                    "header": "76;w=21600",
                }
            ],
            "build_time_unknown": None,
        },
    }
    assert document["schema_version"] == 2
    assert document["errors"][1] == {
        "path": "k8s/chart/templates/deploy.yaml",
        "line": None,
        "column": None,
        "message": "a Helm template; pipe `helm template`",
    }


def test_json_is_ascii_and_omits_unused_suppressions_when_not_asked() -> None:
    text = rendered("json", mixed_report())
    assert text.isascii()
    assert "\\u00fcn\\u00efcode" in text
    assert "unused_suppressions" not in json.loads(rendered("json", clean_report()))


# --- sarif ----------------------------------------------------------------------------------


def sarif(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(rendered("sarif", report))
    return document


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@pytest.mark.parametrize("make", [mixed_report, clean_report], ids=["mixed", "clean"])
def test_sarif_is_valid(make: Any, sarif_validator: jsonschema.protocols.Validator) -> None:
    errors = sorted(sarif_validator.iter_errors(sarif(make())), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_sarif_driver_and_rules() -> None:
    run = sarif(mixed_report())["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("imglint", __version__)
    assert [r["id"] for r in driver["rules"]] == ["IMG002", "IMG004", "IMG005"]
    latest = driver["rules"][0]
    assert latest["name"] == "latest-tag"
    assert latest["shortDescription"] == {
        "text": "Flags images pinned to the mutable `latest` tag."
    }
    assert latest["fullDescription"] == {
        "text": "Reports an image reference whose tag is `latest`."
    }
    assert latest["help"]["markdown"].startswith("Flags images pinned")
    assert "## Use instead" in latest["help"]["text"]
    assert latest["defaultConfiguration"] == {"level": "error"}
    levels = [r["defaultConfiguration"]["level"] for r in driver["rules"]]
    assert levels == ["error", "warning", "note"]
    # No "What it does" heading: the first paragraph after the summary; no doc: the name.
    assert driver["rules"][1]["fullDescription"]["text"] == (
        "No registry is named, so the runtime pulls from docker.io."
    )
    assert driver["rules"][2]["shortDescription"]["text"] == "unpinned-image"


def test_sarif_results() -> None:
    run = sarif(mixed_report())["runs"][0]
    results = run["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("IMG002", 0, "error"),
        ("IMG004", 1, "warning"),
        ("IMG002", 0, "error"),
        ("IMG005", 2, "note"),
    ]
    assert results[0]["message"]["text"] == (
        'image "nginx:latest" uses the latest tag (Deployment prod/web, container app)'
    )
    assert results[0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "k8s/web.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 16, "endLine": 12, "endColumn": 28},
    }
    assert results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "my%20charts/%C3%BCn%C3%AFcode%20app.yaml"
    )
    assert results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "k8s/worker.yaml"
    )
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_input_errors_are_notifications() -> None:
    invocation = sarif(mixed_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["message"]["text"]) for n in notes] == [
        ("error", "could not parse YAML: mapping values are not allowed"),
        ("error", "a Helm template; pipe `helm template`"),
        ("warning", "unused suppression of IMG004"),
        ("note", "skipped chart templates in k8s/chart/templates (pipe `helm template` output)"),
        (
            "note",
            "3 images in 0.4 s: 2 found, 1 not found "
            "(1 from cache; registry-1.docker.io pulls left: 76 per 6 h)",
        ),
    ]
    assert notes[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4,
        "startColumn": 9,
    }
    assert "region" not in notes[1]["locations"][0]["physicalLocation"]
    clean = sarif(clean_report())["runs"][0]["invocations"][0]
    assert clean == {"executionSuccessful": True}


def test_sarif_fingerprints_survive_line_moves() -> None:
    before = sarif(mixed_report())["runs"][0]["results"]
    moved = mixed_report()
    moved.findings = [records.replace(f, span=span(f.span.line + 10, 1, 3)) for f in moved.findings]
    after = sarif(moved)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]
    prints = [r["partialFingerprints"]["imglint/v1"] for r in before]
    assert len(set(prints)) == len(prints)
    assert all(p.endswith(":1") for p in prints)


def test_sarif_fingerprints_stay_distinct_for_repeats() -> None:
    report = mixed_report()
    report.findings = [report.findings[0], report.findings[0]]
    prints = [r["partialFingerprints"]["imglint/v1"] for r in sarif(report)["runs"][0]["results"]]
    assert prints[0].endswith(":1") and prints[1].endswith(":2")
    assert prints[0][:-2] == prints[1][:-2]


@pytest.mark.parametrize(
    ("path", "uri", "base"),
    [
        ("k8s/app.yaml", "k8s/app.yaml", "%SRCROOT%"),
        ("./k8s/app.yaml", "k8s/app.yaml", "%SRCROOT%"),
        ("a dir/b#c?d%e.yaml", "a%20dir/b%23c%3Fd%25e.yaml", "%SRCROOT%"),
        ("c:d.yaml", "c%3Ad.yaml", "%SRCROOT%"),
        ("-", "-", "%SRCROOT%"),
        ("/abs/my app.yaml", "file:///abs/my%20app.yaml", None),
        ("bad-\udcff.yaml", "bad-%FF.yaml", "%SRCROOT%"),
    ],
)
def test_sarif_artifact_uri(path: str, uri: str, base: str | None) -> None:
    assert artifact_uri(path) == (uri, base)


def test_descriptions_are_capped_for_github() -> None:
    assert cap("short") == "short"
    long = "word " * 300
    capped = cap(long)
    assert len(capped) <= 1024
    assert capped.endswith("word\u2026")
    assert cap("x" * 2000) == "x" * 1023 + "\u2026"


def test_full_description_fallbacks() -> None:
    assert full_description("Summary.\n\n### What it does:\nOne\ntwo.\n\nMore.\n## Why\nx") == (
        "One two."
    )
    assert full_description("Summary only.") == ""


# --- github ---------------------------------------------------------------------------------


def test_github_escaping() -> None:
    assert escape_data("100% a:b, c\r\nd") == "100%25 a:b, c%0D%0Ad"
    assert escape_property("dir, x/a:b%.yaml\n") == "dir%2C x/a%3Ab%25.yaml%0A"
    # A manifest cannot start a second workflow command or send terminal codes.
    assert escape_data("x\n::error::forged\x1b[0m") == "x%0A::error::forged\\x1b[0m"


def test_github_lines() -> None:
    lines = rendered("github", mixed_report()).splitlines()
    assert lines[0] == (
        "::error file=k8s/web.yaml,line=12,col=16,endLine=12,endColumn=28,title=IMG002 latest-tag"
        '::image "nginx:latest" uses the latest tag (Deployment prod/web, container app)'
    )
    assert lines[2] == (
        "::error file=my charts/ünïcode app.yaml,line=3,col=14,endLine=3,endColumn=22,"
        "title=IMG002 latest-tag::100%25 latest, twice: a, b%0Asecond line%0D%0Athird"
        " (CronJob nightly, container job,main)"
    )
    # Spans over two lines carry no columns; info findings are notices.
    assert lines[3].startswith("::notice file=./k8s/worker.yaml,line=7,endLine=8,title=IMG005 ")
    assert lines[4] == (
        "::error file=k8s/broken.yaml,line=4,col=9,title=imglint input error"
        "::could not parse YAML: mapping values are not allowed"
    )
    assert lines[5] == (
        "::error file=k8s/chart/templates/deploy.yaml,title=imglint input error"
        "::a Helm template; pipe `helm template`"
    )


# --- junit ----------------------------------------------------------------------------------


def test_junit_structure() -> None:
    root = ET.fromstring(rendered("junit", mixed_report()))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.attrib == {
        "name": "imglint",
        "tests": "6",
        "failures": "2",
        "errors": "2",
        "skipped": "0",
    }
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("k8s/web.yaml", "IMG002 latest-tag: Deployment prod/web, container app"),
        ("k8s/web.yaml", "IMG004 implicit-registry: Deployment prod/web, container app"),
        ("my charts/ünïcode app.yaml", "IMG002 latest-tag: CronJob nightly, container job,main"),
        ("./k8s/worker.yaml", "IMG005 unpinned-image: redis:7"),
        ("k8s/broken.yaml", "input error"),
        ("k8s/chart/templates/deploy.yaml", "input error"),
    ]
    # Below fail-on: a passing case that still carries the finding.
    assert cases[1].find("failure") is None
    assert cases[1].findtext("system-out", "").startswith("k8s/web.yaml:12:16: IMG004 [warning]")
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("type") == "IMG002"
    assert failure.get("message") == (
        "100% latest, twice: a, b\\nsecond line\\r\\nthird (CronJob nightly, container job,main)"
    )
    assert failure.text == (
        "my charts/ünïcode app.yaml:3:14: IMG002 [error] 100% latest, twice: a, b\nsecond line\n"
        "third (CronJob nightly, container job,main)\nimage: app:latest\n"
        "IMG002 latest-tag: Flags images pinned to the mutable `latest` tag."
    )
    error = cases[4].find("error")
    assert error is not None
    assert error.text == "k8s/broken.yaml:4:9: could not parse YAML: mapping values are not allowed"


def test_junit_duplicate_names_are_numbered() -> None:
    report = mixed_report()
    report.findings = [report.findings[0]] * 3
    report.errors = []
    cases = ET.fromstring(rendered("junit", report)).iter("testcase")
    assert [c.get("name") for c in cases] == [
        "IMG002 latest-tag: Deployment prod/web, container app",
        "IMG002 latest-tag: Deployment prod/web, container app #2",
        "IMG002 latest-tag: Deployment prod/web, container app #3",
    ]


def test_junit_survives_characters_xml_forbids() -> None:
    report = clean_report()
    report.findings = [
        finding(
            "IMG002",
            Severity.ERROR,
            'nul\x00 esc\x1b <tag attr="x"> & \ufffe \udcff ok',
            "odd\x01<>&\"'.yaml",
            span(1, 1, 1),
            "a\x00b",
        )
    ]
    text = rendered("junit", report)
    assert text.isascii()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "odd\\x01<>&\"'.yaml"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        'nul\\x00 esc\\x1b <tag attr="x"> & \\ufffe \\xff ok (Deployment prod/web, container app)'
    )


def test_junit_clean_run_has_one_passing_case() -> None:
    root = ET.fromstring(rendered("junit", clean_report()))
    cases = list(root.iter("testcase"))
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("imglint", "all checks passed")
    ]
    assert cases[0].findtext("system-out") == "All checks passed (1 file, 1 image)"


# --- inventory ------------------------------------------------------------------------------


def site(
    image: str,
    line: int,
    *,
    path: str = "k8s/web.yaml",
    kind: str = "Deployment",
    namespace: str | None = "prod",
    name: str | None = "web",
    container: str | None = "app",
    field: str = "containers",
    pull_policy: str | None = None,
    placeholder: str | None = None,
) -> ImageSite:
    obj = K8sObject(kind, "apps/v1", name, namespace, {}, path, 1)
    result = ImageSite(
        path=path,
        span=span(line, 14, len(image)),
        image=image,
        holder=PullSecretHolder(obj, [], None, 1),
        container=container,
        field=field,
        pull_policy=pull_policy,
    )
    if placeholder is not None:
        result.placeholder = placeholder
        return result
    try:
        result.reference = parse(image)
    except InvalidReference as exc:
        result.error = exc.reason
    return result


def inventory_sites() -> list[ImageSite]:
    return [
        site("nginx", 10),
        site(
            "ghcr.io/acme/init:1.2@sha256:" + "a" * 64, 14, container="init", field="initContainers"
        ),
        site("Bad:Tag", 18, container="debug", field="ephemeralContainers"),
        site("registry.example.com:5000/team/data:v1", 22, container="data", field="volumes"),
        site(
            "{{ .Values.image }}",
            3,
            path="other dir/pod.yaml",
            kind="Pod",
            namespace=None,
            name="solo",
            container="c",
            placeholder="template placeholder",
            pull_policy="IfNotPresent",
        ),
    ]


def inventory(fmt: str, sites: list[ImageSite]) -> str:
    out = io.StringIO()
    render_inventory(fmt, sites, out)
    return out.getvalue()


def test_inventory_golden() -> None:
    check_golden("inventory.txt", inventory("text", inventory_sites()))
    check_golden("inventory.json", inventory("json", inventory_sites()))


def test_inventory_text_lines() -> None:
    lines = inventory("text", inventory_sites()).splitlines()
    assert lines[0] == (
        "k8s/web.yaml:10:14       Deployment prod/web  container app             "
        "docker.io/library/nginx"
    )
    assert lines[2].endswith(
        "Bad:Tag (invalid: invalid reference format: repository name (library/Bad) must be"
        " lowercase)"
    )
    assert lines[4].endswith("{{ .Values.image }} (template placeholder, not checked)")
    assert inventory("text", []) == ""


def test_inventory_json_entries() -> None:
    images = json.loads(inventory("json", inventory_sites()))["images"]
    assert images[0] == {
        "path": "k8s/web.yaml",
        "line": 10,
        "column": 14,
        "end_line": 10,
        "end_column": 19,
        "image": "nginx",
        "valid": True,
        "normalized": "docker.io/library/nginx",
        "registry": "docker.io",
        "repository": "library/nginx",
        "tag": None,
        "digest": None,
        "error": None,
        "placeholder": None,
        "value_line": None,
        "kind": "Deployment",
        "namespace": "prod",
        "name": "web",
        "generate_name": None,
        "container": "app",
        "field": "containers",
        "pull_policy": None,
        "source": "pod",
        "field_path": "",  # the factory's sites say no path
        "label": None,
    }
    invalid = images[2]
    assert (invalid["valid"], invalid["registry"], invalid["repository"], invalid["error"]) == (
        False,
        None,
        None,
        "invalid reference format: repository name (library/Bad) must be lowercase",
    )
    assert images[1]["digest"] == "sha256:" + "a" * 64
    assert images[1]["tag"] == "1.2"
    assert images[3]["registry"] == "registry.example.com:5000"
    assert images[4]["valid"] is False
    assert images[4]["placeholder"] == "template placeholder"


def test_inventory_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown inventory format 'sarif'"):
        render_inventory("sarif", [], io.StringIO())
