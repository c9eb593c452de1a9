"""`--fix` and the rewriting machinery: edits, quoting, diffs, stdin, the atomic writer and every
way a write can fail. Pinning (`--pin`) has its own tests in test_pin.py."""

from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from imglint import fix
from imglint.cli import main
from imglint.errors import UsageError
from imglint.findings import Span
from imglint.fix import Edit, FixOutcome, OverlappingEdits, Unsafe, run_fixes, scalar_edit
from imglint.manifests import Manifests, load
from imglint.sources import Source, collect
from tests.fix_identity import check_identity, expected_explicit, expected_value, fake_resolver

FIXTURES = Path(__file__).parent / "fixtures" / "fix"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".yaml", ".json"))
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: nginx:1.25
"""


def read(paths: list[str]) -> tuple[list[Source], Manifests]:
    collected = collect(paths)
    assert collected.errors == []
    manifests = load(collected.sources)
    assert manifests.errors == []
    return collected.sources, manifests


def read_back(path: str) -> str:
    """The file's text as imglint reads it (decoded), after a fix."""
    (source,) = collect([path]).sources
    return source.text


def fix_paths(paths: list[str], *, diff: bool = False) -> FixOutcome:
    sources, manifests = read(paths)
    return run_fixes(sources, manifests.sites, explicit_registry=True, diff=diff)


def write(path: Path, text: str) -> str:
    path.write_bytes(text.encode())
    return str(path)


def leftovers(folder: Path) -> list[str]:
    """Temporary files the writer may have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".imglint"))


# -- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_fix_matches_golden_file_byte_for_byte(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    outcome = fix_paths([str(target)])
    assert target.read_bytes() == (FIXTURES / f"{name}.fixed").read_bytes()
    assert outcome.changed == [str(target)]
    assert leftovers(tmp_path) == []


def test_fix_reports_what_it_cannot_rewrite(tmp_path: Path) -> None:
    target = tmp_path / "unsafe.yaml"
    shutil.copyfile(FIXTURES / "unsafe.yaml", target)
    outcome = fix_paths([str(target)])
    assert [str(e) for e in outcome.errors] == [
        f"{target}:8:12: cannot rewrite nginx:1.25 safely: "
        "it carries a YAML anchor that other values may share",
        f"{target}:13:12: cannot rewrite redis:7.2 safely: it is a block scalar",
    ]
    assert outcome.edits == 1


def test_fix_counts_and_errors_on_the_layouts_fixture(tmp_path: Path) -> None:
    target = tmp_path / "layouts.yaml"
    shutil.copyfile(FIXTURES / "layouts.yaml", target)
    outcome = fix_paths([str(target)])
    assert outcome.errors == []
    assert outcome.edits == 13
    assert outcome.diff == ""
    assert outcome.stdout_text is None


@pytest.mark.parametrize("name", CASES)
def test_second_run_changes_nothing(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    fix_paths([str(target)])
    fixed = target.read_bytes()
    stat_before = target.stat()
    again = fix_paths([str(target)])
    assert again.changed == []
    assert again.edits == 0
    assert target.read_bytes() == fixed
    assert target.stat().st_ino == stat_before.st_ino  # not even replaced by an equal copy


@pytest.mark.parametrize("name", CASES)
def test_fix_keeps_every_byte_outside_the_image_scalars(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    sources, manifests = read([str(target)])
    run_fixes(sources, manifests.sites, explicit_registry=True)
    rewrites = {
        s.span: expected_explicit(s.image)
        for s in manifests.sites
        if s.reference is not None
        and s.placeholder is None
        and expected_explicit(s.image) != s.image
        and not is_unsafe(s.source, s.span)
    }
    (old,) = sources
    assert check_identity(old.text, read_back(str(target)), rewrites) == []


def is_unsafe(source: Source | None, span: Span) -> bool:
    assert source is not None
    token = source.text[span.start : span.end]
    return token.startswith(("&", "|", ">"))


# -- the byte-identity promise on real manifests ----------------------------------------------

CORPUS_FILES = [
    # comments on image lines, many documents
    "kubernetes__examples/web/guestbook/all-in-one/guestbook-all-in-one.yaml",
    # CRLF line endings
    "kubernetes__examples/_archived/sysdig-cloud/sysdig-daemonset.yaml",
    # quoted images
    "GoogleCloudPlatform__kubernetes-engine-samples/quickstarts/hello-app-redis/manifests/"
    "redis-cluster.yaml",
    "istio__istio/samples/ratelimit/rate-limit-service.yaml",
    "vellankikoti__troubleshoot-kubernetes-like-a-pro/scenarios/image-pull-backoff/issue.yaml",
    # no final newline
    "GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/gke-ray/rayserve/falcon-7b.yaml",
    # many images, many documents
    "open-telemetry__opentelemetry-helm-charts/charts/opentelemetry-demo/examples/default/"
    "rendered/component.yaml",
    "GoogleCloudPlatform__microservices-demo/release/kubernetes-manifests.yaml",
    "argoproj__argo-cd/manifests/install.yaml",
]


def corpus_root() -> Path:
    """The shared corpus beside the work tree (CI lays a copy of shared/ there too)."""
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "corpus"]
    if os.environ.get("IMGLINT_CORPUS"):
        candidates.insert(0, Path(os.environ["IMGLINT_CORPUS"]))
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    if os.environ.get("CI"):
        pytest.fail(f"corpus not found at {candidates}")
    pytest.skip("the shared corpus is not beside this work tree")


@pytest.mark.parametrize(("explicit", "pin"), [(True, False), (False, True), (True, True)])
def test_corpus_files_keep_every_byte_outside_the_images(
    explicit: bool, pin: bool, tmp_path: Path
) -> None:
    root = corpus_root()
    paths = []
    for i, name in enumerate(CORPUS_FILES):
        target = tmp_path / f"{i}-{Path(name).name}"
        shutil.copyfile(root / name, target)  # a copy: the corpus itself is read-only
        paths.append(str(target))
    before = {p: Path(p).read_bytes() for p in paths}
    sources, manifests = read(paths)
    outcome = run_fixes(
        sources, manifests.sites, explicit_registry=explicit, pin=pin, resolver=fake_resolver
    )
    assert outcome.errors == []
    assert len(outcome.changed) >= 6
    edited = 0
    for source in sources:
        after_text = read_back(source.path)
        rewrites = {}
        for site in manifests.sites:
            if site.source is source and site.reference is not None and not site.placeholder:
                value = expected_value(site.image, site.reference, explicit=explicit, pin=pin)
                if value != site.image:
                    rewrites[site.span] = value
        assert Path(source.path).read_bytes() == fix.encode(source, after_text)  # same encoding
        assert check_identity(source.text, after_text, rewrites) == []
        if not rewrites:
            assert after_text == source.text
            assert Path(source.path).read_bytes() == before[source.path]
        edited += len(rewrites)
    assert edited == outcome.edits


# -- scalar edits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "value", "expected"),
    [
        ("nginx", "docker.io/library/nginx", "docker.io/library/nginx"),
        ("'nginx'", "docker.io/library/nginx", "'docker.io/library/nginx'"),
        ('"nginx"', "docker.io/library/nginx", '"docker.io/library/nginx"'),
        ("!!str nginx", "a/b", "!!str a/b"),
        ("!!str 'nginx'", "a/b", "!!str 'a/b'"),
        ("!<tag:yaml.org,2002:str> x", "a/b", "!<tag:yaml.org,2002:str> a/b"),
        # Not plain-safe values keep a plain scalar's meaning by quoting it.
        ("x", "[::1]:5000/app:1", "'[::1]:5000/app:1'"),
        ("x", "a #b", "'a #b'"),
        ("x", "a:", "'a:'"),
        ("'x'", "it's", "'it''s'"),
        ('"x"', 'a"b\\c', '"a\\"b\\\\c"'),
        # A multi-line double-quoted scalar becomes one line (the span covers all of it).
        ('"ngi\\\n  nx"', "docker.io/library/nginx", '"docker.io/library/nginx"'),
    ],
)
def test_scalar_edit_keeps_the_quoting_style(token: str, value: str, expected: str) -> None:
    text = f"image: {token}\nnext: 1\n"
    edit = scalar_edit(text, 7, 7 + len(token), value)
    assert edit == Edit(7, 7 + len(token), expected)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("&img nginx", "it carries a YAML anchor that other values may share"),
        ("!!str &img nginx", "it carries a YAML anchor that other values may share"),
        ("|\n  nginx\n", "it is a block scalar"),
        (">-\n  nginx", "it is a block scalar"),
        ("!!str |\n  nginx\n", "it is a block scalar"),
        ("!!str # comment\n  nginx", "its scalar token could not be found"),
    ],
)
def test_scalar_edit_refuses_what_it_cannot_keep(token: str, reason: str) -> None:
    text = f"image: {token}"
    with pytest.raises(Unsafe) as caught:
        scalar_edit(text, 7, len(text), "docker.io/library/nginx")
    assert str(caught.value) == reason


def test_apply_edits_refuses_overlaps_and_merges_duplicates() -> None:
    text = "0123456789"
    assert fix.apply_edits(text, [Edit(6, 8, "x"), Edit(1, 3, "ab")]) == "0ab345x89"
    assert fix.apply_edits(text, [Edit(1, 3, "ab"), Edit(1, 3, "ab")]) == "0ab3456789"
    assert fix.apply_edits(text, []) == text
    with pytest.raises(OverlappingEdits):
        fix.apply_edits(text, [Edit(1, 4, "a"), Edit(3, 5, "b")])
    with pytest.raises(OverlappingEdits):
        fix.apply_edits(text, [Edit(1, 3, "a"), Edit(1, 3, "b")])


def test_same_structure_catches_changes_outside_the_images() -> None:
    old = "a: nginx\nb: 1\n"
    assert fix.same_structure(old, "a: x/y\nb: 1\n", {3: "x/y"}) is None
    assert fix.same_structure(old, "a: x/y\nb: 2\n", {3: "x/y"}) == (
        "the rewritten text would read differently on line 2"
    )
    assert fix.same_structure(old, "a: x/y\nb: 1\nc: 3\n", {3: "x/y"}) == (
        "the rewritten text would read differently near line 1"
    )
    assert fix.same_structure(old, "a: 'x/y\nb: 1\n", {3: "x/y"}) == (
        "the rewritten text would not parse (ScannerError)"
    )
    assert fix.same_structure(old, "a: x/z\nb: 1\n", {3: "x/y"}) == (
        "the new image value on line 1 would not read back as written"
    )
    assert fix.same_structure(old, "a: 12\nb: 1\n", {3: "12"}) == (
        "the new image value on line 1 would not read back as written"
    )


# -- what --fix rewrites --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("library/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("bitnami/redis", "docker.io/bitnami/redis"),
        ("a/b/c:1", "docker.io/a/b/c:1"),
        (f"redis:7@sha256:{'a' * 64}", f"docker.io/library/redis:7@sha256:{'a' * 64}"),
        (f"redis@sha256:{'a' * 64}", f"docker.io/library/redis@sha256:{'a' * 64}"),
        # explicit already, or not Docker Hub: untouched
        ("docker.io/nginx:1.25", "docker.io/nginx:1.25"),
        ("index.docker.io/library/nginx:1.25", "index.docker.io/library/nginx:1.25"),
        ("quay.io/a/b:1", "quay.io/a/b:1"),
        ("localhost/app:1", "localhost/app:1"),
        ("localhost:5000/app:1", "localhost:5000/app:1"),
        ("Registry/app:1", "Registry/app:1"),
        # invalid references and placeholders are the linter's business, never rewritten
        ("NGINX:1.25", "NGINX:1.25"),
        ("'nginx:'", "'nginx:'"),
        ("${IMAGE}", "${IMAGE}"),
        ("ko://github.com/x/y", "ko://github.com/x/y"),
        ("'{{ .image }}'", "'{{ .image }}'"),  # a Go template, not Helm's
    ],
)
def test_fix_makes_docker_hub_explicit(image: str, expected: str, tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD.replace("nginx:1.25", image))
    outcome = fix_paths([path])
    assert Path(path).read_text() == POD.replace("nginx:1.25", expected)
    assert outcome.errors == []
    assert outcome.changed == ([] if image == expected else [path])


def test_aliased_container_is_rewritten_once(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - &c {name: a, image: nginx:1.25}
  containers:
  - *c
"""
    path = write(tmp_path / "p.yaml", text)
    outcome = fix_paths([path])
    assert outcome.errors == []
    assert outcome.edits == 1
    assert Path(path).read_text() == text.replace("image: nginx", "image: docker.io/library/nginx")


def test_image_alias_is_refused_once(tmp_path: Path) -> None:
    text = POD.replace("image: nginx:1.25", "image: &i nginx:1.25\n  - name: b\n    image: *i")
    path = write(tmp_path / "p.yaml", text)
    outcome = fix_paths([path])
    assert [str(e) for e in outcome.errors] == [
        f"{path}:8:12: cannot rewrite nginx:1.25 safely: "
        "it carries a YAML anchor that other values may share"
    ]
    assert outcome.changed == []
    assert Path(path).read_text() == text


def test_non_image_values_are_never_touched(tmp_path: Path) -> None:
    text = POD + "    env:\n    - name: IMAGE\n      value: nginx:1.25\n    args: [nginx:1.25]\n"
    path = write(tmp_path / "p.yaml", text)
    fix_paths([path])
    assert Path(path).read_text() == text.replace("image: nginx", "image: docker.io/library/nginx")


def test_image_volume_reference_is_fixed(tmp_path: Path) -> None:
    text = POD + "  volumes:\n  - name: v\n    image:\n      reference: models/m:1 # data\n"
    path = write(tmp_path / "p.yaml", text)
    assert fix_paths([path]).edits == 2
    assert Path(path).read_text() == (
        text.replace("image: nginx", "image: docker.io/library/nginx").replace(
            "reference: models", "reference: docker.io/models"
        )
    )


def test_only_sites_of_the_given_sources_are_written(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", POD)
    b = write(tmp_path / "b.yaml", POD.replace("nginx", "redis"))
    sources, manifests = read([a, b])
    outcome = run_fixes(sources, manifests.sites, explicit_registry=True)
    assert outcome.changed == [a, b]
    assert outcome.edits == 2
    assert [read_back(a), read_back(b)] == [
        POD.replace("nginx", "docker.io/library/nginx"),
        POD.replace("nginx", "docker.io/library/redis"),
    ]


def test_nothing_to_do_leaves_files_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD.replace("nginx", "quay.io/nginx"))
    before = os.stat(path)
    outcome = fix_paths([path])
    assert outcome == FixOutcome()
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns


# -- --diff ---------------------------------------------------------------------------------


def test_diff_shows_the_change_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD)
    outcome = fix_paths([path], diff=True)
    assert outcome.diff == (
        f"--- a/{path}\n+++ b/{path}\n@@ -5,4 +5,4 @@\n spec:\n   containers:\n   - name: a\n"
        "-    image: nginx:1.25\n+    image: docker.io/library/nginx:1.25\n"
    )
    assert outcome.changed == [path]
    assert outcome.edits == 1
    assert outcome.stdout_text is None
    assert Path(path).read_text() == POD


def test_diff_marks_a_missing_final_newline_and_keeps_crlf(tmp_path: Path) -> None:
    text = POD.rstrip("\n").replace("\n", "\r\n")
    path = write(tmp_path / "p.yaml", text)
    outcome = fix_paths([path], diff=True)
    assert outcome.diff.endswith(
        "-    image: nginx:1.25\n\\ No newline at end of file\n"
        "+    image: docker.io/library/nginx:1.25\n\\ No newline at end of file\n"
    )
    assert "   - name: a\r\n" in outcome.diff


def test_diff_paths_drop_a_leading_dot_slash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "p.yaml", POD)
    outcome = fix_paths(["./p.yaml"], diff=True)
    assert outcome.diff.startswith("--- a/p.yaml\n+++ b/p.yaml\n")


def test_diff_of_nothing_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD.replace("nginx", "docker.io/library/nginx"))
    outcome = fix_paths([path], diff=True)
    assert (outcome.diff, outcome.changed, outcome.edits) == ("", [], 0)


# -- stdin ----------------------------------------------------------------------------------


def test_stdin_gets_the_whole_rewritten_manifest() -> None:
    collected = collect(["-"], stdin_bytes=POD.encode())
    manifests = load(collected.sources)
    outcome = run_fixes(collected.sources, manifests.sites, explicit_registry=True)
    assert outcome.stdout_text == POD.replace("nginx", "docker.io/library/nginx")
    assert outcome.changed == ["-"]


def test_stdin_without_changes_is_echoed_whole() -> None:
    text = POD.replace("nginx", "quay.io/nginx") + "---\n# trailing\n"
    collected = collect(["-"], stdin_bytes=text.encode())
    outcome = run_fixes(collected.sources, load(collected.sources).sites, explicit_registry=True)
    assert outcome.stdout_text == text
    assert outcome.changed == []


def test_stdin_with_diff_prints_only_the_diff() -> None:
    collected = collect(["-"], stdin_bytes=POD.encode(), stdin_name="in.yaml")
    manifests = load(collected.sources)
    outcome = run_fixes(collected.sources, manifests.sites, explicit_registry=True, diff=True)
    assert outcome.stdout_text is None
    assert outcome.diff.startswith("--- a/in.yaml\n+++ b/in.yaml\n")


# -- the writer -----------------------------------------------------------------------------


def test_file_mode_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD)
    os.chmod(path, 0o640)
    fix_paths([path])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert Path(path).read_text() == POD.replace("nginx", "docker.io/library/nginx")


def test_symlink_is_kept_and_its_target_rewritten(tmp_path: Path) -> None:
    real = write(tmp_path / "real.yaml", POD)
    link = tmp_path / "link.yaml"
    link.symlink_to("real.yaml")
    outcome = fix_paths([str(link)])
    assert outcome.changed == [str(link)]
    assert link.is_symlink()
    assert Path(real).read_text() == POD.replace("nginx", "docker.io/library/nginx")


def test_read_only_file_is_reported_and_untouched(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD)
    os.chmod(path, 0o444)
    outcome = fix_paths([path])
    assert [str(e) for e in outcome.errors] == [f"{path}: not rewritten: file is read-only"]
    assert outcome.changed == []
    assert Path(path).read_text() == POD
    assert leftovers(tmp_path) == []


def test_file_changed_since_it_was_read_is_left_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", POD)
    sources, manifests = read([path])
    write(Path(path), POD + "# edited meanwhile\n")
    outcome = run_fixes(sources, manifests.sites, explicit_registry=True)
    assert [str(e) for e in outcome.errors] == [
        f"{path}: not rewritten: file changed on disk since it was read"
    ]
    assert Path(path).read_text() == POD + "# edited meanwhile\n"
    assert leftovers(tmp_path) == []


def test_file_changed_while_writing_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.yaml", POD)
    real_write = fix._write_fd

    def racing_write(fd: int, data: bytes) -> None:
        write(Path(path), POD + "# an editor saved\n")
        real_write(fd, data)

    monkeypatch.setattr(fix, "_write_fd", racing_write)
    outcome = fix_paths([path])
    assert [str(e) for e in outcome.errors] == [
        f"{path}: not rewritten: file changed on disk since it was read"
    ]
    assert Path(path).read_text() == POD + "# an editor saved\n"
    assert leftovers(tmp_path) == []


def test_disk_full_leaves_the_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.yaml", POD)

    def full(fd: int, data: bytes) -> None:
        os.write(fd, data[:10])  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fix, "_write_fd", full)
    outcome = fix_paths([path])
    assert [str(e) for e in outcome.errors] == [f"{path}: not rewritten: no space left on device"]
    assert outcome.changed == []
    assert outcome.edits == 0
    assert Path(path).read_text() == POD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


def test_failing_rename_leaves_the_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.yaml", POD)

    def refuse(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("imglint.fix.os.replace", refuse)
    outcome = fix_paths([path])
    monkeypatch.undo()
    assert [str(e) for e in outcome.errors] == [f"{path}: not rewritten: input/output error"]
    assert Path(path).read_text() == POD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


def test_unwritable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "p.yaml", POD)

    def denied(**kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("imglint.fix.tempfile.mkstemp", denied)
    outcome = fix_paths([path])
    monkeypatch.undo()
    assert [str(e) for e in outcome.errors] == [f"{path}: not rewritten: permission denied"]
    assert Path(path).read_text() == POD


def test_one_failing_file_does_not_stop_the_others(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", POD)
    b = write(tmp_path / "b.yaml", POD)
    os.chmod(a, 0o444)
    outcome = fix_paths([a, b])
    assert outcome.changed == [b]
    assert outcome.edits == 1
    assert [str(e) for e in outcome.errors] == [f"{a}: not rewritten: file is read-only"]
    assert Path(a).read_text() == POD
    assert Path(b).read_text() == POD.replace("nginx", "docker.io/library/nginx")


def test_files_that_are_not_manifests_are_never_written(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yaml", POD + "  - [unclosed\n")
    template = write(tmp_path / "t.yaml", "{{- if .Values.x }}\n" + POD + "{{- end }}\n")
    collected = collect([broken, template])
    manifests = load(collected.sources)
    assert len(manifests.errors) == 2  # reported by the reader, as for linting
    outcome = run_fixes(collected.sources, manifests.sites, explicit_registry=True)
    assert outcome.changed == []
    assert Path(broken).read_text() == POD + "  - [unclosed\n"


def test_pin_without_a_resolver_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        run_fixes([], [], pin=True)


# -- the CLI --------------------------------------------------------------------------------


@pytest.fixture
def stdin() -> Iterator[io.BytesIO]:
    buffer = io.BytesIO()
    sys.stdin = io.TextIOWrapper(buffer)
    try:
        yield buffer
    finally:
        sys.stdin = sys.__stdin__


def test_cli_diff_exits_one_on_a_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "p.yaml", POD)
    assert main(["--fix", "--diff", "p.yaml"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("--- a/p.yaml\n+++ b/p.yaml\n")
    assert (tmp_path / "p.yaml").read_text() == POD
    write(tmp_path / "p.yaml", POD.replace("nginx", "docker.io/library/nginx"))
    assert main(["--fix", "--diff", "p.yaml"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_fix_stdin_writes_only_the_manifest(
    stdin: io.BytesIO, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin.write(POD.encode())
    stdin.seek(0)
    assert main(["--fix", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == POD.replace("nginx", "docker.io/library/nginx")


def test_cli_fix_rewrites_and_then_lints_the_new_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "p.yaml", POD)
    main(["--fix", "--format", "json", "p.yaml"])
    assert (tmp_path / "p.yaml").read_text() == POD.replace("nginx", "docker.io/library/nginx")
    out = capsys.readouterr().out
    assert "IMG004" not in out  # implicit registry: fixed, so no longer reported


def test_multi_line_double_quoted_image_becomes_one_line(tmp_path: Path) -> None:
    text = POD.replace("image: nginx:1.25", 'image: "nginx\\\n      :1.25"  # folded')
    path = write(tmp_path / "p.yaml", text)
    outcome = fix_paths([path])
    assert outcome.errors == []
    assert Path(path).read_text() == POD.replace(
        "image: nginx:1.25", 'image: "docker.io/library/nginx:1.25"  # folded'
    )
