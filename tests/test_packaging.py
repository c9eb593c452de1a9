"""What `pip install .` puts on a machine: one import namespace, the console script, the hooks."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (path,) = out.glob("imglint-*.whl")
    return zipfile.ZipFile(path)


def test_everything_installs_under_the_imglint_namespace(wheel: zipfile.ZipFile) -> None:
    top_level = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"imglint"}
    names = set(wheel.namelist())
    for module in ("imglint/cli.py", "imglint/rules/__init__.py", "imglint/registry/client.py"):
        assert module in names
    assert "imglint/py.typed" in names


def test_console_script_and_runtime_dependencies(wheel: zipfile.ZipFile) -> None:
    dist_info = next(n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert "imglint = imglint.cli:main" in entry_points
    metadata = wheel.read(f"{dist_info}/METADATA").decode()
    requires = sorted(
        line.split(":", 1)[1].strip().split(">")[0].split(";")[0].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    )
    assert requires == ["httpx", "pyyaml", "ruamel.yaml"]


def test_pre_commit_hooks_point_at_the_console_script() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["imglint", "imglint-resolve"]
    assert all(h["entry"].split()[0] == "imglint" for h in hooks)
