"""The command line end to end: arguments, stdin, inventory, exit codes, bad input."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imglint import __version__
from imglint.cli import main
from tests.cli_runner import run

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration file of the developer's or the repository's leaks into a test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"imglint {__version__}\n"


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "helm template ./chart | imglint -" in out and "exit status" in out


def test_no_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([], capsys)
    assert code == 2 and "no PATH given" in err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-option", "x"])
    assert exit_info.value.code == 2


def test_clean_manifest_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: 'docker.io/library/nginx:1.25'}]\n"
    )
    code, out, _ = run([str(path)], capsys)
    assert code == 0
    assert "All checks passed" in out


def test_findings_exit_one_with_positions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(FIXTURES / "workloads" / "pod.json")], capsys)
    assert code == 1
    assert f"{FIXTURES / 'workloads' / 'pod.json'}:7:33: IMG002 [error]" in out


def test_stdin_with_display_name(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    manifest += "  - {name: a, image: 'nginx:latest'}\n"
    code, out, _ = run(["-", "--stdin-filename", "rendered.yaml"], capsys, stdin=manifest)
    assert code == 1
    assert out.startswith("rendered.yaml:6:22: IMG002 [error]")


def test_helm_output_on_stdin_points_at_the_templates(capsys: pytest.CaptureFixture[str]) -> None:
    rendered = (FIXTURES / "helm" / "rendered.yaml").read_text()
    code, out, _ = run(["-", "--select", "IMG002"], capsys, stdin=rendered)
    assert code == 1
    assert out.splitlines()[0].startswith("mychart/templates/deployment.yaml:17:18: IMG002")


def test_empty_stdin_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["-"], capsys, stdin="")
    assert code == 2 and "no input on stdin" in err + _


def test_list_images_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["--list-images", "--format", "json", str(FIXTURES / "workloads" / "pod.json")], capsys
    )
    assert code == 0
    images = json.loads(out)["images"]
    assert images == [
        {
            "path": str(FIXTURES / "workloads" / "pod.json"),
            "line": 7,
            "column": 33,
            "end_line": 7,
            "end_column": 47,
            "image": "nginx:latest",
            "valid": True,
            "registry": "docker.io",
            "repository": "library/nginx",
            "tag": "latest",
            "digest": None,
            "error": None,
            "kind": "Pod",
            "namespace": "default",
            "name": "json-pod",
            "generate_name": None,
            "container": "main",
            "field": "containers",
            "normalized": "docker.io/library/nginx:latest",
            "placeholder": None,
            "value_line": None,
            "pull_policy": None,
            "source": "pod",
            "field_path": "spec.containers[0].image",
            "label": None,
        }
    ]


def test_bad_inputs_exit_two_and_the_rest_is_still_linted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    (tmp_path / "binary.yaml").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin1.yaml").write_bytes(b"kind: \xe9\n")
    (tmp_path / "good.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: 'nginx:latest'}]\n"
    )
    code, out, err = run([str(tmp_path)], capsys)
    assert code == 2
    text = out + err
    assert "good.yaml:5:33: IMG002" in text
    assert "binary.yaml: error: binary file" in text
    assert "latin1.yaml:1:7: error: invalid UTF-8" in text
    assert "broken.yaml:4:1: error: YAML:" in text
    assert "Traceback" not in text


def test_template_named_on_the_command_line_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text(
        "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n"
    )
    code, out, err = run([str(path)], capsys)
    assert code == 2
    assert "looks like a template" in out + err and "helm template" in out + err


def test_internal_errors_never_show_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from imglint import cli

    def boom(*args: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "_main", boom)
    monkeypatch.delenv("IMGLINT_DEBUG", raising=False)
    assert cli.main(["x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("imglint: internal error: RuntimeError: kaboom")
    assert "Traceback" not in err


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: 'nginx'}]\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "imglint", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 1, result.stderr
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert codes == ["IMG003", "IMG004"]


@pytest.mark.parametrize(
    "manifest",
    [
        "kind: ConfigMap\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: 'docker.io/library/nginx:1.25'}]\n",
    ],
    ids=["no object", "one pod"],
)
def test_startup_does_not_import_the_registry_stack(tmp_path: Path, manifest: str) -> None:
    # An offline run of a YAML file loads neither the registry client nor the registry rules'
    # answers (imglint.registry, the platform matching), nor json (only .json files and pull
    # secrets need it), nor the worker pool: start-up stays near `python -c "import yaml"`.
    path = tmp_path / "p.yaml"
    path.write_text(manifest)
    probe = (
        "import sys; from imglint.cli import main; main([sys.argv[1]]); "
        "heavy = ('httpx', 'ruamel', 'ruamel.yaml', 'hashlib', 'subprocess', 'imglint.registry', "
        "'imglint.registry.model', 'imglint.placement', 'json', 'concurrent.futures', "
        "'multiprocessing'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ""


def test_list_images_names_unreadable_files_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    code, out, err = run(["--list-images", "--format", "json", str(tmp_path)], capsys)
    assert code == 2
    assert json.loads(out) == {"schema_version": 2, "images": []}
    assert err.startswith(f"imglint: error: {tmp_path / 'broken.yaml'}:4:1: YAML:")


def test_readme_quick_start_output_is_what_imglint_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    shown = quick_start.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    monkeypatch.chdir(ROOT)
    code, out, _ = run(["--config", "examples/imglint.yaml", "examples/"], capsys)
    printed = out.splitlines()
    assert code == 1
    dots = shown.index("...")
    assert printed[:dots] == shown[:dots]
    assert printed[-1] == shown[-1]


@pytest.mark.parametrize("args", [["--select", ""], ["--ignore", "ALL"]])
def test_an_empty_rule_selection_is_a_usage_error(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*args, str(FIXTURES / "workloads" / "pod.json")], capsys)
    assert code == 2 and out == ""
    assert err == "imglint: error: no rules selected: --select, select or ignore left none to run\n"


@pytest.mark.parametrize(
    ("paths", "paused"),
    [
        (["pod.yaml"], True),
        (["pod.yaml", "pod2.yaml"], True),
        (["."], False),  # a folder: of unknown size
        (["big.yaml"], False),
        (["pod.yaml", "missing.yaml"], False),
        (["--resolve", "pod.yaml"], False),  # the registry check's requests leave cycles
    ],
)
def test_a_small_run_goes_without_the_garbage_collector_and_gives_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: list[str], paused: bool
) -> None:
    import gc

    from imglint import app, cli

    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a}]\n"
    (tmp_path / "pod.yaml").write_text(pod)
    (tmp_path / "pod2.yaml").write_text(pod)
    (tmp_path / "big.yaml").write_text(pod + "#" * cli.SMALL_INPUT_BYTES + "\n")
    seen: list[bool] = []

    def run(self: app.Application) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(app.Application, "run", run)
    assert gc.isenabled()
    assert main(paths) == 0
    assert seen == [not paused]
    assert gc.isenabled()


def test_what_reading_keeps_is_frozen_for_the_run_and_thawed_after_it(tmp_path: Path) -> None:
    # The collector need not walk what was read in every pass after reading; a caller that
    # froze objects of its own keeps them frozen.
    import gc

    from imglint import engine
    from imglint.image_fields import ResourceSettings
    from imglint.parallel import ReadSettings, read_all
    from imglint.sources import Collected, discover

    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a}]\n"
    for number in range(3):
        (tmp_path / f"pod{number}.yaml").write_text(pod)
    frozen_while_checking: list[int] = []
    run_rules = engine.run_rules

    def checking(*args: Any, **kwargs: Any) -> Any:
        frozen_while_checking.append(gc.get_freeze_count())
        return run_rules(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "run_rules", checking)
        assert gc.get_freeze_count() == 0
        main([str(tmp_path), "--format", "json"])
    assert frozen_while_checking and frozen_while_checking[0] > 0
    assert gc.get_freeze_count() == 0
    # Reading through the library freezes nothing: only a run knows when its results die.
    collected = Collected()
    read_all(discover([str(tmp_path)], collected), collected, ReadSettings({}, ResourceSettings()))
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        main([str(tmp_path), "--format", "json"])
        assert gc.get_freeze_count() > 0  # not thawed by the run
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("argv", [["--version"], ["--list-rules"], ["--no-such-option", "x"], []])
def test_main_gives_the_garbage_collector_back_whatever_the_command_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """main() pauses the collector while it reads the command line and loads; it is on again
    after an in-process run however that run ends (argparse's SystemExit included)."""
    import gc

    assert gc.isenabled()
    with contextlib.suppress(SystemExit):
        main(argv)
    assert gc.isenabled()
