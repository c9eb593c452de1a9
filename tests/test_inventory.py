"""`--list-images`: the flags it refuses (they would do nothing) and `--list-images --resolve`,
the inventory for scanners, against the real local registry: each image's digest and platforms,
its failures per image, in text and JSON, with the registry check's usual options."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run
from tests.regserver import Seeded


def deployment(images: list[str]) -> str:
    containers = "\n".join(
        f"        - name: c{n}\n          image: {image}" for n, image in enumerate(images)
    )
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\n"
        "spec:\n  template:\n    spec:\n      containers:\n" + containers + "\n"
    )


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--pin"], "--pin"),
        (["--fix"], "--fix"),
        (["--baseline", "missing-baseline.json"], "--baseline"),
        (["--write-baseline", "b.json"], "--write-baseline"),
        (["--statistics"], "--statistics"),
        (["--fail-on", "warning"], "--fail-on"),
        (["--select", "IMG002"], "--select"),
        (["--report-unused-suppressions"], "--report-unused-suppressions"),
    ],
)
def test_list_images_refuses_options_that_would_do_nothing(
    flags: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(deployment(["nginx:1.25"]))
    code, out, err = run(["--list-images", *flags, str(path)], capsys)
    assert (code, out) == (2, "")
    assert f"--list-images runs no rule and rewrites nothing: drop {named}" in err
    assert path.read_text() == deployment(["nginx:1.25"])  # --fix/--pin wrote nothing


def test_registry_options_without_resolve_are_refused_for_the_inventory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(deployment(["nginx:1.25"]))
    code, _out, err = run(["--list-images", "--jobs", "4", str(path)], capsys)
    assert code == 2
    assert "--jobs needs --resolve or --pin" in err


@pytest.mark.registry
def test_list_images_resolve_text_and_json(
    seeded: Seeded,
    tmp_path: Path,
    isolated: Path,  # no credentials or cache of the person running the tests
    capsys: pytest.CaptureFixture[str],
) -> None:
    images = [
        seeded.ref("team/app:1.0"),  # a single linux/amd64 image
        seeded.ref("team/app:2.0"),  # an index: linux/amd64 + linux/arm64
        seeded.ref("team/app:1.1"),  # no such tag
        seeded.ref("team/armonly:1.0"),  # lacks linux/amd64
        "127.0.0.1:1/team/app:1.0",  # nothing listens on port 1
        "${IMAGE}",  # a placeholder: listed, never asked
        seeded.ref("team/app:2.0"),  # the same image again: the same answer
    ]
    path = tmp_path / "deploy.yaml"
    path.write_text(deployment(images))
    common = ["--list-images", "--resolve", "--no-cache", "--jobs", "4", "--timeout", "30"]

    code, out, err = run([*common, "--format", "json", str(path)], capsys)
    assert code == 0
    document = json.loads(out)
    assert document["resolved"] is True
    answers = [image["resolution"] for image in document["images"]]
    assert [a and a["status"] for a in answers] == [
        "ok",
        "ok",
        "tag-not-found",
        "ok",
        "unreachable",
        None,
        "ok",
    ]
    assert [a and a["digest"] for a in answers] == [
        seeded.app_1_0,
        seeded.app_2_0,
        None,
        seeded.armonly_1_0,
        None,
        None,
        seeded.app_2_0,
    ]
    assert answers[0]["platforms"] == ["linux/amd64"]
    assert answers[1]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert answers[1]["missing_platforms"] == []
    assert answers[3]["missing_platforms"] == ["linux/amd64"]
    assert answers[2]["detail"] and answers[4]["detail"]
    summary = r"imglint: registry: 5 images in \d+\.\d s: 3 found, 1 not found, 1 unreachable"
    assert re.search(summary, err)

    code, out, _err = run([*common, "--platform", "linux/arm64", str(path)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(images)
    assert lines[0].endswith(f"{seeded.app_1_0}  linux/amd64 (lacks linux/arm64)")
    assert lines[1].endswith(f"{seeded.app_2_0}  linux/amd64,linux/arm64")
    assert re.search(r"tag-not-found: .+$", lines[2])
    assert lines[3].endswith(f"{seeded.armonly_1_0}  linux/arm64")
    assert re.search(r"unreachable: .+$", lines[4])
    assert lines[5].endswith("(variable placeholder, not checked)  -")


@pytest.mark.registry
def test_list_images_resolve_reports_input_errors_beside_the_inventory(
    seeded: Seeded,
    tmp_path: Path,
    isolated: Path,  # no credentials or cache of the person running the tests
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "ok.yaml").write_text(deployment([seeded.ref("team/app:1.0")]))
    (tmp_path / "broken.yaml").write_text("kind: [unclosed\n")
    code, out, err = run(["--list-images", "--resolve", "--format", "json", str(tmp_path)], capsys)
    assert code == 2
    [image] = json.loads(out)["images"]
    assert image["resolution"]["digest"] == seeded.app_1_0
    assert "broken.yaml" in err


# -- objects named by generateName, containers without a name ----------------------------------

GENERATE_NAME = Path(__file__).parent / "fixtures" / "generate-name"

UNNAMED_CONTAINERS = """\
apiVersion: v1
kind: Pod
metadata:
  name: named
  namespace: apps
spec:
  initContainers:
    - image: busybox:latest
  containers:
    - name: app
      image: nginx:latest
    - image: redis:latest
---
apiVersion: v1
kind: Pod
metadata:
  generateName: hello-world-
spec:
  containers:
    - image: busybox:latest
"""


def test_generate_name_and_container_index_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`Job team-a/sample-job-team-a-*` and `containers[1]`, never a blank."""
    code, out, _err = run(["--list-images", str(GENERATE_NAME / "kueue-job.yaml")], capsys)
    assert code == 0
    assert "  Job team-a/sample-job-team-a-*  container dummy-job  " in out

    code, out, _err = run(
        ["--select", "IMG002", "--color", "never", str(GENERATE_NAME / "kueue-job.yaml")], capsys
    )
    assert code == 1
    assert "(Job team-a/sample-job-team-a-*, container dummy-job)" in out

    path = tmp_path / "pods.yaml"
    path.write_text(UNNAMED_CONTAINERS)
    code, out, _err = run(["--select", "IMG002", "--color", "never", str(path)], capsys)
    assert code == 1
    contexts = re.findall(r"\(([^()]*)\)$", out, re.MULTILINE)
    assert contexts == [
        "Pod apps/named, initContainers[0]",
        "Pod apps/named, container app",
        "Pod apps/named, containers[1]",
        "Pod hello-world-*, containers[0]",
    ]
    code, out, _err = run(["--list-images", str(path)], capsys)
    assert [re.split(r"\s{2,}", line)[1:3] for line in out.splitlines()] == [
        ["Pod apps/named", "initContainers[0]"],
        ["Pod apps/named", "container app"],
        ["Pod apps/named", "containers[1]"],
        ["Pod hello-world-*", "containers[0]"],
    ]
    # JSON: the name as written and the generateName as written, at every image.
    code, out, _err = run(["--list-images", "--format", "json", str(path)], capsys)
    assert [(i["name"], i["generate_name"]) for i in json.loads(out)["images"]] == [
        ("named", None),
        ("named", None),
        ("named", None),
        (None, "hello-world-"),
    ]


def test_identity_of_named_objects_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Baselines and SARIF fingerprints key named objects and unnamed containers as before
    (object name, container blank); only a generateName object gains its `name-*`."""
    path = tmp_path / "pods.yaml"
    path.write_text(UNNAMED_CONTAINERS)
    _code, out, _err = run(["--select", "IMG002", "--format", "json", str(path)], capsys)
    keys = [
        (f["kind"], f["namespace"], f["object"], f["container"])
        for f in json.loads(out)["findings"]
    ]
    assert keys == [
        ("Pod", "apps", "named", None),
        ("Pod", "apps", "named", "app"),
        ("Pod", "apps", "named", None),
        ("Pod", None, "hello-world-*", None),
    ]
    baseline = tmp_path / "baseline.json"
    assert run(["--select", "IMG002", "--write-baseline", str(baseline), str(path)], capsys)[0] == 0
    entries = json.loads(baseline.read_text())
    recorded = entries["findings"] if isinstance(entries, dict) else entries
    assert sorted((e["object"], e["container"]) for e in recorded) == sorted(
        [("named", ""), ("named", "app"), ("named", ""), ("hello-world-*", "")]
    )


# -- CycloneDX ------------------------------------------------------------------------------------


def cyclonedx_valid(text: str) -> dict[str, Any]:
    """The document, after the official CycloneDX 1.6 JSON schema (bundled with
    cyclonedx-python-lib, a test dependency) found nothing wrong with it."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)
    document: dict[str, Any] = json.loads(text)
    return document


def properties(item: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in item.get("properties", []):
        found.setdefault(prop["name"], []).append(prop["value"])
    return found


def test_cyclonedx_schema_catches_a_broken_document() -> None:
    """The validator is real: a wrong component type fails it."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    broken = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [{"type": "kontainer", "name": "x"}],
    }
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(broken)) is not None


def test_cyclonedx_without_resolve_names_tags_and_says_unresolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pinned = "ghcr.io/acme/api:1.2@sha256:" + "a" * 64
    path = tmp_path / "deploy.yaml"
    path.write_text(deployment(["nginx:1.25", pinned, "nginx:1.25", "Bad:Tag", "${IMAGE}"]))
    code, out, _err = run(["--list-images", "--format", "cyclonedx", str(path)], capsys)
    assert code == 0
    bom = cyclonedx_valid(out)
    assert properties(bom["metadata"])["imglint:resolved"] == ["false"]
    assert properties(bom["metadata"])["imglint:not-listed"] == ["2"]  # invalid, placeholder
    nginx, api = bom["components"]
    assert (nginx["type"], nginx["name"], nginx["version"]) == (
        "container",
        "docker.io/library/nginx",
        "1.25",
    )
    assert "purl" not in nginx
    assert nginx["description"].startswith("not resolved: the registry was not asked")
    assert properties(nginx)["imglint:resolved"] == ["false"]
    assert nginx["evidence"]["occurrences"] == [
        {
            "location": str(path),
            "line": 11,
            "offset": 18,
            "additionalContext": "Deployment apps/web, container c0",
        },
        {
            "location": str(path),
            "line": 15,
            "offset": 18,
            "additionalContext": "Deployment apps/web, container c2",
        },
    ]
    # A digest written in the manifest is enough for the purl.
    assert api["purl"] == (
        "pkg:oci/api@sha256%3A" + "a" * 64 + "?repository_url=ghcr.io%2Facme%2Fapi&tag=1.2"
    )
    assert properties(api)["imglint:resolved"] == ["true"]


@pytest.mark.registry
def test_cyclonedx_with_resolve_carries_purls_with_digests(
    seeded: Seeded,
    tmp_path: Path,
    isolated: Path,  # no credentials or cache of the person running the tests
    capsys: pytest.CaptureFixture[str],
) -> None:
    images = [seeded.ref("team/app:2.0"), seeded.ref("team/app:1.1")]
    path = tmp_path / "deploy.yaml"
    path.write_text(deployment(images))
    code, out, _err = run(
        ["--list-images", "--resolve", "--no-cache", "--format", "cyclonedx", str(path)], capsys
    )
    assert code == 0
    bom = cyclonedx_valid(out)
    found, missing = bom["components"]
    host = seeded.registry.host
    assert found["purl"] == (
        f"pkg:oci/app@{seeded.app_2_0.replace(':', '%3A')}"
        f"?repository_url={host.replace(':', '%3A')}%2Fteam%2Fapp&tag=2.0"
    )
    assert properties(found)["imglint:platform"] == ["linux/amd64", "linux/arm64"]
    assert "purl" not in missing
    assert missing["description"].startswith("not resolved: tag-not-found")
    assert properties(bom["metadata"])["imglint:registries-asked"] == ["true"]
    assert properties(bom["metadata"])["imglint:unresolved-images"] == ["1"]


def test_cyclonedx_beside_a_lint_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One run: the findings on stdout, the inventory in a file (--report cyclonedx:FILE)."""
    monkeypatch.chdir(tmp_path)
    Path("deploy.yaml").write_text(deployment(["nginx:latest"]))
    code, out, _err = run(["--report", "cyclonedx:images.cdx.json", "deploy.yaml"], capsys)
    assert code == 1
    assert "IMG002" in out
    bom = cyclonedx_valid(Path("images.cdx.json").read_text())
    assert [c["name"] for c in bom["components"]] == ["docker.io/library/nginx"]
    code, _out, err = run(["--format", "cyclonedx", "deploy.yaml"], capsys)
    assert code == 2
    assert "--format cyclonedx is the image inventory: add --list-images" in err
