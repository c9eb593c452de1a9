"""Suppression comments and annotations, and the unused ones `--report-unused-suppressions`
lists. The forms in a real file are exercised by tests/fixtures/rules/suppressions.yaml."""

from __future__ import annotations

import pytest

from imglint.config import Config, from_mapping
from imglint.context import Context
from imglint.engine import lint
from imglint.findings import UnusedSuppression
from imglint.manifests import load
from imglint.sources import collect
from imglint.suppress import Suppressions, parse_codes, scan
from tests.factories import FIXTURES, make_site


def test_parse_codes() -> None:
    assert parse_codes("IMG002, latest-tag ,implicit-registry") == (
        frozenset({"IMG002", "IMG004"}),
        ("IMG002", "latest-tag", "implicit-registry"),
        (),
    )
    assert parse_codes("img002,IMG999") == (
        frozenset({"IMG002"}),
        ("img002", "IMG999"),
        ("IMG999",),
    )
    assert parse_codes("") == (None, (), ())
    assert parse_codes("all") == (None, ("all",), ())


def test_scan_attaches_directives_to_lines() -> None:
    lines = [
        "# imglint: ignore-file[IMG004]",  # 1
        "containers:",  # 2
        "  - image: a  # imglint: ignore[IMG002]",  # 3
        "  # imglint: ignore[IMG003]",  # 4
        "  # a note",  # 5
        "  - image: b",  # 6
        "  # imglint: ignore",  # 7
        "",  # 8
        "  - image: c",  # 9
        "  - image: 'x#imglint: ignore'",  # 10
        "# imglint: ignore[IMG005]",  # 11 (end of file)
    ]
    found = scan("f.yaml", lines)
    assert [(d.line, d.column, d.codes) for d in found.file] == [(1, 1, frozenset({"IMG004"}))]
    assert sorted(found.by_line) == [3, 6]
    assert [(d.line, d.column, d.codes) for d in found.by_line[3]] == [
        (3, 15, frozenset({"IMG002"}))
    ]
    assert [(d.line, d.codes) for d in found.by_line[6]] == [(4, frozenset({"IMG003"}))]
    assert [(d.line, d.codes) for d in found.orphans] == [(7, None), (11, frozenset({"IMG005"}))]


def test_suppressed_marks_use() -> None:
    lines = ["spec:", "  image: nginx  # imglint: ignore[IMG004]"]
    site = make_site("nginx", line=2, lines=lines)
    suppressions = Suppressions()
    assert suppressions.suppressed(site, "IMG004") is True
    assert suppressions.suppressed(site, "IMG003") is False
    assert suppressions.unused({"IMG003", "IMG004"}, [site]) == []


def test_sites_without_lines_only_see_annotations() -> None:
    site = make_site("nginx", annotations={"imglint.dev/ignore": "IMG003"})
    suppressions = Suppressions()
    assert suppressions.suppressed(site, "IMG003") is True
    assert suppressions.suppressed(site, "IMG004") is False


def test_unused_suppressions_of_the_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    collected = collect(["suppressions.yaml"])
    manifests = load(collected.sources)
    config = from_mapping({"extend-select": ["unpinned-image"]})
    result = lint(manifests.sites, Context(objects=manifests.objects), config)
    # Both directives are above lines that are not the image's line.
    assert result.unused_suppressions == [
        UnusedSuppression("suppressions.yaml", 23, ("IMG004",), 11),
        UnusedSuppression("suppressions.yaml", 27, ("IMG004",), 11),
    ]


def test_unused_reports_unknown_codes_and_idle_codes_of_rules_that_ran() -> None:
    lines = [
        "# imglint: ignore-file[IMG010]",  # IMG010 is opt-in and did not run: not reported
        "a:",
        "  image: ghcr.io/a/b:1  # imglint: ignore[IMG002, IMG404]",
        "  image: nginx  # imglint: ignore",
    ]
    sites = [
        make_site("ghcr.io/a/b:1", line=3, lines=lines),
        make_site("nginx", line=4, lines=lines),
    ]
    result = lint(sites, Context(), Config())
    assert [f.code for f in result.findings] == []
    assert result.unused_suppressions == [
        UnusedSuppression("deploy.yaml", 3, ("IMG002", "IMG404"), 25)
    ]
    assert result.selected_codes >= {"IMG002", "IMG004"}


def test_unused_annotation_has_no_column() -> None:
    site = make_site("ghcr.io/a/b:1", annotations={"imglint.dev/ignore": "IMG004,unpinned-image"})
    result = lint([site], Context(), from_mapping({"extend-select": ["IMG005"]}))
    assert result.findings == []
    assert result.unused_suppressions == [UnusedSuppression("deploy.yaml", 1, ("IMG004",), None)]


def test_bare_directive_that_silenced_nothing() -> None:
    lines = ["image: ghcr.io/a/b:1  # imglint: ignore"]
    site = make_site("ghcr.io/a/b:1", lines=lines)
    result = lint([site], Context(), Config())
    assert result.unused_suppressions == [UnusedSuppression("deploy.yaml", 1, (), 23)]


def test_files_without_findings_are_scanned_for_unused() -> None:
    clean = ["x: 1", "# imglint: ignore[IMG003]", "image: ghcr.io/a/b:1"]
    site = make_site("ghcr.io/a/b:1", line=3, lines=clean, path="clean.yaml")
    result = lint([site], Context(), Config())
    assert result.unused_suppressions == [UnusedSuppression("clean.yaml", 2, ("IMG003",), 1)]
