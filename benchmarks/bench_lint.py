"""imglint's offline run against the bare YAML parse of the same files, measured in one run.

    python benchmarks/bench_lint.py ../shared/corpus [--repeat 5]

Reports, each as the median of --repeat runs:
  floor    read every manifest file and compose it with PyYAML's C loader (what any linter must pay)
  imglint  `imglint FOLDER --format json` in-process: discovery, reading, image sites, every
           default rule, rendering (to a discarded stream)
and the ratio imglint/floor (budget: 1.5x). Then start-up: a one-file `imglint` process against
`python -c "import yaml"` (budget: nearly as fast). Ratios, not seconds, are what to compare:
the machines these run on are noisy.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout, suppress

import yaml

from imglint.cli import main
from imglint.sources import MANIFEST_SUFFIXES

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]


def floor(folder: str) -> int:
    """Read and compose every manifest below folder; returns the document count."""
    documents = 0
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            with open(os.path.join(root, name), "rb") as handle:
                data = handle.read()
            with suppress(yaml.YAMLError, UnicodeDecodeError):
                documents += sum(1 for _ in yaml.compose_all(data.decode("utf-8"), Loader=Loader))
    return documents


def imglint_run(folder: str) -> int:
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(io.StringIO()):
        return main([folder, "--format", "json"])


def timed(function: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def process_time(command: list[str], repeat: int) -> float:
    # As users run it: with bytecode caching (some shells export PYTHONDONTWRITEBYTECODE, which
    # would recompile every module on every run) and after one warm-up run that writes the cache.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples[1:])


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    imglint_run(args.folder)  # warm the page cache and imports for both sides alike
    floor(args.folder)
    floor_s = timed(lambda: floor(args.folder), args.repeat)
    lint_s = timed(lambda: imglint_run(args.folder), args.repeat)
    print(f"corpus: {args.folder}")
    print(f"floor (read + C compose):  {floor_s:7.3f} s")
    print(f"imglint (whole run):       {lint_s:7.3f} s")
    print(f"ratio imglint/floor:       {lint_s / floor_s:7.2f}x  (budget 1.50x)")

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
        handle.write("spec:\n  containers: [{name: a, image: 'docker.io/library/nginx:1.25'}]\n")
    try:
        bare = process_time([sys.executable, "-c", "import yaml"], args.repeat * 2)
        one = process_time([sys.executable, "-m", "imglint", handle.name], args.repeat * 2)
    finally:
        os.unlink(handle.name)
    print(f"start-up `import yaml`:    {bare * 1000:7.1f} ms")
    print(f"start-up imglint one file: {one * 1000:7.1f} ms  ({one / bare:.2f}x)")


if __name__ == "__main__":
    main_benchmark()
