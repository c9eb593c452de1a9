"""Run imglint's `main` in-process with optional stdin, as the CLI tests do."""

from __future__ import annotations

import io
import sys

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
