"""A run keeps results, not texts: each file's text is dropped once it is read for linting
(read again from the file if a later step asks), and split lines are kept only for files
that can hold a suppression comment. How much memory that saves is benchmarks/bench_lint.py's
scaling rows; these tests hold the behaviour."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from imglint import parallel
from imglint.manifests import Manifests
from imglint.sources import Collected, NamedPaths, Pending, Source, SourceChanged, discover, read

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
    assert [s.released for s in collected.sources] == [True, True]
    assert [s.source is not None and s.source.released for s in result.sites] == [True, True]
    # Lines are kept for suppression comments only, where there can be one.
    assert [len(s.source_lines) for s in result.sites] == [0, 8]


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
