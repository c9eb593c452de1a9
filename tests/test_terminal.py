"""Colour and progress, decided as a terminal user and a CI log expect: --color, then NO_COLOR,
then FORCE_COLOR, then whether stdout is a terminal; the progress line only when stderr is one.

Real processes: stdout and stderr are pipes, or a pseudo-terminal where a test needs one. The
registry check's progress is exercised against a closed port on loopback (connection refused,
IMG107), which needs no registry.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ESC = "\x1b["
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    "spec:\n  containers: [{name: a, image: 'nginx:latest'}]\n"
)
# Port 1 on loopback: nothing listens there, so the registry check ends at once, refused.
UNREACHABLE_POD = POD.replace("nginx:latest", "127.0.0.1:1/team/app:1.0")


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "unreachable.yaml").write_text(UNREACHABLE_POD)
    return tmp_path


def run(
    cwd: Path, *args: str, stderr_tty: bool = False, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """imglint with stdout on a pipe and stderr on a pipe or a pseudo-terminal."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(env or {}, XDG_CACHE_HOME=str(cwd / "cache"))
    command = [sys.executable, "-m", "imglint", *args]
    if not stderr_tty:
        done = subprocess.run(
            command, cwd=cwd, env=environ, capture_output=True, text=True, check=False, timeout=60
        )
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=follower, text=True
        )
        os.close(follower)
        stdout, _ = process.communicate(timeout=60)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return process.returncode, stdout, b"".join(chunks).decode()


@pytest.mark.parametrize(
    ("env", "flag", "coloured"),
    [
        ({}, None, False),  # a pipe: plain
        ({"FORCE_COLOR": "1"}, None, True),
        ({"FORCE_COLOR": "true"}, None, True),
        ({"FORCE_COLOR": ""}, None, False),  # set but empty: not set
        ({"FORCE_COLOR": "0"}, None, False),
        ({"FORCE_COLOR": "false"}, None, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, None, False),  # the opt-out wins
        ({"NO_COLOR": "1"}, "--color=always", True),  # the flag wins over both
        ({"FORCE_COLOR": "1"}, "--color=never", False),
    ],
)
def test_colour_on_stdout(
    manifests: Path, env: dict[str, str], flag: str | None, coloured: bool
) -> None:
    code, out, err = run(manifests, *([flag] if flag else []), "pod.yaml", env=env)
    assert (code, err) == (1, "")
    assert "IMG002" in out
    assert (ESC in out) is coloured


def test_force_color_never_colours_a_report_file(manifests: Path) -> None:
    code, out, err = run(manifests, "-o", "report.txt", "pod.yaml", env={"FORCE_COLOR": "1"})
    assert (code, out, err) == (1, "", "")
    report = (manifests / "report.txt").read_text()
    assert "IMG002" in report and ESC not in report
    run(manifests, "--color=always", "-o", "forced.txt", "pod.yaml")
    assert ESC in (manifests / "forced.txt").read_text()


def test_colour_is_only_for_text(manifests: Path) -> None:
    code, out, _ = run(manifests, "--format", "json", "pod.yaml", env={"FORCE_COLOR": "1"})
    assert code == 1 and ESC not in out


def test_progress_only_on_a_terminal(manifests: Path) -> None:
    args = ("--resolve", "--no-cache", "--timeout", "20", "unreachable.yaml")
    code, out, err = run(manifests, *args, stderr_tty=True)
    assert code == 0, err  # IMG107 is a warning
    assert "IMG107" in out
    assert "\r\x1b[Kresolving images: 1/1" in err
    # FORCE_COLOR is about colour: a pipe still gets no progress line (a CI log would fill
    # with carriage returns), and -q turns it off on a terminal.
    code, _, err = run(manifests, *args, env={"FORCE_COLOR": "1"})
    assert code == 0 and "resolving images" not in err
    code, _, err = run(manifests, "-q", *args, stderr_tty=True)
    assert code == 0 and "resolving images" not in err
