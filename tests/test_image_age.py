"""IMG108 `image-too-old` and `max-image-age`: build times read from image configs.

Against the real local registry (tests/regserver), images whose configs carry known `created`
times: one old, one new, one with the Unix epoch of reproducible builds, one with no `created`,
and an index whose linux/amd64 image is old (its arm64 image new). What the resolver reads, what
it costs (counted with httpx event hooks: one manifest and one config read per distinct digest,
however many tags name it; nothing on a warm cache), and what `imglint --resolve` reports, at
exact lines. Peer: kube-score and Polaris have no image age check; Trivy's `--image-config`
and Kyverno's `verify-image-check-age` policy (kyverno/policies) read the same `created` field.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from imglint import rules
from imglint.cli import main
from imglint.findings import Severity
from imglint.registry.media import created_time
from tests.registry_runs import Counter, deployment, lint_json
from tests.registry_runs import run as registry_run
from tests.regserver import RegistryServer
from tests.regserver.content import Image, build_image, build_index

pytestmark = pytest.mark.registry

run = functools.partial(registry_run, timeout=20.0, read_created=True)

OLD = "2020-01-01T00:00:00Z"
EPOCH = "1970-01-01T00:00:00Z"
OLD_AMD64 = "2019-06-01T12:30:00.123456789Z"  # nanoseconds, as Go writes them
NEW = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Pushed:
    """Images with known build times in the session registry, under "age/..."."""

    def __init__(self, registry: RegistryServer) -> None:
        self.host = registry.host
        pusher = registry.pusher
        self.old = build_image("age/old", created=OLD)
        self.new = build_image("age/new", ("linux", "amd64"), "oci", created=NEW)
        self.epoch = build_image("age/epoch", created=EPOCH)
        self.missing = build_image("age/missing", created=None)
        for name, image in (
            ("old", self.old),
            ("new", self.new),
            ("epoch", self.epoch),
            ("missing", self.missing),
        ):
            pusher.put_image(f"age/{name}", image, "1.0")
        for tag in ("a", "b", "c"):  # four tags, one digest
            pusher.put_manifest("age/old", tag, self.old.manifest)
        self.amd64 = build_image("age/multi", ("linux", "amd64"), "oci", created=OLD_AMD64)
        self.arm64 = build_image("age/multi", ("linux", "arm64"), "oci", created=NEW)
        self.index = build_index([self.amd64, self.arm64])
        pusher.put_index("age/multi", self.index, "1.0")

    def ref(self, name: str, tag: str = "1.0") -> str:
        return f"{self.host}/age/{name}:{tag}"


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer) -> Pushed:
    return Pushed(registry)


def config_get(name: str, image: Image) -> str:
    return f"GET /v2/age/{name}/blobs/{image.config.digest}"


def test_build_times_of_single_images_and_of_an_index_platform(pushed: Pushed) -> None:
    names = ["old", "new", "epoch", "missing", "multi"]
    answers = run([pushed.ref(n) for n in names], check_platforms=False)
    got = {n: answers[pushed.ref(n)] for n in names}
    assert {n: r.status for n, r in got.items()} == dict.fromkeys(names, "ok")
    assert got["old"].created == datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert got["new"].created is not None and got["new"].created_unknown == ""
    # the index's build time is its linux/amd64 image's (the default platform), not arm64's
    assert got["multi"].created == datetime(2019, 6, 1, 12, 30, 0, 123456, tzinfo=timezone.utc)
    assert (got["epoch"].created, got["missing"].created) == (None, None)
    assert "reproducible-build timestamp" in got["epoch"].created_unknown
    assert got["missing"].created_unknown == "its config has no created time"


def test_an_index_is_read_for_the_configured_platform(pushed: Pushed) -> None:
    multi = pushed.ref("multi")
    answer = run([multi], created_platforms=("linux/arm64/v8",))[multi]
    assert answer.created is not None and answer.created.strftime("%Y-%m-%dT%H:%M:%SZ") == NEW
    assert answer.created_platform == "linux/arm64/v8"
    other = run([multi], created_platforms=("linux/s390x",))[multi]
    assert (other.created, other.created_unknown) == (None, "its index has no linux/s390x image")


def test_with_several_platforms_an_index_is_as_old_as_its_oldest_image(pushed: Pushed) -> None:
    """A cluster of amd64 and arm64 nodes runs both images: the older one is the image's age,
    whichever platform is named first; a platform the index lacks is left out (IMG106 says
    it), and only when no platform's build time is known is the age unknown, saying why."""
    multi = pushed.ref("multi")
    old_amd64 = datetime(2019, 6, 1, 12, 30, 0, 123456, tzinfo=timezone.utc)
    counter = Counter()
    both = run([multi], counter=counter, created_platforms=("linux/arm64", "linux/amd64"))[multi]
    assert (both.created, both.created_platform) == (old_amd64, "linux/amd64")
    # each platform's manifest and config, once
    assert sorted(counter.without_pings()) == sorted(
        [
            "HEAD /v2/age/multi/manifests/1.0",
            f"GET /v2/age/multi/manifests/{pushed.index.digest}",
            f"GET /v2/age/multi/manifests/{pushed.amd64.digest}",
            f"GET /v2/age/multi/manifests/{pushed.arm64.digest}",
            config_get("multi", pushed.amd64),
            config_get("multi", pushed.arm64),
        ]
    )
    lacking = run([multi], created_platforms=("linux/s390x", "linux/arm64"))[multi]
    assert lacking.created is not None and lacking.created_platform == "linux/arm64"
    assert lacking.created.strftime("%Y-%m-%dT%H:%M:%SZ") == NEW
    none = run([multi], created_platforms=("linux/s390x", "linux/ppc64le"))[multi]
    assert (none.created, none.created_unknown) == (
        None,
        "linux/s390x: its index has no linux/s390x image; "
        "linux/ppc64le: its index has no linux/ppc64le image",
    )
    # A single image has one build time, whatever the platforms.
    single = run([pushed.ref("old")], created_platforms=("linux/arm64", "linux/amd64"))
    assert single[pushed.ref("old")].created_platform == ""


def test_a_warm_cache_knows_each_platforms_build_time(pushed: Pushed, tmp_path: Path) -> None:
    multi = pushed.ref("multi")
    options: dict[str, Any] = {
        "use_cache": True,
        "cache_dir": str(tmp_path),
        "created_platforms": ("linux/arm64", "linux/amd64"),
    }
    cold = run([multi], **options)[multi]
    warm_counter = Counter()
    warm = run([multi], counter=warm_counter, **options)[multi]
    assert warm_counter.requests == []
    assert (warm.created, warm.created_platform, warm.from_cache) == (
        cold.created,
        "linux/amd64",
        True,
    )
    # A platform the index lacks is a fact of the digest too: a warm run asks nothing.
    lacking: dict[str, Any] = {**options, "created_platforms": ("linux/arm64", "linux/s390x")}
    cold = run([multi], **lacking)[multi]
    warm_counter = Counter()
    warm = run([multi], counter=warm_counter, **lacking)[multi]
    assert warm_counter.requests == []
    assert (warm.created, warm.created_platform) == (cold.created, "linux/arm64")
    absent = {**options, "created_platforms": ("linux/s390x",)}
    run([multi], **absent)
    warm_counter = Counter()
    warm = run([multi], counter=warm_counter, **absent)[multi]
    assert warm_counter.requests == []
    assert (warm.created, warm.created_unknown) == (None, "its index has no linux/s390x image")


def test_one_manifest_and_one_config_read_per_digest(pushed: Pushed) -> None:
    counter = Counter()
    old_tags = [pushed.ref("old", tag) for tag in ("1.0", "a", "b", "c")]
    images = [*old_tags, f"{pushed.host}/age/old@{pushed.old.digest}", pushed.ref("multi")]
    answers = run(images, counter=counter, check_platforms=False)
    assert {answers[i].created for i in old_tags} == {datetime(2020, 1, 1, tzinfo=timezone.utc)}
    assert sorted(counter.without_pings()) == sorted(
        [
            *(f"HEAD /v2/age/old/manifests/{tag}" for tag in ("1.0", "a", "b", "c")),
            f"GET /v2/age/old/manifests/{pushed.old.digest}",
            config_get("old", pushed.old),
            "HEAD /v2/age/multi/manifests/1.0",
            f"GET /v2/age/multi/manifests/{pushed.index.digest}",
            f"GET /v2/age/multi/manifests/{pushed.amd64.digest}",
            config_get("multi", pushed.amd64),
        ]
    )


def test_the_platform_check_and_the_build_time_share_their_reads(pushed: Pushed) -> None:
    counter = Counter()
    answers = run([pushed.ref("old"), pushed.ref("multi")], counter=counter)
    assert answers[pushed.ref("old")].platforms == ("linux/amd64",)
    assert answers[pushed.ref("multi")].platforms == ("linux/amd64", "linux/arm64")
    # the same requests as for the build times alone: nothing is read twice
    assert sorted(counter.without_pings()) == sorted(
        [
            "HEAD /v2/age/old/manifests/1.0",
            f"GET /v2/age/old/manifests/{pushed.old.digest}",
            config_get("old", pushed.old),
            "HEAD /v2/age/multi/manifests/1.0",
            f"GET /v2/age/multi/manifests/{pushed.index.digest}",
            f"GET /v2/age/multi/manifests/{pushed.amd64.digest}",
            config_get("multi", pushed.amd64),
        ]
    )


def test_a_warm_cache_knows_the_build_times(pushed: Pushed, tmp_path: Path) -> None:
    images = [pushed.ref("old"), pushed.ref("missing"), pushed.ref("multi")]
    cache: dict[str, Any] = {"use_cache": True, "cache_dir": str(tmp_path)}
    cold = Counter()
    first = run(images, counter=cold, **cache)
    assert len(cold.without_pings()) == 3 * 3 + 1  # HEAD, manifest, config; the index's child
    warm = Counter()
    second = run(images, counter=warm, **cache)
    assert warm.requests == []
    for image in images:
        assert (second[image].created, second[image].created_unknown) == (
            first[image].created,
            first[image].created_unknown,
        )
        assert second[image].from_cache is True
    # a cache written without build times answers a run that wants them only with a read
    other = tmp_path / "no-times"
    run(images, use_cache=True, cache_dir=str(other), read_created=False)
    again = Counter()
    answers = run(images, counter=again, use_cache=True, cache_dir=str(other))
    assert answers[pushed.ref("old")].created == datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert again.requests != []


def test_img108_documentation() -> None:
    rule = rules.BY_CODE["IMG108"]
    headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
    assert headings == ["What it does", "Why is this bad?", "Example", "Use instead"]
    assert (rule.name, rule.severity, rule.needs_registry) == (
        "image-too-old",
        Severity.WARNING,
        True,
    )
    assert rules.RESERVED["IMG108"] == rule.name
    for words in ("--resolve", "max-image-age", "1970-01-01T00:00:00Z", "1980-01-01T00:00:01Z"):
        assert words in rule.doc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-06T07:08:09Z", datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)),
        ("2024-05-06T07:08:09.5+02:00", datetime(2024, 5, 6, 5, 8, 9, 500000, timezone.utc)),
        (
            "2024-05-06T07:08:09.123456789-01:30",
            datetime(2024, 5, 6, 8, 38, 9, 123456, timezone.utc),
        ),
        ("1970-01-01T00:00:00Z", None),  # ko, Jib, rules_oci, SOURCE_DATE_EPOCH=0
        ("1970-01-01T00:00:01Z", None),  # Nix dockerTools
        ("1980-01-01T00:00:01Z", None),  # Cloud Native Buildpacks
        ("", None),
        ("yesterday", None),
        ("2024-13-45T00:00:00Z", None),
    ],
)
def test_created_time(text: str, expected: datetime | None) -> None:
    when, why = created_time(text)
    assert when == expected
    assert (why == "") is (expected is not None)


# -- IMG108 through the command line --------------------------------------------------------------


def lint_with(
    isolated: Path, capsys: pytest.CaptureFixture[str], config: str, *args: str, cache: bool = False
) -> tuple[int, dict[str, Any], str]:
    """The registry check with `config` as .imglint.yaml: exit code, JSON report, stderr."""
    path = isolated / ".imglint.yaml"
    path.write_text(config)
    return lint_json(["--config", str(path), *args], capsys, cache=cache)


def days_since(text: str) -> int:
    when, _ = created_time(text)
    assert when is not None
    return int((datetime.now(timezone.utc) - when).total_seconds() // 86400)


def test_img108_reports_old_images_at_their_lines(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["old", "new", "epoch", "missing", "multi"]
    path = deployment(isolated, *(pushed.ref(n) for n in names))
    config = "select: [IMG108]\nmax-image-age: 180d\n"
    code, report, err = lint_with(isolated, capsys, config, str(path))
    found = [(f["line"], f["code"], f["message"]) for f in report["findings"]]
    assert found == [
        (
            10,
            "IMG108",
            f'image "{pushed.ref("old")}" was built {days_since(OLD)} days ago '
            "(2020-01-01 00:00 UTC), older than max-image-age 180d",
        ),
        (
            18,
            "IMG108",
            f'image "{pushed.ref("multi")}" was built {days_since(OLD_AMD64)} days ago '
            "(2019-06-01 12:30 UTC, its linux/amd64 image), older than max-image-age 180d",
        ),
    ]
    assert code == 0  # a warning
    assert (
        "imglint: note: max-image-age: the build time of 2 images is unknown, so they were not "
        "checked (-v says which)"
    ) in err
    assert report["summary"]["registry"]["build_time_unknown"] == 2


def test_several_platforms_report_the_oldest_at_its_line(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`platforms: [linux/arm64, linux/s390x]`: the index's arm64 image is new, and it has no
    s390x image (IMG106's finding): nothing is too old. With amd64 too, its old amd64 image is."""
    path = str(deployment(isolated, pushed.ref("new"), pushed.ref("multi")))
    config = "select: [IMG108]\nmax-image-age: 30d\nplatforms: [linux/arm64, {}]\n"
    code, report, _err = lint_with(isolated, capsys, config.format("linux/s390x"), path, cache=True)
    assert (code, report["findings"]) == (0, [])
    # the build times of the cached digest's two platforms: one was not read yet
    _code, report, _err = lint_with(
        isolated, capsys, config.format("linux/amd64"), path, cache=True
    )
    found = [(f["line"], f["message"]) for f in report["findings"]]
    assert found == [
        (
            12,
            f'image "{pushed.ref("multi")}" was built {days_since(OLD_AMD64)} days ago '
            "(2019-06-01 12:30 UTC, its linux/amd64 image), older than max-image-age 30d",
        )
    ]


def test_verbose_names_the_unknown_build_times(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = deployment(isolated, pushed.ref("epoch"), pushed.ref("missing"), pushed.ref("new"))
    config = "select: [IMG108]\nmax-image-age: 36h\n"
    _code, report, err = lint_with(isolated, capsys, config, "-v", str(path))
    assert report["findings"] == []
    assert (
        f"imglint: note: {pushed.ref('epoch')}: build time unknown: its created time "
        f"{EPOCH} is a reproducible-build timestamp, not a build date"
    ) in err
    assert (
        f"imglint: note: {pushed.ref('missing')}: build time unknown: its config has no created "
        "time"
    ) in err


def test_hours_and_weeks(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(deployment(isolated, pushed.ref("new")))
    _code, report, _err = lint_with(
        isolated, capsys, "max-image-age: 12h\nselect: [IMG108]\n", path
    )
    assert report["summary"]["registry"]["build_time_unknown"] == 0
    found = report["findings"]
    assert [(f["line"], f["message"].split(" was built ")[1]) for f in found] == [
        (10, f"24 hours ago ({NEW[:10]} {NEW[11:16]} UTC), older than max-image-age 12h")
    ]
    _code, report, _err = lint_with(isolated, capsys, "max-image-age: 1w\nselect: [IMG108]\n", path)
    assert report["findings"] == []


def test_without_max_image_age_no_build_time_is_read(
    pushed: Pushed,
    isolated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from imglint import resolve
    from imglint.config import Config

    options = resolve.options_from(Config())
    assert options.read_created is False
    path = deployment(isolated, pushed.ref("old"))
    monkeypatch.chdir(isolated)  # no configuration file: the defaults
    _code, report, err = lint_json(["--select", "IMG108", str(path)], capsys)
    assert report["findings"] == []
    assert "max-image-age" not in err


def test_a_bad_max_image_age_is_reported_at_its_line(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = deployment(isolated, "nginx:1.27")
    (isolated / ".imglint.yaml").write_text("select: [IMG108]\n\nmax-image-age: 6 months\n")
    code = main(["--config", str(isolated / ".imglint.yaml"), str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        f"{isolated / '.imglint.yaml'}:3: max-image-age must be a duration of hours, days or "
        "weeks like 36h, 180d or 26w, not '6 months'"
    ) in err
    assert "Traceback" not in err
