"""`--pin` and `--repin`: tags resolved to digests and written as `name:tag@digest`.

Unit tests use a fake resolver; the integration tests at the end pin every workload shape
against the real local registry (tests/regserver) through imglint's registry client.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from imglint.cli import main
from imglint.fix import FixOutcome, run_fixes
from imglint.manifests import load
from imglint.pin import ResolutionLike
from imglint.reference import Reference
from imglint.sources import collect
from tests.cli_runner import run
from tests.fix_identity import FakeResolution, check_identity, fake_digest, fake_resolver
from tests.regserver import Seeded

FIXTURES = Path(__file__).parent / "fixtures" / "fix"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: IMAGE   # comment
"""


class Recorder:
    """A fake resolver that answers from a table and records what it was asked."""

    def __init__(self, answers: Mapping[str, FakeResolution] | None = None) -> None:
        self.answers = dict(answers or {})
        self.asked: list[list[str]] = []

    def __call__(self, refs: list[Reference]) -> dict[str, ResolutionLike]:
        self.asked.append([str(r) for r in refs])
        return {str(r): self.answers.get(str(r), FakeResolution("ok", D1)) for r in refs}


def pod(image: str) -> str:
    return POD.replace("IMAGE", image)


def pin_text(
    tmp_path: Path,
    image: str,
    resolver: Recorder | None = None,
    *,
    name: str = "p.yaml",
    **options: Any,
) -> tuple[str, FixOutcome]:
    path = tmp_path / name
    path.write_text(pod(image))
    collected = collect([str(path)])
    manifests = load(collected.sources)
    outcome = run_fixes(
        collected.sources,
        manifests.sites,
        pin=True,
        resolver=resolver if resolver is not None else Recorder(),
        **options,
    )
    return path.read_text(), outcome


# -- what pinning writes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected", "asked"),
    [
        # the name stays as written; the tag is kept for humans
        ("nginx:1.25", f"nginx:1.25@{D1}", "docker.io/library/nginx:1.25"),
        ("library/nginx:1.25", f"library/nginx:1.25@{D1}", "docker.io/library/nginx:1.25"),
        ("bitnami/redis:7", f"bitnami/redis:7@{D1}", "docker.io/bitnami/redis:7"),
        ("index.docker.io/x/y:1", f"index.docker.io/x/y:1@{D1}", "docker.io/x/y:1"),
        ("quay.io/a/b:v1.0", f"quay.io/a/b:v1.0@{D1}", "quay.io/a/b:v1.0"),
        ("localhost:5000/app:1", f"localhost:5000/app:1@{D1}", "localhost:5000/app:1"),
        ("'[::1]:5000/app:1'", f"'[::1]:5000/app:1@{D1}'", "[::1]:5000/app:1"),
        # no tag pulls "latest": that is what gets resolved, and written
        ("nginx", f"nginx:latest@{D1}", "docker.io/library/nginx:latest"),
        # already pinned: left alone, not even asked
        (f"nginx:1.25@{D2}", f"nginx:1.25@{D2}", None),
        (f"nginx@{D2}", f"nginx@{D2}", None),
        # same digest already: nothing to do
        (f"nginx:1.25@{D1}", f"nginx:1.25@{D1}", None),
    ],
)
def test_pin_writes_name_tag_and_digest(
    image: str, expected: str, asked: str | None, tmp_path: Path
) -> None:
    resolver = Recorder()
    text, outcome = pin_text(tmp_path, image, resolver)
    assert text == pod(expected)
    assert outcome.errors == []
    assert resolver.asked == ([[asked]] if asked else [])


@pytest.mark.parametrize(
    ("image", "expected", "asked"),
    [
        (f"nginx:1.25@{D2}", f"nginx:1.25@{D1}", True),
        (f"nginx:1.25@{D1}", f"nginx:1.25@{D1}", True),
        (f"nginx@{D2}", f"nginx@{D2}", False),  # no tag: nothing to refresh from
        ("nginx:1.25", f"nginx:1.25@{D1}", True),
    ],
)
def test_repin_refreshes_the_digest_of_a_tag(
    image: str, expected: str, asked: bool, tmp_path: Path
) -> None:
    resolver = Recorder()
    text, outcome = pin_text(tmp_path, image, resolver, repin=True)
    assert text == pod(expected)
    assert outcome.errors == []
    assert resolver.asked == ([["docker.io/library/nginx:1.25"]] if asked else [])


def test_pin_with_fix_also_makes_the_registry_explicit(tmp_path: Path) -> None:
    text, _ = pin_text(tmp_path, "nginx:1.25", explicit_registry=True)
    assert text == pod(f"docker.io/library/nginx:1.25@{D1}")
    text, _ = pin_text(tmp_path, f"redis@{D2}", explicit_registry=True)
    assert text == pod(f"docker.io/library/redis@{D2}")


def test_each_unique_tag_is_asked_once_for_all_files(tmp_path: Path) -> None:
    paths = []
    for i, image in enumerate(["nginx:1.25", "docker.io/library/nginx:1.25", "redis:7", "nginx"]):
        path = tmp_path / f"{i}.yaml"
        path.write_text(pod(image) + "  - name: b\n    image: nginx:1.25\n")
        paths.append(str(path))
    collected = collect(paths)
    manifests = load(collected.sources)
    resolver = Recorder()
    outcome = run_fixes(collected.sources, manifests.sites, pin=True, resolver=resolver)
    assert resolver.asked == [
        [
            "docker.io/library/nginx:1.25",
            "docker.io/library/redis:7",
            "docker.io/library/nginx:latest",
        ]
    ]
    assert outcome.edits == 8
    assert outcome.errors == []


def test_placeholders_and_invalid_references_are_never_asked(tmp_path: Path) -> None:
    resolver = Recorder()
    for image in ["${IMAGE}", "NGINX:1", "ko://example.com/cmd", "'{{ .image }}'"]:
        text, outcome = pin_text(tmp_path, image, resolver)
        assert text == pod(image)
        assert outcome.errors == []
    assert resolver.asked == []


def test_pin_is_idempotent(tmp_path: Path) -> None:
    first, _ = pin_text(tmp_path, "nginx:1.25", Recorder())
    path = tmp_path / "p.yaml"
    collected = collect([str(path)])
    resolver = Recorder()
    outcome = run_fixes(
        collected.sources, load(collected.sources).sites, pin=True, resolver=resolver
    )
    assert (outcome.changed, outcome.edits, resolver.asked) == ([], 0, [])
    assert path.read_text() == first


# -- failed resolutions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            FakeResolution("tag-not-found", None, "known tags: 1.24, 1.26"),
            "tag not found (known tags: 1.24, 1.26)",
        ),
        (FakeResolution("repository-not-found"), "repository not found"),
        (
            FakeResolution("auth-failed", None, "no credentials"),
            "registry authentication failed (no credentials)",
        ),
        (
            FakeResolution("unreachable", None, "HTTP 503 after 3 tries"),
            "registry unreachable (HTTP 503 after 3 tries)",
        ),
        (FakeResolution("ok", None), "the registry answered without a digest"),
        (
            FakeResolution("ok", "sha256:abc"),
            "the registry answered an invalid digest 'sha256:abc'",
        ),
        (
            FakeResolution("ok", "md5:" + "a" * 32),
            f"the registry answered an invalid digest 'md5:{'a' * 32}'",
        ),
    ],
)
def test_failed_resolution_leaves_the_reference_and_says_why(
    answer: FakeResolution, reason: str, tmp_path: Path
) -> None:
    resolver = Recorder({"docker.io/library/nginx:1.25": answer})
    text, outcome = pin_text(tmp_path, "nginx:1.25", resolver)
    assert text == pod("nginx:1.25")
    assert [str(e) for e in outcome.errors] == [
        f"{tmp_path / 'p.yaml'}:8:12: cannot pin nginx:1.25: {reason}"
    ]
    assert (outcome.changed, outcome.edits) == ([], 0)


def test_missing_answer_is_reported(tmp_path: Path) -> None:
    text, outcome = pin_text(tmp_path, "nginx:1.25", lambda refs: {})  # type: ignore[arg-type]
    assert text == pod("nginx:1.25")
    assert [e.message for e in outcome.errors] == [
        "cannot pin nginx:1.25: the registry gave no answer for it"
    ]


def test_resolution_failing_halfway_pins_the_rest(tmp_path: Path) -> None:
    """Some tags resolve, some do not: files are fully written with what resolved, and the
    failures stay exactly as they were."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(pod("nginx:1.25") + "  - name: b\n    image: redis:7 # r\n")
    b.write_text(pod("redis:7"))
    collected = collect([str(a), str(b)])
    resolver = Recorder({"docker.io/library/redis:7": FakeResolution("unreachable", None, "")})
    outcome = run_fixes(
        collected.sources, load(collected.sources).sites, pin=True, resolver=resolver
    )
    assert a.read_text() == pod(f"nginx:1.25@{D1}") + "  - name: b\n    image: redis:7 # r\n"
    assert b.read_text() == pod("redis:7")
    assert outcome.changed == [str(a)]
    assert [str(e) for e in outcome.errors] == [
        f"{a}:10:12: cannot pin redis:7: registry unreachable",
        f"{b}:8:12: cannot pin redis:7: registry unreachable",
    ]


def test_failed_pin_still_gets_the_offline_fix(tmp_path: Path) -> None:
    resolver = Recorder({"docker.io/library/nginx:1.25": FakeResolution("unreachable")})
    text, outcome = pin_text(tmp_path, "nginx:1.25", resolver, explicit_registry=True)
    assert text == pod("docker.io/library/nginx:1.25")
    assert [e.message for e in outcome.errors] == ["cannot pin nginx:1.25: registry unreachable"]


# -- diff and stdin -------------------------------------------------------------------------


def test_pin_diff_writes_nothing(tmp_path: Path) -> None:
    text, outcome = pin_text(tmp_path, "nginx:1.25", diff=True)
    assert text == pod("nginx:1.25")
    path = tmp_path / "p.yaml"
    assert outcome.diff == (
        f"--- a/{path}\n+++ b/{path}\n@@ -5,4 +5,4 @@\n spec:\n   containers:\n   - name: a\n"
        f"-    image: nginx:1.25   # comment\n+    image: nginx:1.25@{D1}   # comment\n"
    )


def test_pin_stdin_prints_the_pinned_manifest() -> None:
    collected = collect(["-"], stdin_bytes=pod("nginx:1.25").encode())
    outcome = run_fixes(
        collected.sources, load(collected.sources).sites, pin=True, resolver=fake_resolver
    )
    digest = fake_digest("docker.io/library/nginx:1.25")
    assert outcome.stdout_text == pod(f"nginx:1.25@{digest}")
    assert outcome.errors == []


def test_pin_keeps_every_byte_of_the_layouts_fixture(tmp_path: Path) -> None:
    target = tmp_path / "layouts.yaml"
    shutil.copyfile(FIXTURES / "layouts.yaml", target)
    collected = collect([str(target)])
    manifests = load(collected.sources)
    outcome = run_fixes(collected.sources, manifests.sites, pin=True, resolver=fake_resolver)
    assert outcome.errors == []
    rewrites = {}
    for site in manifests.sites:
        ref = site.reference
        if ref is None or site.placeholder or ref.digest:
            continue
        tag = ref.tag or "latest"
        name = site.image.removesuffix(f":{ref.tag}")
        rewrites[site.span] = f"{name}:{tag}@{fake_digest(f'{ref.name}:{tag}')}"
    assert len(rewrites) == 14
    assert outcome.edits == 14
    assert check_identity(collected.sources[0].text, target.read_text(), rewrites) == []


# -- against the real local registry --------------------------------------------------------


def real_resolver(refs: list[Reference]) -> Mapping[str, ResolutionLike]:
    """imglint's own registry client, anonymous, no cache, HEAD only (no platform check)."""
    from imglint.registry import ResolveOptions, resolve_all
    from imglint.registry.credentials import CredentialStore

    options = ResolveOptions(use_cache=False, check_platforms=False, timeout=30)
    return resolve_all(refs, options, credentials=CredentialStore([], env={}))


def workloads(seeded: Seeded, tmp_path: Path) -> Path:
    text = (FIXTURES / "workloads.yaml.in").read_text()
    text = text.replace("REGISTRY", seeded.registry.host)
    text = text.replace("STALE", seeded.moving_old).replace("APP10", seeded.app_1_0)
    path = tmp_path / "workloads.yaml"
    path.write_text(text)
    return path


def pinned_workloads(seeded: Seeded, original: str, *, repin: bool) -> str:
    host = seeded.registry.host
    expected = original
    for repo_tag, digest in seeded.tags.items():
        for end in ("\n", " ", '"', "'", "}"):
            expected = expected.replace(
                f"{host}/{repo_tag}{end}", f"{host}/{repo_tag}@{digest}{end}"
            )
    if repin:
        expected = expected.replace(
            f"team/app:1.0@{seeded.moving_old}", f"team/app:1.0@{seeded.app_1_0}"
        ).replace(f"team/app:moving@{seeded.moving_old}", f"team/app:moving@{seeded.moving_new}")
    return expected


@pytest.mark.registry
@pytest.mark.parametrize("repin", [False, True])
def test_pin_every_workload_shape_against_the_registry(
    seeded: Seeded, tmp_path: Path, repin: bool
) -> None:
    path = workloads(seeded, tmp_path)
    original = path.read_text()
    collected = collect([str(path)])
    manifests = load(collected.sources)
    assert manifests.errors == []
    assert len(manifests.sites) == 16
    outcome = run_fixes(
        collected.sources, manifests.sites, pin=True, repin=repin, resolver=real_resolver
    )
    assert path.read_text() == pinned_workloads(seeded, original, repin=repin)
    host = seeded.registry.host
    messages = [(e.line, e.message.split(": ", 1)) for e in outcome.errors]
    assert [(line, head) for line, (head, _) in messages] == [
        (52, f"cannot pin {host}/team/app:missing"),
        (138, f"cannot pin {host}/missing/repo:1"),
    ]
    reasons = [reason for _, (_, reason) in messages]
    assert reasons[0].startswith("tag not found")
    assert reasons[1].startswith("repository not found")
    assert outcome.edits == (13 if repin else 11)
    # The index digest, not a platform's: what the HEAD answered for the multi-platform tag.
    assert f"team/app:2.0@{seeded.app_2_0}" in path.read_text()
    assert seeded.app_2_0_children["linux/amd64"] not in path.read_text()

    # A second run finds nothing left to pin (the two failures are reported again).
    collected = collect([str(path)])
    again = run_fixes(
        collected.sources, load(collected.sources).sites, pin=True, resolver=real_resolver
    )
    assert (again.changed, again.edits, len(again.errors)) == ([], 0, 2)


@pytest.mark.registry
def test_repin_after_a_tag_moved(seeded: Seeded, tmp_path: Path) -> None:
    """Pin, move the tag in the registry, then --pin keeps the old digest and --repin follows."""
    registry = seeded.registry
    repo = "fix-tests/moving"
    first = registry.push_image(repo, "v1", label=f"{tmp_path} first")
    path = tmp_path / "p.yaml"
    path.write_text(pod(f"{registry.host}/{repo}:v1"))

    def run(repin: bool) -> FixOutcome:
        collected = collect([str(path)])
        return run_fixes(
            collected.sources,
            load(collected.sources).sites,
            pin=True,
            repin=repin,
            resolver=real_resolver,
        )

    assert run(False).errors == []
    assert path.read_text() == pod(f"{registry.host}/{repo}:v1@{first}")
    second = registry.push_image(repo, "v1", label=f"{tmp_path} second")
    assert second != first
    assert run(False).edits == 0
    assert path.read_text() == pod(f"{registry.host}/{repo}:v1@{first}")
    assert run(True).edits == 1
    assert path.read_text() == pod(f"{registry.host}/{repo}:v1@{second}")


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI builds its resolver with `imglint.resolve.make_resolver(config, **options)`;
    here it gets the anonymous, cache-free one above."""
    import imglint.resolve

    def make_resolver(*args: object, **kwargs: object) -> object:
        return real_resolver

    monkeypatch.setattr(imglint.resolve, "make_resolver", make_resolver)


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_cli_pin_stdin_to_stdout(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    """`helm template . | imglint --pin - | kubectl apply -f -`: stdout is the manifest only."""
    image = seeded.ref("team/app:2.0")
    sys.stdin = io.TextIOWrapper(io.BytesIO(pod(image).encode()))
    try:
        code = main(["--pin", "-"])
    finally:
        sys.stdin = sys.__stdin__
    captured = capsys.readouterr()
    assert captured.out == pod(f"{image}@{seeded.app_2_0}")
    assert code == 0


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_cli_failed_pin_on_stdin_prints_nothing(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    """`... | imglint --pin - | kubectl apply -f -`: one tag that cannot be pinned means no
    manifest at all on stdout (the exit code comes too late for the pipe), and stderr says why."""
    missing = seeded.ref("team/app:no-such-tag")
    manifest = pod(seeded.ref("team/app:2.0")) + "---\n" + pod(missing)
    code, out, err = run(["--pin", "-"], capsys, stdin=manifest)
    assert (code, out) == (2, "")
    assert f"cannot pin {missing}: tag not found" in err
    assert "the manifest was not printed" in err


@pytest.mark.parametrize(
    ("stdin", "problem"),
    [
        (pod("nginx") + "---\nkind: [unclosed\n", "YAML"),
        ("", "no input on stdin"),
    ],
)
def test_cli_fix_on_unreadable_stdin_prints_nothing(
    stdin: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An input error on the stdin being rewritten: stdout stays empty, never a report or half
    of the manifest that a pipe would apply."""
    code, out, err = run(["--fix", "-"], capsys, stdin=stdin)
    assert (code, out) == (2, "")
    assert problem in err


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_cli_pin_diff_exit_code_and_failure_message(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(pod(seeded.ref("team/app:1.0")))
    assert main(["--pin", "--diff", str(path)]) == 1
    assert f"+    image: {seeded.ref('team/app:1.0')}@{seeded.app_1_0}" in capsys.readouterr().out
    assert path.read_text() == pod(seeded.ref("team/app:1.0"))

    missing = seeded.ref("team/app:no-such-tag")
    path.write_text(pod(missing))
    assert main(["--pin", str(path)]) == 2  # a reference that could not be pinned: exit 2
    out = capsys.readouterr().out
    assert f"{path}:8:12: error: cannot pin {missing}: tag not found" in out
    assert path.read_text() == pod(missing)
