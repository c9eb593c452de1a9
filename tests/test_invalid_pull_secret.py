"""IMG011 invalid-pull-secret end to end: where it reports, how it is silenced, and what the
image rules say about a pod whose pull secrets are unusable (issue 11's reproduction)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imglint.context import PullSecret, RegistryAnswers
from imglint.registry import Resolution
from imglint.rules import img103_registry_auth_failed
from tests.cli_runner import run
from tests.factories import make_context, make_site

BROKEN = """\
apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: apps}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"registry.example.com": {"auth": "dTpw"},}}'
---
apiVersion: v1
kind: Secret
metadata: {name: b64, namespace: apps}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: "%%%"
"""


def test_broken_secrets_are_findings_at_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "secrets.yaml"
    manifest.write_text(BROKEN, encoding="utf-8")
    code, out, _ = run(["--format", "json", str(manifest)], capsys)
    assert code == 1
    found = [
        (f["code"], f["line"], f["column"], f["kind"], f["object"], f["message"])
        for f in json.loads(out)["findings"]
    ]
    assert found == [
        (
            "IMG011",
            6,
            22,
            "Secret",
            "regcred",
            'pull secret "regcred" (kubernetes.io/dockerconfigjson) is unusable: '
            ".dockerconfigjson is not valid JSON",
        ),
        (
            "IMG011",
            13,
            22,
            "Secret",
            "b64",
            'pull secret "b64" (kubernetes.io/dockerconfigjson) is unusable: '
            ".dockerconfigjson is not valid base64",
        ),
    ]


def test_valid_secrets_and_suppressed_ones_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "secrets.yaml"
    manifest.write_text(
        BROKEN.replace("},}}'", "},}}'  # imglint: ignore[IMG011]").replace(
            "metadata: {name: b64, namespace: apps}",
            "metadata: {name: b64, namespace: apps, annotations: {imglint.dev/ignore: all}}",
        ),
        encoding="utf-8",
    )
    code, out, _ = run([str(manifest)], capsys)
    assert (code, out.strip().splitlines()[-1]) == (0, "All checks passed (1 file, 0 images)")


def test_a_directive_on_a_good_secret_is_reported_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "secrets.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: ok}\n"
        "type: kubernetes.io/dockerconfigjson\nstringData:\n"
        "  .dockerconfigjson: '{\"auths\": {}}'  # imglint: ignore[IMG011]\n",
        encoding="utf-8",
    )
    code, out, _ = run(["--report-unused-suppressions", "--format", "json", str(manifest)], capsys)
    unused = json.loads(out)["unused_suppressions"]
    assert code == 0
    assert [(u["line"], u["codes"]) for u in unused] == [(6, ["IMG011"])]


def test_an_auth_failure_names_the_pods_unusable_secret() -> None:
    broken = PullSecret(
        name="regcred",
        namespace="apps",
        type="kubernetes.io/dockerconfigjson",
        path="secrets.yaml",
        line=1,
        error=".dockerconfigjson is not valid JSON",
    )
    site = make_site("registry.example.com/team/api:1.0", pull_secrets=["regcred"])
    ctx = make_context(secrets=[broken])
    assert site.reference is not None
    key = str(site.reference)
    ctx.answers = RegistryAnswers(
        {key: Resolution(key, "auth-failed", detail="HTTP 401", registry="registry.example.com")}
    )
    [message] = list(img103_registry_auth_failed.check(site, ctx))
    assert message.endswith(
        "(the pod's pull secrets are unusable, see IMG011: "
        '"regcred": .dockerconfigjson is not valid JSON)'
    )


def test_a_resource_without_a_service_account_is_named_in_img006(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Crossplane package gets pull secrets only from packagePullSecrets: IMG006 must not
    speak of a ServiceAccount "None"."""
    (tmp_path / ".imglint.yaml").write_text("private-registries: [registry.example.com]\n")
    manifest = tmp_path / "provider.yaml"
    manifest.write_text(
        "apiVersion: pkg.crossplane.io/v1\nkind: Provider\nmetadata: {name: provider-aws}\n"
        "spec:\n  package: registry.example.com/crossplane/provider-aws:v1.0.0\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        ["--config", str(tmp_path / ".imglint.yaml"), "--format", "json", str(manifest)], capsys
    )
    [finding] = json.loads(out)["findings"]
    assert (code, finding["code"], finding["line"]) == (1, "IMG006", 5)
    assert finding["message"] == (
        '"registry.example.com" is a private registry but Provider "provider-aws" '
        "gives its image no pull secret"
    )
