"""Docker/podman credential lookup, with fake docker-credential-* helpers on PATH."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from imglint.context import PullSecret
from imglint.registry.credentials import (
    Credentials,
    CredentialStore,
    decode_auth,
    default_config_files,
    pull_secret_credentials,
    registry_key,
)

SECRET = "s3cr3t-Pa55word"


def b64(text: str, *, pad: bool = True) -> str:
    encoded = base64.b64encode(text.encode()).decode()
    return encoded if pad else encoded.rstrip("=")


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def helper(bin_dir: Path, name: str, script: str) -> None:
    """A fake docker-credential-<name>: a shell script that sees the server URL on stdin."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def store_for(tmp_path: Path, config: object, **env: str) -> CredentialStore:
    config_dir = tmp_path / "docker"
    write_json(config_dir / "config.json", config)
    base = {
        "HOME": str(tmp_path / "home"),
        "DOCKER_CONFIG": str(config_dir),
        "PATH": str(tmp_path / "bin") + os.pathsep + "/usr/bin:/bin",
    }
    base.update(env)
    return CredentialStore(env=base)


# -- auths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pad", [True, False])
def test_auth_field_padded_or_not(tmp_path: Path, pad: bool) -> None:
    # "user:pw" is 7 bytes: its base64 has one "=" of padding
    store = store_for(tmp_path, {"auths": {"ghcr.io": {"auth": b64("user:pw", pad=pad)}}})
    found = store.for_registry("ghcr.io")
    assert found is not None
    assert (found.username, found.password) == ("user", "pw")


def test_auth_splits_at_first_colon(tmp_path: Path) -> None:
    store = store_for(tmp_path, {"auths": {"ghcr.io": {"auth": b64("user:pa:ss")}}})
    found = store.for_registry("ghcr.io")
    assert found is not None and found.password == "pa:ss"


def test_username_password_fields(tmp_path: Path) -> None:
    config = {"auths": {"registry.example:5000": {"username": "bob", "password": SECRET}}}
    found = store_for(tmp_path, config).for_registry("registry.example:5000")
    assert found == Credentials("bob", SECRET, source=str(tmp_path / "docker" / "config.json"))


def test_auth_overrides_username_password(tmp_path: Path) -> None:
    config = {"auths": {"ghcr.io": {"auth": b64("a:b"), "username": "x", "password": "y"}}}
    found = store_for(tmp_path, config).for_registry("ghcr.io")
    assert found is not None and (found.username, found.password) == ("a", "b")


def test_identity_token(tmp_path: Path) -> None:
    config = {"auths": {"myacr.azurecr.io": {"auth": b64("00000000:"), "identitytoken": "rt"}}}
    found = store_for(tmp_path, config).for_registry("myacr.azurecr.io")
    assert found is not None
    assert (found.username, found.identity_token) == ("00000000", "rt")


@pytest.mark.parametrize(
    "key", ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
)
@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_keys(tmp_path: Path, key: str, host: str) -> None:
    store = store_for(tmp_path, {"auths": {key: {"auth": b64("hub:pw")}}})
    found = store.for_registry(host)
    assert found is not None and found.username == "hub"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("https://ghcr.io", "ghcr.io"),
        ("http://registry.example:5000/v2/", "registry.example:5000"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("ghcr.io", "ghcr.io"),
    ],
)
def test_registry_key(key: str, expected: str) -> None:
    assert registry_key(key) == expected


def test_legacy_key_with_scheme_matches_host(tmp_path: Path) -> None:
    store = store_for(tmp_path, {"auths": {"https://ghcr.io/v1/": {"auth": b64("u:p")}}})
    assert store.for_registry("ghcr.io") is not None
    assert store.for_registry("quay.io") is None


def test_empty_entry_is_anonymous(tmp_path: Path) -> None:
    assert store_for(tmp_path, {"auths": {"ghcr.io": {}}}).for_registry("ghcr.io") is None


def test_bad_auth_warns_without_the_secret(tmp_path: Path) -> None:
    store = store_for(tmp_path, {"auths": {"ghcr.io": {"auth": "not base64 " + SECRET}}})
    assert store.for_registry("ghcr.io") is None
    assert len(store.warnings) == 1
    assert "`auth` is not base64" in store.warnings[0]
    assert SECRET not in store.warnings[0]


def test_auth_without_colon_is_rejected() -> None:
    assert decode_auth(b64("nocolon")) is None
    assert decode_auth(b64("u:")) == ("u", "")


def test_invalid_json_config_warns(tmp_path: Path) -> None:
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text("{nope", encoding="utf-8")
    store = CredentialStore(env={"HOME": str(tmp_path), "DOCKER_CONFIG": str(config_dir)})
    assert store.for_registry("ghcr.io") is None
    assert store.warnings == [
        f"{config_dir / 'config.json'} is not valid JSON "
        "(Expecting property name enclosed in double quotes at line 1); ignoring it"
    ]


# -- file locations ---------------------------------------------------------------------------


def test_default_files_order(tmp_path: Path) -> None:
    """What the user chose explicitly, then containers-auth.json(5)'s order."""
    env = {
        "HOME": "/home/u",
        "REGISTRY_AUTH_FILE": "/etc/auth.json",
        "XDG_RUNTIME_DIR": "/run/user/1000",
    }
    assert default_config_files(env) == [
        Path("/etc/auth.json"),
        Path("/run/user/1000/containers/auth.json"),
        Path("/home/u/.config/containers/auth.json"),
        Path("/home/u/.docker/config.json"),
        Path("/home/u/.dockercfg"),
    ]
    assert default_config_files(
        {"HOME": "/home/u", "DOCKER_CONFIG": "/cfg", "XDG_CONFIG_HOME": "/xdg"}
    ) == [
        Path("/cfg/config.json"),
        Path("/xdg/containers/auth.json"),
        Path("/home/u/.docker/config.json"),
        Path("/home/u/.dockercfg"),
    ]


def test_podman_files_come_before_docker_config_unless_docker_config_is_chosen(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    write_json(home / ".docker" / "config.json", {"auths": {"quay.io": {"auth": b64("docker:1")}}})
    write_json(runtime / "containers" / "auth.json", {"auths": {"quay.io": {"auth": b64("pod:2")}}})
    store = CredentialStore(env={"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)})
    found = store.for_registry("quay.io")
    assert found is not None and found.username == "pod"
    chosen = tmp_path / "chosen"
    write_json(chosen / "config.json", {"auths": {"quay.io": {"auth": b64("chosen:3")}}})
    store = CredentialStore(
        env={"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "DOCKER_CONFIG": str(chosen)}
    )
    found = store.for_registry("quay.io")
    assert found is not None and found.username == "chosen"


def test_xdg_config_home_auth_json(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    write_json(xdg / "containers" / "auth.json", {"auths": {"ghcr.io": {"auth": b64("x:1")}}})
    store = CredentialStore(env={"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(xdg)})
    found = store.for_registry("ghcr.io")
    assert found is not None and (found.username, found.password) == ("x", "1")


def test_legacy_dockercfg_is_read_last(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # the format of docker before 1.7: the auths map at the top level, with an email
    legacy = {
        "https://index.docker.io/v1/": {"auth": b64("hubuser:1"), "email": "u@example.com"},
        "quay.io": {"auth": b64("legacy:2"), "email": "u@example.com"},
    }
    write_json(home / ".dockercfg", legacy)
    write_json(home / ".docker" / "config.json", {"auths": {"quay.io": {"auth": b64("new:3")}}})
    store = CredentialStore(env={"HOME": str(home)})
    hub = store.for_registry("docker.io")
    quay = store.for_registry("quay.io")
    assert hub is not None and hub.username == "hubuser"
    assert hub.source == str(home / ".dockercfg")
    assert quay is not None and quay.username == "new"


def test_registry_token_entry(tmp_path: Path) -> None:
    store = store_for(tmp_path, {"auths": {"r.example": {"registrytoken": SECRET}}})
    found = store.for_registry("r.example")
    assert found is not None
    assert (found.username, found.password, found.registry_token) == ("", "", SECRET)
    assert SECRET not in repr(found) and "registry token" in repr(found)


def test_registry_auth_file_wins(tmp_path: Path) -> None:
    auth_file = write_json(tmp_path / "auth.json", {"auths": {"quay.io": {"auth": b64("a:1")}}})
    store = store_for(
        tmp_path,
        {"auths": {"quay.io": {"auth": b64("b:2")}, "ghcr.io": {"auth": b64("c:3")}}},
        REGISTRY_AUTH_FILE=str(auth_file),
    )
    quay = store.for_registry("quay.io")
    ghcr = store.for_registry("ghcr.io")
    assert quay is not None and quay.username == "a"
    assert ghcr is not None and ghcr.username == "c"  # the next file still serves other hosts


def test_podman_auth_json(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    write_json(runtime / "containers" / "auth.json", {"auths": {"quay.io": {"auth": b64("p:1")}}})
    home = tmp_path / "home"
    write_json(
        home / ".config" / "containers" / "auth.json", {"auths": {"ghcr.io": {"auth": b64("q:2")}}}
    )
    store = CredentialStore(env={"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)})
    quay = store.for_registry("quay.io")
    ghcr = store.for_registry("ghcr.io")
    assert quay is not None and quay.username == "p"
    assert ghcr is not None and ghcr.username == "q"


def test_podman_repository_keys(tmp_path: Path) -> None:
    config = {
        "auths": {
            "quay.io": {"auth": b64("host:1")},
            "quay.io/org": {"auth": b64("org:2")},
            "quay.io/org/app": {"auth": b64("app:3")},
        }
    }
    store = store_for(tmp_path, config)

    def user(path: str) -> str | None:
        found = store.for_repository("quay.io", path)
        return found.username if found else None

    assert user("org/app") == "app"
    assert user("org/app/sub") == "app"
    assert user("org/other") == "org"
    assert user("orgx/app") == "host"
    assert store.for_registry("quay.io") == store.for_repository("quay.io", "")


# -- credential helpers -------------------------------------------------------------------------

ECHO_HELPER = """read url
printf '%s' "$url" > "$(dirname "$0")/seen-url"
printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$url"
"""


def test_creds_store(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "fake", ECHO_HELPER)
    store = store_for(tmp_path, {"credsStore": "fake", "auths": {"ghcr.io": {}}})
    found = store.for_registry("ghcr.io")
    assert found == Credentials("helper-user", "helper-secret", source="docker-credential-fake")
    assert (tmp_path / "bin" / "seen-url").read_text() == "ghcr.io"


def test_helper_gets_hub_server_url(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "fake", ECHO_HELPER)
    store = store_for(tmp_path, {"credsStore": "fake"})
    assert store.for_registry("docker.io") is not None
    assert (tmp_path / "bin" / "seen-url").read_text() == "https://index.docker.io/v1/"


def test_cred_helpers_take_precedence(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "per-host", ECHO_HELPER)
    helper(tmp_path / "bin", "store", "echo 'credentials not found in native keychain'; exit 1\n")
    config = {
        "credHelpers": {"ghcr.io": "per-host"},
        "credsStore": "store",
        "auths": {"ghcr.io": {"auth": b64("inline:pw")}, "quay.io": {"auth": b64("q:pw")}},
    }
    store = store_for(tmp_path, config)
    ghcr = store.for_registry("ghcr.io")
    quay = store.for_registry("quay.io")
    assert ghcr is not None and ghcr.username == "helper-user"
    # The store has nothing for quay.io: the inline entry is used, and no warning is given.
    assert quay is not None and quay.username == "q"
    assert store.warnings == []


def test_helper_not_found_means_anonymous(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "empty", "echo 'credentials not found in native keychain'; exit 1\n")
    store = store_for(tmp_path, {"credsStore": "empty"})
    assert store.for_registry("ghcr.io") is None
    assert store.warnings == []


def test_helper_identity_token(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "tok", """echo '{"Username":"<token>","Secret":"refresh"}'\n""")
    found = store_for(tmp_path, {"credsStore": "tok"}).for_registry("myacr.azurecr.io")
    assert found is not None
    assert (found.username, found.password, found.identity_token) == ("", "", "refresh")


def test_missing_helper_warns_once(tmp_path: Path) -> None:
    store = store_for(tmp_path, {"credsStore": "desktop"})
    assert store.for_registry("ghcr.io") is None
    assert store.for_registry("quay.io") is None
    assert store.warnings == [
        "credential helper docker-credential-desktop is not on PATH; continuing without it"
    ]


def test_failing_helper_warns_without_output(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "broken", f"echo 'boom {SECRET}' >&2; echo '{SECRET}'; exit 3\n")
    store = store_for(tmp_path, {"credsStore": "broken"})
    assert store.for_registry("ghcr.io") is None
    assert store.warnings == [
        "credential helper docker-credential-broken failed for ghcr.io (exit 3); "
        "continuing without credentials"
    ]


def test_helper_garbage_output(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "garbage", f"echo 'not json {SECRET}'\n")
    store = store_for(tmp_path, {"credsStore": "garbage"})
    assert store.for_registry("ghcr.io") is None
    assert store.warnings == [
        "credential helper docker-credential-garbage gave an unreadable answer for ghcr.io"
    ]
    assert SECRET not in repr(store.warnings)


def test_helper_name_is_validated(tmp_path: Path) -> None:
    store = store_for(tmp_path, {"credsStore": "../../evil"})
    assert store.for_registry("ghcr.io") is None
    assert store.warnings == ["ignoring credential helper '../../evil': not a valid helper name"]


def test_helper_answer_cached(tmp_path: Path) -> None:
    helper(tmp_path / "bin", "count", 'echo x >> "$(dirname "$0")/calls"\n' + ECHO_HELPER)
    store = store_for(tmp_path, {"credsStore": "count"})
    for _ in range(3):
        store.for_registry("ghcr.io")
    assert (tmp_path / "bin" / "calls").read_text().count("x") == 1


# -- secrecy ----------------------------------------------------------------------------------


def test_repr_and_str_hide_the_secret() -> None:
    creds = Credentials("alice", SECRET, identity_token=SECRET + "-token", source="here")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds]), repr({"k": creds})):
        assert SECRET not in text
    assert repr(creds) == "Credentials(username='alice', identity token=***, source='here')"
    assert repr(Credentials("bob", SECRET)) == (
        "Credentials(username='bob', password=***, source='')"
    )


def test_no_secret_in_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    helper(tmp_path / "bin", "fake", ECHO_HELPER.replace("helper-secret", SECRET))
    store = store_for(tmp_path, {"credsStore": "fake"})
    assert store.for_registry("ghcr.io") is not None
    assert SECRET not in caplog.text


# -- pull secrets --------------------------------------------------------------------------------


def test_pull_secret_credentials_follow_kubelet_order() -> None:
    first = PullSecret(
        name="regcred",
        namespace="prod",
        type="kubernetes.io/dockerconfigjson",
        path="s.yaml",
        line=1,
        keys=("https://index.docker.io/v1/", "ghcr.io"),
        credentials={"https://index.docker.io/v1/": ("hub", "1"), "ghcr.io": ("gh", "2")},
    )
    second = PullSecret(
        name="org",
        namespace=None,
        type="kubernetes.io/dockercfg",
        path="s.yaml",
        line=9,
        keys=("ghcr.io/org",),
        credentials={"ghcr.io/org": ("org", "3")},
    )
    found = pull_secret_credentials([first, second], "ghcr.io/org/app")
    assert [(c.username, c.source) for c in found] == [
        ("org", "pull secret org"),
        ("gh", "pull secret prod/regcred"),
    ]
    hub = pull_secret_credentials([first, second], "docker.io/library/nginx")
    assert [c.username for c in hub] == ["hub"]
    assert pull_secret_credentials([first], "quay.io/x") == []
