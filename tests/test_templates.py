"""What is not a manifest: chart templates, other Go/Helm templates, JSON with comments.

Each is told apart the same way whether it is named (as pre-commit names every file) or met in
a folder: a chart's templates are skipped with a note; another Helm template is an input error
when named and a note when walked; a manifest whose strings hold Go-template actions for its own
controller (Argo CD ApplicationSets, Argo Workflows, Prometheus rules) is linted as it is.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imglint import sources
from tests.cli_runner import run

FIXTURES = Path(__file__).parent / "fixtures" / "templates"
CHART = FIXTURES / "hello-world"
HINT = "render it first: `helm template CHART | imglint -`"
TEMPLATE_ERROR = f"error: looks like a template, not a manifest; {HINT}"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return os.path.relpath(path)  # as a user names it, from the repository's root


# -- a chart's templates ---------------------------------------------------------------------


def test_chart_templates_named_one_by_one_are_skipped_with_one_note(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(CHART, repo / "charts" / "hello-world")
    (repo / "charts" / "hello-world" / "templates" / "sub").mkdir()
    shutil.copy(
        CHART / "templates" / "service.yaml", repo / "charts/hello-world/templates/sub/svc.yaml"
    )
    named = [
        "charts/hello-world/templates/deployment.yaml",
        "charts/hello-world/templates/service.yaml",
        "charts/hello-world/templates/sub/svc.yaml",  # deeper: still the chart's templates
    ]
    code, out, err = run(named, capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"note: charts/hello-world/templates: Helm chart templates skipped; {HINT}",
        "All checks passed (0 files, 0 images)",
    ]
    # Walked, the same note once.
    code, out, _ = run(["charts", *named], capsys)
    assert code == 0
    assert out.count("Helm chart templates skipped") == 1


def test_a_templates_folder_outside_a_chart_is_linted(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = write(
        repo / "k8s" / "templates" / "web.yaml",
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers: [{name: web, image: "nginx:latest"}]
        """,
    )
    code, out, _ = run([web, "--select", "IMG002"], capsys)
    assert code == 1
    assert out.startswith("k8s/templates/web.yaml:5:35: IMG002")


# -- other Helm templates --------------------------------------------------------------------

ISSUE_TEMPLATES = {
    # Every action inside quoted values: parses as YAML, and held no image before.
    "quoted.yaml": """\
        apiVersion: v1
        kind: Pod
        metadata:
          name: "{{ .Release.Name }}-web"
        spec:
          containers:
            - name: web
              image: "{{ .Values.image }}"
        """,
    # Composed as a flow mapping: was "image must be a string, not a mapping".
    "unquoted.yaml": """\
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          containers:
            - name: web
              image: {{ .Values.image }}
        """,
    # Not YAML at all: was a raw YAML error.
    "name.yaml": """\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ .Release.Name }}-web
        spec:
          containers:
            - name: web
              image: nginx:1.25
        """,
}


@pytest.mark.parametrize("name", sorted(ISSUE_TEMPLATES))
def test_a_helm_template_named_outside_a_chart_is_an_input_error(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = write(repo / "k8s" / name, ISSUE_TEMPLATES[name])
    code, out, _ = run([path], capsys)
    assert code == 2
    assert out.splitlines() == [
        f"k8s/{name}: {TEMPLATE_ERROR}",
        "No findings in 1 file, 0 images; 1 input error",
    ]


def test_upstream_chart_templates_copied_out_of_their_chart(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for template in ("deployment.yaml", "service.yaml"):
        shutil.copy(CHART / "templates" / template, repo / template)
    code, out, _ = run(["deployment.yaml", "service.yaml"], capsys)
    assert code == 2
    assert out.splitlines()[:2] == [
        f"deployment.yaml: {TEMPLATE_ERROR}",
        f"service.yaml: {TEMPLATE_ERROR}",
    ]


def test_helm_templates_met_in_a_folder_are_skipped_with_a_note(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in ISSUE_TEMPLATES.items():
        write(repo / "k8s" / name, text)
    code, out, err = run(["k8s"], capsys)
    assert (code, err) == (0, "")
    assert [line for line in out.splitlines() if line.startswith("note:")] == [
        f"note: k8s/{name}: skipped, looks like a template, not a manifest; {HINT}"
        for name in sorted(ISSUE_TEMPLATES)
    ]


@pytest.mark.parametrize(
    ("name", "code", "summary"),
    [
        # '{{ .repository }}-guestbook', goTemplate: true
        ("applicationset-gotemplate.yaml", 0, "All checks passed (1 file, 0 images)"),
        # "{{inputs.parameters.message}}" in args; the template's container is `busybox`
        (
            "argo-workflows-steps.yaml",
            1,
            "2 findings (1 error, 1 warning) in 1 file, 1 image",
        ),
        # {{- range ... }} ... {{- end }} in annotations
        ("prometheusrule-go-templates.yaml", 0, "All checks passed (1 file, 0 images)"),
    ],
)
def test_manifests_whose_strings_hold_go_templates_are_not_helm_templates(
    capsys: pytest.CaptureFixture[str], name: str, code: int, summary: str
) -> None:
    status, out, err = run([str(FIXTURES / name)], capsys)
    assert (status, err) == (code, "")
    assert out.splitlines()[-1] == summary


def test_a_helm_template_held_in_a_block_scalar_is_data(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        repo / "cm.yaml",
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: chart-snippets}
        data:
          deployment.yaml: |
            {{- if .Values.enabled }}
            image: "{{ .Values.image }}"
            {{- end }}
        """,
    )
    code, out, _ = run([path], capsys)
    assert code == 0
    assert out.splitlines() == ["All checks passed (1 file, 0 images)"]


POD_WITH_COMMENT = """\
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      labels:
    {comment}
    spec:
      containers: [{{name: web, image: "docker.io/library/nginx:1.25"}}]
    """


@pytest.mark.parametrize(
    "comment",
    [
        '    # {{- include "web.labels" . | nindent 4 }}',
        "    # image: {{ .Values.image.repository }}:{{ .Values.image.tag }}",
        "# {{- if .Values.enabled }}",
    ],
)
def test_a_helm_action_in_a_comment_is_still_a_template_action(
    repo: Path, capsys: pytest.CaptureFixture[str], comment: str
) -> None:
    """Helm renders a template's whole text, comments included: `# {{ include "x" . | nindent
    4 }}` runs, and its output (here: more labels, on lines of their own) is not commented. So
    `helm template` output never holds a Helm action, even in a comment, and a file that holds
    one was not rendered: what kubectl would apply is not what it says."""
    path = write(repo / "pod.yaml", POD_WITH_COMMENT.format(comment=comment))
    code, out, _ = run([path], capsys)
    assert code == 2
    assert out.splitlines()[0] == f"pod.yaml: {TEMPLATE_ERROR}"


@pytest.mark.parametrize(
    "comment",
    [
        "    # summary: {{ $labels.pod }} restarted",  # another tool's action, as data
        "    # {{ end }}",  # no Helm in it: a stray word of a comment
        "    # see {{ .repository }}",
    ],
)
def test_a_go_template_action_without_helm_in_a_comment_is_linted(
    repo: Path, capsys: pytest.CaptureFixture[str], comment: str
) -> None:
    path = write(repo / "pod.yaml", POD_WITH_COMMENT.format(comment=comment))
    code, out, _ = run([path], capsys)
    assert code == 0
    assert out.splitlines() == ["All checks passed (1 file, 1 image)"]


# -- JSON that is not a manifest ---------------------------------------------------------------

ESLINTRC = """\
    {
      // JSON with comments, as editors and linters keep it
      "extends": "eslint:recommended",
      "rules": {"semi": "error",},
    }
    """


def test_json_with_comments_named_or_walked_is_a_note(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / ".eslintrc.json", ESLINTRC)
    write(repo / "docs" / ".markdownlint.json", '{\n  /* no line length */\n  "MD013": false\n}\n')
    code, out, err = run([".eslintrc.json", "docs/.markdownlint.json"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "note: .eslintrc.json: skipped, not JSON and no Kubernetes object in it",
        "note: docs/.markdownlint.json: skipped, not JSON and no Kubernetes object in it",
        "All checks passed (2 files, 0 images)",
    ]
    write(repo / "k8s" / "tsconfig.json", ESLINTRC)
    code, out, _ = run(["k8s"], capsys)
    assert code == 0
    assert "note: k8s/tsconfig.json: skipped, not JSON and no Kubernetes object in it" in out


def test_a_broken_json_manifest_is_an_error_that_says_json(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        repo / "pod.json",
        """\
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
         "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]},}
        """,
    )
    code, out, _ = run(["pod.json"], capsys)
    assert code == 2
    assert out.splitlines()[:1] == [
        "pod.json:2:65: error: JSON: Expecting property name enclosed in double quotes"
    ]


def test_a_json_file_written_as_yaml_is_read_as_kubectl_reads_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # kubectl decodes a file that does not start with `{` as YAML, whatever its name.
    path = write(
        repo / "pod.json",
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers: [{name: a, image: "nginx:latest"}]
        """,
    )
    code, out, _ = run([path, "--select", "IMG002"], capsys)
    assert code == 1
    assert out.startswith("pod.json:5:33: IMG002")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["{{", "{", "}}", " ", "\t", "-", "\n", "\r\n", "a", "# ", ": "]),
        max_size=30,
    ).map("".join)
)
def test_lines_that_start_with_an_action_are_found_as_a_line_anchored_pattern_finds_them(
    text: str,
) -> None:
    # The lines whose text before a `{{` is blanks and `-` only, by line (what `^[ \t-]*\{\{`
    # with re.MULTILINE finds), with no Helm word in the text to add lines of its own.
    expected = [
        number for number, line in enumerate(text.split("\n")) if re.match(r"[ \t-]*\{\{", line)
    ]
    assert sources.template_action_lines(text) == expected


def test_template_lines_of_long_lines_are_found_in_linear_time() -> None:
    # One `{{` per line is looked at: a megabyte-long line of actions, then such lines.
    text = "x: " + "{{ a }} " * 200_000 + "\n" + "  - {{ b }}{{ c }}\n" * 100_000
    assert sources.template_action_lines(text) == list(range(1, 100_001))
