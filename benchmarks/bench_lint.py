"""imglint's offline run against the strict YAML parse floor, each a fresh process, in one run.

    python benchmarks/bench_lint.py ../shared/corpus [--repeat 5] [--scales 1,2,4,8]
    python benchmarks/bench_lint.py ../shared/corpus --startup-only [--repeat 15]

Every figure is a whole process started afresh (interpreter start-up included on both sides),
run --repeat times, interleaved with its floor so that load on the machine hits both alike,
and reported as min / median / max, with peak memory (the child's ru_maxrss):

  floor      read every manifest file and compose it with PyYAML's C composer, the garbage
             collector paused (as imglint composes): what any strict linter must pay
  imglint    `imglint FOLDER --format json` (report discarded): discovery, reading, image
             sites, every default rule, rendering; with `--workers 1` (one process) and with
             the default (worker processes on every core this process may use, for an input
             this large)
  scaling    the same at 1x/2x/4x/8x copies of the folder (copied into a temporary folder,
             removed afterwards), both ways: time should grow with the input, memory not
  one file   one large file (--large-mib, 30 by default) made of the folder's documents,
             against the floor composing that file: per-document work must not turn into a
             Python pass over every document of a stream
  start-up   a one-file `imglint` process against `python -c "import yaml"`, twice: the
             installed console script (what users, CI and the pre-commit hook run) and
             `python -m imglint` (the same plus runpy, about 1 ms); --startup-only runs only this

Peak memory is ru_maxrss as wait4 reports it: the largest of the process and the workers it
waited for, each on its own (not their sum). With workers, the parent holds the results and
each worker its share of the files while it reads them. A child's ru_maxrss also counts the
pages it had before exec, as a copy of this process: a peak at or under this benchmark's own is
shown as "<=" that figure, not as a measurement (the one-file rows).

Ratios to the floor measured in the same run, not seconds, are what to compare: these machines
are shared and noisy. The goals (issue 18): corpus within 0.5x of the floor on two cores and
0.8x with one worker, the large file within 1.2x, start-up within 1.5x, peak memory at 8x
within 1.5x of the peak at 1x.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import BinaryIO

# The floor runs in its own process and must not import imglint: this is its whole program.
# Suffixes are those imglint reads from a folder (imglint.sources.MANIFEST_SUFFIXES).
_FLOOR_PROGRAM = """
import gc, os, sys
import yaml
from yaml import CSafeLoader as Loader
suffixes = tuple(sys.argv[1].split(","))
documents = 0
gc.disable()
for folder in sys.argv[2:]:
    if os.path.isfile(folder):
        walked = [(os.path.dirname(folder), [], [os.path.basename(folder)])]
    else:
        walked = os.walk(folder)
    for root, dirs, files in walked:
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(suffixes):
                continue
            with open(os.path.join(root, name), "rb") as handle:
                data = handle.read()
            try:
                documents += sum(1 for _ in yaml.compose_all(data.decode("utf-8"), Loader=Loader))
            except (yaml.YAMLError, UnicodeDecodeError):
                pass
print(documents)
"""


class Sample:
    """One measured process: wall time and peak resident memory."""

    def __init__(self, seconds: float, peak_kib: int, returncode: int) -> None:
        self.seconds = seconds
        self.peak_kib = peak_kib
        self.returncode = returncode


def users_environment() -> dict[str, str]:
    """This environment as users run imglint: with bytecode caching (some shells export
    PYTHONDONTWRITEBYTECODE, which would make every process compile its modules)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_process(command: Sequence[str]) -> Sample:
    """Run one process to its end: its wall time and ru_maxrss (its own and its workers')."""
    env = users_environment()
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(seconds, usage.ru_maxrss, process.returncode)


def warm_up(name: str, command: Sequence[str]) -> None:
    """Run `command` once, unmeasured, and refuse to go on if it did not do its work: a ratio
    of a process that died at once (a stale install: "internal error") would be a lie.

    The report goes to a file and only its summary is read: a process this one starts reports
    at least this one's peak memory (see `report`), and holding and parsing 8 copies' report
    here (5 MB of JSON, 30 MiB as Python objects) made every later row report that peak."""
    env = users_environment()
    with tempfile.TemporaryFile() as stdout:
        done = subprocess.run(
            list(command), stdout=stdout, stderr=subprocess.PIPE, text=True, check=False, env=env
        )
        summary = _json_summary(stdout) if "--format" in command and "json" in command else {}
    problem = None
    if done.returncode not in (0, 1, 2) or "internal error" in done.stderr:
        problem = f"exit {done.returncode}"
    elif summary is None:
        problem = "its JSON report has no summary"
    elif "--format" in command and not summary.get("files"):
        problem = "its JSON report read no file"
    if problem is not None:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        raise SystemExit(f"bench_lint: {name} did not run properly ({problem}): {last}")


def _json_summary(report: BinaryIO) -> dict[str, object] | None:
    """The `summary` object of an imglint JSON report (its last key), read from its end."""
    size = report.seek(0, os.SEEK_END)
    report.seek(max(0, size - 65536))
    tail = report.read().decode("utf-8", "replace")
    start = tail.rfind('"summary": {')
    body = tail[start + len('"summary": ') :].rstrip()
    if start < 0 or not body.endswith("}"):
        return None
    try:
        summary = json.loads(body[:-1])  # without the document's own closing brace
    except ValueError:
        return None
    return summary if isinstance(summary, dict) else None


def floor_command(folders: Sequence[str]) -> list[str]:
    from imglint.sources import MANIFEST_SUFFIXES

    return [sys.executable, "-c", _FLOOR_PROGRAM, ",".join(MANIFEST_SUFFIXES), *folders]


def imglint_command(folders: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "imglint", *folders, "--format", "json", *extra]


def has_workers_option() -> bool:
    help_text = subprocess.run(
        [sys.executable, "-m", "imglint", "--help"], capture_output=True, text=True, check=False
    ).stdout
    return "--workers" in help_text


def measure(commands: dict[str, list[str]], repeat: int) -> dict[str, list[Sample]]:
    """Each command repeat times, interleaved (after one unmeasured warm-up run of each)."""
    for name, command in commands.items():
        warm_up(name, command)  # page cache and bytecode cache warm for every side alike
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            samples[name].append(run_process(command))
    return samples


def spread(values: Sequence[float], unit: str = "s", scale: float = 1.0) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low * scale:7.3f} / {mid * scale:7.3f} / {high * scale:7.3f} {unit}"


def report(samples: dict[str, list[Sample]], base: str) -> None:
    base_time = statistics.median(s.seconds for s in samples[base])
    base_peak = statistics.median(s.peak_kib for s in samples[base])
    # A child's ru_maxrss counts the pages it had before exec, and a child starts as this
    # process (vfork or fork): a peak at or under this process's own is no measurement.
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"  {'':26} {'min / median / max':>31}   ratio   peak MiB  ratio")
    unmeasured = False
    for name, runs in samples.items():
        seconds = [s.seconds for s in runs]
        peak = statistics.median(s.peak_kib for s in runs)
        ratios = [s / base_time for s in seconds]
        codes = sorted({s.returncode for s in runs})
        if peak <= floor or base_peak <= floor:
            unmeasured = True
            memory = f"{'<=' + format(floor / 1024, '.1f'):>7}      -"
        else:
            memory = f"{peak / 1024:7.1f}  {peak / base_peak:5.2f}x"
        print(
            f"  {name:26} {spread(seconds)}  {statistics.median(ratios):5.2f}x "
            f"({min(ratios):.2f}-{max(ratios):.2f})  {memory}"
            f"  exit {','.join(map(str, codes))}"
        )
    if unmeasured:
        print(
            f"  (<= {floor / 1024:.1f} MiB: this benchmark's own peak; a child's ru_maxrss counts "
            "the pages it had before exec, so a smaller peak cannot be told)"
        )


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def copies(folder: str, count: int, into: str) -> list[str]:
    """count copies of folder below into (real copies: imglint reads a file reached twice once)."""
    made = []
    for index in range(count):
        target = os.path.join(into, f"copy{index}")
        if not os.path.isdir(target):
            shutil.copytree(folder, target, symlinks=True)
        made.append(target)
    return made


def large_file(folder: str, mib: int, into: str) -> str:
    """One file of about `mib` MiB: the folder's manifests that read cleanly on their own (no
    template, no YAML error, no directive), as documents of one stream, repeated as needed."""
    from imglint.documents import FileReading
    from imglint.sources import MANIFEST_SUFFIXES, Source

    documents: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            try:
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError):
                continue
            if text.startswith("%") or "\n%" in text or "\n..." in text:
                continue
            reading = FileReading(Source(name, text))
            if reading.run(lambda document: None) and not reading.errors:
                documents.append(text if text.endswith("\n") else text + "\n")
    if not documents:
        raise SystemExit(f"{folder}: no manifest to build the large file from")
    path = os.path.join(into, "large.yaml")
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        while written < mib * 1024 * 1024:
            for text in documents:
                handle.write("---\n" + text)
                written += len(text) + 4
                if written >= mib * 1024 * 1024:
                    break
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each process (default 5)")
    parser.add_argument(
        "--scales", default="1,2,4,8", help="copies of the folder to scale over ('' to skip)"
    )
    parser.add_argument(
        "--large-mib", type=int, default=30, help="size of the one-file case (0 to skip)"
    )
    parser.add_argument("--startup-only", action="store_true", help="only the start-up rows")
    args = parser.parse_args()
    print(f"corpus: {args.folder}; {args.repeat} runs each, fresh processes")
    print(f"cores: {cores()}; load average before: {load_average()}")
    # Start-up first: a process this one starts reports at least this one's peak memory (it
    # starts as its vfork), and building the large file composes the folder in this process.
    startup_rows(args.repeat)
    if not args.startup_only:
        folder_rows(os.path.abspath(args.folder), args)
    print(f"load average after: {load_average()}")


def folder_rows(folder: str, args: argparse.Namespace) -> None:
    workers = has_workers_option()
    commands = {"floor (C compose, no GC)": floor_command([folder])}
    if workers:
        commands["imglint --workers 1"] = imglint_command([folder], ["--workers", "1"])
        commands[f"imglint (workers: {cores()} cores)"] = imglint_command([folder])
    else:
        commands["imglint"] = imglint_command([folder])
    report(measure(commands, args.repeat), "floor (C compose, no GC)")

    scales = [int(n) for n in args.scales.split(",") if n]
    if scales:
        with tempfile.TemporaryDirectory(prefix="imglint-bench-") as temp:
            ways: dict[str, list[str]] = (
                {"imglint --workers 1": ["--workers", "1"], "imglint (workers)": []}
                if workers
                else {"imglint": []}
            )
            first_peak: dict[str, float] = {}
            for scale in scales:
                folders = copies(folder, scale, temp)
                scaled = {f"floor {scale}x": floor_command(folders)}
                for name, extra in ways.items():
                    scaled[f"{name} {scale}x"] = imglint_command(folders, extra)
                samples = measure(scaled, max(1, args.repeat // 2))
                print(f"scale {scale}x:")
                report(samples, f"floor {scale}x")
                for name in ways:
                    peak = statistics.median(s.peak_kib for s in samples[f"{name} {scale}x"])
                    first = first_peak.setdefault(name, peak)
                    print(f"  {name} peak memory against 1x: {peak / first:.2f}x")

    if args.large_mib:
        with tempfile.TemporaryDirectory(prefix="imglint-bench-") as temp:
            large = large_file(folder, args.large_mib, temp)
            print(f"one file of {os.path.getsize(large) / 1024 / 1024:.0f} MiB:")
            single = {"floor": floor_command([large]), "imglint": imglint_command([large])}
            report(measure(single, args.repeat), "floor")


def startup_rows(repeat: int) -> None:
    script = os.path.join(os.path.dirname(sys.executable), "imglint")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
        handle.write("spec:\n  containers: [{name: a, image: 'docker.io/library/nginx:1.25'}]\n")
    try:
        print("start-up (one small file):")
        startup = {"python -c 'import yaml'": [sys.executable, "-c", "import yaml"]}
        if os.path.exists(script):
            startup["imglint FILE"] = [script, handle.name]
        startup["python -m imglint FILE"] = [sys.executable, "-m", "imglint", handle.name]
        report(measure(startup, repeat * 2), "python -c 'import yaml'")
    finally:
        os.unlink(handle.name)


if __name__ == "__main__":
    main()
