"""What `pip install .` puts on a machine: one import namespace, the console script, the hooks,
the metadata an index shows, and the dependencies each Python version needs (3.10 for real)."""

from __future__ import annotations

import email
import email.message
import glob
import os
import re
import shutil
import subprocess
import sys
import types
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


def _dist_info(wheel: zipfile.ZipFile) -> str:
    return next(n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))


def _metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    return email.message_from_bytes(wheel.read(f"{_dist_info(wheel)}/METADATA"))


def test_console_script_and_runtime_dependencies(wheel: zipfile.ZipFile) -> None:
    entry_points = wheel.read(f"{_dist_info(wheel)}/entry_points.txt").decode()
    assert "imglint = imglint.cli:run" in entry_points
    requires = sorted(
        re.sub(r"\s+", " ", line)
        for line in _metadata(wheel).get_all("Requires-Dist", [])
        if "extra ==" not in line
    )
    # tomli reads [tool.imglint] where the standard library has no tomllib (Python 3.10).
    assert requires == ["httpx>=0.27", "pyyaml>=6.0", 'tomli>=1.1; python_version < "3.11"']


def test_ruamel_is_only_the_benchmarks_extra(wheel: zipfile.ZipFile) -> None:
    """Nothing imglint runs imports ruamel.yaml: only the byte-identity benchmark compares
    against its round trip, so it is an extra, not a dependency."""
    extras = [line for line in _metadata(wheel).get_all("Requires-Dist", []) if "extra ==" in line]
    assert 'ruamel.yaml>=0.18; extra == "bench"' in extras
    importers = [
        str(path.relative_to(ROOT))
        for folder in ("linter", "rules", "tests", "benchmarks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if re.search(r"^\s*(from|import) ruamel", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert importers == ["benchmarks/fix_identity.py"]


def test_metadata_an_index_shows(wheel: zipfile.ZipFile) -> None:
    metadata = _metadata(wheel)
    assert metadata["License-Expression"] == "Apache-2.0"
    licence = f"{_dist_info(wheel)}/licenses/LICENSE"
    assert wheel.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in wheel.read(licence)[:200]
    classifiers = metadata.get_all("Classifier", [])
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.10" in classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL", []))
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(urls)
    assert all(url.startswith("https://github.com/imglint/imglint") for url in urls.values())


def test_the_version_has_one_source(wheel: zipfile.ZipFile) -> None:
    """pyproject.toml reads the version from imglint/__init__.py, so `imglint --version`,
    SARIF's tool version and the package's metadata cannot disagree."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = pyproject.split("\n[project]\n", 1)[1].split("\n[", 1)[0]
    assert 'dynamic = ["version"]' in project
    assert not re.search(r"^version\s*=", project, re.MULTILINE)
    source = (ROOT / "linter" / "__init__.py").read_text(encoding="utf-8")
    (version,) = re.findall(r'^__version__ = "([^"]+)"$', source, re.MULTILINE)
    assert _metadata(wheel)["Version"] == version
    assert f"imglint-{version}.dist-info" == _dist_info(wheel)


def test_pre_commit_hooks_point_at_the_console_script() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["imglint", "imglint-resolve"]
    assert all(h["entry"].split()[0] == "imglint" for h in hooks)


# -- Python 3.10 ----------------------------------------------------------------------------------


def test_the_310_code_path_reads_pyproject_with_tomli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On any interpreter: what config.py does when the standard library has no tomllib.
    (A stand-in `tomli` that is tomllib under another name; the real one is tested below.)"""
    import imglint.config
    from imglint.config import load
    from imglint.errors import ConfigError
    from imglint.findings import Severity

    used: list[str] = []

    def loads(text: str) -> dict[str, object]:
        used.append(text)
        return {"tool": {"imglint": {"fail-on": "info"}}}

    monkeypatch.setattr(imglint.config, "sys", types.SimpleNamespace(version_info=(3, 10, 13)))
    monkeypatch.setitem(sys.modules, "tomli", types.SimpleNamespace(loads=loads))
    (tmp_path / "pyproject.toml").write_text('[tool.imglint]\nfail-on = "info"\n')
    assert load(None, str(tmp_path)).fail_on is Severity.INFO
    assert used == ['[tool.imglint]\nfail-on = "info"\n']
    # Installed without its dependencies (tomli missing): a clear message, no traceback.
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ConfigError, match="needs the 'tomli' package"):
        load(None, str(tmp_path))


def python310() -> str | None:
    """A Python 3.10 interpreter: IMGLINT_TEST_PYTHON310, pyenv's, or python3.10 on PATH (a
    pyenv shim on PATH may exist and still not run, so each is asked for its version)."""
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [
        os.environ.get("IMGLINT_TEST_PYTHON310"),
        *sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.10*", "bin", "python3.10"))),
        shutil.which("python3.10"),
    ]
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == "True":
            return candidate
    return None


def test_tool_imglint_on_python_310(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """The wheel installed by pip on a real Python 3.10 brings tomli, and reads [tool.imglint]."""
    interpreter = python310()
    if interpreter is None:
        pytest.skip("no Python 3.10 here (set IMGLINT_TEST_PYTHON310 to one)")
    venv = tmp_path / "venv310"
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip_env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel.filename)],
        capture_output=True,
        text=True,
        env=pip_env,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    project = tmp_path / "project"
    (project / "k8s").mkdir(parents=True)
    (project / "k8s" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers:\n    - {name: app, image: nginx:1.27}\n"
    )
    run_env = {**os.environ, "NO_COLOR": "1"}
    imglint = str(venv / "bin" / "imglint")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [imglint, "k8s"], cwd=project, capture_output=True, text=True, env=run_env, check=False
        )

    # Without configuration: IMG004 (Docker Hub implied) is a warning, so the run passes.
    plain = run()
    assert (plain.returncode, plain.stderr) == (0, ""), plain.stdout
    assert "IMG004 [warning]" in plain.stdout
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.imglint.severity]\nimplicit-registry = "error"\n'
    )
    configured = run()
    assert (configured.returncode, configured.stderr) == (1, ""), configured.stdout
    assert "IMG004 [error]" in configured.stdout
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys, tomli; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "(3, 10)"
