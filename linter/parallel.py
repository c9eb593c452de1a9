"""Reading a run's files: in this process, or in worker processes when the input is large.

Each file is read, composed and searched where it is read (`imglint.manifests.read_source`);
what comes back is results, not texts: its sites, the ServiceAccounts and pull Secrets it
indexes, its errors, notices and details. This process adds them up in the files' order, so
the result is the same whichever process read which file, and then runs the steps that need
every file of the set (kustomize entries settled against their bases; the rules, later, see
every ServiceAccount and Secret).

Workers:
- How many: `--workers N` / `workers:`, else one per core this process may run on; but one per
  `BYTES_PER_WORKER` of input at most, and never more than there are files: a small input is
  read here, in this process, as starting a worker costs more than it saves.
- How: forked, on Linux (a worker starts in a few milliseconds and shares the modules already
  imported; nothing heavy is in this process yet: only the configurations and the list of
  files); elsewhere one process reads. The files go out in runs of neighbouring files of
  about equal size, largest first, to whichever worker is free.
- What they send back must pickle and stay small: a source's text never travels (a worker
  releases it; `Source.text` reads the file again should a later step ask), and `rewrite`
  hooks (closures over YAML nodes) are dropped: --fix and --pin read in one process.
- Ctrl-C: workers ignore SIGINT (the terminal sends it to the whole process group); this
  process stops them and the command line exits 130. A worker that dies or raises ends the
  run with one line, exit 2.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence

from imglint.errors import ImglintError
from imglint.findings import InputError
from imglint.records import dataclass
from imglint.sources import Collected, Pending, Skipped, Source, read

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext

    from imglint.document_filter import DocumentFilter
    from imglint.image_fields import ResourceSettings
    from imglint.manifests import Manifests

# The input one more worker must have to pay for itself. Measured with the corpus's files
# (fresh processes, user+system CPU of the run and its workers): reading costs about 50 ms of CPU
# per MB, and workers add a fixed 50-100 ms (importing multiprocessing, forking, sending the
# results back); half of the reading saved by a second worker covers that from about 2 MB, and
# at 4 MiB of input two workers took 0.68x the wall time of one process (1.4x at 0.25 MiB; a
# busy machine, load average near 20). So: a worker per 2 MiB, and none below 4 MiB.
BYTES_PER_WORKER = 2 * 1024 * 1024
# Workers are forked: on Linux only (macOS's system libraries are not safe to fork, Windows
# cannot; spawning would start an interpreter per worker and send it the configuration).
_CAN_FORK = sys.platform == "linux"
# Runs of files per worker: enough that a worker that gets the slow files does not keep the
# others waiting at the end, few enough that each run's results travel in one message.
RUNS_PER_WORKER = 8

# What reading one found file gave: the source (or why there is none), and what was read in it.
FileRead = tuple[Source | InputError | Skipped, "Manifests | None"]
# What reading a run of files gave: each file's source (or why there is none), in order, and
# what was read in all of them, added up in that order (a worker sends one of these per run).
RunRead = tuple[list[Source | InputError | Skipped], "Manifests"]


@dataclass(frozen=True)
class ReadSettings:
    """How every file of a run is read (workers inherit it when they are forked: it holds the
    configuration, whose nearest-configuration lookups it calls)."""

    # configuration keys that select files for a file extractor, and their path tests
    selections: Mapping[str, Callable[[str], bool]]
    resources: ResourceSettings | None = None  # how custom resources are read
    keep_texts: bool = False  # --fix/--pin rewrite the texts read: keep them


def available_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    process_cpu_count = getattr(os, "process_cpu_count", None)  # Python 3.13
    if process_cpu_count is not None:
        return int(process_cpu_count() or 1)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(found: Sequence[Pending], requested: int | None) -> int:
    """Processes that read `found`: 1 means this process alone (no worker is started)."""
    if not _CAN_FORK:
        return 1
    wanted = available_cores() if requested is None else requested
    files = sum(1 for pending in found if pending.file_path is not None)
    size = sum(pending.size for pending in found)
    return max(1, min(wanted, files, size // BYTES_PER_WORKER))


def read_all(
    found: Sequence[Pending],
    collected: Collected,
    settings: ReadSettings,
    workers: int = 1,
) -> Manifests:
    """Read every found file into `collected` (sources, errors, notes) and the result, in the
    files' order, then settle what needs the whole set."""
    from imglint import manifests
    from imglint.extract import document_filter

    if workers > 1 and settings.keep_texts:
        raise ValueError("texts a fix rewrites are read in one process")
    result = manifests.Manifests()
    wanted = document_filter(settings.resources)  # once per run, not per file
    reads = (
        _in_workers(found, settings, wanted, workers)
        if workers > 1
        else _here(found, settings, wanted)
    )
    for outcomes, part in reads:
        for outcome in outcomes:
            if isinstance(outcome, Source) and outcome.file_path is not None:
                outcome.named_paths = collected.named_paths  # a worker's sources come without
            collected.add(outcome)
        result.add(part)
    return manifests.settle(result, collected.sources)


def read_one(
    pending: Pending, settings: ReadSettings, wanted: DocumentFilter | None = None
) -> FileRead:
    """One found file read, composed and searched (texts released unless kept). `wanted`:
    the documents worth composing (`imglint.extract.document_filter`, built once per run)."""
    from imglint.manifests import read_source

    outcome = read(pending)
    if not isinstance(outcome, Source):
        return outcome, None
    part = read_source(outcome, settings.selections, settings.resources, wanted)
    if not settings.keep_texts:
        outcome.release()
    return outcome, part


def _here(
    found: Sequence[Pending], settings: ReadSettings, wanted: DocumentFilter
) -> Iterator[RunRead]:
    from imglint.manifests import Manifests

    for pending in found:
        outcome, part = read_one(pending, settings, wanted)
        yield [outcome], part if part is not None else Manifests()


# -- workers ---------------------------------------------------------------------------------


def runs_of_files(found: Sequence[Pending], workers: int) -> list[list[Pending]]:
    """found cut into runs of neighbouring files of about equal size, in order."""
    target = max(1, sum(p.size for p in found) // (workers * RUNS_PER_WORKER))
    runs: list[list[Pending]] = []
    current: list[Pending] = []
    size = 0
    for pending in found:
        current.append(pending)
        size += pending.size
        if size >= target:
            runs.append(current)
            current, size = [], 0
    if current:
        runs.append(current)
    return runs


def _in_workers(
    found: Sequence[Pending], settings: ReadSettings, wanted: DocumentFilter, workers: int
) -> Iterator[RunRead]:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    runs = runs_of_files(found, workers)
    largest_first = sorted(range(len(runs)), key=lambda i: -sum(p.size for p in runs[i]))
    executor = ProcessPoolExecutor(
        workers,
        mp_context=_start_method(),
        initializer=_start_worker,
        initargs=(settings, wanted),
    )
    futures: dict[int, Future[RunRead]] = {}
    try:
        # The workers start with the first submission: with SIGINT blocked, so that a Ctrl-C
        # meanwhile reaches this process (once unblocked) and never a worker before it has
        # learned to ignore it.
        with _interrupts_held():
            for index in largest_first:
                futures[index] = executor.submit(_read_run, runs[index])
        for index in range(len(runs)):
            # Taken out as it is used: a run's results are this process's to keep, not twice.
            yield futures.pop(index).result()
    except BrokenProcessPool:
        _stop(executor)
        raise ImglintError(
            "a worker process stopped unexpectedly (out of memory?); "
            "--workers 1 reads every file in this process"
        ) from None
    except BaseException:  # Ctrl-C, or a worker's exception (a bug: the command line says so)
        _stop(executor)
        raise
    executor.shutdown()


def _stop(executor: ProcessPoolExecutor) -> None:
    """Stop every worker now (Ctrl-C, or a worker failed): none outlives the run."""
    import multiprocessing

    executor.shutdown(wait=False, cancel_futures=True)
    # Again while any is left: the executor's own thread may still be winding down its workers.
    for _ in range(10):
        children = multiprocessing.active_children()
        if not children:
            return
        for child in children:
            child.terminate()
        for child in children:
            child.join(timeout=5)
            if child.is_alive():  # it ignored SIGTERM
                child.kill()
                child.join()


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """SIGINT blocked in this thread while workers fork (they inherit the mask); a Ctrl-C that
    arrives meanwhile is delivered here when it ends."""
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _start_method() -> BaseContext:
    import multiprocessing

    # fork: a worker is ready in milliseconds with every module this process imported and the
    # configurations it read.
    return multiprocessing.get_context("fork")


# A worker's, from _start_worker.
_settings: ReadSettings | None = None
_wanted: DocumentFilter | None = None


def _start_worker(settings: ReadSettings, wanted: DocumentFilter) -> None:
    import signal

    global _settings, _wanted
    _settings, _wanted = settings, wanted
    # The terminal's Ctrl-C goes to the whole process group: the parent stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _read_run(run: list[Pending]) -> RunRead:
    """A worker's task: a run of files, read as this process would read them. What was read in
    them goes back added up (a result per file cost this process about 1 KB each to receive:
    its lists and tables, mostly empty)."""
    from imglint.manifests import Manifests

    assert _settings is not None
    outcomes: list[Source | InputError | Skipped] = []
    read = Manifests()
    for pending in run:
        outcome, part = read_one(pending, _settings, _wanted)
        outcomes.append(outcome)
        if part is not None:
            read.add(part)
    for site in read.sites:
        site.rewrite = None  # closures over YAML nodes: only --fix calls them (one process)
    return outcomes, read
