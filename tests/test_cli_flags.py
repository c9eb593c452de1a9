"""Options that used to be silently ignored or unchecked: refused with a usage error, or made to
do what they say (`-o` with `--diff` and stdin, `--list-images` on `helm template` output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imglint import config
from imglint.errors import ConfigError
from tests.cli_runner import run

FIXTURES = Path(__file__).parent / "fixtures"
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.25
"""
FIXED = POD.replace("nginx:1.25", "docker.io/library/nginx:1.25")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resolve", "--jobs", "0"], "--jobs must be a whole number of at least 1, not 0"),
        (["--resolve", "--jobs", "-3"], "--jobs must be a whole number of at least 1, not -3"),
        (
            ["--resolve", "--timeout", "-1"],
            "--timeout must be seconds (more than 0) or a duration like 30s, 10m, 12h, not -1.0",
        ),
        (
            ["--pin", "--timeout", "nan"],
            "--timeout must be seconds (more than 0) or a duration like 30s, 10m, 12h, not nan",
        ),
        (["--jobs", "4"], "--jobs needs --resolve or --pin (it is a registry option)"),
        (["--timeout", "30"], "--timeout needs --resolve or --pin (it is a registry option)"),
        (["--ca-file", "ca.pem"], "--ca-file needs --resolve or --pin (it is a registry option)"),
        (["--no-cache"], "--no-cache needs --resolve or --pin (it is a registry option)"),
        (
            ["--platform", "linux/arm64"],
            "--platform needs --resolve (the platform check asks the registries)",
        ),
        (
            ["--pin", "--platform", "linux/arm64"],
            "--platform needs --resolve (the platform check asks the registries)",
        ),
        (
            ["--use-pull-secrets"],
            "--use-pull-secrets needs --resolve (--pin uses your own credentials)",
        ),
        (
            ["--statistics", "--format", "sarif"],
            "--statistics works with --format text or json, not sarif",
        ),
        (["--stdin-filename", "charts/shop"], "--stdin-filename names stdin: add - to the paths"),
        (
            ["--write-baseline", "b.json", "--format", "sarif"],
            "--write-baseline records every finding and prints no report: drop --format",
        ),
        (
            ["--write-baseline", "b.json", "-o", "report.txt"],
            "--write-baseline records every finding and prints no report: drop -o",
        ),
    ],
)
def test_options_that_would_do_nothing_or_harm_are_refused(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(POD)
    code, out, err = run([*args, "p.yaml"], capsys)
    assert (code, out, err) == (2, "", f"imglint: error: {message}\n")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400, "9" * 400 + "s"])
def test_a_timeout_that_is_no_number_of_seconds_is_a_config_error(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^\.imglint\.yaml: timeout must be seconds"):
        config.from_mapping({"timeout": value}, ".imglint.yaml")


def test_fix_on_stdin_with_other_paths_is_refused_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(POD)
    code, out, err = run(["--fix", "p.yaml", "-"], capsys, stdin=POD)
    assert (code, out) == (2, "")
    assert (
        err == "imglint: error: --fix/--pin on stdin (-) prints the manifest: name no other PATH\n"
    )
    assert (tmp_path / "p.yaml").read_text() == POD


def test_fix_diff_of_files_and_stdin_together_is_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(POD)
    code, out, _ = run(["--fix", "--diff", "p.yaml", "-"], capsys, stdin=POD)
    assert code == 1
    assert out.count("+      image: docker.io/library/nginx:1.25\n") == 2


def test_output_file_takes_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(POD)
    code, out, _ = run(["--fix", "--diff", "-o", "fix.diff", "p.yaml"], capsys)
    assert (code, out) == (1, "")
    assert (tmp_path / "fix.diff").read_text().startswith("--- a/p.yaml\n+++ b/p.yaml\n")
    assert (tmp_path / "p.yaml").read_text() == POD


def test_output_file_takes_the_fixed_stdin_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["--fix", "-o", "fixed.yaml", "-"], capsys, stdin=POD)
    assert (code, out) == (0, "")
    assert (tmp_path / "fixed.yaml").read_text() == FIXED


def test_fix_summary_counts_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(POD)
    code, _, err = run(["--fix", "p.yaml"], capsys)
    assert (code, err) == (0, "imglint: rewrote 1 image reference in 1 file\n")
    code, _, err = run(["--fix", "p.yaml"], capsys)
    assert (code, err) == (0, "imglint: rewrote 0 image references in 0 files\n")


def test_diff_mode_names_errors_like_every_other_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(POD)
    code, _, err = run(["--fix", "--diff", "missing.yaml", "p.yaml"], capsys)
    assert (code, err) == (2, "imglint: error: missing.yaml: no such file or directory\n")


def test_list_images_of_helm_output_points_at_the_templates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rendered = (FIXTURES / "helm" / "shop.rendered.yaml").read_text()
    code, out, _ = run(["--list-images", "-"], capsys, stdin=rendered)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        "shop/charts/redis/templates/master/application.yaml:19:18",
        "shop/charts/redis/templates/master/application.yaml:24:18",
        "shop/templates/cronjob.yaml:14:22",
        "shop/templates/deployment.yaml:21:18",
        "shop/templates/deployment.yaml:25:18",
        "shop/templates/deployment.yaml:31:18",
        "shop/templates/tests/test-connection.yaml:10:14",
        "shop/templates/workers.yaml:16:18",
        "shop/templates/workers.yaml:16:18",
    ]


def test_ignored_images_are_neither_asked_about_nor_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".imglint.yaml").write_text('ignore-images: ["127.0.0.1:1/*", "nginx*"]\n')
    (tmp_path / "p.yaml").write_text(
        POD + '    - {name: app, image: "127.0.0.1:1/team/app:1.0"}\n'
    )  # port 1: nothing listens, so a request would make IMG107
    code, out, _ = run(["--resolve", "--no-cache", "--format", "json", "p.yaml"], capsys)
    report = json.loads(out)
    assert (code, report["findings"]) == (0, [])
    assert report["summary"]["registry"]["images"] == 0
    code, out, _ = run(["--fix", "--diff", "p.yaml"], capsys)
    assert (code, out) == (0, "")
