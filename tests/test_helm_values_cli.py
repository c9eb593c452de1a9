"""Helm values through the command line: linting a chart folder (findings on the keys they
concern, suppressions, subcharts, --list-images), pinning values files in each chart's
convention against the real local registry, and rendered output traced to values keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from tests.cli_runner import run
from tests.regserver import Seeded

CHARTS = Path(__file__).parent / "fixtures" / "charts"


def chart_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(CHARTS / name, target)
    return target


def edit(path: Path, *replacements: tuple[str, str]) -> str:
    """Replace each text once (it must be there), write, return the new text."""
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def findings(out: str) -> list[tuple[str, int, str, str]]:
    """(path, line, code, field words) of each JSON finding."""
    data = json.loads(out)
    return [(f["path"], f["line"], f["code"], f.get("message", "")) for f in data["findings"]]


# -- linting a chart folder -------------------------------------------------------------------


def test_a_chart_folder_is_linted_at_its_values_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = chart_copy(tmp_path, "kube-prometheus-stack")
    code, out, _err = run(["--format", "json", str(chart)], capsys)
    values = str(chart / "values.yaml")
    found = {(p, line, c) for p, line, c, _m in findings(out)}
    # crds.upgradeJob.image.busybox.tag: "latest" (the feature is off by default, still linted).
    assert (values, 48, "IMG002") in found
    assert code == 1
    assert all(p == values for p, _line, _code in found)


def test_suppression_comments_work_in_values_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = chart_copy(tmp_path, "kube-prometheus-stack")
    edit(
        chart / "values.yaml",
        ('        tag: "latest"\n', '        tag: "latest"  # imglint: ignore[IMG002]\n'),
    )
    code, out, _err = run(["--format", "json", str(chart)], capsys)
    assert [f for f in findings(out) if f[2] == "IMG002"] == []
    assert code == 0


def test_implicit_registry_lands_on_the_repository_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = chart_copy(tmp_path, "podinfo")
    edit(
        chart / "values.yaml",
        ("  repository: ghcr.io/stefanprodan/podinfo\n", "  repository: stefanprodan/podinfo\n"),
    )
    _code, out, _err = run(["--format", "json", str(chart)], capsys)
    data = json.loads(out)
    [implicit] = [f for f in data["findings"] if f["code"] == "IMG004"]
    assert (implicit["line"], implicit["column"]) == (10, 15)


def test_list_images_names_the_values_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = chart_copy(tmp_path, "argo-cd")
    code, out, _err = run(["--list-images", "--format", "json", str(chart)], capsys)
    assert code == 0
    images = json.loads(out)["images"]
    parent = [i for i in images if i["path"] == str(chart / "values.yaml")]
    assert [(i["line"], i["image"]) for i in parent][:2] == [
        (59, "quay.io/argoproj/argocd:v3.4.4"),
        (1228, "ghcr.io/dexidp/dex:v2.45.1"),
    ]
    sub = {i["line"]: i for i in images if i["path"].endswith("redis-ha/values.yaml")}
    assert sub[13]["placeholder"].startswith("overridden by ")
    assert sub[69]["placeholder"] is None


def test_an_image_over_4096_characters_is_an_input_error_as_in_a_pod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The limit pod images have (imglint.extract.sink.MAX_IMAGE_CHARS): an image its values
    assemble longer than that is no reference, an input error at the image's key (exit 2);
    the other images of the file are still read and linted."""
    chart = chart_copy(tmp_path, "podinfo")
    # ghcr.io/stefanprodan/podinfo: 28 characters, then `:` and the tag.
    edit(chart / "values.yaml", ("  tag: 6.14.1\n", f'  tag: "{"1" * 4068}"\n'))
    code, out, _err = run(["--select", "IMG002", str(chart)], capsys)
    assert code == 2
    message = "value image makes an image 4,097 characters long, not an image reference"
    assert f"{chart}/values.yaml:9: error: {message}" in out
    code, out, err = run(["--list-images", "--format", "json", str(chart)], capsys)
    assert code == 2
    assert [i["image"] for i in json.loads(out)["images"]] == ["docker.io/redis:8.8.0"]
    assert err.splitlines()[0] == f"imglint: error: {chart}/values.yaml:9: {message}"
    # At the limit it is a reference to lint (its tag is too long: IMG001, at the image key).
    edit(chart / "values.yaml", (f'"{"1" * 4068}"', f'"{"1" * 4067}"'))
    code, out, _err = run(["--select", "IMG001", str(chart)], capsys)
    assert code == 1 and f"{chart}/values.yaml:9:1: IMG001 [error]" in out


def test_values_in_gitops_objects_are_linted_and_the_assumption_said(
    capsys: pytest.CaptureFixture[str],
) -> None:
    gitops = CHARTS / "gitops"
    code, out, _err = run([str(gitops)], capsys)
    assert code == 1
    lines = out.splitlines()
    located = [line.split(" [")[0] for line in lines if not line.startswith("note:")][:-1]
    assert located == [
        f"{gitops}/argo-nginx-application.yaml:22:18: IMG002",  # in the `values: |` string
        f"{gitops}/kustomization.yaml:16:14: IMG002",  # helmCharts[0].valuesInline.redis.tag
    ]
    assert (
        f"note: {gitops}/flux-podinfo-release.yaml:24: Flux HelmRelease podinfo (chart podinfo): "
        "the chart's templates are not at hand; its images are taken as "
        "registry/repository:tag@digest, and an empty tag is not guessed"
    ) in lines
    assert (
        f"note: {gitops}/argo-nginx-application.yaml:33: Argo CD Application nginx (chart "
        "ingress-nginx): values string not read: imglint reads it only as a literal block "
        "(`values: |`)"
    ) in lines


def test_helm_values_names_more_values_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment's values beside the chart take the rest from the chart's values.yaml; a
    values file outside any chart is assembled the obvious way, with a note saying so."""
    chart_copy(tmp_path, "podinfo")
    (tmp_path / "podinfo" / "values-prod.yaml").write_text("image:\n  tag: latest\n")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "values.yaml").write_text("redis:\n  repository: redis\n  tag: '7.2'\n")
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(["."], capsys)
    assert code == 0  # without the configuration, only the chart's own values.yaml is read
    Path(".imglint.yaml").write_text('helm-values: ["values-*.yaml", "env/values.yaml"]\n')
    code, out, _err = run(["."], capsys)
    assert code == 1
    lines = out.splitlines()
    assert [line.split(" [")[0] for line in lines if not line.startswith("note")][:-1] == [
        "env/values.yaml:2:15: IMG004",
        "podinfo/values-prod.yaml:2:8: IMG002",
    ]
    assert any(
        line.startswith("note: env/values.yaml:1: values outside a chart:") for line in lines
    )


# -- pinning against the real local registry --------------------------------------------------


@pytest.fixture
def cli_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's resolver, as in tests/test_pin.py: anonymous, cache-free, HEAD only."""
    import imglint.resolve
    from tests.test_pin import real_resolver

    def make_resolver(*args: object, **kwargs: object) -> Callable[..., object]:
        return real_resolver

    monkeypatch.setattr(imglint.resolve, "make_resolver", make_resolver)


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_pin_writes_each_charts_convention(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = seeded.registry.host
    hex_1_0 = seeded.app_1_0.partition(":")[2]
    # Bitnami: a `digest` key takes `sha256:...`.
    bitnami = chart_copy(tmp_path, "bitnami-nginx")
    before = edit(
        bitnami / "values.yaml",
        (
            "  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.29.1-debian-12-r0\n",
            f'  registry: {host}\n  repository: team/app\n  tag: "1.0"\n',
        ),
    )
    # kube-prometheus-stack: `sha` takes bare hex.
    kps = chart_copy(tmp_path, "kube-prometheus-stack")
    kps_before = edit(
        kps / "values.yaml",
        (
            "  thanosImage:\n    registry: quay.io\n    repository: thanos/thanos\n"
            "    tag: v0.42.4\n",
            f"  thanosImage:\n    registry: {host}\n    repository: team/app\n    tag: '1.0'\n",
        ),
    )
    # podinfo: no digest key, the tag rendered verbatim: `tag: "1.0@sha256:..."`.
    podinfo = chart_copy(tmp_path, "podinfo")
    podinfo_before = edit(
        podinfo / "values.yaml",
        (
            "  repository: ghcr.io/stefanprodan/podinfo\n  tag: 6.14.1\n",
            f'  repository: {host}/team/app\n  tag: "1.0"\n',
        ),
    )
    # The charts' other images name public registries: kept away from the run (no network).
    config = tmp_path / "imglint.yaml"
    ignored = ["quay.io/*", "docker.io/*", "ghcr.io/*", "registry.k8s.io/*"]
    config.write_text(f"ignore-images: {json.dumps(ignored)}\n")
    for chart in (bitnami, kps, podinfo):
        code, out, _err = run(["--config", str(config), "--pin", str(chart)], capsys)
        assert code == 0 and "error" not in out, out
    assert (bitnami / "values.yaml").read_text() == before.replace(
        '  tag: "1.0"\n  digest: ""\n', f'  tag: "1.0"\n  digest: "{seeded.app_1_0}"\n'
    )
    assert (kps / "values.yaml").read_text() == kps_before.replace(
        "    tag: '1.0'\n    sha: \"\"\n", f"    tag: '1.0'\n    sha: \"{hex_1_0}\"\n"
    )
    assert (podinfo / "values.yaml").read_text() == podinfo_before.replace(
        '  tag: "1.0"\n', f'  tag: "1.0@{seeded.app_1_0}"\n'
    )


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_pin_diff_and_repin_in_values(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--diff shows the values edit and writes nothing; --pin keeps a digest it finds,
    --repin follows the tag (kube-prometheus-stack's bare-hex `sha`)."""
    host = seeded.registry.host
    kps = chart_copy(tmp_path, "kube-prometheus-stack")
    old_hex = seeded.moving_old.partition(":")[2]
    before = edit(
        kps / "values.yaml",
        (
            "  thanosImage:\n    registry: quay.io\n    repository: thanos/thanos\n"
            '    tag: v0.42.4\n    sha: ""\n',
            f"  thanosImage:\n    registry: {host}\n    repository: team/app\n"
            f"    tag: moving\n    sha: {old_hex}\n",
        ),
    )
    config = tmp_path / "imglint.yaml"
    ignored = ["quay.io/*", "docker.io/*", "ghcr.io/*", "registry.k8s.io/*"]
    config.write_text(f"ignore-images: {json.dumps(ignored)}\n")
    base = ["--config", str(config)]
    code, out, _err = run([*base, "--pin", str(kps)], capsys)
    assert (kps / "values.yaml").read_text() == before  # pinned already: --pin keeps it
    new_hex = seeded.moving_new.partition(":")[2]
    code, out, _err = run([*base, "--pin", "--repin", "--diff", str(kps)], capsys)
    assert code == 1
    assert f"-    sha: {old_hex}" in out and f"+    sha: {new_hex}" in out
    assert (kps / "values.yaml").read_text() == before
    code, out, _err = run([*base, "--pin", "--repin", str(kps)], capsys)
    assert (kps / "values.yaml").read_text() == before.replace(old_hex, new_hex)


# -- rendered output traced back to the values keys ------------------------------------------


def test_rendered_findings_name_the_values_key(capsys: pytest.CaptureFixture[str]) -> None:
    """`helm template shop podinfo -f podinfo-prod-values.yaml | imglint --stdin-filename
    podinfo --values podinfo-prod-values.yaml -`: the finding stays on the template (its
    identity and baseline key too) and names the values key its image came from."""
    rendered = (CHARTS / "rendered" / "podinfo-shop.yaml").read_text()
    chart = str(CHARTS / "podinfo")
    prod = str(CHARTS / "podinfo-prod-values.yaml")
    args = ["--stdin-filename", chart, "--values", prod, "-"]
    code, out, _err = run(args, capsys, stdin=rendered)
    assert code == 1
    [latest] = [line for line in out.splitlines() if "IMG002" in line]
    assert latest.startswith(f"{chart}/templates/redis/deployment.yaml:22:18: IMG002")
    assert latest.endswith(
        f"(Deployment shop-podinfo-redis, container redis) (from {prod}:6 redis.tag)"
    )

    code, out, _err = run(["--format", "json", *args], capsys, stdin=rendered)
    [finding] = [f for f in json.loads(out)["findings"] if f["code"] == "IMG002"]
    assert finding["path"] == f"{chart}/templates/redis/deployment.yaml"
    assert finding["declared_at"] == {"path": prod, "line": 6, "column": 8, "field": "redis.tag"}

    code, out, _err = run(["--format", "sarif", *args], capsys, stdin=rendered)
    log = json.loads(out)
    schema = json.loads(
        (Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text()
    )
    jsonschema.Draft4Validator(schema).validate(log)
    [result] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "IMG002"]
    [related] = result["relatedLocations"]
    assert related["physicalLocation"]["region"] == {"startLine": 6, "startColumn": 8}
    assert related["message"]["text"] == "the values key redis.tag declares this image"

    # Without the environment's file the chart's own values declare the rendered images: the
    # podinfo image rendered with tag 6.13.0 matches nothing there, so nothing is named.
    code, out, _err = run(
        ["--format", "json", "--stdin-filename", chart, "-"], capsys, stdin=rendered
    )
    assert all("declared_at" not in f for f in json.loads(out)["findings"])


def test_the_inventory_of_rendered_output_names_the_values_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--list-images` honours `--values` as findings do: each listed image names the values
    key that declared it, and a values file that is missing is an input error (exit 2)."""
    rendered = (CHARTS / "rendered" / "podinfo-shop.yaml").read_text()
    chart = str(CHARTS / "podinfo")
    prod = str(CHARTS / "podinfo-prod-values.yaml")
    args = ["--list-images", "--stdin-filename", chart, "--values", prod, "-"]
    code, out, err = run(args, capsys, stdin=rendered)
    assert (code, err) == (0, "")
    assert [line.split()[0] + " " + line.split("  ")[-1] for line in out.splitlines()] == [
        f"{chart}/templates/deployment.yaml:31:18 (from {prod}:2 image)",
        f"{chart}/templates/redis/deployment.yaml:22:18 (from {prod}:4 redis)",
    ]
    code, out, err = run(["--format", "json", *args], capsys, stdin=rendered)
    assert (code, err) == (0, "")
    assert [(i["path"], i["declared_at"]) for i in json.loads(out)["images"]] == [
        (
            f"{chart}/templates/deployment.yaml",
            {"path": prod, "line": 2, "column": 1, "field": "image"},
        ),
        (
            f"{chart}/templates/redis/deployment.yaml",
            {"path": prod, "line": 4, "column": 1, "field": "redis"},
        ),
    ]
    # The chart's own values render neither image (other tags): nothing is named.
    code, out, _err = run(
        ["--list-images", "--format", "json", "--stdin-filename", chart, "-"],
        capsys,
        stdin=rendered,
    )
    assert code == 0 and all("declared_at" not in i for i in json.loads(out)["images"])
    code, out, err = run(
        ["--list-images", "--stdin-filename", chart, "--values", "no-such.yaml", "-"],
        capsys,
        stdin=rendered,
    )
    assert code == 2 and len(out.splitlines()) == 2
    assert err == "imglint: error: no-such.yaml: --values: no such file\n"


def test_values_needs_rendered_stdin_and_a_missing_file_is_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rendered = (CHARTS / "rendered" / "podinfo-shop.yaml").read_text()
    chart = str(CHARTS / "podinfo")
    code, _out, err = run(["--values", "x.yaml", chart], capsys)
    assert code == 2 and "--values traces rendered stdin to its values: add -" in err
    code, _out, err = run(["--values", "x.yaml", "-"], capsys, stdin=rendered)
    assert code == 2 and "--values needs --stdin-filename CHART_FOLDER" in err
    code, out, _err = run(
        ["--stdin-filename", chart, "--values", "no-such.yaml", "-"], capsys, stdin=rendered
    )
    assert code == 2
    assert "no-such.yaml: error: --values: no such file" in out
