"""Rendered Helm and Kustomize output on stdin: where findings point, in every output format.

`helm template` writes `# Source: CHART/templates/FILE.yaml` above each document: findings move
there, at their line inside the rendered document. `kustomize build` writes no such comments:
findings stay on stdin (`-`, or the `--stdin-filename`).

tests/fixtures/helm/shop.rendered.yaml is shaped like `helm template shop ./shop` output for a
chart with a redis subchart (documents sorted by kind, a two-document template, a test hook);
tests/fixtures/kustomize/prod.rendered.yaml is `kubectl kustomize overlays/prod` (kustomize
v5.5.0) of the folders beside it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.cli_runner import run

FIXTURES = Path(__file__).parent / "fixtures"
HELM = FIXTURES / "helm"
KUSTOMIZE = FIXTURES / "kustomize"
# The OASIS SARIF 2.1.0 schema, kept in the repository so the suite runs on any machine.
SARIF_SCHEMA_FILE = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"

_WHERE = re.compile(r"^(\S+:\d+:\d+): (IMG\d{3}) ")

# `helm template shop ./shop`: every finding at its template, at the line inside its document.
SHOP = [
    ("shop/charts/redis/templates/master/application.yaml:24:18", "IMG002"),
    ("shop/templates/cronjob.yaml:14:22", "IMG004"),
    ("shop/templates/deployment.yaml:21:18", "IMG003"),
    ("shop/templates/deployment.yaml:21:18", "IMG004"),
    ("shop/templates/deployment.yaml:25:18", "IMG002"),
    ("shop/templates/tests/test-connection.yaml:10:14", "IMG003"),
    ("shop/templates/tests/test-connection.yaml:10:14", "IMG004"),
    ("shop/templates/workers.yaml:16:18", "IMG003"),
]
SHOP_SUMMARY = "8 findings (5 errors, 3 warnings) in 1 file, 9 images"

# `kubectl kustomize overlays/prod`: no Source comments, so stdin lines.
PROD = [
    ("-:30:16", "IMG002"),
    ("-:30:16", "IMG004"),
    ("-:36:16", "IMG002"),
    ("-:57:20", "IMG004"),
]


def located(text_output: str) -> list[tuple[str, ...]]:
    """(path:line:col, code) of every finding line of a text report."""
    return [m.groups() for line in text_output.splitlines() if (m := _WHERE.match(line))]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)


# -- Helm ----------------------------------------------------------------------------------------


def test_helm_findings_point_at_templates_and_subchart_templates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["-"], capsys, (HELM / "shop.rendered.yaml").read_bytes())
    assert (code, err) == (1, "")
    assert located(out) == SHOP
    assert out.splitlines()[-1] == SHOP_SUMMARY
    # Image-like text inside a ConfigMap (even a `# Source:` line) is data, never a finding.
    assert "fake:latest" not in out and "not/a/template" not in out


def test_the_line_is_the_line_inside_the_rendered_document() -> None:
    rendered = (HELM / "shop.rendered.yaml").read_text().splitlines()
    start = rendered.index("# Source: shop/templates/deployment.yaml")
    assert rendered[start + 25] == '          image: "registry.example.com/shop/frontend:latest"'
    # The second document of workers.yaml counts from its own Source comment.
    second = [
        i for i, line in enumerate(rendered) if line == "# Source: shop/templates/workers.yaml"
    ]
    assert rendered[second[1] + 16] == '          image: "registry.example.com/shop/worker"'


@pytest.mark.parametrize("endings", ["crlf", "crlf-templates"])
def test_crlf_output_maps_to_the_same_lines(
    endings: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (HELM / "shop.rendered.yaml").read_text()
    if endings == "crlf":
        data = text.replace("\n", "\r\n")
    else:  # Helm's own lines end in LF, the templates' lines (rendered from CRLF files) in CRLF
        data = "\n".join(
            line if line == "---" or line.startswith("# Source:") else line + "\r"
            for line in text.split("\n")
        )
    code, out, _ = run(["-"], capsys, data.encode())
    assert code == 1
    assert located(out) == SHOP


def test_documents_without_a_source_comment_stay_on_stdin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`helm template ...; cat extra/*.yaml`: only Helm's documents move to templates."""
    data = (HELM / "concatenated.yaml").read_bytes()
    code, out, _ = run(["-"], capsys, data)
    assert code == 1
    assert located(out) == [
        ("-:25:14", "IMG002"),
        ("-:25:14", "IMG004"),
        ("-:38:18", "IMG003"),
        ("shop/templates/deployment.yaml:10:18", "IMG002"),
    ]
    code, out, _ = run(["--stdin-filename", "rendered.yaml", "-"], capsys, data)
    assert [where for where, _ in located(out)] == [
        "rendered.yaml:25:14",
        "rendered.yaml:25:14",
        "rendered.yaml:38:18",
        "shop/templates/deployment.yaml:10:18",
    ]


def test_stdin_named_after_the_chart_folder_roots_the_template_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`helm template charts/shop | imglint --stdin-filename charts/shop -`: repository paths, so
    GitHub annotations and code scanning land in the chart's files."""
    (tmp_path / "charts" / "shop").mkdir(parents=True)
    (tmp_path / "charts" / "shop" / "Chart.yaml").write_text("apiVersion: v2\nname: shop\n")
    data = (HELM / "shop.rendered.yaml").read_bytes()
    code, out, _ = run(["--stdin-filename", "charts/shop", "-"], capsys, data)
    assert code == 1
    assert located(out) == [("charts/" + where, rule) for where, rule in SHOP]
    # A folder that is not a chart (no Chart.yaml) is only a name.
    (tmp_path / "rendered").mkdir()
    code, out, _ = run(["--stdin-filename", "rendered", "-"], capsys, data)
    assert located(out) == SHOP


def test_json_on_helm_output_names_the_templates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["--format", "json", "-"], capsys, (HELM / "shop.rendered.yaml").read_bytes()
    )
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [(f"{f['path']}:{f['line']}:{f['column']}", f["code"]) for f in findings] == SHOP
    frontend = findings[4]
    assert (frontend["end_line"], frontend["end_column"]) == (25, 61)
    assert (frontend["kind"], frontend["object"], frontend["container"]) == (
        "Deployment",
        "shop-frontend",
        "frontend",
    )


def test_sarif_on_helm_output_names_the_templates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["--format", "sarif", "-"], capsys, (HELM / "shop.rendered.yaml").read_bytes()
    )
    assert code == 1
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    places = []
    for result in log["runs"][0]["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        region = location["region"]
        places.append(
            (
                f"{location['artifactLocation']['uri']}:{region['startLine']}:"
                f"{region['startColumn']}",
                result["ruleId"],
            )
        )
    assert places == SHOP


def test_github_annotations_on_helm_output_name_the_templates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        ["--format", "github", "-"], capsys, (HELM / "shop.rendered.yaml").read_bytes()
    )
    assert code == 1
    assert out.splitlines()[4].startswith(
        "::error file=shop/templates/deployment.yaml,line=25,col=18,endLine=25,endColumn=61,"
        "title=IMG002 latest-tag::"
    )


def test_a_baseline_of_helm_output_survives_a_re_render(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Recorded by template path: new labels and reordered documents hide nothing new."""
    text = (HELM / "shop.rendered.yaml").read_text()
    code, _, err = run(["--write-baseline", "b.json", "-"], capsys, text.encode())
    assert (code, err) == (0, "imglint: wrote 8 findings to b.json\n")
    paths = {e["path"] for e in json.loads(Path("b.json").read_text())["findings"]}
    assert paths == {where.split(":")[0] for where, _ in SHOP}

    documents = text.split("---\n")
    rerendered = "---\n".join([documents[0], *reversed(documents[1:])]).replace(
        "    helm.sh/chart: shop-1.2.0\n",
        "    helm.sh/chart: shop-1.3.0\n    app.kubernetes.io/version: 1.3.0\n",
    )
    code, out, _ = run(["--baseline", "b.json", "-"], capsys, rerendered.encode())
    assert code == 0
    assert out.splitlines() == [
        "note: 8 findings recorded in baseline b.json not shown",
        "All checks passed (1 file, 9 images)",
    ]


def test_files_beside_helm_stdin_keep_their_own_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers: [{name: a, image: 'nginx:latest'}]\n"
    )
    data = (HELM / "concatenated.yaml").read_bytes()
    code, out, _ = run(["pod.yaml", "-", "--select", "IMG002"], capsys, data)
    assert code == 1
    assert located(out) == [
        ("-:25:14", "IMG002"),
        ("pod.yaml:5:33", "IMG002"),
        ("shop/templates/deployment.yaml:10:18", "IMG002"),
    ]


def test_chart_templates_on_disk_are_skipped_with_a_hint_and_values_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "charts" / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.2.0\n")
    (chart / "values.yaml").write_text("image:\n  repository: nginx\n  tag: latest\n")
    (chart / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        'spec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: "'
        '{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    )
    code, out, _ = run(["charts"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert (
        "note: charts/shop/templates: Helm chart templates skipped; "
        "render it first: `helm template CHART | imglint -`"
    ) in lines
    # The values declare the image the template renders: linted at the keys concerned.
    found = [line.split(" [")[0] for line in lines if line.startswith("charts/shop/values.yaml")]
    assert found == [
        "charts/shop/values.yaml:2:15: IMG004",
        "charts/shop/values.yaml:3:8: IMG002",
    ]
    assert lines[-1] == "2 findings (1 error, 1 warning) in 2 files, 1 image"


# -- Kustomize -----------------------------------------------------------------------------------


def test_kustomize_output_stays_on_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    data = (KUSTOMIZE / "prod.rendered.yaml").read_bytes()
    code, out, _ = run(["-"], capsys, data)
    assert code == 1
    assert located(out) == PROD
    assert out.splitlines()[-1] == "4 findings (2 errors, 2 warnings) in 1 file, 5 images"
    code, out, _ = run(["--stdin-filename", "overlays/prod", "-"], capsys, data)
    assert [where for where, _ in located(out)] == [
        "overlays/prod:30:16",
        "overlays/prod:30:16",
        "overlays/prod:36:16",
        "overlays/prod:57:20",
    ]


def test_kustomize_output_in_json_and_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    data = (KUSTOMIZE / "prod.rendered.yaml").read_bytes()
    _, out, _ = run(["--format", "json", "--stdin-filename", "overlays/prod", "-"], capsys, data)
    findings = json.loads(out)["findings"]
    assert [(f["path"], f["line"], f["object"], f["container"]) for f in findings] == [
        ("overlays/prod", 30, "prod-web", "log-shipper"),
        ("overlays/prod", 30, "prod-web", "log-shipper"),
        ("overlays/prod", 36, "prod-web", "metrics"),
        ("overlays/prod", 57, "prod-cleanup", "cleanup"),
    ]
    _, out, _ = run(["--format", "sarif", "-"], capsys, data)
    log = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA_FILE.read_text())).validate(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"-"}


def test_linting_the_kustomize_sources_is_not_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    """The overlay pins nginx and migrate with `images:`; only the build shows what deploys."""
    code, out, _ = run([str(KUSTOMIZE / "base"), str(KUSTOMIZE / "overlays")], capsys)
    assert code == 1
    base = f"{KUSTOMIZE / 'base'}/"
    overlays = f"{KUSTOMIZE / 'overlays'}/"
    assert located(out) == [
        (f"{base}cronjob.yaml:14:22", "IMG004"),
        (f"{base}deployment.yaml:19:18", "IMG003"),
        (f"{base}deployment.yaml:22:18", "IMG003"),
        (f"{base}deployment.yaml:22:18", "IMG004"),
        (f"{base}deployment.yaml:26:18", "IMG002"),
        (f"{overlays}prod/sidecar.yaml:10:18", "IMG002"),
        (f"{overlays}prod/sidecar.yaml:10:18", "IMG004"),
    ]


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with kustomize) not installed"
)
def test_a_live_kustomize_build_gives_the_stored_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stored rendering still matches what kustomize builds (compared by what, not where:
    another kustomize version may lay the output out differently)."""
    built = subprocess.run(
        ["kubectl", "kustomize", str(KUSTOMIZE / "overlays" / "prod")],
        capture_output=True,
        check=True,
    ).stdout

    def what(data: bytes) -> list[tuple[str, str, str]]:
        _, out, _ = run(["--format", "json", "-"], capsys, data)
        return sorted((f["code"], f["object"], f["container"]) for f in json.loads(out)["findings"])

    assert what(built) == what((KUSTOMIZE / "prod.rendered.yaml").read_bytes())


def test_unused_suppressions_on_helm_stdin_point_at_the_templates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rendered = (
        "---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: web\n"
        "          image: docker.io/library/nginx:1.25  # imglint: ignore[IMG002]\n"
    )
    code, out, _ = run(
        ["--report-unused-suppressions", "--format", "json", "-"], capsys, rendered.encode()
    )
    assert code == 0
    unused = json.loads(out)["unused_suppressions"]
    assert [(u["path"], u["line"]) for u in unused] == [("web/templates/deployment.yaml", 9)]
