"""The registry rules IMG101-IMG107: exact messages from answers, their documentation, and the
whole path `imglint --resolve` against the real local registry (findings at the image's line,
--use-pull-secrets deciding per pod)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from imglint import records, rules
from imglint.cli import main
from imglint.context import Context, RegistryAnswers
from imglint.findings import Severity
from imglint.registry.model import HUB_MISSING_OR_PRIVATE, Resolution
from imglint.rules import (
    img101_tag_not_found,
    img102_repository_not_found,
    img103_registry_auth_failed,
    img104_stale_digest,
    img105_digest_not_found,
    img106_platform_missing,
    img107_registry_unreachable,
)
from tests.factories import make_context, make_site
from tests.regserver import PASSWORD, USERNAME, RegistryServer, Seeded

REGISTRY_RULES = [r for r in rules.RULES if r.needs_registry]
D_OLD = "sha256:" + "a" * 64
D_NEW = "sha256:" + "b" * 64


def messages(
    module: object, image: str, result: Resolution, platforms: tuple[str, ...] | None = None
) -> list[str]:
    site = make_site(image)
    assert site.reference is not None
    ctx: Context = make_context()
    ctx.answers = RegistryAnswers({str(site.reference): result})
    if platforms is not None:
        ctx.settings = records.replace(ctx.settings, platforms=platforms)
    return list(module.check(site, ctx))  # type: ignore[attr-defined]


def answer(status: str, **fields: object) -> Resolution:
    return Resolution(reference="", status=status, **fields)  # type: ignore[arg-type]


# -- the catalogue --------------------------------------------------------------------------------


def test_registry_rules_metadata() -> None:
    assert [(r.code, r.name, r.severity) for r in REGISTRY_RULES] == [
        ("IMG101", "tag-not-found", Severity.ERROR),
        ("IMG102", "repository-not-found", Severity.ERROR),
        ("IMG103", "registry-auth-failed", Severity.ERROR),
        ("IMG104", "stale-digest", Severity.WARNING),
        ("IMG105", "digest-not-found", Severity.ERROR),
        ("IMG106", "platform-missing", Severity.WARNING),
        ("IMG107", "registry-unreachable", Severity.WARNING),
        ("IMG108", "image-too-old", Severity.WARNING),
    ]
    assert all(r.default_enabled for r in REGISTRY_RULES)


# the rules about pulls that would fail (IMG108, an old build, pulls fine: tests/test_image_age.py)
@pytest.mark.parametrize(
    "rule", [r for r in REGISTRY_RULES if r.code != "IMG108"], ids=lambda r: r.code
)
def test_rule_documentation_has_every_section(rule: rules.Rule) -> None:
    headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
    assert headings == ["What it does", "Why is this bad?", "Example", "Use instead"]
    assert rule.summary.endswith(".")
    assert re.search(r"ErrImagePull|ImagePullBackOff|exec format error", rule.doc)
    assert "```yaml" in rule.doc
    assert "--resolve" in rule.doc


# -- messages -------------------------------------------------------------------------------------


def test_img101_messages() -> None:
    assert messages(img101_tag_not_found, "nginx:1.277", answer("tag-not-found")) == [
        'image "nginx:1.277": docker.io/library/nginx has no tag "1.277"'
    ]
    found = answer(
        "tag-not-found", detail="closest tags: 1.27, 1.26", closest_tags=("1.27", "1.26")
    )
    assert messages(img101_tag_not_found, "ghcr.io/a/b:1.277", found) == [
        'image "ghcr.io/a/b:1.277": ghcr.io/a/b has no tag "1.277" (closest tags: 1.27, 1.26)'
    ]
    assert messages(img101_tag_not_found, "ghcr.io/a/b", answer("tag-not-found")) == [
        'image "ghcr.io/a/b" has no tag, so "latest" is pulled, and ghcr.io/a/b has no tag "latest"'
    ]
    assert messages(img101_tag_not_found, "nginx:1.27", answer("ok", digest=D_NEW)) == []


def test_img102_messages() -> None:
    found = answer("repository-not-found", detail="the registry answered NAME_UNKNOWN")
    assert messages(img102_repository_not_found, "ghcr.io/acme/shop:1", found) == [
        'image "ghcr.io/acme/shop:1": repository ghcr.io/acme/shop does not exist'
    ]
    hub = answer(
        "repository-not-found",
        detail=f"{HUB_MISSING_OR_PRIVATE} (anonymous access)",
        hub_missing_or_private="anonymous access",
    )
    assert messages(img102_repository_not_found, "ngnix:1.27", hub) == [
        'image "ngnix:1.27": Docker Hub has no repository library/ngnix that can be read '
        "(anonymous access); Docker Hub answers 401 for missing and private repositories "
        "alike, so it is misspelled, or private and needs credentials that can read it"
    ]


def test_img103_message() -> None:
    found = answer(
        "auth-failed",
        registry="registry.example.com",
        detail="the registry wants credentials and none are configured for registry.example.com",
    )
    assert messages(img103_registry_auth_failed, "registry.example.com/team/api:3", found) == [
        'image "registry.example.com/team/api:3": registry.example.com refused access to '
        "team/api: the registry wants credentials and none are configured for "
        "registry.example.com"
    ]


def test_img104_messages() -> None:
    image = f"nginx:1.27@{D_OLD}"
    stale = answer("ok", digest=D_OLD, tag_digest=D_NEW)
    assert messages(img104_stale_digest, image, stale) == [
        f'image "{image}": the tag "1.27" now points to sha256:bbbbbbbbbbbb, not the pinned '
        "sha256:aaaaaaaaaaaa: pods run the pinned image, not the one the tag names now "
        "(re-pin with --pin --repin)"
    ]
    gone = answer("ok", digest=D_OLD, tag_digest=None, detail="the tag 1.27 no longer exists")
    assert messages(img104_stale_digest, image, gone) == [
        f'image "{image}": the tag "1.27" no longer exists; the pinned digest '
        "sha256:aaaaaaaaaaaa still does, so the tag no longer says what runs"
    ]
    current = answer("ok", digest=D_OLD, tag_digest=D_OLD)
    assert messages(img104_stale_digest, image, current) == []
    assert messages(img104_stale_digest, f"nginx@{D_OLD}", answer("ok", digest=D_OLD)) == []


def test_img105_messages() -> None:
    assert messages(img105_digest_not_found, f"nginx@{D_OLD}", answer("digest-not-found")) == [
        f'image "nginx@{D_OLD}": docker.io/library/nginx has no manifest sha256:aaaaaaaaaaaa'
    ]
    moved = answer("digest-not-found", tag_digest=D_NEW)
    assert messages(img105_digest_not_found, f"nginx:1.27@{D_OLD}", moved) == [
        f'image "nginx:1.27@{D_OLD}": docker.io/library/nginx has no manifest '
        'sha256:aaaaaaaaaaaa; the tag "1.27" points to sha256:bbbbbbbbbbbb'
    ]


def test_img106_messages() -> None:
    index = answer("ok", digest=D_NEW, platforms=("linux/amd64",))
    assert messages(img106_platform_missing, "a.io/tool:1", index) == []
    assert messages(
        img106_platform_missing, "a.io/tool:1", index, platforms=("linux/amd64", "linux/arm64")
    ) == [
        'image "a.io/tool:1" has no linux/arm64 image (it offers linux/amd64): pods on such '
        "nodes fail to pull it (checked for the configured platforms)"
    ]
    arm = answer("ok", digest=D_NEW, platforms=("linux/arm64/v8",))
    assert messages(img106_platform_missing, "a.io/tool:1", arm) == [
        'image "a.io/tool:1" has no linux/amd64 image (it offers linux/arm64/v8): pods on such '
        "nodes fail to pull it (checked for the configured platforms)"
    ]
    unread = answer("ok", digest=D_NEW, platforms=None)  # not read (check off, or IMG107)
    assert messages(img106_platform_missing, "a.io/tool:1", unread) == []


def test_img106_messages_for_a_single_image() -> None:
    docker = "application/vnd.docker.distribution.manifest.v2+json"
    arm = answer("ok", digest=D_NEW, media_type=docker, platforms=("linux/arm64",))
    assert messages(img106_platform_missing, "a.io/tool:1", arm) == [
        'image "a.io/tool:1" is built for linux/arm64 only; nodes running linux/amd64 fail with '
        "exec format error (checked for the configured platforms)"
    ]
    assert (
        messages(img106_platform_missing, "a.io/tool:1", arm, platforms=("linux/arm64/v8",)) == []
    )
    oci = "application/vnd.oci.image.manifest.v1+json"
    amd = answer("ok", digest=D_NEW, media_type=oci, platforms=("linux/amd64",))
    both = ("linux/amd64", "linux/arm64", "linux/arm/v7")
    assert messages(img106_platform_missing, "a.io/tool:1", amd, platforms=both) == [
        'image "a.io/tool:1" is built for linux/amd64 only; nodes running linux/arm64 or '
        "linux/arm/v7 fail with exec format error (checked for the configured platforms)"
    ]


def test_img107_message() -> None:
    found = answer("unreachable", registry="registry.internal:5000", detail="connection refused")
    assert messages(img107_registry_unreachable, "registry.internal:5000/a:1", found) == [
        'image "registry.internal:5000/a:1": could not ask registry.internal:5000: '
        "connection refused"
    ]


def test_each_status_fires_exactly_one_rule() -> None:
    statuses = {
        "tag-not-found": "IMG101",
        "repository-not-found": "IMG102",
        "auth-failed": "IMG103",
        "digest-not-found": "IMG105",
        "unreachable": "IMG107",
    }
    for status, code in statuses.items():
        fired = [r.code for r in REGISTRY_RULES if messages(r, f"a.io/x:1@{D_OLD}", answer(status))]
        assert fired == [code], status


def test_no_answer_no_finding() -> None:
    site = make_site("nginx:1.27")
    for rule in REGISTRY_RULES:
        assert list(rule.check(site, make_context())) == []


# -- the command line against the real registry ---------------------------------------------------


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials or cache of the person running the tests."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[tuple[int, str]], dict[str, Any]]:
    code = main(["--format", "json", *args])
    out = json.loads(capsys.readouterr().out)
    found = [(f["line"], f["code"]) for f in out["findings"]]
    return code, found, out


@pytest.mark.registry
def test_resolve_reports_at_the_image_lines(
    seeded: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    isolate(monkeypatch, tmp_path)
    zero = "sha256:" + "0" * 64
    images = [
        seeded.ref("team/app:1.0"),  # fine
        seeded.ref("team/app:1.1"),  # IMG101
        seeded.ref("team/nothing:1.0"),  # IMG102
        seeded.ref(f"team/app:moving@{seeded.moving_old}"),  # IMG104
        seeded.ref(f"team/app@{zero}"),  # IMG105
        seeded.ref("team/armonly:1.0"),  # IMG106 for linux/amd64
        "127.0.0.1:1/team/app:1.0",  # IMG107: nothing listens on port 1
        seeded.ref("team/app:1.1"),  # the same missing tag again: found again, asked once
    ]
    containers = "\n".join(
        f"        - name: c{n}\n          image: {image}" for n, image in enumerate(images)
    )
    path = tmp_path / "deploy.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\n"
        "spec:\n  template:\n    spec:\n      containers:\n" + containers + "\n"
    )
    code, found, out = run_cli(
        ["--resolve", "--select", ",".join(r.code for r in REGISTRY_RULES), str(path)], capsys
    )
    line = {n: 11 + 2 * n for n in range(len(images))}
    assert sorted(found) == sorted(
        [
            (line[1], "IMG101"),
            (line[2], "IMG102"),
            (line[3], "IMG104"),
            (line[4], "IMG105"),
            (line[5], "IMG106"),
            (line[6], "IMG107"),
            (line[7], "IMG101"),
        ]
    )
    assert code == 1
    # the typed answer's closest tags reach the message, for both sites of the missing tag
    missing_tag = [f["message"] for f in out["findings"] if f["code"] == "IMG101"]
    assert (
        missing_tag
        == [
            f'image "{seeded.ref("team/app:1.1")}": {seeded.ref("team/app")} has no tag "1.1" '
            "(closest tags: 1.0)"
        ]
        * 2
    )
    summary = out["summary"]["registry"]
    assert out["schema_version"] == 2
    seconds = summary.pop("seconds")
    assert isinstance(seconds, float) and seconds >= 0
    assert summary.pop("requests") > 0
    assert summary == {
        "images": 7,
        "answers": 7,
        "found": 3,
        "missing": 3,
        "refused": 0,
        "unreachable": 1,
        "from_cache": 0,
        "rate_limit_left": [],
        "build_time_unknown": None,  # no max-image-age: no build time read
    }


@pytest.mark.registry
def test_use_pull_secrets_decides_per_pod(
    basic_registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    isolate(monkeypatch, tmp_path)
    basic_registry.push_image("team/app", "1.0")
    image = f"{basic_registry.host}/team/app:1.0"

    def secret(name: str, password: str) -> str:
        auth = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
        config = {"auths": {basic_registry.host: {"auth": auth}}}
        data = base64.b64encode(json.dumps(config).encode()).decode()
        return (
            f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: apps\n"
            f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n"
        )

    def pod(name: str, secret_name: str) -> str:
        return (
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: apps\n"
            f"spec:\n  imagePullSecrets:\n    - name: {secret_name}\n"
            f"  containers:\n    - name: app\n      image: {image}\n"
        )

    path = tmp_path / "pods.yaml"
    documents = [
        secret("good", PASSWORD),
        secret("bad", "wrong"),
        pod("a", "good"),
        pod("b", "bad"),
    ]
    path.write_text("---\n".join(documents))
    text = path.read_text()
    image_lines = [n for n, line in enumerate(text.splitlines(), 1) if "image:" in line]

    code, found, out = run_cli(
        ["--resolve", "--use-pull-secrets", "--select", "IMG103", str(path)], capsys
    )
    assert found == [(image_lines[1], "IMG103")]  # only the pod with the wrong password
    assert code == 1
    # the summary counts both answers: found for one pod, refused to the other
    registry = out["summary"]["registry"]
    assert (registry["images"], registry["answers"]) == (1, 2)
    assert (registry["found"], registry["refused"]) == (1, 1)
    # without --use-pull-secrets the user's own (absent) credentials decide, for both pods
    code, found, _ = run_cli(["--resolve", "--select", "IMG103", str(path)], capsys)
    assert found == [(image_lines[0], "IMG103"), (image_lines[1], "IMG103")]


# -- command-line glue: options, pods, summary ----------------------------------------------------


def test_options_from_config() -> None:
    from imglint.config import Config
    from imglint.resolve import options_from

    config = Config(
        insecure_registries=("registry.internal",),
        mirrors={"docker.io": ("mirror.example",)},
        cache_ttl=60.0,
        timeout=20.0,
        jobs=4,
    )
    # --jobs reaches the registry check through the configuration, winning over the file's
    options = options_from(config.with_overrides(jobs=8), ca_file="/ca.pem", use_cache=False)
    assert (options.jobs, options.timeout, options.tag_ttl) == (8, 20.0, 60.0)
    assert (options.ca_file, options.use_cache, options.check_platforms) == ("/ca.pem", False, True)
    assert options.insecure_registries == ("registry.internal",)
    assert options.mirrors == {"docker.io": ("mirror.example",)}
    without_img106 = Config(enabled=config.enabled - {"IMG106"})
    assert options_from(without_img106).check_platforms is False  # no manifest GETs then


def test_pod_credentials_follow_admission_rules() -> None:
    from imglint.context import PullSecret
    from imglint.registry.pods import pod_credentials, site_credentials

    def secret(name: str, user: str) -> PullSecret:
        return PullSecret(
            name=name,
            namespace="apps",
            type="kubernetes.io/dockerconfigjson",
            path="s.yaml",
            line=1,
            keys=("ghcr.io",),
            credentials={"ghcr.io": (user, "pw")},
        )

    ctx = make_context(
        secrets=[secret("own", "pod-user"), secret("sa", "sa-user")],
        service_accounts={("apps", "builder"): ["sa"], ("apps", "default"): []},
    )
    own = make_site("ghcr.io/acme/app:1", pull_secrets=["own"])
    via_sa = make_site("ghcr.io/acme/app:1", service_account="builder")
    default_sa = make_site("ghcr.io/acme/app:1")  # default SA, known, with no secrets
    unknown_sa = make_site("ghcr.io/acme/app:1", service_account="elsewhere")
    missing = make_site("ghcr.io/acme/app:1", pull_secrets=["not-in-the-files"])
    found = pod_credentials([own, via_sa, default_sa, unknown_sa, missing, own], ctx.objects)
    # None: pods whose secrets the files do not show are asked with the user's own credentials
    assert [
        None if alt is None else [c.username for c in alt] for alt in found["ghcr.io/acme/app:1"]
    ] == [["pod-user"], ["sa-user"], [], None]
    # each pod is answered for its own credential list (None: the user's own credentials)
    assert [c.username for c in site_credentials(own, ctx.objects) or []] == ["pod-user"]
    assert [c.username for c in site_credentials(via_sa, ctx.objects) or []] == ["sa-user"]
    assert site_credentials(unknown_sa, ctx.objects) is None


def test_pod_answer_wins_over_the_reference_answer() -> None:
    site = make_site("ghcr.io/acme/app:1", pull_secrets=["own"])
    ctx = make_context()
    ctx.answers = RegistryAnswers(
        {"ghcr.io/acme/app:1": answer("auth-failed", detail="another pod's secret was refused")},
        [(site, answer("ok", digest=D_NEW))],
    )
    assert list(img103_registry_auth_failed.check(site, ctx)) == []
    other = make_site("ghcr.io/acme/app:1", pull_secrets=["other"])
    assert len(list(img103_registry_auth_failed.check(other, ctx))) == 1


def test_summary_line() -> None:
    from imglint.registry.model import Answers, ResolveStats
    from imglint.resolve import summary

    stats = ResolveStats(
        elapsed=1.234,
        from_cache=2,
        ratelimit_remaining={"registry-1.docker.io": "76;w=21600"},
    )
    answers = Answers(
        {
            "a": answer("ok"),
            "b": answer("ok"),
            "c": answer("tag-not-found"),
            "d": answer("auth-failed"),
            "e": answer("unreachable"),
        },
        stats,
    )
    assert summary(answers).text() == (
        "5 images in 1.2 s: 2 found, 1 not found, 1 refused, 1 unreachable "
        "(2 from cache; registry-1.docker.io pulls left: 76 per 6 h)"
    )
    assert summary(Answers({"a": answer("ok")}, ResolveStats())).text() == (
        "1 image in 0.0 s: 1 found"
    )
