"""A run keeps results, not texts: each file's text is dropped once it is read for linting
(read again from the file if a later step asks), and split lines are kept only for files
that can hold a suppression comment. How much memory that saves is benchmarks/bench_lint.py's
scaling rows; these tests hold the behaviour."""

from __future__ import annotations

import gc
import os
import pickle
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imglint import parallel
from imglint.findings import Span
from imglint.manifests import Manifests
from imglint.sources import (
    Collected,
    NamedPaths,
    PackedSources,
    Pending,
    Source,
    SourceChanged,
    discover,
    read,
)

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: nginx:1.25
"""


def read_tree(root: Path, keep_texts: bool = False) -> tuple[Collected, Manifests]:
    collected = Collected()
    found = list(discover([str(root)], collected))
    settings = parallel.ReadSettings({}, None, keep_texts)
    return collected, parallel.read_all(found, collected, settings)


def test_a_run_keeps_no_text(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POD)
    (tmp_path / "b.yaml").write_text(POD.replace("web", "api") + "# imglint: ignore-file\n")
    collected, result = read_tree(tmp_path)
    # Nothing reads these files again (no fix, no kustomize entry): no source is kept for them.
    assert collected.sources == [] and [s.source for s in result.sites] == [None, None]
    assert [os.path.basename(s.path) for s in result.sites] == ["a.yaml", "b.yaml"]
    # Lines are kept for suppression comments only, where there can be one.
    assert [len(s.source_lines) for s in result.sites] == [0, 8]


def test_a_site_keeps_its_source_only_where_the_file_is_read_again(tmp_path: Path) -> None:
    """Settling a kustomization's entries reads it again, and a fix rewrites every file it
    read: their sites keep their sources (released, for a run without --fix); the others'
    sites let go of theirs."""
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "deployment.yaml").write_text(POD.replace("Pod", "Deployment"))
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [deployment.yaml]\nimages:\n- {name: nginx, newTag: '1.26'}\n"
    )
    collected, result = read_tree(tmp_path)
    kept = {os.path.basename(s.path): s.source for s in result.sites}
    assert kept["pod.yaml"] is None and kept["deployment.yaml"] is None
    entry = kept["kustomization.yaml"]
    assert entry is not None and entry.released and entry in collected.sources
    collected, result = read_tree(tmp_path, keep_texts=True)
    assert all(s.source is not None and not s.source.released for s in result.sites)
    assert len(collected.sources) == 3


def test_a_fix_keeps_the_texts_it_rewrites(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POD)
    collected, _ = read_tree(tmp_path, keep_texts=True)
    assert [s.released for s in collected.sources] == [False]


def test_a_released_text_is_read_again_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + POD.encode())  # with a byte order mark
    source = read(read_pending(path))
    assert isinstance(source, Source)
    source.release()
    assert source.released and source.text == POD
    assert source.released  # read again each time, never kept


def test_a_file_changed_since_it_was_read_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(POD)
    source = read(read_pending(path))
    assert isinstance(source, Source)
    source.release()
    path.write_text(POD.replace("1.25", "1.26"))
    os.utime(path, ns=(1, 1))
    with pytest.raises(SourceChanged, match="changed since it was read"):
        _ = source.text
    path.unlink()
    with pytest.raises(SourceChanged, match="no such file or directory"):
        _ = source.text


def test_stdin_and_strings_keep_their_text() -> None:
    source = Source("-", POD)
    source.release()
    assert not source.released and source.text == POD


def test_a_source_travels_without_its_text_and_named_paths(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(POD)
    source = read(read_pending(path), NamedPaths([str(tmp_path)]))
    assert isinstance(source, Source) and source.named_paths is not None
    copy = pickle.loads(pickle.dumps(source))
    assert copy.released and copy.named_paths is None
    assert (copy.path, copy.file_path, copy.stamp) == (source.path, source.file_path, source.stamp)
    assert copy.text == POD


def read_pending(path: Path) -> Pending:
    collected = Collected()
    [found] = discover([str(path)], collected)
    return found


KUSTOMIZATION_BASE = """\
resources:
- deployment.yaml
"""
KUSTOMIZATION_OVERLAY = """\
resources:
- ../base
images:
- name: nginx
  newTag: "1.26"
"""


def test_kustomize_builds_are_modelled_one_group_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are settled against a model of their builds (composed bases): held for the
    kustomizations that build on one another, then dropped, so that its size follows the
    largest such group, not the input (eight copies of a project hold one copy's files)."""
    from imglint import kustomize_tree

    for copy in range(8):
        project = tmp_path / f"project{copy}"
        (project / "base").mkdir(parents=True)
        (project / "base" / "deployment.yaml").write_text(POD.replace("Pod", "Deployment"))
        (project / "base" / "kustomization.yaml").write_text(KUSTOMIZATION_BASE)
        (project / "overlay").mkdir()
        (project / "overlay" / "kustomization.yaml").write_text(KUSTOMIZATION_OVERLAY)
    held: list[int] = []
    documents = kustomize_tree.Tree.documents

    def counted(tree: kustomize_tree.Tree, real: str) -> object:
        found = documents(tree, real)
        held.append(len(tree._documents))
        return found

    monkeypatch.setattr(kustomize_tree.Tree, "documents", counted)
    _, result = read_tree(tmp_path)
    # Each copy's entry is settled against its own base (the reference it writes).
    written = [s.image for s in result.sites if s.origin == "kustomize"]
    assert written == ["nginx:1.26"] * 8
    assert held and max(held) <= 3  # one project's files: two kustomizations, a deployment


def test_a_file_with_nothing_to_report_keeps_no_source(tmp_path: Path) -> None:
    """A run keeps the sources its sites came from, and those settling kustomize entries opens
    again (a kustomization and what it names), not one per file read."""
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "settings.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")
    # read before the kustomization that names it: set aside packed, then made again
    (tmp_path / "a-config").mkdir()
    (tmp_path / "a-config" / "map.yaml").write_text(CONFIG_MAP.format(n=1))
    app = tmp_path / "app"
    app.mkdir()
    (app / "service.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
    (app / "kustomization.yaml").write_text(
        "resources: [service.yaml, ../pod.yaml, ../a-config/map.yaml]\n"
        "images:\n- {name: nginx, newTag: '1.26'}\n"
    )
    collected, result = read_tree(tmp_path)
    assert collected.files_seen == 5
    assert sorted(os.path.relpath(s.path, tmp_path) for s in collected.sources) == [
        "a-config/map.yaml",
        "app/kustomization.yaml",
        "app/service.yaml",
        "pod.yaml",
    ]
    [made_again] = [s for s in collected.sources if s.path.endswith("map.yaml")]
    assert made_again.released and made_again.text == CONFIG_MAP.format(n=1)
    assert [s.image for s in result.sites] == ["nginx:1.25", "nginx:1.26"]  # pod, entry
    # A fix rewrites what it read: it keeps every source.
    collected, _ = read_tree(tmp_path, keep_texts=True)
    assert len(collected.sources) == 5


def test_packed_sources_are_made_again_as_they_were(tmp_path: Path) -> None:
    """What a run sets aside while reading (files with nothing to report, in case a
    kustomization read later names them) comes back as the same released sources: path,
    stamp, byte order mark, named or found; a worker's packed sources follow this process's."""
    names = ["a.yaml", "b/c.yaml", "b/d é.yaml", "b/e/f.yaml", "g.yaml"]
    sources = []
    for number, name in enumerate(names):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((b"\xef\xbb\xbf" if number == 2 else b"") + POD.encode())
        source = read(Pending(str(path), str(path), number == 3, path.stat().st_size))
        assert isinstance(source, Source)
        source.release()
        sources.append(source)
    here, worker = PackedSources(), PackedSources()
    assert all(PackedSources.can_pack(source) for source in sources)
    for source in sources[:2]:
        assert here.add(source)
    for source in sources[2:]:
        assert worker.add(source)
    here.extend(worker.packed())
    named_paths = NamedPaths([str(tmp_path)])
    made = list(here.sources(named_paths))
    assert [s.path for s in made] == [s.path for s in sources]
    for again, was in zip(made, sources, strict=True):
        assert (again.file_path, again.stamp, again.bom, again.named, again.encoding) == (
            was.file_path,
            was.stamp,
            was.bom,
            was.named,
            was.encoding,
        )
        assert again.released and again.named_paths is named_paths and again.text == POD
    # Stdin and kept texts are never packed.
    assert not PackedSources.can_pack(Source("-", POD))
    assert not PackedSources.can_pack(read(read_pending(tmp_path / "a.yaml")))  # type: ignore[arg-type]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web{n}
  namespace: shop
  annotations: {{team: storefront}}
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/shop/web:1.{n}
        - name: proxy
          image: nginx
"""
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings{n}}}\ndata: {{a: b}}\n"
FILES_PER_COPY = 50


def write_copies(root: Path, copies: int) -> Path:
    for copy in range(copies):
        folder = root / f"copy{copy}" / "app"
        folder.mkdir(parents=True)
        for n in range(FILES_PER_COPY // 2):
            (folder / f"deployment{n}.yaml").write_text(DEPLOYMENT.format(n=n))
            (folder / f"settings{n}.yaml").write_text(CONFIG_MAP.format(n=n))
    return root


def traced_read(root: Path) -> tuple[int, int]:
    """Bytes a read of `root` keeps (its results, alive), and its peak, as tracemalloc counts
    them: allocations, not time or resident memory, so the same on a busy machine."""
    gc.collect()
    tracemalloc.start()
    try:
        kept = read_tree(root)
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(kept[1].sites) > 0
    return current, peak


def test_what_a_run_keeps_grows_by_less_than_1_kb_a_file(tmp_path: Path) -> None:
    """Memory flat in the input's size: reading eight copies of a folder (half its files with
    two images each, half with none) keeps, and peaks at, less than 1 KB more a file than one
    copy (before: 1.5 KB kept, 1.6 KB peak; now about 0.73 KB kept, 0.96 KB peak with Python
    3.11). Each file's sites, objects and findings' places are kept, its text and composed
    nodes never; a file with nothing to report keeps nothing (its source is packed in a few
    bytes while reading, in case a kustomization read later names it)."""
    one, eight = write_copies(tmp_path / "one", 1), write_copies(tmp_path / "eight", 8)
    traced_read(one)  # modules, caches and interned names: what any first read sets up
    kept_one, peak_one = traced_read(one)
    kept_eight, peak_eight = traced_read(eight)
    files = 7 * FILES_PER_COPY
    assert (kept_eight - kept_one) / files < 800
    assert (peak_eight - peak_one) / files < 1050


@pytest.mark.skipif(not parallel._CAN_FORK, reason="workers are forked (Linux)")
def test_what_workers_send_back_shares_equal_references_and_packs_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run of files a worker reads comes back unpickled as objects of its own: equal
    parsed references are made one again (one process shares them through parse's cache), and
    a file that nothing reads again (nothing to report, or sites that need no source) comes
    back packed, not as a Source."""
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    monkeypatch.setattr(parallel, "RUN_COST", 1)  # a run per file
    for n in range(6):
        (tmp_path / f"pod{n}.yaml").write_text(POD.replace("web", f"web{n}"))
        (tmp_path / f"settings{n}.yaml").write_text(CONFIG_MAP.format(n=n))
    collected = Collected()
    found = discover([str(tmp_path)], collected)
    read = parallel.read_all(found, collected, parallel.ReadSettings({}), 2)
    assert len({id(site.reference) for site in read.sites}) == 1
    assert collected.sources == [] and collected.files_seen == 12
    assert sorted(os.path.basename(s.path) for s in read.sites) == [
        f"pod{n}.yaml" for n in range(6)
    ]


def test_equal_pod_placements_are_one_object_in_one_process_and_through_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pod's placement is kept, and most pods of a set say the same thing."""
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    monkeypatch.setattr(parallel, "RUN_COST", 1)  # a run per file
    selector = "  nodeSelector: {kubernetes.io/os: linux}\n"
    for n in range(6):
        (tmp_path / f"pod{n}.yaml").write_text(POD.replace("web", f"web{n}") + selector)
    for workers in (1, 2):
        collected = Collected()
        found = discover([str(tmp_path)], collected)
        read = parallel.read_all(found, collected, parallel.ReadSettings({}), workers)
        placements = [site.holder.placement for site in read.sites]
        assert len(placements) == 6 and placements[0] is not None
        assert placements[0].source == "nodeSelector kubernetes.io/os: linux"
        assert len({id(placement) for placement in placements}) == 1


# -- spans: six numbers packed in one ---------------------------------------------------------

_SPAN_NUMBER = st.integers(min_value=0, max_value=(1 << 40) - 1)


@given(
    line=_SPAN_NUMBER,
    column=_SPAN_NUMBER,
    lines=_SPAN_NUMBER,
    end_column=_SPAN_NUMBER,
    start=_SPAN_NUMBER,
    length=_SPAN_NUMBER,
)
def test_a_span_gives_back_every_number_it_was_made_of(
    line: int, column: int, lines: int, end_column: int, start: int, length: int
) -> None:
    end_line, end = line + lines, start + length
    if (end_line | end) >> 40:
        return  # out of range: the next test
    span = Span(line, column, end_line, end_column, start, end)
    fields = (span.line, span.column, span.end_line, span.end_column, span.start, span.end)
    assert fields == (line, column, end_line, end_column, start, end)
    assert all(type(value) is int for value in fields)  # plain numbers for every renderer
    copy = pickle.loads(pickle.dumps(span))
    assert type(copy) is Span and copy == span and hash(copy) == hash(span)
    assert span == Span(*fields) and repr(span) == (
        f"Span(line={line}, column={column}, end_line={end_line}, end_column={end_column}, "
        f"start={start}, end={end})"
    )


def test_spans_differ_when_any_number_differs_and_refuse_what_they_cannot_hold() -> None:
    base = (3, 5, 4, 9, 100, 104)
    spans = {Span(*base)}
    for index in range(6):
        changed = list(base)
        changed[index] += 1
        spans.add(Span(*changed))
    assert len(spans) == 7
    assert Span(10, 1, 12, 4, 0, 30).moved_up(4) == Span(6, 1, 8, 4, 0, 30)
    for wrong in (
        (1, 1, 0, 1, 0, 1),
        (1, 1, 1, 1, 5, 4),
        (-1, 1, 1, 1, 0, 1),
        (1, 1 << 40, 1, 1, 0, 1),
    ):
        with pytest.raises(ValueError, match="span out of range"):
            Span(*wrong)


def test_a_span_is_smaller_than_its_numbers_were() -> None:
    import sys

    # A scalar on line 1,200 at offset 1.5 MB: six fields and their numbers were ~170 bytes.
    assert sys.getsizeof(Span(1200, 30, 1200, 60, 1_500_000, 1_500_030)) <= 64
