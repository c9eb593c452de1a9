"""`--fix` honours suppressions of IMG013 and IMG004 (issue 16): as ruff applies a fix only
where its finding is reported, an image whose `denied-registry` finding a comment or the
annotation silences stays where it is written; the others move to the registry's replacement.
Likewise Docker Hub is named only where IMG004 runs and is not suppressed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: pinned-to-old
spec:
  containers:
    - name: kept-by-comment
      image: k8s.gcr.io/pause:3.9  # imglint: ignore[IMG013]
    - name: kept-by-comment-above
      # imglint: ignore[denied-registry]
      image: k8s.gcr.io/pause:3.9
    - name: moved
      image: k8s.gcr.io/pause:3.9
---
apiVersion: v1
kind: Pod
metadata:
  name: annotated
  annotations:
    imglint.dev/ignore: "IMG013"
spec:
  containers:
    - name: kept-by-annotation
      image: k8s.gcr.io/etcd:3.5.9-0
"""


def test_fix_leaves_suppressed_denied_registry_findings_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pods.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["--fix", "pods.yaml"], capsys)
    assert code == 0
    assert err == "imglint: rewrote 1 image reference in 1 file\n"
    assert out == "All checks passed (1 file, 4 images)\n"
    assert (tmp_path / "pods.yaml").read_text() == MANIFEST.replace(
        "    - name: moved\n      image: k8s.gcr.io/pause:3.9",
        "    - name: moved\n      image: registry.k8s.io/pause:3.9",
    )


def test_a_bare_ignore_comment_keeps_the_image_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MANIFEST.replace("# imglint: ignore[IMG013]", "# imglint: ignore")
    (tmp_path / "pods.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["--fix", "--diff", "pods.yaml"], capsys)
    assert code == 1  # --diff: a change is pending
    assert out.count("+      image: registry.k8s.io/") == 1


HUB = """\
apiVersion: v1
kind: Pod
metadata:
  name: hub
spec:
  containers:
    - name: kept-by-comment
      image: nginx:1.27  # imglint: ignore[IMG004]
    - name: kept-by-name
      # imglint: ignore[implicit-registry]
      image: redis:7.4
    - name: named
      image: busybox:1.37
"""


def test_fix_names_docker_hub_only_where_img004_would_be_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The explicit-registry fix is IMG004's: a suppression of IMG004 keeps the short name."""
    (tmp_path / "pods.yaml").write_text(HUB)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["--fix", "pods.yaml"], capsys)
    assert code == 0
    assert err == "imglint: rewrote 1 image reference in 1 file\n"
    assert (tmp_path / "pods.yaml").read_text() == HUB.replace(
        "image: busybox:1.37", "image: docker.io/library/busybox:1.37"
    )


def test_fix_leaves_docker_hub_implicit_where_the_configuration_ignores_img004(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pods.yaml").write_text(HUB)
    (tmp_path / ".imglint.yaml").write_text("ignore: [IMG004]\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["--fix", "pods.yaml"], capsys)
    assert code == 0
    assert err == "imglint: rewrote 0 image references in 0 files\n"
    assert (tmp_path / "pods.yaml").read_text() == HUB
    assert out == "All checks passed (1 file, 3 images)\n"
