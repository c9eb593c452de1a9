"""The registry check tells the truth (issue 15): no stale pins, the cache answers only those who
asked, untrusted cache files are ignored, a digest contradicted by its bytes is never written,
and each question is asked once per run. Against the real docker-registry, through the command
line where a user would see it; the hostile server only for a registry that lies.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imglint.registry.cache import (
    FILE_NAME,
    KEY_FILE,
    VERSION,
    ResolutionCache,
    default_cache_dir,
)
from imglint.registry.credentials import CredentialStore
from tests.cli_runner import run as cli
from tests.hostile_registry import MANIFEST_BODY, HostileRegistry, digest_of, redirect, respond
from tests.registry_runs import Counter
from tests.registry_runs import run as resolve
from tests.regserver import PASSWORD, USERNAME, RegistryServer, Seeded

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: IMAGE
"""
FAKE = "sha256:" + "f" * 64


def pod(image: str) -> str:
    return POD.replace("IMAGE", image)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user of their own: no credentials unless a test writes some, a cache folder of its own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    monkeypatch.setenv("IMGLINT_CACHE_DIR", str(home / "cache"))
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return home


def login(home: Path, host: str, username: str, password: str) -> None:
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    folder = home / ".docker"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def logout(home: Path) -> None:
    (home / ".docker" / "config.json").unlink()


def codes(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> list[str]:
    _, out, err = cli(["--resolve", "--format", "json", *args, str(path)], capsys)
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["errors"] == []
    return [f["code"] for f in report["findings"] if f["code"].startswith("IMG1")]


# -- 1. stale pins ---------------------------------------------------------------------------


@pytest.mark.registry
def test_build_push_pin_within_a_minute_pins_the_new_image(
    home: Path, seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = seeded.registry
    repo = "truth/stale"
    image = f"{registry.host}/{repo}:1.0"
    first = registry.push_image(repo, "1.0", label=f"{tmp_path} first")
    path = tmp_path / "pod.yaml"
    path.write_text(pod(image))
    assert codes(capsys, path) == []  # the cache now knows the tag
    assert (home / "cache" / FILE_NAME).is_file()  # in $IMGLINT_CACHE_DIR

    second = registry.push_image(repo, "1.0", label=f"{tmp_path} second")
    code, _, err = cli(["--pin", str(path)], capsys)
    assert code == 0, err
    assert path.read_text() == pod(f"{image}@{second}")

    third = registry.push_image(repo, "1.0", label=f"{tmp_path} third")
    code, _, err = cli(["--pin", "--repin", str(path)], capsys)
    assert code == 0, err
    assert path.read_text() == pod(f"{image}@{third}")

    registry.push_image(repo, "1.0", label=f"{tmp_path} fourth")
    assert codes(capsys, path) == ["IMG104"]  # the pin went stale a second ago
    assert first not in path.read_text()


# -- 2. the cache answers only the credentials that asked ------------------------------------


@pytest.mark.registry
def test_an_answer_got_with_credentials_answers_no_other_credentials(
    home: Path, basic_registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = f"{basic_registry.host}/truth/private:1.0"
    basic_registry.push_image("truth/private", "1.0", label=f"{tmp_path} private")
    path = tmp_path / "pod.yaml"
    path.write_text(pod(image))
    login(home, basic_registry.host, USERNAME, PASSWORD)
    assert codes(capsys, path) == []
    assert codes(capsys, path) == []  # warm: still found, from the cache

    logout(home)
    assert codes(capsys, path) == ["IMG103"]  # no credentials: the warm cache does not answer
    login(home, basic_registry.host, USERNAME, "wrong password")
    assert codes(capsys, path) == ["IMG103"]

    cache = home / "cache"
    text = "".join(p.read_text(errors="replace") for p in cache.iterdir())
    assert PASSWORD not in text and base64.b64encode(PASSWORD.encode()).decode() not in text
    assert stat.S_IMODE((cache / KEY_FILE).stat().st_mode) == 0o600


@pytest.mark.registry
def test_a_pod_without_pull_secrets_fails_on_a_warm_cache_too(
    home: Path, basic_registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = f"{basic_registry.host}/truth/secret-pod:1.0"
    basic_registry.push_image("truth/secret-pod", "1.0", label=f"{tmp_path} secret-pod")
    account = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n"
    path = tmp_path / "pod.yaml"
    path.write_text(pod(image) + account)
    login(home, basic_registry.host, USERNAME, PASSWORD)
    assert codes(capsys, path) == []  # the user may read it, and the cache learns so
    for _ in range(2):  # cold for the pod's (empty) secrets, then warm
        assert codes(capsys, path, "--use-pull-secrets") == ["IMG103"]


def test_credential_fingerprints_are_keyed_and_the_key_is_private(tmp_path: Path) -> None:
    from imglint.registry.credentials import Credentials

    alice = Credentials("alice", "one")
    cache = ResolutionCache(tmp_path / "c")
    assert cache.identity([None, None]) == ""
    mine = cache.identity([alice])
    assert mine and mine == ResolutionCache(tmp_path / "c").identity([alice])
    assert mine != cache.identity([Credentials("alice", "two")])
    # another cache folder has another key: the fingerprint cannot be tested offline elsewhere
    assert mine != ResolutionCache(tmp_path / "d").identity([alice])
    assert stat.S_IMODE((tmp_path / "c" / KEY_FILE).stat().st_mode) == 0o600
    cache.put_tag("r", "p", "t", FAKE, mine)
    cache.save()
    assert ResolutionCache(tmp_path / "c").tag("r", "p", "t") is None  # not anonymous
    assert ResolutionCache(tmp_path / "c").tag("r", "p", "t", mine) == FAKE


# -- 3. a cache someone else can write is not trusted ------------------------------------------


def plant(folder: Path, image_key: str, digest: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    data = {
        "version": VERSION,
        "tags": {image_key: {"digest": digest, "at": time.time()}},
        "digests": {f"{image_key.rpartition(':')[0]}@{digest}": {"media_type": None, "at": 1}},
    }
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("where", ["folder writable by all", "file writable by all", "foreign"])
def test_cache_others_can_write_is_ignored(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    path = plant(folder, "r.example/app:1.0", FAKE)
    if where == "folder writable by all":
        folder.chmod(0o777)
    elif where == "file writable by all":
        path.chmod(0o666)
    else:
        if os.getuid() != 0:
            pytest.skip("only root can give a file to another user")
        os.chown(path, 65534, 65534)
    cache = ResolutionCache(folder, tag_ttl=1e12)
    assert cache.tag("r.example", "app", "1.0") is None
    assert len(cache.notes) == 1 and "not using the registry cache" in cache.notes[0]
    # and a trusted one is used
    folder.chmod(0o700)
    path.chmod(0o600)
    if where == "foreign":
        os.chown(path, os.getuid(), os.getgid())
    assert ResolutionCache(folder, tag_ttl=1e12).tag("r.example", "app", "1.0") == FAKE


@pytest.mark.registry
def test_planted_cache_answer_is_ignored_and_said_with_v(
    home: Path, seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = home / "cache"
    image = seeded.ref("team/app:1.0")
    plant(folder, image, FAKE)
    folder.chmod(0o777)
    path = tmp_path / "pod.yaml"
    path.write_text(pod(image))
    code, _, err = cli(["--resolve", "-v", str(path)], capsys)
    assert code == 0
    # the registry was asked: the planted answer was not taken
    assert f"HEAD http://{seeded.registry.host}/v2/team/app/manifests/1.0 -> 200" in err
    assert f"not using the registry cache folder {folder}: others may write it" in err


# -- 4. a digest contradicted by the bytes is never written ------------------------------------


def test_pin_writes_the_digest_of_the_bytes_not_a_lying_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    with HostileRegistry() as server:
        lie = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
        server.route(
            "/v2/team/app/manifests/*",
            respond(200, MANIFEST_BODY, {**lie, "Docker-Content-Digest": FAKE}),
        )
        path = tmp_path / "pod.yaml"
        image = f"{server.host}/team/app:1.0"
        path.write_text(pod(image))
        code, _, err = cli(["--pin", str(path)], capsys)
        assert code == 0, err
        assert path.read_text() == pod(f"{image}@{digest_of(MANIFEST_BODY)}")
        assert FAKE not in path.read_text()


# -- 5. one request per distinct question --------------------------------------------------


@pytest.mark.registry
def test_one_request_per_question_on_the_real_registry(seeded: Seeded, tmp_path: Path) -> None:
    registry = seeded.registry
    repo = "truth/count"
    old = registry.push_image(repo, "old", label=f"{tmp_path} old")
    digest = registry.push_image(repo, "1.0", label=f"{tmp_path} one")
    for tag in ("1.1", "1.2", "1.3"):
        registry.retag(repo, tag, digest)
    ref = f"{registry.host}/{repo}"
    images = [f"{ref}:{t}" for t in ("1.0", "1.1", "1.2", "1.3")]  # four tags, one digest
    images += [f"{ref}:1.0@{digest}", f"{ref}:1.0@{old}"]  # the tag again, and a stale pin
    images += [f"{ref}:9.8", f"{ref}:9.9"]  # two missing tags of one repository
    before = len(registry.access_log())
    counter = Counter()
    answers = resolve(images, counter=counter, jobs=16)
    assert [answers[i].status for i in images] == ["ok"] * 6 + ["tag-not-found"] * 2
    assert answers[f"{ref}:1.0@{old}"].tag_digest == digest
    served = [f"{e.method} {e.path}" for e in registry.access_log()[before:]]
    expected = sorted(
        [f"HEAD /v2/{repo}/manifests/{t}" for t in ("1.0", "1.1", "1.2", "1.3", "9.8", "9.9")]
        + [f"GET /v2/{repo}/manifests/{d}" for d in (digest, old)]
        + [f"GET /v2/{repo}/blobs/{config_digest(registry, repo, d)}" for d in (digest, old)]
        + [f"GET /v2/{repo}/tags/list?n=1000"]
    )
    assert sorted(line for line in served if line != "GET /v2/") == expected
    assert sorted(counter.without_pings()) == sorted(e.partition("?")[0] for e in expected)


def config_digest(registry: RegistryServer, repo: str, digest: str) -> str:
    response = registry.pusher.http.get(
        f"/v2/{repo}/manifests/{digest}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    return str(json.loads(response.content)["config"]["digest"])


# -- --cache-dir / IMGLINT_CACHE_DIR and parallel jobs ---------------------------------------

WRITER = """
import sys
import time
from pathlib import Path
from imglint.registry.cache import ResolutionCache
folder, worker, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for n in range(rounds):
    cache = ResolutionCache(folder)
    cache.put_digest("r.example", f"w{worker}", "sha256:" + f"{n:064x}", None, ("linux/amd64",))
    warning = cache.save()
    assert warning is None, warning
"""


def test_parallel_jobs_sharing_a_cache_lose_no_entries(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    workers, rounds = 6, 25
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(w), str(rounds)])
        for w in range(workers)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0] * workers
    data = json.loads((folder / FILE_NAME).read_text())
    assert len(data["digests"]) == workers * rounds
    assert sorted(os.listdir(folder)) == [FILE_NAME]  # no temporary file left behind


def test_imglint_cache_dir_chooses_the_folder() -> None:
    env = {"IMGLINT_CACHE_DIR": "/ci/cache", "XDG_CACHE_HOME": "/x", "HOME": "/home/u"}
    assert default_cache_dir(env) == Path("/ci/cache")
    assert default_cache_dir({"IMGLINT_CACHE_DIR": "", "XDG_CACHE_HOME": "/x"}) == Path(
        "/x/imglint"
    )


# -- 6. contradictions -----------------------------------------------------------------------


def test_a_listed_tag_whose_manifest_404s_after_a_redirect_is_not_missing() -> None:
    with HostileRegistry() as server, HostileRegistry(bind="127.0.0.2") as storage:
        server.route("/v2/team/app/manifests/*", redirect(f"{storage.url}/lost"))
        tags = b'{"name":"team/app","tags":["1.0","1.1"]}'
        server.route("/v2/team/app/tags/list", respond(200, tags, {"Content-Type": "x/json"}))
        image = f"{server.host}/team/app:1.0"
        result = resolve([image])[image]
    assert (result.status, result.detail) == (
        "unreachable",
        f"the registry lists the tag 1.0 but answered 404 for its manifest "
        f"(after a redirect to {storage.host})",
    )


def test_img101_never_says_a_listed_tag_is_missing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: `has no tag "1.0" (closest tags: 1.0)`. The registry contradicts itself: IMG107."""
    with HostileRegistry() as server, HostileRegistry(bind="127.0.0.2") as storage:
        server.route("/v2/team/app/manifests/*", redirect(f"{storage.url}/lost"))
        tags = b'{"name":"team/app","tags":["1.0"]}'
        server.route("/v2/team/app/tags/list", respond(200, tags, {"Content-Type": "x/json"}))
        path = tmp_path / "pod.yaml"
        path.write_text(pod(f"{server.host}/team/app:1.0"))
        _, out, _ = cli(["--resolve", "--format", "json", str(path)], capsys)
    (finding,) = json.loads(out)["findings"]
    assert finding["code"] == "IMG107"
    assert "lists the tag 1.0 but answered 404 for its manifest" in finding["message"]


# -- credentials where people keep them ------------------------------------------------------


@pytest.mark.registry
def test_registry_token_is_sent_as_is_and_no_token_service_is_asked(
    token_registry: RegistryServer, tmp_path: Path
) -> None:
    service = token_registry.token_service
    assert service is not None
    token_registry.push_image("truth/tokened", "1.0", label=f"{tmp_path} tokened")
    token = service.issue(USERNAME, ["repository:truth/tokened:pull"])
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {token_registry.host: {"registrytoken": token}}}))
    service.clear()
    image = f"{token_registry.host}/truth/tokened:1.0"
    answers = resolve([image], store=CredentialStore(files=[config]))
    assert answers[image].status == "ok"
    assert service.requests == []
    # without it, anonymous: this repository is not public
    assert resolve([image])[image].status == "auth-failed"


# -- 7. hints ---------------------------------------------------------------------------------


@pytest.mark.registry
def test_verbose_run_on_a_loopback_registry_gives_no_insecure_registries_hint(
    home: Path, seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(pod(seeded.ref("team/app:1.0")))
    code, _, err = cli(["--resolve", "-v", "--no-cache", str(path)], capsys)
    assert code == 0
    assert "HTTPS failed" in err  # HTTPS was tried first, then plain HTTP, as for loopback
    assert "insecure-registries" not in err


@pytest.mark.registry
def test_untrusted_certificate_names_the_ca_options(
    home: Path, tls_registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(pod(f"{tls_registry.host}/team/app:1.0"))
    _, out, _ = cli(["--resolve", "--no-cache", str(path)], capsys)
    assert "IMG107" in out
    assert "(a private CA? trust it with --ca-file FILE or SSL_CERT_FILE)" in out


@pytest.mark.registry
def test_cache_dir_option_chooses_the_folder(
    home: Path, seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(pod(seeded.ref("team/app:1.0")))
    chosen = tmp_path / "ci-cache"
    code, _, err = cli(["--resolve", "--cache-dir", str(chosen), str(path)], capsys)
    assert code == 0, err
    assert (chosen / FILE_NAME).is_file()
    assert not (home / "cache").exists()  # IMGLINT_CACHE_DIR gave way to the option
    code, _, err = cli(["--resolve", "--cache-dir", str(chosen), "--no-cache", str(path)], capsys)
    assert code == 2 and "--cache-dir names the cache --no-cache turns off" in err
    code, _, err = cli(["--cache-dir", str(chosen), str(path)], capsys)
    assert code == 2 and "--cache-dir needs --resolve or --pin" in err


def test_trusted_realm_hosts_reach_the_registry_check(tmp_path: Path) -> None:
    from imglint.config import load
    from imglint.resolve import options_from

    config_file = tmp_path / ".imglint.yaml"
    config_file.write_text("trusted-realm-hosts: [Auth.Internal, 'gitlab.corp:443']\n")
    config = load(str(config_file), str(tmp_path))
    assert options_from(config).trusted_realm_hosts == ("auth.internal", "gitlab.corp:443")
