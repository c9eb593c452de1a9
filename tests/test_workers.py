"""Reading in worker processes (`--workers`, imglint.parallel): the same report as one process,
byte for byte, in every format; a clean Ctrl-C (exit 130, no worker left); a worker that dies
or raises ends the run with one line (exit 2), never a hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from imglint import parallel
from imglint.document_filter import DocumentFilter
from imglint.manifests import Manifests
from imglint.report import FORMATS, INVENTORY_FORMATS
from imglint.sources import Collected, Pending
from tests.cli_runner import run

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-{index}
  annotations:
    note: "{padding}"
spec:
  imagePullSecrets: [{{name: regcred}}]
  containers:
    - name: app
      image: nginx:1.{index}
    - name: sidecar
      image: ghcr.io/acme/agent:latest
"""


def corpus_root() -> Path:
    """The shared corpus ($IMGLINT_CORPUS, else beside the work tree, else /work/shared)."""
    candidates = [ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")]
    if os.environ.get("IMGLINT_CORPUS"):
        candidates.insert(0, Path(os.environ["IMGLINT_CORPUS"]))
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    pytest.skip("the shared corpus is not here (set IMGLINT_CORPUS to its folder)")


def make_tree(root: Path, files: int, padding: int) -> Path:
    for index in range(files):
        folder = root / f"team{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"pod{index:04}.yaml").write_text(POD.format(index=index, padding="x" * padding))
    return root


@pytest.fixture
def small_input_starts_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any input (the fixtures are far below the size that starts them)."""
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)


# -- how many ------------------------------------------------------------------------------------


def pending(count: int, size: int) -> list[Pending]:
    return [Pending(f"f{i}.yaml", f"f{i}.yaml", False, size) for i in range(count)]


def workers_for(found: list[Pending], requested: int | None) -> int:
    """The processes that read found with `--workers requested` (None: not given)."""
    files = sum(1 for p in found if p.file_path is not None)
    size = sum(p.size for p in found)
    return parallel.worker_count(files, size, parallel.worker_limit(requested))


def test_a_small_input_is_read_in_this_process() -> None:
    small = pending(40, 20_000)  # 800 kB: a pre-commit run's few files
    assert workers_for(small, None) == 1
    assert workers_for(small, 8) == 1


def test_workers_follow_cores_size_and_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "available_cores", lambda: 4)
    big = pending(400, 50_000)  # 20 MB
    assert workers_for(big, None) == 4
    assert workers_for(big, 2) == 2
    assert workers_for(big, 1) == 1
    # one worker per BYTES_PER_WORKER of input at most
    assert workers_for(pending(100, 50_000), None) == 2
    # never more than the files: one huge file is read by one process
    assert workers_for(pending(1, 30_000_000), None) == 1
    # reading, not bytes: many small files pay for workers as a few large ones do
    assert workers_for(pending(400, 1_000), None) == 1  # 0.4 MB, 2.8 MiB of reading
    assert workers_for(pending(600, 1_000), None) == 2  # 0.6 MB, 4.1 MiB of reading
    assert parallel.read_cost(pending(1, 1_000)[0]) * 600 // parallel.BYTES_PER_WORKER == 2


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_workers_read_while_files_are_still_being_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers start once the files found are enough to pay for them (here: two files), and
    what they read comes back in the files' order, each file once."""
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    monkeypatch.setattr(parallel, "RUN_COST", 1)  # a run per file: many runs, many messages
    make_tree(tmp_path, 60, 10)
    found = sorted(tmp_path.rglob("*.yaml"))
    children_when_checked: list[int] = []
    before = parallel_children()

    def discovered() -> Iterator[Pending]:
        for path in found:
            yield Pending(str(path), str(path), False, path.stat().st_size)

    def check(_: Pending) -> None:
        children_when_checked.append(len(parallel_children() - before))

    collected = Collected()
    settings = parallel.ReadSettings({})
    read = parallel.read_all(discovered(), collected, settings, 2, check=check)
    assert children_when_checked[:2] == [0, 0]  # none before two files were found
    assert children_when_checked[-1] == 2  # both reading before the last file was found
    # two containers a Pod, each file once, in the files' order
    assert [site.path for site in read.sites] == [str(p) for p in found for _ in range(2)]
    assert parallel_children() <= before


# -- the same report -----------------------------------------------------------------------------


@pytest.mark.usefixtures("small_input_starts_workers")
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_the_same_with_workers(
    fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)  # every kind of file: errors, notices, kustomize, Helm values
    one = run(["--workers", "1", "--format", fmt, "."], capsys)
    two = run(["--workers", "2", "--format", fmt, "."], capsys)
    assert one[0] in (1, 2) and one[1]
    assert two == one


@pytest.mark.usefixtures("small_input_starts_workers")
@pytest.mark.parametrize("fmt", INVENTORY_FORMATS)
def test_the_inventory_is_the_same_with_workers(
    fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    one = run(["--list-images", "--workers", "1", "--format", fmt, "."], capsys)
    two = run(["--list-images", "--workers", "2", "--format", fmt, "."], capsys)
    assert one[1]
    assert two == one


@pytest.mark.usefixtures("small_input_starts_workers")
def test_cross_file_rules_see_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pod's pull secret is in another file, read by another worker."""
    make_tree(tmp_path, 30, 10)
    (tmp_path / "zz-secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: regcred}\n"
        "type: kubernetes.io/dockerconfigjson\n"
        "data: {.dockerconfigjson: eyJhdXRocyI6eyJnaGNyLmlvIjp7ImF1dGgiOiJlRHA1In19fQ==}\n"
    )
    one = run(["--workers", "1", "--format", "json", str(tmp_path)], capsys)
    two = run(["--workers", "2", "--format", "json", str(tmp_path)], capsys)
    assert two == one
    assert "IMG006" not in one[1]  # the secret was found: no "missing pull secret"


def test_the_corpus_is_the_same_in_every_format(tmp_path: Path) -> None:
    corpus = corpus_root()
    outputs: dict[str, dict[str, bytes]] = {}
    for workers in ("1", "2"):
        folder = tmp_path / workers
        folder.mkdir()
        reports = [f"--report={fmt}:{folder / fmt}" for fmt in FORMATS if fmt != "text"]
        command = [sys.executable, "-m", "imglint", "--workers", workers, *reports, str(corpus)]
        result = subprocess.run(command, capture_output=True, check=False, timeout=600)
        assert result.returncode == 2, result.stderr  # the corpus has unreadable files
        outputs[workers] = {"text": result.stdout, "stderr": result.stderr}
        outputs[workers].update({p.name: p.read_bytes() for p in folder.iterdir()})
    assert outputs["2"] == outputs["1"]


# -- interrupt and failure -----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_an_interrupt_while_results_are_added_stops_the_workers_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C lands where the reading loop adds a result, not in the workers' generator: the
    workers stop before the exception leaves the loop (the command line then ends the process
    at once, with no collector to finalize a generator left open)."""
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    monkeypatch.setattr(parallel, "RUN_COST", 1)  # a run per file: results come one by one
    make_tree(tmp_path, 40, 10)
    added, this_process = 0, os.getpid()
    add = Manifests.add

    def interrupted(self: Manifests, part: Manifests, shared: object = None) -> None:
        nonlocal added
        if os.getpid() == this_process:  # (workers add up their runs with it too)
            added += 1
            if added == 2:
                raise KeyboardInterrupt
        add(self, part, shared)  # type: ignore[arg-type]

    monkeypatch.setattr(Manifests, "add", interrupted)
    before = parallel_children()
    collected = Collected()
    found = sorted(tmp_path.rglob("*.yaml"))
    pendings = [Pending(str(p), str(p), False, p.stat().st_size) for p in found]
    with pytest.raises(KeyboardInterrupt) as raised:
        parallel.read_all(pendings, collected, parallel.ReadSettings({}), 2)
    assert parallel_children() <= before  # while the traceback still holds the loop's frame
    del raised


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_stops_the_workers_and_exits_130(tmp_path: Path) -> None:
    """A real SIGINT to the whole process group, as a terminal's Ctrl-C sends it."""
    tree = make_tree(tmp_path / "big", 600, 40_000)  # 24 MB: long enough to interrupt
    process = subprocess.Popen(
        [sys.executable, "-m", "imglint", "--workers", "2", str(tree)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # As a terminal's foreground job: a suite started in the background (`cmd &`, some CI
        # runners) has SIGINT ignored, which a child inherits and rightly keeps.
        preexec_fn=_sigint_as_in_a_terminal,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.01)
        time.sleep(0.2)  # the workers are reading
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert (process.returncode, err.decode()) == (130, "imglint: interrupted\n")
    assert out == b""
    with pytest.raises(ProcessLookupError):  # nothing of the group is left
        os.killpg(process.pid, 0)


@pytest.mark.usefixtures("small_input_starts_workers")
def test_a_worker_that_dies_ends_the_run_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, 20, 10)
    read_one = parallel.read_one

    def dies_on_one_file(
        found: Pending, settings: parallel.ReadSettings, wanted: DocumentFilter | None = None
    ) -> parallel.FileRead:
        if found.path.endswith("pod0013.yaml"):
            os._exit(9)  # as the kernel's out-of-memory killer would end it
        return read_one(found, settings, wanted)

    monkeypatch.setattr(parallel, "read_one", dies_on_one_file)  # workers are forked
    before = parallel_children()
    code, out, err = run(["--workers", "2", str(tmp_path)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "imglint: error: a worker process stopped unexpectedly (out of memory?); "
        "--workers 1 reads every file in this process\n"
    )
    assert parallel_children() <= before  # no worker outlives the run


@pytest.mark.usefixtures("small_input_starts_workers")
def test_a_worker_that_raises_ends_the_run_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, 20, 10)
    read_one = parallel.read_one

    def fails_on_one_file(
        found: Pending, settings: parallel.ReadSettings, wanted: DocumentFilter | None = None
    ) -> parallel.FileRead:
        if found.path.endswith("pod0013.yaml"):
            raise RuntimeError("a bug")
        return read_one(found, settings, wanted)

    monkeypatch.setattr(parallel, "read_one", fails_on_one_file)
    before = parallel_children()
    code, out, err = run(["--workers", "2", str(tmp_path)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "imglint: internal error: RuntimeError: a bug "
        "(please report it; IMGLINT_DEBUG=1 shows the traceback)\n"
    )
    assert parallel_children() <= before  # no worker outlives the run


def parallel_children() -> set[int]:
    """This process's child processes, as the kernel knows them (other tests' servers too)."""
    return set(_children(os.getpid())) if Path("/proc/self/task").is_dir() else set()


@pytest.mark.usefixtures("small_input_starts_workers")
def test_fix_reads_in_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--fix rewrites the texts it read, with hooks that hold YAML nodes: one process keeps
    them; the lint of the rewritten files that follows may use workers."""
    make_tree(tmp_path, 20, 10)
    read_all = parallel.read_all
    calls: list[tuple[bool, int]] = []

    def recorded(
        found: Iterable[Pending],
        collected: Collected,
        settings: parallel.ReadSettings,
        workers: int = 1,
        check: Callable[[Pending], object] | None = None,
    ) -> Manifests:
        calls.append((settings.keep_texts, workers))
        return read_all(found, collected, settings, workers, check)

    monkeypatch.setattr(parallel, "read_all", recorded)
    _, _, err = run(["--fix", "--workers", "2", str(tmp_path)], capsys)
    assert "imglint: rewrote 20 image references in 20 files" in err
    assert calls == [(True, 1), (False, 2)]


def test_the_heap_is_trimmed_once_the_workers_results_are_in(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    small_input_starts_workers: None,
) -> None:
    """Once every worker's results are in, free C heap pages go back to the system, once; a
    run read in this process has nothing to give back, and a C library without the call is
    no error."""
    make_tree(tmp_path, 6, 3)
    calls: list[str] = []
    real = parallel._give_back_free_memory
    monkeypatch.setattr(parallel, "_give_back_free_memory", lambda: calls.append("trim"))
    two = run([str(tmp_path), "--workers", "2", "--format", "json"], capsys)
    assert calls == ["trim"]
    one = run([str(tmp_path), "--workers", "1", "--format", "json"], capsys)
    assert calls == ["trim"] and one == two

    import ctypes

    def no_library(name: object) -> object:
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    real()  # nothing to give back, and no error
