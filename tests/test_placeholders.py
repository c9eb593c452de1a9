"""Which image values are placeholders a tool fills in before apply, and which are references."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imglint.placeholders import POD_IMAGE_SYNTAXES, Syntax, placeholder_kind
from tests.cli_runner import run


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("{{ .Values.image }}", "template placeholder"),
        ("repo/app:{{inputs.parameters.tag}}", "template placeholder"),  # Argo Workflows
        ("{{ .repository }}-guestbook", "template placeholder"),  # ApplicationSet goTemplate
        ("$IMAGE", "variable placeholder"),  # GNU envsubst
        ("${IMAGE}", "variable placeholder"),
        ("${_image_1}", "variable placeholder"),
        ("us-central1-docker.pkg.dev/$PROJECT_ID/repo/app:1", "variable placeholder"),
        ("${EXTENSION_IMAGE:-registry.example.com/epp:main}", "variable placeholder"),  # corpus
        ("ghcr.io/acme/app:${TAG:=latest}", "variable placeholder"),  # Flux post-build default
        ("ghcr.io/acme/app:${TAG-1.0}", "variable placeholder"),
        ("ghcr.io/acme/app:${SHA:0:7}", "variable placeholder"),  # drone/envsubst substring
        ("$$$IMAGE", "variable placeholder"),  # an escaped `$`, then a variable
        ("ko://github.com/example/cmd/app", "ko build reference"),
    ],
)
def test_substitution_forms_tools_expand_are_placeholders(value: str, kind: str) -> None:
    assert placeholder_kind(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "registry.example.com/app:$(TAG)",  # Kubernetes never expands $(VAR) in image
        "aa/asdf$$^/aa",
        "$${IMAGE}",  # Flux's and envsubst's escape: the literal text ${IMAGE}
        "app:$1",  # no variable name starts with a digit
        "app:${}",
        "app:${1X}",
        "${IMAGE",  # never closed: no tool substitutes it
        "app:{{ never closed",
        "nginx:1.25",
        "example.com/ko://x",  # ko:// only as the whole value's scheme
        "",
    ],
)
def test_other_dollars_and_braces_are_left_to_the_reference_grammar(value: str) -> None:
    assert placeholder_kind(value) is None


def test_an_extractor_adds_its_own_syntax() -> None:
    tekton = Syntax("Tekton parameter", re.compile(r"\$\((?:params|context)\.[^)]+\)"))
    syntaxes = (*POD_IMAGE_SYNTAXES, tekton)
    assert placeholder_kind("$(params.image)", syntaxes) == "Tekton parameter"
    assert placeholder_kind("$(params.image)") is None  # a pod's image: not substituted
    assert placeholder_kind("${IMAGE}", syntaxes) == "variable placeholder"
    assert placeholder_kind("{{ x }}", (tekton,)) is None  # only the syntaxes asked about


def test_kubernetes_variable_in_a_pod_image_is_an_invalid_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              containers:
                - name: web
                  image: registry.example.com/app:$(TAG)
                - name: odd
                  image: aa/asdf$$^/aa
                - name: envsubst
                  image: registry.example.com/app:${TAG}
            """
        )
    )
    code, out, _ = run([str(manifest)], capsys)
    assert code == 1
    assert f"{manifest}:7:14: IMG001" in out and "InvalidImageName" in out
    assert f"{manifest}:9:14: IMG001" in out
    assert ":11:" not in out  # ${TAG} is envsubst's: a placeholder, not linted


@given(st.text(alphabet="${}ko:/_aZ9-.@ ", max_size=20))
def test_a_syntax_marker_decides_only_what_its_pattern_would(value: str) -> None:
    """A value without a syntax's marker is decided without its pattern: exactly as the
    pattern decides it (each marker is in every match)."""
    for syntax in POD_IMAGE_SYNTAXES:
        matches = [m.group() for m in re.finditer(syntax.pattern.pattern, value, re.DOTALL)]
        assert syntax.found_in(value) == any(m != syntax.escape for m in matches)
