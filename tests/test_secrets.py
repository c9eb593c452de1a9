"""Secrets audit: credentials from every place imglint reads them never show, never travel.

Credentials, each with a distinctive secret, are configured everywhere imglint looks: a Docker
config (`auths` with `auth`, with `username`/`password`, with `identitytoken`), a `credHelpers`
helper and a `credsStore` helper (shell scripts in a temporary PATH, plus two broken helpers
that print their secret), podman's auth.json through REGISTRY_AUTH_FILE, and pull secrets in
the manifests (`--use-pull-secrets`). `imglint --resolve` then runs against the real local
registries (htpasswd Basic, token service) and hostile servers in every output format, with -v,
--list-images, --statistics, --pin --diff, with refused credentials and foreign realms.

Asserted: no secret (raw, base64, base64 of `user:secret`, a pull secret's whole
.dockerconfigjson) and no bearer token appears in stdout, stderr, SARIF or JUnit files, the cache
folders, log records or error messages; every server received only its own host's
credentials (the redirect target on 127.0.0.2 and the foreign realm none); and each credential
did reach its own registry, so the audit is not vacuous.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imglint.cli import main
from imglint.reference import parse
from imglint.registry import ResolveOptions, resolve_all
from imglint.registry.cache import FILE_NAME
from imglint.registry.credentials import CredentialStore
from tests.hostile_registry import (
    HostileRegistry,
    blob,
    by_method,
    challenge,
    manifest,
    redirect,
    status,
    token_json,
)
from tests.regserver import PASSWORD, USERNAME, RegistryServer

pytestmark = pytest.mark.registry

IMGLINT = str(Path(sys.executable).parent / "imglint")
HANG_GUARD = 120.0  # seconds; a hang guard, not a speed test


@dataclass(frozen=True)
class Secret:
    where: str  # which configuration place holds it
    username: str
    secret: str

    def forms(self) -> list[str]:
        """Every spelling of the secret that must not leak."""
        pair = f"{self.username}:{self.secret}".encode()
        raw = self.secret.encode()
        return [
            self.secret,
            base64.b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="),
            base64.b64encode(pair).decode(),
            base64.b64encode(pair).decode().rstrip("="),
        ]

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.secret}".encode()).decode()


BASIC_REGISTRY = Secret("docker config auths[].auth", USERNAME, PASSWORD)
USERPASS = Secret("docker config auths[].username/password", "up-user", "leak-userpass-4f9a1c")
IDENTITY = Secret("docker config auths[].identitytoken", "id-user", "leak-identity-9e4b2a")
HELPER = Secret("credHelpers helper", "helper-user", "leak-credhelper-8d2e7b")
STORE = Secret("credsStore helper", "store-user", "leak-credsstore-1a6c3f")
PODMAN = Secret("REGISTRY_AUTH_FILE (podman auth.json)", "podman-user", "leak-podman-5b7d90")
WRONG = Secret("docker config, refused", "wrong-user", "leak-wrong-password-3c1f")
FOREIGN = Secret("docker config, foreign realm", "realm-user", "leak-foreign-realm-0e5a")
PULL = Secret("pull secret", "pull-user", "leak-pullsecret-6f0d8c")
PULL_WRONG = Secret("pull secret, refused", USERNAME, "leak-pullsecret-wrong-2b8e")
HELPER_STDERR = Secret("failing helper's output", "", "leak-helper-stderr-7a3d")
HELPER_GARBAGE = Secret("garbled helper's output", "", "leak-helper-garbage-5c2f")
STORE_TOKEN = Secret("bearer token from a hostile realm", "", "leak-bearer-token-4d1e")
SECRETS = [
    BASIC_REGISTRY,
    USERPASS,
    IDENTITY,
    HELPER,
    STORE,
    PODMAN,
    WRONG,
    FOREIGN,
    PULL,
    PULL_WRONG,
    HELPER_STDERR,
    HELPER_GARBAGE,
    STORE_TOKEN,
]


# -- the set-up: servers, credential files, helpers, manifests ------------------------------------


@dataclass
class Setup:
    folder: Path
    servers: dict[str, HostileRegistry]  # name -> hostile server
    images: dict[str, str]  # name -> image
    owner: dict[Secret, str]  # secret -> the only host that may receive it
    env: dict[str, str]
    manifest: Path
    forbidden: list[str] = field(default_factory=list)  # every string that must not show


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def helper_script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def answering_helper(host: str, secret: Secret) -> str:
    """A docker-credential helper that knows `secret` for `host` only."""
    answer = json.dumps({"ServerURL": host, "Username": secret.username, "Secret": secret.secret})
    return (
        'read -r url || true\nif [ "$1" = get ] && [ "$url" = ' + f"'{host}' ]; then\n"
        f"  printf '%s' '{answer}'\n  exit 0\nfi\n"
        "echo 'credentials not found in native keychain'\nexit 1\n"
    )


def pull_secret(name: str, host: str, secret: Secret) -> tuple[str, str]:
    config = {"auths": {host: {"auth": b64(f"{secret.username}:{secret.secret}")}}}
    blob = b64(json.dumps(config))
    document = (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: apps\n"
        f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {blob}\n"
    )
    return document, blob


def pod(name: str, image: str, secret: str | None = None) -> str:
    secrets = f"  imagePullSecrets:\n    - name: {secret}\n" if secret else ""
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: apps\nspec:\n"
        f"{secrets}  containers:\n    - name: app\n      image: {image}\n"
    )


def basic_only(secret: Secret) -> HostileRegistry:
    server = HostileRegistry().start()
    server.route("/v2/*", challenge('Basic realm="hostile"', secret.basic, manifest()))
    return server


def build(folder: Path, basic_registry: RegistryServer, token_registry: RegistryServer) -> Setup:
    servers: dict[str, HostileRegistry] = {}
    try:
        # 127.0.0.2: a redirect target and a foreign realm, neither may ever get credentials
        elsewhere = servers["elsewhere"] = HostileRegistry(bind="127.0.0.2").start()
        elsewhere.route("/blob", manifest())
        elsewhere.route("/config", blob())
        elsewhere.route("/token", token_json({"token": "elsewhere-token"}))

        userpass = servers["userpass"] = HostileRegistry().start()
        userpass.route(
            "/v2/*", challenge('Basic realm="r"', USERPASS.basic, redirect(f"{elsewhere.url}/blob"))
        )
        # the platform check's config blob GET, redirected to storage as registries do
        userpass.route(
            "/v2/secrets/app/blobs/*",
            challenge('Basic realm="r"', USERPASS.basic, redirect(f"{elsewhere.url}/config")),
        )

        store = servers["store"] = HostileRegistry().start()  # token service on its own host
        bearer = f"Bearer {STORE_TOKEN.secret}"
        store.route(
            "/v2/*", challenge(f'Bearer realm="{store.url}/token",service="s"', bearer, manifest())
        )
        store.route(
            "/token",
            challenge('Basic realm="t"', STORE.basic, token_json({"token": STORE_TOKEN.secret})),
        )

        identity = servers["identity"] = HostileRegistry().start()  # OAuth2 POST refused: GET
        id_bearer = "Bearer identity-token-answer"
        id_basic = Secret("", IDENTITY.username, IDENTITY.secret).basic
        identity.route(
            "/v2/*",
            challenge(f'Bearer realm="{identity.url}/token"', id_bearer, manifest()),
        )
        identity.route(
            "/token",
            by_method(
                POST=status(404),
                GET=challenge('Basic realm="t"', id_basic, token_json({"token": id_bearer[7:]})),
            ),
        )

        servers["podman"] = basic_only(PODMAN)
        servers["wrong"] = basic_only(Secret("", WRONG.username, "the-right-one"))
        servers["pull"] = basic_only(PULL)
        servers["helper-fails"] = basic_only(Secret("", "x", "y"))
        servers["helper-garbles"] = basic_only(Secret("", "x", "y"))

        foreign = servers["foreign"] = HostileRegistry().start()
        # A realm at the cloud-metadata address: refused for any registry. (A realm on another
        # loopback address is a loopback registry's right: no loopback server can look public.)
        foreign.route(
            "/v2/*",
            challenge('Bearer realm="https://169.254.169.254/token"', "Bearer x", manifest()),
        )
    except BaseException:
        for server in servers.values():
            server.stop()
        raise

    basic_registry.push_image("secrets/app", "1.0")
    token_registry.push_image("secrets/app", "1.0")
    service = token_registry.token_service
    assert service is not None
    service.reset()
    service.users[HELPER.username] = HELPER.secret
    service.grants[HELPER.username] = {"*": frozenset({"pull"})}

    host = {name: server.host for name, server in servers.items()}
    images = {name: f"{h}/secrets/app:1.0" for name, h in host.items() if name != "elsewhere"}
    images["basic-registry"] = f"{basic_registry.host}/secrets/app:1.0"
    images["token-registry"] = f"{token_registry.host}/secrets/app:1.0"

    # the Docker config: auths (auth, username/password, identitytoken), credHelpers, credsStore
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    helper_script(
        bin_dir / "docker-credential-audit", answering_helper(token_registry.host, HELPER)
    )
    helper_script(bin_dir / "docker-credential-auditstore", answering_helper(host["store"], STORE))
    helper_script(
        bin_dir / "docker-credential-auditfails",
        f"echo '{HELPER_STDERR.secret}' >&2\necho '{HELPER_STDERR.secret}'\nexit 3\n",
    )
    helper_script(
        bin_dir / "docker-credential-auditgarbles",
        f"echo 'Username: x Secret: {HELPER_GARBAGE.secret}'\n",
    )
    docker = {
        "auths": {
            basic_registry.host: {"auth": b64(f"{USERNAME}:{PASSWORD}")},
            host["userpass"]: {"username": USERPASS.username, "password": USERPASS.secret},
            host["identity"]: {"username": IDENTITY.username, "identitytoken": IDENTITY.secret},
            host["wrong"]: {"auth": b64(f"{WRONG.username}:{WRONG.secret}")},
            host["foreign"]: {"auth": b64(f"{FOREIGN.username}:{FOREIGN.secret}")},
        },
        "credHelpers": {
            token_registry.host: "audit",
            host["helper-fails"]: "auditfails",
            host["helper-garbles"]: "auditgarbles",
        },
        "credsStore": "auditstore",
    }
    (folder / "docker").mkdir()
    (folder / "docker" / "config.json").write_text(json.dumps(docker))
    podman = {"auths": {host["podman"]: {"auth": b64(f"{PODMAN.username}:{PODMAN.secret}")}}}
    (folder / "auth.json").write_text(json.dumps(podman))

    good_doc, good_blob = pull_secret("pull-good", host["pull"], PULL)
    wrong_doc, wrong_blob = pull_secret("pull-wrong", basic_registry.host, PULL_WRONG)
    documents = [good_doc, wrong_doc]
    for name, image in images.items():
        secret = {"pull": "pull-good", "basic-registry": None}.get(name)
        documents.append(pod(f"pod-{name}", image, secret))
    documents.append(pod("pod-basic-registry-wrong", images["basic-registry"], "pull-wrong"))
    manifest_path = folder / "manifests" / "pods.yaml"
    manifest_path.parent.mkdir()
    manifest_path.write_text("---\n".join(documents))

    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "SSL_CERT_FILE")}
    env.update(
        HOME=str(folder / "home"),
        DOCKER_CONFIG=str(folder / "docker"),
        REGISTRY_AUTH_FILE=str(folder / "auth.json"),
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_COLOR="1",
    )
    owner = {
        BASIC_REGISTRY: basic_registry.host,
        USERPASS: host["userpass"],
        IDENTITY: host["identity"],
        HELPER: token_registry.host,
        STORE: host["store"],
        STORE_TOKEN: host["store"],
        PODMAN: host["podman"],
        WRONG: host["wrong"],
        FOREIGN: host["foreign"],
        PULL: host["pull"],
        PULL_WRONG: basic_registry.host,
        HELPER_STDERR: "",  # printed by a helper, sent nowhere
        HELPER_GARBAGE: "",
    }
    forbidden = [form for secret in SECRETS for form in secret.forms()]
    forbidden += [good_blob, wrong_blob, STORE_TOKEN.secret, "identity-token-answer"]
    return Setup(folder, servers, images, owner, env, manifest_path, forbidden)


# -- the runs -------------------------------------------------------------------------------------


RUNS: dict[str, list[str]] = {
    "text --statistics": ["--statistics"],
    "json": ["--format", "json"],
    "sarif": ["--format", "sarif", "-o", "{out}/report.sarif"],
    "github": ["--format", "github"],
    "junit": ["--format", "junit", "-o", "{out}/report.xml"],
    "text -v": ["-v", "--no-cache"],
    "json -v --use-pull-secrets": ["-v", "--no-cache", "--format", "json", "--use-pull-secrets"],
    "sarif -v --use-pull-secrets": ["-v", "--format", "sarif", "--use-pull-secrets"],
    "--list-images": ["--list-images"],
    "--list-images json": ["--list-images", "--format", "json"],
    "--pin --diff -v": ["--pin", "--diff", "-v"],
}


@dataclass
class Run:
    name: str
    code: int
    stdout: str
    stderr: str
    out: Path  # this run's folder: its cache and report files


@dataclass
class Audit:
    setup: Setup
    runs: dict[str, Run]


def run_cli(setup: Setup, name: str, args: list[str]) -> Run:
    out = setup.folder / "runs" / name.replace(" ", "_").replace("-", "")
    out.mkdir(parents=True)
    env = dict(setup.env, XDG_CACHE_HOME=str(out / "cache"))
    command = [IMGLINT, "--resolve", "--timeout", "20"]
    command += [a.format(out=out) for a in args] + [str(setup.manifest)]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=HANG_GUARD, check=False
    )
    return Run(name, done.returncode, done.stdout, done.stderr, out)


@pytest.fixture(scope="module")
def audit(
    basic_registry: RegistryServer,
    token_registry_session: RegistryServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Audit]:
    setup = build(tmp_path_factory.mktemp("secrets"), basic_registry, token_registry_session)
    try:
        with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
            runs = list(pool.map(lambda item: run_cli(setup, *item), RUNS.items()))
        yield Audit(setup, {run.name: run for run in runs})
    finally:
        for server in setup.servers.values():
            server.stop()
        assert token_registry_session.token_service is not None
        token_registry_session.token_service.reset()


def leaks(text: str, forbidden: list[str]) -> list[str]:
    return [form for form in forbidden if form in text]


# -- outputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(RUNS))
def test_no_secret_in_output(audit: Audit, name: str) -> None:
    run = audit.runs[name]
    assert "Traceback" not in run.stderr, run.stderr
    assert leaks(run.stdout, audit.setup.forbidden) == []
    assert leaks(run.stderr, audit.setup.forbidden) == []
    assert "Bearer " not in run.stdout + run.stderr
    for path in run.out.rglob("*"):
        if path.is_file():  # report files (SARIF, JUnit) and the cache
            assert leaks(path.read_text(errors="replace"), audit.setup.forbidden) == [], path


def test_the_runs_did_what_they_were_asked(audit: Audit) -> None:
    images = audit.setup.images
    report = json.loads(audit.runs["json"].stdout)
    registry = {f["image"]: f["code"] for f in report["findings"] if f["code"].startswith("IMG10")}
    refused = {"wrong", "foreign", "pull", "helper-fails", "helper-garbles"}
    assert registry == {images[name]: "IMG103" for name in refused}
    assert audit.runs["json"].code == 1
    sarif = json.loads((audit.runs["sarif"].out / "report.sarif").read_text())
    assert sarif["runs"][0]["results"]
    assert (audit.runs["junit"].out / "report.xml").read_text().startswith("<?xml")
    cache = audit.runs["json"].out / "cache" / "imglint" / FILE_NAME
    assert len(json.loads(cache.read_text())["digests"]) >= 6  # what the cache check read
    verbose = audit.runs["text -v"].stderr
    assert f"imglint: registry: HEAD http://{images['userpass'].split('/')[0]}" in verbose
    # the broken helpers were run and said so, without their output
    warnings = [line for line in verbose.splitlines() if "imglint: warning:" in line]
    assert any("docker-credential-auditfails failed" in line for line in warnings)
    assert any(
        "docker-credential-auditgarbles gave an unreadable answer" in line for line in warnings
    )
    assert audit.runs["--list-images"].code == 0


def test_pull_secrets_decide_per_pod(audit: Audit) -> None:
    report = json.loads(audit.runs["json -v --use-pull-secrets"].stdout)
    refused = {f["object"]: f["message"] for f in report["findings"] if f["code"] == "IMG103"}
    # pod-pull's secret opens its registry; the other pods list no secrets: the user's own
    # credentials answer for them, as without --use-pull-secrets
    assert sorted(refused) == [
        "pod-basic-registry-wrong",
        "pod-foreign",
        "pod-helper-fails",
        "pod-helper-garbles",
        "pod-wrong",
    ]
    assert refused["pod-basic-registry-wrong"].endswith(
        f"the registry refused the credentials of user {USERNAME!r} from pull secret "
        f"apps/pull-wrong"
    )


# -- what the servers received ------------------------------------------------------------------


def test_servers_received_only_their_own_credentials(audit: Audit) -> None:
    setup = audit.setup
    for name, server in setup.servers.items():
        for request in server.requests:
            seen = " ".join(v for _, v in request.headers) + request.body.decode("latin-1")
            for secret, owner in setup.owner.items():
                if owner != server.host:
                    assert leaks(seen, secret.forms()) == [], (name, secret.where, request)
    elsewhere = setup.servers["elsewhere"]
    assert elsewhere.authorizations() == []
    assert "GET /config" in elsewhere.lines()  # the redirected config blob GET came, bare
    assert [r.line() for r in elsewhere.requests if r.path == "/token"] == []


def test_every_credential_reached_its_registry(audit: Audit) -> None:
    servers = audit.setup.servers
    assert USERPASS.basic in servers["userpass"].authorizations()
    assert STORE.basic in servers["store"].authorizations()
    assert f"Bearer {STORE_TOKEN.secret}" in servers["store"].authorizations()
    assert PODMAN.basic in servers["podman"].authorizations()
    assert WRONG.basic in servers["wrong"].authorizations()
    assert PULL.basic in servers["pull"].authorizations()
    posts = [r for r in servers["identity"].requests if r.method == "POST"]
    assert posts and all(f"refresh_token={IDENTITY.secret}".encode() in r.body for r in posts)
    assert servers["foreign"].authorizations() == []  # the realm was refused before asking
    assert servers["helper-fails"].authorizations() == []


def test_token_service_saw_only_the_helper_user(
    audit: Audit, token_registry_session: RegistryServer
) -> None:
    # (read before the fixture's reset at module end: this test runs inside the module)
    service = token_registry_session.token_service
    assert service is not None
    users = {r.username for r in service.requests}
    assert HELPER.username in users
    assert users <= {HELPER.username, None}


# -- in-process: log records, answers, warnings, errors --------------------------------------------


def test_no_secret_in_logs_answers_or_messages(
    audit: Audit, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = audit.setup
    for key, value in setup.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(setup.folder / "in-process-cache"))
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    store = CredentialStore()
    answers = resolve_all(
        [parse(image) for image in setup.images.values()],
        ResolveOptions(timeout=20.0, use_cache=False),
        credentials=store,
    )
    texts = [
        caplog.text,
        repr(answers),
        repr(answers.stats),
        *store.warnings,
        *(repr(store.for_registry(h)) for h in setup.owner.values() if h),
        *(r.detail for r in answers.values()),
    ]
    for text in texts:
        assert leaks(text, setup.forbidden) == []
    assert answers[setup.images["userpass"]].status == "ok"
    assert answers[setup.images["wrong"]].status == "auth-failed"


def test_command_line_errors_carry_no_secret(
    audit: Audit, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = audit.setup
    for key, value in setup.env.items():
        monkeypatch.setenv(key, value)
    # a bad --ca-file and an unreadable manifest end the run with one-line errors
    code = main(["--resolve", "--ca-file", str(setup.folder / "missing.pem"), str(setup.manifest)])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert leaks(out + err, setup.forbidden) == []
