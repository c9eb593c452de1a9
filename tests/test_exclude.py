"""`exclude` and `force-exclude`: globs relative to the configuration file's folder, applied
while walking folders, and with force-exclude to the paths named on the command line too."""

from __future__ import annotations

from pathlib import Path

import pytest

from imglint import sources
from imglint.sources import Exclusions
from tests.cli_runner import run

LATEST = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: web, image: "nginx:latest"}]
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with its configuration at the top, and imglint run from there."""
    for name in ("k8s/web.yaml", "k8s/legacy/old.yaml", "vendor/lib/x.yaml", "k8s/a.gen.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(LATEST)
    (tmp_path / ".imglint.yaml").write_text(
        "select: [IMG002]\nexclude: [vendor, k8s/legacy, '*.gen.yaml']\n"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def linted(out: str) -> list[str]:
    return sorted({line.split(":")[0] for line in out.splitlines() if ": IMG" in line})


def test_globs_with_a_slash_start_at_the_configuration_files_folder(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["."], capsys)
    assert code == 1
    assert linted(out) == ["k8s/web.yaml"]
    # The same from below, and by an absolute path: `k8s/legacy` is the configuration's.
    monkeypatch.chdir(repo / "k8s")
    _, out, _ = run(["."], capsys)
    assert linted(out) == ["web.yaml"]
    _, out, _ = run([str(repo / "k8s")], capsys)
    assert linted(out) == [str(repo / "k8s" / "web.yaml")]


def test_a_named_folder_is_walked_even_if_excluded(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["vendor"], capsys)
    assert code == 1
    assert linted(out) == ["vendor/lib/x.yaml"]
    code, out, _ = run(["k8s/legacy/"], capsys)
    assert linted(out) == ["k8s/legacy/old.yaml"]


def test_force_exclude_applies_exclude_to_named_paths_with_a_note(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    named = ["vendor", "k8s/legacy/old.yaml", "k8s/a.gen.yaml", "k8s/web.yaml"]
    code, out, _ = run(["--force-exclude", *named], capsys)
    assert code == 1
    assert out.splitlines() == [
        'k8s/web.yaml:5:35: IMG002 [error] image "nginx:latest" uses the tag "latest", which '
        "moves: pin a version tag or a digest (Pod web, container web)",
        "note: vendor: excluded by `exclude: vendor` in .imglint.yaml (force-exclude); not read",
        "note: k8s/legacy: excluded by `exclude: k8s/legacy` in .imglint.yaml (force-exclude); "
        "not read",
        "note: k8s/a.gen.yaml: excluded by `exclude: *.gen.yaml` in .imglint.yaml "
        "(force-exclude); not read",
        "1 finding (1 error) in 1 file, 1 image",
    ]


def test_naming_only_excluded_paths_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".imglint.yaml").write_text("exclude: [vendor]\nforce-exclude: true\n")
    code, out, _ = run(["vendor/"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "note: vendor: excluded by `exclude: vendor` in .imglint.yaml (force-exclude); not read",
        "All checks passed (0 files, 0 images)",
    ]
    # --no-force-exclude turns the configuration's off for one run.
    code, out, _ = run(["--no-force-exclude", "vendor/"], capsys)
    assert code == 1


def test_force_exclude_must_be_a_boolean(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".imglint.yaml").write_text("force-exclude: yes please\n")
    code, _, err = run(["k8s"], capsys)
    assert code == 2
    assert "force-exclude must be true or false, not 'yes please'" in err


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("vendor", "vendor", True),
        ("vendor", "a/b/vendor", True),
        ("vendor", "vendorx", False),
        ("vendor/", "vendor", True),
        ("k8s/legacy", "k8s/legacy", True),
        ("k8s/legacy", "other/k8s/legacy", False),  # anchored at the configuration's folder
        ("/k8s/legacy", "k8s/legacy", True),
        ("./k8s/legacy", "k8s/legacy", True),
        ("**/generated/*.yaml", "generated/a.yaml", True),
        ("**/generated/*.yaml", "x/y/generated/a.yaml", True),
        ("k8s/*", "k8s/deep/er.yaml", True),  # `*` spans `/`
    ],
)
def test_glob_forms(tmp_path: Path, pattern: str, path: str, excluded: bool) -> None:
    exclusions = Exclusions((pattern,), str(tmp_path))
    assert (exclusions.match(str(tmp_path / path)) is not None) is excluded


def test_outside_the_configuration_folder_only_names_match(tmp_path: Path) -> None:
    exclusions = Exclusions(("vendor", "k8s/legacy"), str(tmp_path / "repo"))
    assert exclusions.match(str(tmp_path / "other" / "vendor")) == "vendor"
    assert exclusions.match(str(tmp_path / "other" / "k8s" / "legacy")) is None


def test_collect_takes_plain_globs_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("keep.yaml", "vendor/x.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(LATEST)
    collected = sources.collect(["."], exclude=["vendor"])
    assert [s.path for s in collected.sources] == ["keep.yaml"]
