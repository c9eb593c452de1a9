"""Run the real `kubectl kustomize` from tests.

kubectl (with kustomize built in) is on the development machines and in CI. Where it is missing,
a test needing it is skipped with the reason on a developer's machine, and fails in CI (`CI` set
to anything but `false`/`0`), so the comparison with the real tool can never silently vanish.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest


def require_kubectl() -> str:
    """The kubectl executable; skip (fail in CI) when it is not installed."""
    found = shutil.which("kubectl")
    if found is None:
        reason = "kubectl (with kustomize built in) is not installed"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(reason + ": CI must run the comparison with the real kustomize")
        pytest.skip(reason)
    return found


@lru_cache(maxsize=1)
def kustomize_version() -> tuple[int, int, int]:
    """kubectl's built-in kustomize version (5, 5, 0)."""
    out = subprocess.run(
        [require_kubectl(), "version", "--client"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"Kustomize Version: v(\d+)\.(\d+)\.(\d+)", out)
    assert match, f"no kustomize version in {out!r}"
    major, minor, patch = (int(x) for x in match.groups())
    return major, minor, patch


def kustomize_build(folder: Path) -> str:
    """`kubectl kustomize FOLDER`'s output (fails the test on an error, with kubectl's words)."""
    done = subprocess.run(
        [require_kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
