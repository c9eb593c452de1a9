"""Finding and decoding input files: every problem is an InputError, never an exception."""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from imglint import fix, manifests, sources
from imglint.findings import InputError
from tests.cli_runner import run

POD = "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: 'nginx:1'}]\n"


def paths_of(collected: sources.Collected) -> list[str]:
    return [s.path for s in collected.sources]


def test_folders_recurse_into_manifest_suffixes_in_sorted_order(tmp_path: Path) -> None:
    names = ("b.yaml", "a.yml", "c.json", "notes.txt", "sub/d.yaml", ".hidden/e.yaml")
    # kustomize's `Kustomization` (no suffix) is read; other suffix-less names are not.
    for name in (*names, "sub/Kustomization", "sub/kustomization", "Makefile"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(POD)
    collected = sources.collect([str(tmp_path)])
    assert [os.path.relpath(p, tmp_path) for p in paths_of(collected)] == [
        "a.yml",
        "b.yaml",
        "c.json",
        os.path.join("sub", "Kustomization"),
        os.path.join("sub", "d.yaml"),
    ]
    assert collected.errors == [] and collected.files_seen == 5


def test_a_walk_passes_imglint_configuration_files_by(tmp_path: Path) -> None:
    """`.imglint.yaml` is imglint's configuration, not a manifest: a folder walk neither reads
    nor counts it (nested ones sit beside the manifests they configure); named, it is read."""
    (tmp_path / "team").mkdir()
    for name in ("pod.yaml", ".imglint.yaml", "team/pod.yaml", "team/.imglint.yaml"):
        (tmp_path / name).write_text(POD if name.endswith("pod.yaml") else "ignore: [IMG004]\n")
    collected = sources.collect([str(tmp_path)])
    assert [os.path.relpath(p, tmp_path) for p in paths_of(collected)] == [
        "pod.yaml",
        os.path.join("team", "pod.yaml"),
    ]
    assert collected.files_seen == 2
    named = sources.collect([str(tmp_path / ".imglint.yaml")])
    assert paths_of(named) == [str(tmp_path / ".imglint.yaml")]


def test_missing_path_is_an_error_and_others_are_still_read(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(POD)
    collected = sources.collect([str(tmp_path / "nope.yaml"), str(good)])
    assert [e.message for e in collected.errors] == ["no such file or directory"]
    assert paths_of(collected) == [str(good)]


def test_symlink_loop_is_reported_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "m.yaml").write_text(POD)
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    collected = sources.collect([str(tmp_path)])
    assert len(collected.sources) == 1
    assert [e.message for e in collected.errors] == ["symbolic link loop, not followed"]


def test_broken_symlink_is_reported(tmp_path: Path) -> None:
    os.symlink(tmp_path / "missing.yaml", tmp_path / "dangling.yaml")
    collected = sources.collect([str(tmp_path)])
    assert [e.message for e in collected.errors] == ["broken symbolic link"]


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(POD)

    real_open = os.open

    def denied(file: str, *args: Any, **kwargs: Any) -> int:
        if file == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    # Tests run as root in CI, where chmod 000 does not stop a read: make open refuse instead.
    monkeypatch.setattr(os, "open", denied)
    collected = sources.collect([str(path), "-"], stdin_bytes=POD.encode())
    assert [str(e) for e in collected.errors] == [f"{path}: permission denied"]
    assert [s.path for s in collected.sources] == ["-"]


def test_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    collected = sources.collect([str(fifo)])
    assert [e.message for e in collected.errors] == ["not a regular file"]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(POD)
    os.symlink(path, tmp_path / "link.yaml")
    collected = sources.collect([str(path), str(tmp_path)])
    assert paths_of(collected) == [str(path)]


def test_a_file_or_folder_reached_many_ways_is_read_once(tmp_path: Path) -> None:
    """Hard links, a folder reached through two links, a file named again: one file each."""
    (tmp_path / "real").mkdir()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / "real" / name).write_text(POD)
    os.link(tmp_path / "real" / "a.yaml", tmp_path / "real" / "hard.yaml")
    os.symlink("real", tmp_path / "one")
    os.symlink("real", tmp_path / "two")
    collected = sources.collect([str(tmp_path), str(tmp_path / "two" / "b.yaml")])
    assert [os.path.relpath(p, tmp_path) for p in paths_of(collected)] == [
        "one/a.yaml",
        "one/b.yaml",
    ]
    assert collected.files_seen == 2


def test_chart_templates_are_skipped_with_one_notice(tmp_path: Path) -> None:
    chart = tmp_path / "mychart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\nversion: 0.1.0\n")
    (chart / "templates" / "deployment.yaml").write_text("{{- if .Values.on }}\nkind: Pod\n")
    (chart / "templates" / "service.yaml").write_text("{{- if .Values.on }}\nkind: Pod\n")
    collected = sources.collect([str(tmp_path)])
    assert paths_of(collected) == [str(chart / "Chart.yaml")]
    assert collected.notices == [
        f"{chart / 'templates'}: Helm chart templates skipped; "
        "render it first: `helm template CHART | imglint -`"
    ]


def test_exclude_globs(tmp_path: Path) -> None:
    for name in ("keep.yaml", "vendor/x.yaml", "gen/y.generated.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(POD)
    collected = sources.collect([str(tmp_path)], exclude=["vendor", "*.generated.yaml"])
    assert [os.path.basename(p) for p in paths_of(collected)] == ["keep.yaml"]


def test_stdin_is_read_with_its_display_name() -> None:
    collected = sources.collect(["-"], stdin_name="rendered.yaml", stdin_bytes=POD.encode())
    assert paths_of(collected) == ["rendered.yaml"]
    assert collected.sources[0].file_path is None


def test_empty_stdin_is_an_error() -> None:
    collected = sources.collect(["-"], stdin_bytes=b"  \n")
    assert [str(e) for e in collected.errors] == ["-: no input on stdin"]


def test_empty_file_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_bytes(b"")
    collected = sources.collect([str(tmp_path / "empty.yaml")])
    assert collected.errors == [] and len(collected.sources) == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: \xff\n", "invalid UTF-8 (byte 0xff)"),
        (b"\x00\x01\x02binary", "binary file (contains NUL bytes), not a manifest"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "invalid UTF-16-LE (unexpected end of data)"),
    ],
)
def test_undecodable_files(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    collected = sources.collect([str(path)])
    assert [e.message for e in collected.errors] == [expected]


def test_invalid_utf8_error_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: \xc3(\n")
    error = sources.collect([str(path)]).errors[0]
    assert (error.line, error.column) == (2, 7)


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks_are_decoded_and_remembered(
    tmp_path: Path, bom: bytes, encoding: str
) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(bom + POD.encode(encoding))
    source = sources.collect([str(path)]).sources[0]
    assert (source.text, source.encoding, source.bom) == (POD, encoding, True)


def test_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * 2048)
    collected = sources.collect([str(path)])
    assert [e.message for e in collected.errors] == [
        "file too large (2,048 bytes, limit 1,024); not a manifest?"
    ]


def _pending(path: Path) -> sources.Pending:
    return sources.Pending(str(path), str(path), True, path.stat().st_size)


def test_a_file_is_read_to_its_end_however_short_each_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, size: real_read(fd, min(size, 7)))
    source = sources.read(_pending(path))
    assert isinstance(source, sources.Source)
    assert source.text == POD


def test_a_file_that_grew_since_its_stat_is_read_whole_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    real_fstat = os.fstat

    def smaller(fd: int) -> SimpleNamespace:  # as if the file grew after it was opened
        return SimpleNamespace(st_size=10, st_mtime_ns=real_fstat(fd).st_mtime_ns)

    monkeypatch.setattr(os, "fstat", smaller)
    source = sources.read(_pending(path))
    assert isinstance(source, sources.Source)
    assert source.text == POD
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 20)
    refused = sources.read(_pending(path))
    assert isinstance(refused, InputError)
    assert refused.message == "file too large (over 20 bytes); not a manifest?"


# -- symbolic links: a walk stays inside what was named, and so does a rewrite -------------------

UNPINNED = POD.replace("nginx:1", "nginx")  # `--fix` rewrites it to docker.io/library/nginx


def _linked_tree(tmp_path: Path) -> tuple[Path, Path]:
    """k8s/ with a file link and a folder link that lead to outside/, and one inside link."""
    k8s, outside = tmp_path / "k8s", tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "target.yaml").write_text(UNPINNED)
    (outside / "dir" / "deep.yaml").write_text(UNPINNED)
    (k8s / "real").mkdir(parents=True)
    (k8s / "real" / "web.yaml").write_text(UNPINNED)
    os.symlink("../outside/target.yaml", k8s / "link.yaml")
    os.symlink("../outside/dir", k8s / "sub")
    os.symlink("real", k8s / "alias")  # inside k8s/: followed (its file is read once)
    return k8s, outside


def test_a_walk_does_not_follow_links_out_of_the_paths_named(tmp_path: Path) -> None:
    k8s, _ = _linked_tree(tmp_path)
    collected = sources.collect([str(k8s)])
    assert paths_of(collected) == [str(k8s / "alias" / "web.yaml")]
    assert collected.errors == []
    assert collected.notices == [
        f"{k8s / 'link.yaml'}: symbolic link to ../outside/target.yaml leads outside the paths "
        "named; not followed (name it to read it)",
        f"{k8s / 'sub'}: symbolic link to ../outside/dir leads outside the paths named; not "
        "followed (name it to read it)",
    ]


def test_a_link_to_another_path_named_is_followed(tmp_path: Path) -> None:
    k8s, outside = _linked_tree(tmp_path)
    collected = sources.collect([str(k8s), str(outside)])
    assert collected.notices == []
    assert sorted(os.path.relpath(p, tmp_path) for p in paths_of(collected)) == [
        os.path.join("k8s", "alias", "web.yaml"),
        os.path.join("k8s", "link.yaml"),
        os.path.join("k8s", "sub", "deep.yaml"),
    ]


def test_fix_on_a_folder_never_writes_outside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    k8s, outside = _linked_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["--fix", "--select", "IMG002,IMG004", "k8s"], capsys)
    assert code == 0, out
    assert (outside / "target.yaml").read_text() == UNPINNED
    assert (outside / "dir" / "deep.yaml").read_text() == UNPINNED
    assert "docker.io/library/nginx" in (k8s / "real" / "web.yaml").read_text()
    assert "note: k8s/link.yaml: symbolic link to ../outside/target.yaml leads outside" in out
    assert "note: k8s/sub: symbolic link to ../outside/dir leads outside" in out


def test_a_link_named_explicitly_is_read_and_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    k8s, outside = _linked_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["--fix", "--select", "IMG002,IMG004", "k8s/link.yaml"], capsys)
    assert code == 0, out
    assert (k8s / "link.yaml").is_symlink()
    assert "docker.io/library/nginx" in (outside / "target.yaml").read_text()


def test_a_link_repointed_outside_after_reading_is_not_written(tmp_path: Path) -> None:
    k8s, outside = tmp_path / "k8s", tmp_path / "outside"
    k8s.mkdir()
    outside.mkdir()
    (k8s / "real.yaml").write_text(UNPINNED)
    (outside / "target.yaml").write_text(UNPINNED)
    os.symlink("real.yaml", k8s / "inner.yaml")  # inside k8s/: followed, and read first
    collected = sources.collect([str(k8s)])
    assert paths_of(collected) == [str(k8s / "inner.yaml")]
    # Between reading and writing, the link is pointed at an identical file outside k8s/.
    os.unlink(k8s / "inner.yaml")
    os.symlink("../outside/target.yaml", k8s / "inner.yaml")
    sites = manifests.load(collected.sources).sites
    outcome = fix.run_fixes(collected.sources, sites, explicit_registry=True)
    assert [e.message for e in outcome.errors] == [
        "not rewritten: it now leads outside the paths named (a symbolic link changed since it "
        "was read?)"
    ]
    assert (outside / "target.yaml").read_text() == UNPINNED
