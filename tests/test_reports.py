"""One run, every report: `--report FORMAT:FILE` (repeatable) writes the same run's report in
more formats beside the --format one, byte for byte what a run of that format alone writes,
with the exit code unchanged; the flags it cannot go with are usage errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imglint.report.common import JsonArray, write_json
from tests.cli_runner import SHOP_WEB, run, shop_repository


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return shop_repository(tmp_path)


def test_one_run_writes_every_report(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    formats = ("sarif", "junit", "json", "gitlab", "text")
    alone = {}
    for fmt in formats:
        code, _out, _err = run(["--format", fmt, "-o", f"alone.{fmt}", str(manifest)], capsys)
        assert code == 1
        alone[fmt] = (tmp_path / f"alone.{fmt}").read_text()
    code_alone, annotations, _err = run(["--format", "github", str(manifest)], capsys)

    reports = [arg for fmt in formats for arg in ("--report", f"{fmt}:out/{fmt}.report")]
    (tmp_path / "out").mkdir()
    code, out, err = run(["--format", "github", *reports, str(manifest)], capsys)
    assert (code, out, err) == (code_alone, annotations, "")
    for fmt in formats:
        assert (tmp_path / "out" / f"{fmt}.report").read_text() == alone[fmt], fmt
    assert json.loads(alone["sarif"])["runs"][0]["results"]


def test_reports_beside_the_inventory(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text, _err = run(["--list-images", str(manifest)], capsys)
    assert code == 0
    code, out, _err = run(["--list-images", "--report", "json:images.json", str(manifest)], capsys)
    assert (code, out) == (0, text)
    images = json.loads((tmp_path / "images.json").read_text())["images"]
    assert [i["image"] for i in images] == ["nginx:latest", "ghcr.io/acme/sidecar:1.0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "sarif"], "--report sarif: give FORMAT:FILE"),
        (["--report", "xml:a.xml"], "--report xml:a.xml: unknown format 'xml'"),
        (["--report", "sarif:-"], "stdout is --format's; name a file"),
        (["--report", "sarif:a", "--report", "junit:./a"], "a is written twice in this run"),
        (["-o", "a.sarif", "--report", "sarif:a.sarif"], "a.sarif is written twice"),
        (["--report", "sarif:a", "--write-baseline", "b.json"], "--write-baseline prints no"),
        (["--report", "sarif:a", "--fix", "--diff"], "--diff prints no report"),
        (["--list-images", "--report", "sarif:a"], "unknown format 'sarif'"),
    ],
)
def test_report_usage_errors(
    args: list[str],
    message: str,
    manifest: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run([*args, str(manifest)], capsys)
    assert (code, out) == (2, "")
    assert message in err
    assert not (tmp_path / "a").exists()


def test_report_on_rewritten_stdin_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--fix", "--report", "sarif:a.sarif", "-"], capsys, stdin=SHOP_WEB)
    assert (code, out) == (2, "")
    assert "--fix/--pin on stdin prints no report" in err


def test_an_unwritable_report_is_an_error(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(["--report", "sarif:no/such/dir/a.sarif", str(manifest)], capsys)
    assert code == 2
    assert "cannot write no/such/dir/a.sarif" in err


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities too
    | st.text()  # control characters, non-ASCII, lone surrogates
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none(),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_JSON_VALUES)
def test_reports_are_written_as_json_writes_them_with_an_indent(document: object) -> None:
    out = io.StringIO()
    write_json(document, out)
    assert out.getvalue() == json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def test_a_json_array_made_as_it_is_written_is_written_as_a_list() -> None:
    items = [{"a": 1, "b": [1.5, None, "\u00e9"]}, {}, []]
    out = io.StringIO()
    write_json({"x": JsonArray(items, lambda item: item), "empty": JsonArray([], str)}, out)
    expected = json.dumps({"x": items, "empty": []}, indent=2, ensure_ascii=True) + "\n"
    assert out.getvalue() == expected


def test_a_large_report_is_written_a_part_at_a_time() -> None:
    """Objects of plain values (a finding's) are made one piece each: the text still goes out
    about 64 kB at a time, never whole (the report's text was once a run's high-water mark)."""
    findings = [
        {"code": "IMG004", "path": f"k8s/app-{n}.yaml", "line": n, "namespace": None}
        for n in range(5000)
    ]
    writes: list[int] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(len(text))
            return super().write(text)

    out = Stream()
    write_json({"findings": JsonArray(findings, lambda item: item), "n": 1}, out)
    assert out.getvalue() == json.dumps({"findings": findings, "n": 1}, indent=2) + "\n"
    assert len(writes) > 5
    assert max(writes) < 70_000


def test_what_json_cannot_write_is_refused_as_json_refuses_it() -> None:
    for document in ({"a": object()}, {(1, 2): "tuple key"}):
        with pytest.raises(TypeError):
            json.dumps(document, indent=2)
        with pytest.raises(TypeError):
            write_json(document, io.StringIO())


@pytest.mark.parametrize("format_name", ["json", "sarif", "gitlab", "junit", "github"])
def test_a_report_loads_no_typing_nor_decimal(format_name: str, tmp_path: Path) -> None:
    # typing is type checkers' business: importing it cost more than writing a corpus's report.
    # A values file is among the inputs (decimal loads only to write a float of one).
    values = tmp_path / "chart" / "values.yaml"
    values.parent.mkdir()
    (values.parent / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    values.write_text("image:\n  repository: nginx\n  tag: '1.25'\nreplicas: 2\n")
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: 'nginx:latest'}]\n"
    )
    program = (
        "import sys\n"
        "from imglint.cli import main\n"
        f"main([{str(tmp_path)!r}, '--format', {format_name!r}, '--output-file', 'out'])\n"
        "print(sorted({'typing', 'decimal'} & set(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stderr
