"""`kustomize build` output with origin annotations: findings land on the files, the `images:`
entries or the patches that wrote each image (trees built by the real `kubectl kustomize`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_runner import run
from tests.kustomize_tool import kustomize_build

_WHERE = re.compile(r"^(\S+:\d+:\d+): (IMG\d{3}) ")


def located(text_output: str) -> list[tuple[str, ...]]:
    return [m.groups() for line in text_output.splitlines() if (m := _WHERE.match(line))]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (tmp_path / "base" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: web\n"
        "        image: registry.example.com/shop/web:1.4\n"  # line 10: the overlay sets latest
        "      - name: tools\n"
        "        image: busybox\n"  # line 12: kept as written
        "      - name: proxy\n"
        "        image: registry.example.com/shop/proxy:2\n"  # line 14: a patch replaces it
    )
    overlay = tmp_path / "overlays" / "prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(
        "namePrefix: prod-\n"
        "resources:\n"
        "- ../../base\n"
        "buildMetadata: [originAnnotations]\n"
        "patches:\n"
        "- path: proxy.yaml\n"
        "images:\n"
        "- name: registry.example.com/shop/web\n"
        "  newTag: latest\n"  # line 9
    )
    (overlay / "proxy.yaml").write_text(
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: proxy\n"
        "        image: registry.example.com/shop/proxy:latest\n"  # line 10
    )
    return tmp_path


def test_findings_land_on_the_file_the_entry_or_the_patch(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = kustomize_build(Path("overlays/prod"))
    code, out, err = run(["--stdin-filename", "overlays/prod", "-"], capsys, output)
    assert (code, err) == (1, "")
    assert located(out) == [
        ("base/deployment.yaml:12:16", "IMG003"),
        ("base/deployment.yaml:12:16", "IMG004"),
        ("overlays/prod/kustomization.yaml:9:11", "IMG002"),
        ("overlays/prod/proxy.yaml:10:16", "IMG002"),
    ]


def test_without_the_folder_findings_stay_on_the_output_naming_the_origin(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = kustomize_build(Path("overlays/prod"))
    code, out, _err = run(["-"], capsys, output)
    assert code == 1
    assert all(where.startswith("-:") for where, _code in located(out))
    assert "(from ../../base/deployment.yaml in the folder built)" in out


def test_remote_origins_are_named_never_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "overlay").mkdir()
    # As kustomize writes a resource of a remote base (its Origin, as YAML).
    output = (
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata:\n"
        "  annotations:\n"
        "    config.kubernetes.io/origin: |\n"
        "      path: examples/multibases/base/pod.yaml\n"
        "      repo: https://github.com/kubernetes-sigs/kustomize\n"
        "      ref: v1.0.6\n"
        "  name: myapp-pod\n"
        "spec:\n"
        "  containers:\n"
        "  - name: nginx\n"
        "    image: nginx:latest\n"
    )
    code, out, _err = run(["--stdin-filename", "overlay", "-"], capsys, output)
    assert code == 1
    assert located(out)[0] == ("overlay:13:12", "IMG002")
    assert (
        "(from examples/multibases/base/pod.yaml of https://github.com/kubernetes-sigs/kustomize"
        " at v1.0.6)" in out
    )
