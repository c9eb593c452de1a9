"""Baselines: `--write-baseline FILE` records today's findings, `--baseline FILE` hides them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from imglint import baseline
from imglint.findings import Finding, Severity, Span
from tests.cli_runner import SHOP_WEB, run, shop_repository

WEB_ENTRIES = [
    {
        "path": "k8s/web.yaml",
        "kind": "Deployment",
        "namespace": "shop",
        "object": "web",
        "container": "web",
        "code": code,
    }
    for code in ("IMG002", "IMG004")
]


@pytest.fixture(autouse=True)
def _repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one manifest, as the working directory (no configuration file)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    shop_repository(tmp_path)
    return tmp_path


def write_baseline(capsys: pytest.CaptureFixture[str], *paths: str) -> None:
    code, out, _ = run(["--write-baseline", "baseline.json", *(paths or ("k8s",))], capsys)
    assert (code, out) == (0, "")


# -- writing -------------------------------------------------------------------------------------


def test_write_baseline_records_findings_and_exits_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["--write-baseline", "baseline.json", "k8s"], capsys)
    assert code == 0
    assert out == ""
    assert err == "imglint: wrote 2 findings to baseline.json\n"
    document = json.loads(Path("baseline.json").read_text())
    assert document == {"imglint-baseline": 1, "findings": WEB_ENTRIES}


def test_write_baseline_with_an_unreadable_file_exits_two_and_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("k8s/broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    code, out, err = run(["--write-baseline", "baseline.json", "k8s"], capsys)
    assert code == 2
    assert out == ""
    assert err == (
        "imglint: error: k8s/broken.yaml:4:1: YAML: did not find expected node content\n"
        "imglint: wrote 2 findings to baseline.json\n"
    )
    # What could be read is recorded all the same.
    assert json.loads(Path("baseline.json").read_text())["findings"] == WEB_ENTRIES


def test_write_baseline_to_a_missing_folder_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["--write-baseline", "no/such/dir/baseline.json", "k8s"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "imglint: error: cannot write baseline no/such/dir/baseline.json: "
        "No such file or directory\n"
    )


def test_write_baseline_of_a_clean_repository_is_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("k8s/web.yaml").write_text(
        SHOP_WEB.replace("nginx:latest", "docker.io/library/nginx:1.27")
    )
    code, _, err = run(["--write-baseline", "baseline.json", "k8s"], capsys)
    assert code == 0
    assert err == "imglint: wrote 0 findings to baseline.json\n"
    assert json.loads(Path("baseline.json").read_text()) == {"imglint-baseline": 1, "findings": []}


# -- reading and filtering -----------------------------------------------------------------------


def test_recorded_findings_are_hidden_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    code, out, err = run(["--baseline", "baseline.json", "k8s"], capsys)
    assert (code, err) == (0, "")
    assert out == (
        "note: 2 findings recorded in baseline baseline.json not shown\n"
        "All checks passed (1 file, 2 images)\n"
    )


def test_json_output_carries_the_note(capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    code, out, _ = run(["--baseline", "baseline.json", "--format", "json", "k8s"], capsys)
    report = json.loads(out)
    assert code == 0
    assert report["findings"] == []
    assert report["notices"] == ["2 findings recorded in baseline baseline.json not shown"]


def test_edits_elsewhere_in_the_file_do_not_resurface_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_baseline(capsys)
    edited = (
        "# Owned by the shop team.\n"
        + SHOP_WEB.replace(
            "  namespace: shop\n",
            "  namespace: shop\n  labels:\n    app: web\n    tier: frontend\n",
        )
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
    )
    Path("k8s/web.yaml").write_text(edited)
    code, out, _ = run(["--baseline", "baseline.json", "k8s"], capsys)
    assert code == 0
    assert out.endswith("All checks passed (1 file, 2 images)\n")


def test_a_new_finding_in_the_same_container_shows(capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    # nginx:latest (IMG002, IMG004) becomes nginx (IMG003, IMG004): IMG004 was known, IMG003 is new.
    Path("k8s/web.yaml").write_text(SHOP_WEB.replace("nginx:latest", "nginx"))
    code, out, _ = run(["--baseline", "baseline.json", "k8s"], capsys)
    assert code == 1
    assert out.splitlines() == [
        'k8s/web.yaml:11:18: IMG003 [error] image "nginx" has no tag, so the runtime pulls '
        '"latest": pin a version tag or a digest (Deployment shop/web, container web)',
        "note: 1 finding recorded in baseline baseline.json not shown",
        "1 finding (1 error) in 1 file, 2 images",
    ]


def test_the_same_finding_in_another_container_shows(capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    Path("k8s/web.yaml").write_text(
        SHOP_WEB.replace("ghcr.io/acme/sidecar:1.0", "ghcr.io/acme/sidecar")
    )
    code, out, _ = run(["--baseline", "baseline.json", "--format", "json", "k8s"], capsys)
    assert code == 1
    shown = [(f["code"], f["container"], f["line"]) for f in json.loads(out)["findings"]]
    assert shown == [("IMG003", "sidecar", 13)]


def test_each_recorded_finding_absorbs_one_current_finding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A count, not a set: the same key twice (here a duplicated document) shows the second."""
    write_baseline(capsys)
    Path("k8s/web.yaml").write_text(SHOP_WEB + "---\n" + SHOP_WEB)
    code, out, _ = run(["--baseline", "baseline.json", "--format", "json", "k8s"], capsys)
    assert code == 1
    shown = [(f["code"], f["line"]) for f in json.loads(out)["findings"]]
    assert shown == [("IMG002", 25), ("IMG004", 25)]


def test_a_moved_file_is_a_new_file(capsys: pytest.CaptureFixture[str]) -> None:
    """Findings are matched by path: after a rename they show again (write a new baseline)."""
    write_baseline(capsys)
    Path("k8s/web.yaml").rename("k8s/frontend.yaml")
    code, out, _ = run(["--baseline", "baseline.json", "--format", "json", "k8s"], capsys)
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["k8s/frontend.yaml"] * 2


@pytest.mark.parametrize("written_as", ["k8s", "./k8s", "k8s/", "k8s/web.yaml", "ABSOLUTE"])
@pytest.mark.parametrize("read_as", ["k8s", "./k8s/web.yaml", "k8s//web.yaml", "ABSOLUTE"])
def test_the_same_file_matches_however_it_is_named(
    written_as: str, read_as: str, _repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit passes `k8s/web.yaml`; a CI job may run `imglint ./k8s` or an absolute path."""
    absolute = str(_repo / "k8s")
    write_baseline(capsys, written_as.replace("ABSOLUTE", absolute))
    assert json.loads(Path("baseline.json").read_text())["findings"] == WEB_ENTRIES
    code, out, _ = run(
        ["--baseline", "baseline.json", read_as.replace("ABSOLUTE", absolute)], capsys
    )
    assert code == 0, out


def test_write_and_read_the_same_file_updates_the_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refreshing a baseline after fixing some findings: written from scratch, never merged."""
    write_baseline(capsys)
    Path("k8s/web.yaml").write_text(
        SHOP_WEB.replace("nginx:latest", "docker.io/library/nginx:1.27")
    )
    code, _, err = run(
        ["--baseline", "baseline.json", "--write-baseline", "baseline.json", "k8s"], capsys
    )
    assert (code, err) == (0, "imglint: wrote 0 findings to baseline.json\n")
    assert json.loads(Path("baseline.json").read_text())["findings"] == []


def test_input_errors_still_fail_a_baselined_run(capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(capsys)
    Path("k8s/broken.yaml").write_text("kind: [\n")
    code, out, _ = run(["--baseline", "baseline.json", "k8s"], capsys)
    assert code == 2
    assert "k8s/broken.yaml:2:1: error: YAML:" in out


# -- malformed baselines -------------------------------------------------------------------------

MALFORMED = {
    "not-json": (
        b"nope\n",
        "baseline bad.json is not valid JSON: Expecting value: line 1 column 1 (char 0)",
    ),
    "not-utf8": (
        b"\xff\xfe{}",
        "baseline bad.json is not valid JSON: 'utf-8' codec can't decode byte 0xff in "
        "position 0: invalid start byte",
    ),
    "too-deep": (b"[" * 100_000, "baseline bad.json is not valid JSON: nested too deep"),
    "a-list": (b"[]", "bad.json is not an imglint baseline (write one with --write-baseline)"),
    "other-json": (
        b'{"version": 1}',
        "bad.json is not an imglint baseline (write one with --write-baseline)",
    ),
    "newer-version": (
        b'{"imglint-baseline": 2, "findings": []}',
        "baseline bad.json has version 2; this imglint reads version 1",
    ),
    "no-findings-list": (
        b'{"imglint-baseline": 1, "findings": {}}',
        'baseline bad.json has no "findings" list',
    ),
    "bad-entry": (
        b'{"imglint-baseline": 1, "findings": [{"path": "k8s/web.yaml", "code": 2}]}',
        'baseline bad.json: finding 1 is malformed ({"path": "k8s/web.yaml", "code": 2}); '
        "each needs the strings path, kind, namespace, object, container, code",
    ),
    "long-entry": (
        b'{"imglint-baseline": 1, "findings": ["' + b"x" * 500 + b'\\nmore"]}',
        'baseline bad.json: finding 1 is malformed ("' + "x" * 56 + "...); "
        "each needs the strings path, kind, namespace, object, container, code",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_baseline_is_a_one_line_error(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data, message = MALFORMED[name]
    Path("bad.json").write_bytes(data)
    code, out, err = run(["--baseline", "bad.json", "k8s"], capsys)
    assert (code, out) == (2, "")
    assert err == f"imglint: error: {message}\n"


def test_a_missing_baseline_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--baseline", "missing.json", "k8s"], capsys)
    assert (code, out) == (2, "")
    assert err == "imglint: error: cannot read baseline missing.json: No such file or directory\n"


# -- the module's functions ----------------------------------------------------------------------


def finding(code: str, line: int, path: str = "k8s/web.yaml", container: str = "web") -> Finding:
    span = Span(line=line, column=5, end_line=line, end_column=9, start=0, end=4)
    return Finding(
        code, "name", Severity.ERROR, "message", path, span, "nginx", "Pod", None, "p", container
    )


def test_keys_ignore_lines_and_fill_missing_fields() -> None:
    assert baseline.key(finding("IMG002", 3)) == baseline.key(finding("IMG002", 300))
    assert baseline.key(finding("IMG002", 3)) == ("k8s/web.yaml", "Pod", "", "p", "web", "IMG002")


def test_filter_new_keeps_order_and_counts() -> None:
    recorded = Counter({("k8s/web.yaml", "Pod", "", "p", "web", "IMG002"): 1})
    current = [finding("IMG002", 3), finding("IMG002", 9), finding("IMG004", 3)]
    assert baseline.filter_new(recorded, current) == [current[1], current[2]]


def test_written_baselines_read_back(tmp_path: Path) -> None:
    findings = [finding("IMG004", 2), finding("IMG002", 2), finding("IMG002", 7, "./a.yaml")]
    baseline.write(str(tmp_path / "b.json"), findings)
    assert baseline.read(str(tmp_path / "b.json")) == Counter(
        {
            ("a.yaml", "Pod", "", "p", "web", "IMG002"): 1,
            ("k8s/web.yaml", "Pod", "", "p", "web", "IMG002"): 1,
            ("k8s/web.yaml", "Pod", "", "p", "web", "IMG004"): 1,
        }
    )
    # Sorted, so that a baseline under version control changes only where findings did.
    paths = [e["path"] for e in json.loads((tmp_path / "b.json").read_text())["findings"]]
    assert paths == ["a.yaml", "k8s/web.yaml", "k8s/web.yaml"]
