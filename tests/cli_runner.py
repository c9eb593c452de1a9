"""Run imglint's `main` in-process with optional stdin, as the CLI tests do; and the small
repository several CLI tests run on."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from imglint.cli import main


def run(
    args: list[str], capsys: pytest.CaptureFixture[str], stdin: str | bytes | None = None
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `imglint ARGS`, with `stdin` as its standard input."""
    if stdin is not None:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    try:
        code = main(args)
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


# A Deployment shop/web: its container `web` runs nginx:latest (IMG002 and IMG004, line 11), its
# `sidecar` a tagged ghcr.io image (no finding, line 13).
SHOP_WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
        - name: sidecar
          image: ghcr.io/acme/sidecar:1.0
"""


def shop_repository(folder: Path) -> Path:
    """folder/k8s/web.yaml holding SHOP_WEB; the path relative to folder (`k8s/web.yaml`)."""
    (folder / "k8s").mkdir()
    (folder / "k8s" / "web.yaml").write_text(SHOP_WEB)
    return Path("k8s", "web.yaml")
