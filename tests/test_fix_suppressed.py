"""`--fix` honours suppressions of IMG013 (issue 16): as ruff applies a fix only where its
finding is reported, an image whose `denied-registry` finding a comment or the annotation
silences stays where it is written; the others move to the registry's replacement."""

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
