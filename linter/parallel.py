"""Reading a run's files: in this process, or in worker processes when the input is large.

Each file is read, composed and searched where it is read (`imglint.manifests.read_source`);
what comes back is results, not texts: its sites, the ServiceAccounts and pull Secrets it
indexes, its errors, notices and details. This process adds them up in the files' order, so
the result is the same whichever process read which file, and then runs the steps that need
every file of the set (kustomize entries settled against their bases; the rules, later, see
every ServiceAccount and Secret).

Workers:
- How many: `--workers N` / `workers:`, else one per core this process may run on; but one per
  `BYTES_PER_WORKER` of reading found so far at most (`read_cost`: a file's bytes and what
  every file costs beyond them), and never more than the files: a small input is read here,
  in this process, as starting a worker costs more than it saves.
- When: while the files are still being found. The first workers start as soon as the files
  found are enough to pay for two, more as the input grows; the rest of the discovery (and
  each file's nearest configuration) runs here meanwhile.
- How: forked, on Linux (a worker starts in a few milliseconds and shares the modules already
  imported; nothing heavy is in this process yet: only the configurations and the files found
  so far); elsewhere one process reads. Plain `os.fork` and a pair of pipes per worker: runs of
  neighbouring files of about `RUN_COST` go out pickled as they are cut, to whichever worker
  has room, and each run's reads come back pickled; this process never blocks writing to a
  worker (which may be blocked writing its results back).
- What they send back must pickle and stay small: a source's text never travels (a worker
  releases it; `Source.text` reads the file again should a later step ask), and `rewrite`
  hooks (closures over YAML nodes) are dropped: --fix and --pin read in one process.
- Ctrl-C: workers ignore SIGINT (the terminal sends it to the whole process group); this
  process kills them and the command line exits 130. A worker that dies ends the run with one
  line, exit 2; one whose reading raises (a bug) has this process raise the same exception.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence

from imglint.errors import ImglintError
from imglint.findings import InputError
from imglint.records import dataclass
from imglint.sources import Collected, PackedSources, Pending, Skipped, Source, read

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from imglint.document_filter import DocumentFilter
    from imglint.image_fields import ResourceSettings
    from imglint.manifests import Manifests

# The reading one more worker must have to pay for itself, in bytes' worth (`read_cost`).
# Measured with the corpus's files (fresh processes, user+system CPU of the run and its
# workers): reading costs about 50 ms of CPU per MB, and workers add a fixed cost (forking,
# sending the results back); half of the reading saved by a second worker covers that from
# about 2 MB, and at 4 MiB of input two workers took 0.68x the wall time of one process (1.4x
# at 0.25 MiB; a busy machine, load average near 20). So: a worker per 2 MiB, and none below
# 4 MiB. Counted as reading, not bytes: many small files take as long as a few large ones (by
# bytes, the corpus's workers started only once its first 1,013 files were found, the other
# core idle meanwhile; by reading, after 515). Near that threshold, 518 small files (1 MB,
# 4.2 MiB of reading) took 0.37 s with two workers against 0.41 s in one process (median of 9,
# quiet 2-core machine), and 844 of them (1.7 MB) 0.59 s against 0.80 s.
BYTES_PER_WORKER = 2 * 1024 * 1024
# Workers are forked: on Linux only (macOS's system libraries are not safe to fork, Windows
# cannot; spawning would start an interpreter per worker and send it the configuration).
_CAN_FORK = sys.platform == "linux"
# A run of files sent to a worker at once, in bytes' worth (`read_cost`; about 15 ms of
# reading): runs are cut as files are found, before the input's size is known, small enough
# that the last one keeps the other workers waiting little, large enough that sending them
# and their results costs next to nothing.
RUN_COST = 512 * 1024
# What a file costs to read beyond its bytes, in bytes' worth: opening, decoding, judging its
# documents and sending its result back. Fitted on the corpus's files (one process): a file of
# under 1 KB took 0.19 ms, files over 100 KB 28 ns a byte; so a run of many small files is
# as long as one of a few big ones many times its size.
FILE_COST_IN_BYTES = 6 * 1024

# What reading one found file gave: the source (or why there is none), and what was read in it.
FileRead = tuple[Source | InputError | Skipped, "Manifests | None"]
# What reading a run of files gave: each file's source (or why there is none), in order, but
# the sources no site needs (`read_one`), packed (`PackedSources.packed`), and what was
# read in all of them, added up in that order (a worker sends one of these per run).
RunRead = tuple[list[Source | InputError | Skipped], bytes, "Manifests"]


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


def worker_limit(requested: int | None) -> int:
    """The most processes that may read a run's files (`--workers`, else the cores)."""
    if not _CAN_FORK:
        return 1
    return max(1, available_cores() if requested is None else requested)


def worker_count(files: int, size: int, limit: int) -> int:
    """Processes that read `files` files of `size` bytes in all, at most `limit`: 1 means this
    process alone (no worker is started)."""
    reading = size + files * FILE_COST_IN_BYTES  # (as `read_cost` counts each file)
    return max(1, min(limit, files, reading // BYTES_PER_WORKER))


def read_all(
    found: Iterable[Pending],
    collected: Collected,
    settings: ReadSettings,
    workers: int = 1,
    check: Callable[[Pending], object] | None = None,
) -> Manifests:
    """Read every found file into `collected` (sources, errors, notes) and the result, in the
    files' order, then settle what needs the whole set.

    `found` may be a discovery still under way: `check` is called on each file as it comes (its
    nearest configuration is read then, and may end the run before anything is reported).
    `workers`: the most processes that read; fewer when the input is small (`worker_count`),
    and this one alone for 1. Workers start reading as soon as the files found so far are
    enough to pay for them, while the rest are still being found.

    What the run keeps is results: a list given as `found` is emptied once read, and
    `collected` keeps the sources that sites need (kustomize and Helm values entries), that
    settling opens, and stdin, not one per file (unless a fix rewrites them). While reading, a
    file no site needs keeps its source packed (`PackedSources`): a kustomization read later
    may name it."""
    from imglint import manifests
    from imglint.documents import gc_paused
    from imglint.extract import document_filter

    if workers > 1 and settings.keep_texts:
        raise ValueError("texts a fix rewrites are read in one process")
    result = manifests.Manifests()
    wanted = document_filter(settings.resources)  # once per run, not per file
    reads: Generator[RunRead, None, None]
    set_aside = collected.set_aside
    if workers > 1:
        reads = _in_workers(found, settings, wanted, workers, check, set_aside)
    else:
        # Read as found (a list of every file found would live as long as the reading).
        reads = _here(_checked(found, check), settings, wanted, set_aside)
    # Files that could not be read, or are no manifests, are told after what discovery met (as
    # when every file is found before any is read), however far discovery got meanwhile.
    unread: list[InputError | Skipped] = []
    shared = manifests.SharedValues() if workers > 1 else None
    # The collector stays paused from the first file read to the last entry settled: results,
    # what reading builds and the builds' composed bases hold no cycles, and a pass in between
    # would walk every result read (50 ms on the corpus). The caller may freeze them
    # (`Application.read`).
    with gc_paused():
        try:
            for outcomes, packed, part in reads:
                for outcome in outcomes:
                    if not isinstance(outcome, Source):
                        unread.append(outcome)
                        continue
                    if outcome.file_path is not None:
                        outcome.named_paths = collected.named_paths  # a worker's come without
                    collected.add(outcome)
                set_aside.extend(packed)
                result.add(part, shared)
        finally:
            # Ctrl-C (or an error) raised here, between two results, stops the workers now:
            # the command line then ends the process at once, and a generator left open
            # would stop them only when the collector finalizes it (or never).
            reads.close()
        for outcome in unread:
            collected.add(outcome)
        if isinstance(found, list):
            found.clear()  # a Pending per file would live as long as the run
        opens = manifests.settle_opens(result, collected.sources)
        if not settings.keep_texts:
            opened = manifests.opened_by(opens) if opens else None
            kept = manifests.needed_sources(result, collected.sources, opened)
            if opened is not None:  # packed sources are made again only where settling opens
                kept.extend(set_aside.sources(collected.named_paths, opened))
            collected.sources = kept
        collected.set_aside = PackedSources()
        return manifests.settle(result, collected.sources, opens)


def _checked(
    found: Iterable[Pending], check: Callable[[Pending], object] | None
) -> Iterator[Pending]:
    for pending in found:
        if check is not None:
            check(pending)
        yield pending


# The sites whose file settling reads again, once every file is read (kustomize entries and
# Helm values of a kustomization): the others let go of their source in a run without --fix.
SETTLED_ORIGINS = frozenset({"kustomize", "helm-values"})


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
        if outcome.file_path is not None:
            for site in part.sites:
                if site.origin not in SETTLED_ORIGINS:
                    site.source = None  # nothing reads the file for it again (see ImageSite)
    return outcome, part


def _here(
    found: Iterable[Pending],
    settings: ReadSettings,
    wanted: DocumentFilter,
    set_aside: PackedSources,
) -> Generator[RunRead, None, None]:
    """Each file read in this process (a source no site needs packed in set_aside)."""
    from imglint.manifests import Manifests

    for pending in found:
        outcome, part = read_one(pending, settings, wanted)
        outcomes = [] if _set_aside(outcome, part, set_aside) else [outcome]
        yield outcomes, b"", part if part is not None else Manifests()


def _set_aside(
    outcome: Source | InputError | Skipped, part: Manifests | None, set_aside: PackedSources
) -> bool:
    """Whether outcome, a released source no site of it needs (`read_one`), is packed into
    set_aside (a kustomization, which settling reads whether or not it has sites, never is)."""
    from imglint.extract import is_kustomization_path

    return (
        isinstance(outcome, Source)
        and part is not None
        and all(site.source is None for site in part.sites)
        and PackedSources.can_pack(outcome)
        and not is_kustomization_path(outcome.path)
        and set_aside.add(outcome)
    )


# -- workers ---------------------------------------------------------------------------------


def read_cost(pending: Pending) -> int:
    """About how long reading a found file takes, in bytes' worth."""
    return pending.size + FILE_COST_IN_BYTES


def _in_workers(
    found: Iterable[Pending],
    settings: ReadSettings,
    wanted: DocumentFilter,
    limit: int,
    check: Callable[[Pending], object] | None,
    set_aside: PackedSources,
) -> Generator[RunRead, None, None]:
    """Each run's reads in the files' order: read here when the input stays too small for
    workers, else by workers started as soon as it is large enough."""
    listed: list[Pending] = []
    files = size = 0
    pool: _ForkedWorkers | None = None
    run: list[Pending] = []
    run_cost = 0
    try:
        for pending in found:
            if check is not None:
                check(pending)
            listed.append(pending)
            files += pending.file_path is not None
            size += pending.size
            count = worker_count(files, size, limit)
            if count < 2:
                continue
            if pool is None:
                pool = _ForkedWorkers(settings, wanted)
            pool.start(count)  # more workers as the input grows, up to the limit
            for each in listed:
                run.append(each)
                run_cost += read_cost(each)
                if run_cost >= RUN_COST:
                    pool.send(run)
                    run, run_cost = [], 0
            listed = []
        if pool is None:  # too small for workers: read here
            yield from _here(listed, settings, wanted, set_aside)
            return
        if run:
            pool.send(run)
        yield from pool.results()
    except BaseException:  # Ctrl-C, a bad configuration, a worker that died or raised
        if pool is not None:
            pool.stop()
        raise
    pool.finish()
    _give_back_free_memory()


def _give_back_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's `malloc_trim`), once every
    worker's results are in. Unpickling them leaves free blocks between the results this
    process keeps, which the heap cannot give back on its own (only a free stretch at its top),
    and which settling and the rules then hardly reuse: at 8 copies of the corpus the run's peak
    went from 30.7 to 29.7 MiB (median of 3), ctypes's own 0.5 MiB included. Where there is no
    such call (another C library) there is nothing to do. (ctypes loads only here: about 5 ms,
    for an input large enough for workers.)"""
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (ImportError, OSError, AttributeError):
        return
    trim(0)


# A message: a run's index (or _FAILED, _FINISHED) and the length of the pickle after it (a
# run of files to a worker, a run's reads from it). (struct loads only when workers start.)
_HEADER = "<iI"
_HEADER_SIZE = 8
_FAILED = -1
_FINISHED = -1
# Runs a worker holds at once: the next is there as soon as it has sent one back.
_RUNS_AHEAD = 2


class _Worker:
    """A forked worker as this process sees it: its pid, its two pipes, what it holds."""

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid = pid
        self.tasks = tasks  # written here: runs of files
        self.results = results  # read here: their reads
        self.received = bytearray()
        self.outgoing = bytearray()  # runs not yet taken by the pipe (it is not blocking)
        self.holding: list[int] = []  # runs sent and not yet answered


class _ForkedWorkers:
    """Worker processes forked from this one, each reading the runs of files it is sent.

    Plain `os.fork` and pipes, not `concurrent.futures`: that module and multiprocessing take
    about 40 ms to import, and their feeder threads are what once made Ctrl-C hang at exit.
    A worker inherits the settings and filter; runs of files go to it pickled, and each run's
    reads come back pickled. Every process this creates ends before the run goes on: `finish`
    when all is read, `stop` (SIGKILL) on any failure or interrupt."""

    def __init__(self, settings: ReadSettings, wanted: DocumentFilter) -> None:
        from collections import deque

        self.settings = settings
        self.wanted = wanted
        self.workers: list[_Worker] = []
        self.runs = 0  # runs sent or waiting
        self.waiting: deque[tuple[int, bytes]] = deque()  # runs no worker holds yet, pickled
        self.done: dict[int, RunRead] = {}

    def start(self, count: int) -> None:
        """Fork workers until there are `count`."""
        if len(self.workers) >= count:
            return
        import pickle  # noqa: F401 (imported once here, not again in each worker it forks)
        import signal

        # Forked with SIGINT blocked: a Ctrl-C meanwhile reaches this process (once unblocked)
        # and never a worker before it has learned to ignore it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            while len(self.workers) < count:
                self.workers.append(self._fork())
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        self._dispatch()

    def _fork(self) -> _Worker:
        tasks_read, tasks_write = os.pipe()
        results_read, results_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: it never returns into the caller's code
            code = 1
            try:
                # Ends this process's side of every other pipe: a worker must see its pipe
                # close when this process ends, and this process a worker's when it dies.
                for other in self.workers:
                    os.close(other.tasks)
                    os.close(other.results)
                os.close(tasks_write)
                os.close(results_read)
                self._work(tasks_read, results_write)
                code = 0
            finally:
                os._exit(code)
        os.close(tasks_read)
        os.close(results_write)
        # Never blocked writing to a worker that is itself blocked writing its results here.
        os.set_blocking(tasks_write, False)
        return _Worker(pid, tasks_write, results_read)

    def _work(self, tasks: int, results: int) -> None:
        import pickle
        import signal
        import struct

        # The terminal's Ctrl-C goes to the whole process group: the parent stops the workers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        gc.disable()  # as in read_all: reading builds no cycles, and the worker ends after it
        while True:
            header = _read_exactly(tasks, _HEADER_SIZE)
            if len(header) < _HEADER_SIZE:
                return  # this process's side closed: it ended
            index, length = struct.unpack(_HEADER, header)
            if index == _FINISHED:
                return
            run = pickle.loads(_read_exactly(tasks, length))
            try:
                payload = pickle.dumps(_read_run(run, self.settings, self.wanted))
            except Exception as exc:  # a bug: the parent raises it, and the command line says so
                index, payload = _FAILED, _pickled_error(exc)
            _write_all(results, struct.pack(_HEADER, index, len(payload)) + payload)
            if index == _FAILED:
                return

    def send(self, run: list[Pending]) -> None:
        """A run of files to read (the next in order): to a worker with room for it, else
        waiting for one; results that came back meanwhile are taken in."""
        import pickle

        self.waiting.append((self.runs, pickle.dumps(run)))
        self.runs += 1
        self._dispatch()
        self._receive(timeout=0)

    def results(self) -> Iterator[RunRead]:
        """Each run's reads, in the runs' order, as the workers send them back."""
        next_run = 0
        while next_run < self.runs:
            while next_run in self.done:
                yield self.done.pop(next_run)
                next_run += 1
            if next_run < self.runs:
                self._receive(timeout=None)

    def _dispatch(self) -> None:
        """Runs waiting to each worker with room for them, as far as its pipe takes them."""
        import struct

        for worker in self.workers:
            while self.waiting and len(worker.holding) < _RUNS_AHEAD:
                index, payload = self.waiting.popleft()
                worker.holding.append(index)
                worker.outgoing += struct.pack(_HEADER, index, len(payload)) + payload
            _write_some(worker)

    def _receive(self, timeout: float | None) -> None:
        """Take in what the workers sent and send on what their pipes would not take before
        (waiting up to `timeout` seconds for either; None: until one comes), and give each
        worker a new run for each it sent back."""
        import pickle
        import select

        by_pipe = {worker.results: worker for worker in self.workers}
        blocked = {worker.tasks: worker for worker in self.workers if worker.outgoing}
        readable, writable, _ = select.select(list(by_pipe), list(blocked), [], timeout)
        for pipe in writable:
            _write_some(blocked[pipe])
        payloads: list[tuple[int, bytes]] = []
        for pipe in readable:
            worker = by_pipe[pipe]
            chunk = os.read(pipe, 1 << 20)
            if not chunk:
                raise _stopped_unexpectedly()
            worker.received += chunk
            for index, payload in _messages(worker.received):
                if index == _FAILED:
                    raise pickle.loads(payload)
                worker.holding.remove(index)
                payloads.append((index, payload))
        self._dispatch()  # the next runs first, then what came back is unpickled
        for index, payload in payloads:
            self.done[index] = pickle.loads(payload)

    def finish(self) -> None:
        """Tell every worker there is no more to read, and wait for each to end."""
        import contextlib
        import struct

        for worker in self.workers:
            with contextlib.suppress(OSError):  # it ended already: reaped below
                os.set_blocking(worker.tasks, True)  # it holds nothing: it is reading
                _write_all(worker.tasks, struct.pack(_HEADER, _FINISHED, 0))
        self._close_and_reap()

    def stop(self) -> None:
        """End every worker now (Ctrl-C, or a worker failed): none outlives the run."""
        import contextlib
        import signal

        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):  # it ended already: reaped below
                os.kill(worker.pid, signal.SIGKILL)
        self._close_and_reap()

    def _close_and_reap(self) -> None:
        import contextlib

        for worker in self.workers:
            for pipe in (worker.tasks, worker.results):
                with contextlib.suppress(OSError):
                    os.close(pipe)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        self.workers = []


def _messages(received: bytearray) -> Iterator[tuple[int, bytes]]:
    """The whole messages at the start of received, taken out of it."""
    import struct

    while len(received) >= _HEADER_SIZE:
        index, length = struct.unpack_from(_HEADER, received)
        if len(received) < _HEADER_SIZE + length:
            return
        payload = bytes(received[_HEADER_SIZE : _HEADER_SIZE + length])
        del received[: _HEADER_SIZE + length]
        yield index, payload


def _read_exactly(pipe: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(pipe, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _write_some(worker: _Worker) -> None:
    """As much of what is owed to a worker as its pipe takes now."""
    while worker.outgoing:
        try:
            written = os.write(worker.tasks, worker.outgoing)
        except BlockingIOError:
            return
        except BrokenPipeError:  # it died
            raise _stopped_unexpectedly() from None
        del worker.outgoing[:written]


def _write_all(pipe: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]


def _pickled_error(exc: Exception) -> bytes:
    import pickle

    try:
        return pickle.dumps(exc)
    except Exception:  # an exception that does not pickle: its type and words
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _stopped_unexpectedly() -> ImglintError:
    return ImglintError(
        "a worker process stopped unexpectedly (out of memory?); "
        "--workers 1 reads every file in this process"
    )


def _read_run(run: Sequence[Pending], settings: ReadSettings, wanted: DocumentFilter) -> RunRead:
    """A worker's task: a run of files, read as this process would read them. What was read in
    them goes back added up (a result per file cost this process about 1 KB each to receive:
    its lists and tables, mostly empty)."""
    from imglint.manifests import Manifests

    outcomes: list[Source | InputError | Skipped] = []
    set_aside = PackedSources()
    read = Manifests()
    for pending in run:
        outcome, part = read_one(pending, settings, wanted)
        if not _set_aside(outcome, part, set_aside):
            outcomes.append(outcome)
        if part is not None:
            read.add(part)
    for site in read.sites:
        site.rewrite = None  # closures over YAML nodes: only --fix calls them (one process)
    return outcomes, set_aside.packed(), read
