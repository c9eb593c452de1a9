"""kustomize `images:` entries linted where they are written: sites at the entry's keys, the
reference kustomize writes (compared with `kubectl kustomize`), IMG015, what kustomize refuses,
Flux and Argo CD entries, `--pin` (against the real local registry) and `--fix`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from tests.cli_runner import run
from tests.kustomize_tool import kustomize_build
from tests.regserver import Seeded

if TYPE_CHECKING:
    from imglint.sites import ImageSite

REAL = Path(__file__).parent / "fixtures" / "kustomize-real"
_WHERE = re.compile(r"^(\S+:\d+:\d+): (IMG\d{3}) ")


def located(text_output: str) -> list[tuple[str, ...]]:
    return [m.groups() for line in text_output.splitlines() if (m := _WHERE.match(line))]


BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
      - name: cache
        image: docker.io/library/redis:7
      - name: api
        image: registry.example.com/shop/api:1.4
"""
OVERLAY = """\
resources:
- ../../base
images:
- name: nginx
  newTag: latest
- name: redis
  newTag: "7.2"
- name: registry.example.com/shop/api
  newName: registry.example.com/shop/api-v2
- name: registry.example.com/shop/api-v2
  tagSuffix: -fips
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (tmp_path / "base" / "deployment.yaml").write_text(BASE)
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    (tmp_path / "overlays" / "prod" / "kustomization.yaml").write_text(OVERLAY)
    return tmp_path


def test_findings_land_on_the_entry_keys(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--select", "IMG002,IMG015", "base", "overlays"], capsys)
    assert err == ""
    assert code == 1
    assert located(out) == [
        ("overlays/prod/kustomization.yaml:5:11", "IMG002"),  # newTag: latest
        ("overlays/prod/kustomization.yaml:6:3", "IMG015"),  # redis: the base writes it in full
    ]
    assert 'they write "docker.io/library/redis" (kustomize compares names as written)' in out


def _listed(capsys: pytest.CaptureFixture[str], *paths: str) -> list[dict[str, object]]:
    code, out, _err = run(["--list-images", "--format", "json", *paths], capsys)
    assert code == 0
    images: list[dict[str, object]] = json.loads(out)["images"]
    return images


def test_listed_references_are_what_kubectl_kustomize_writes(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = [
        (item["line"], item["image"])
        for item in _listed(capsys, "base", "overlays")
        if str(item["path"]).startswith("overlays")
    ]
    assert listed == [
        (4, "nginx:latest"),
        (6, "redis:7.2"),  # matches nothing (IMG015): what it would write
        (8, "registry.example.com/shop/api-v2:1.4"),  # the base's tag
        (10, "registry.example.com/shop/api-v2:1.4-fips-fips"),  # both walks append it
    ]
    built = yaml.safe_load(kustomize_build(Path("overlays/prod")))
    written = {c["image"] for c in built["spec"]["template"]["spec"]["containers"]}
    assert written == {
        "nginx:latest",
        "docker.io/library/redis:7",
        "registry.example.com/shop/api-v2:1.4-fips-fips",
    }
    # Every entry that matched lists what kustomize wrote in its step.
    assert {"nginx:latest", "registry.example.com/shop/api-v2:1.4-fips-fips"} <= {
        image for _line, image in listed
    }


def test_a_folder_walk_reads_kustomization_files_named_kustomization(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kustomize reads `Kustomization` (no suffix) as it reads `kustomization.yaml`
    (konfig.RecognizedKustomizationFileNames): a walk finds it, and the entries build the same."""
    for folder in ("base", "overlays/prod"):
        (tree / folder / "kustomization.yaml").rename(tree / folder / "Kustomization")
    listed = [
        (item["path"], item["line"], item["image"])
        for item in _listed(capsys, "base", "overlays")
        if item["path"] != "base/deployment.yaml"
    ]
    assert listed == [
        ("overlays/prod/Kustomization", 4, "nginx:latest"),
        ("overlays/prod/Kustomization", 6, "redis:7.2"),
        ("overlays/prod/Kustomization", 8, "registry.example.com/shop/api-v2:1.4"),
        ("overlays/prod/Kustomization", 10, "registry.example.com/shop/api-v2:1.4-fips-fips"),
    ]
    built = yaml.safe_load(kustomize_build(Path("overlays/prod")))
    assert {c["image"] for c in built["spec"]["template"]["spec"]["containers"]} == {
        "nginx:latest",
        "docker.io/library/redis:7",
        "registry.example.com/shop/api-v2:1.4-fips-fips",
    }
    code, out, err = run(["--select", "IMG002,IMG015", "base", "overlays"], capsys)
    assert (code, err) == (1, "")
    assert located(out) == [
        ("overlays/prod/Kustomization:5:11", "IMG002"),
        ("overlays/prod/Kustomization:6:3", "IMG015"),
    ]


def test_without_the_base_the_tag_is_not_guessed(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["-v", "--select", "IMG002,IMG003,IMG015", "overlays"], capsys)
    assert located(out) == [("overlays/prod/kustomization.yaml:5:11", "IMG002")]
    assert code == 1
    assert (
        "not checked against its bases: the kustomization in base/ is not among the linted files"
        in err
    )
    listed = _listed(capsys, "overlays")
    pending = next(i for i in listed if i["line"] == 8)
    assert pending["image"] == "registry.example.com/shop/api-v2:<base tag>"
    assert pending["placeholder"] == "tag from the base image"


def test_helm_charts_leave_an_entry_unjudged_saying_what_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`helmCharts[].valuesInline` images are linted where written; what the chart renders
    beyond them (its templates, its own values) is not at hand, so entries are not judged."""
    monkeypatch.chdir(tmp_path)
    Path("kustomization.yaml").write_text(
        "helmCharts:\n"
        "  - name: podinfo\n"
        "    repo: https://stefanprodan.github.io/podinfo\n"
        "    valuesInline:\n"
        "      redis: {enabled: true, repository: docker.io/redis, tag: 7.2.4}\n"
        "images:\n"
        "  - name: ghcr.io/stefanprodan/podinfo\n"
        "    newTag: 6.14.1\n"
    )
    code, out, err = run(["-v", "--select", "IMG015", "."], capsys)
    assert code == 0 and located(out) == []
    assert (
        'imglint: kustomization.yaml:7: images entry "ghcr.io/stefanprodan/podinfo": not '
        "checked against its bases: kustomization.yaml: helmCharts: its Helm charts render "
        "images from their templates and own values, which are not at hand (only valuesInline "
        "is read)"
    ) in err.splitlines()
    listed = [(i["line"], i["image"]) for i in _listed(capsys, ".")]
    assert listed == [(5, "docker.io/redis:7.2.4"), (7, "ghcr.io/stefanprodan/podinfo:6.14.1")]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- name: nginx\n  newTag: 1.20\n",
            "kustomize refuses newTag: 1.20 is a number there (quote it)",
        ),
        ("- name: nginx\n  newTage: '1'\n", 'kustomize refuses the unknown field "newTage"'),
    ],
)
def test_what_kustomize_refuses_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, message: str
) -> None:
    path = tmp_path / "kustomization.yaml"
    path.write_text("images:\n" + entry)
    code, out, _err = run([str(path)], capsys)
    assert code == 2
    assert f"{path}:3:" in out and message in out


def test_an_entry_writing_an_image_over_4096_characters_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The limit pod images have (imglint.extract.sink.MAX_IMAGE_CHARS), at the entry; the
    file's other entries are still read."""
    path = tmp_path / "kustomization.yaml"
    path.write_text(
        f"images:\n- name: nginx\n  newTag: \"{'1' * 4090}\"\n- name: redis\n  newTag: '7.2'\n"
    )
    code, out, _err = run(["--select", "IMG015", str(path)], capsys)
    assert (code, "error:" in out) == (0, False)  # `nginx:` and 4,090: at the limit, not over
    path.write_text(path.read_text().replace("1" * 4090, "1" * 4091))
    code, out, err = run(["--list-images", str(path)], capsys)
    assert code == 2
    assert err.splitlines()[0] == (
        f"imglint: error: {path}:2:3: images entry writes an image 4,097 characters long, not "
        "an image reference"
    )
    assert [line.split()[0] for line in out.splitlines()] == [f"{path}:4:3"]


def test_flux_and_argo_cd_entries_as_their_controllers_read_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flux = _listed(capsys, str(REAL / "flux"))
    assert [(i["line"], i["image"], i["placeholder"]) for i in flux] == [
        (16, "my-registry/podinfo:v1", None),
        (19, "podinfo:1.8.0", None),
        (21, "my-podinfo:<base tag>", "tag from the base image"),
        (
            23,
            "podinfo@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
            None,
        ),
    ]
    argo = _listed(capsys, str(REAL / "argo-cd"))
    assert [(i["line"], i["image"]) for i in argo] == [
        (72, "gcr.io/heptio-images/ks-guestbook-demo:0.2")
    ]


def test_real_component_entries(capsys: pytest.CaptureFixture[str]) -> None:
    demo = REAL / "microservices-demo" / "kustomize"
    listed = _listed(capsys, str(demo / "components" / "container-images-tag"))
    assert len(listed) == 11
    assert all(str(i["image"]).endswith(":CONTAINER_IMAGES_TAG") for i in listed)


# -- fixes ----------------------------------------------------------------------------------


@pytest.fixture
def cli_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    import imglint.registry
    from tests.test_pin import real_resolver

    monkeypatch.setattr(
        imglint.registry, "make_resolver", lambda *a, **k: real_resolver, raising=False
    )


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_pinned_entries_build_to_name_tag_digest(
    seeded: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    app = seeded.ref("team/app")
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (tmp_path / "base" / "deployment.yaml").write_text(BASE.replace("nginx:1.25", f"{app}:2.0"))
    overlay = tmp_path / "overlays" / "prod" / "kustomization.yaml"
    overlay.parent.mkdir(parents=True)
    original = (
        "resources:\n"
        "- ../../base\n"
        "images:\n"
        f"- name: {app}   # the app\n"
        '  newTag: "1.0"  # pinned below\n'
        f"- {{name: {seeded.ref('library/nginx')}, newTag: '1.25'}}\n"
    )
    overlay.write_text(original)
    code, out, _err = run(["--pin", "--diff", "overlays"], capsys)
    assert code == 1
    assert f"+  digest: {seeded.app_1_0}" in out
    assert overlay.read_text() == original
    code, _out, err = run(["--pin", "overlays"], capsys)
    assert (code, err) == (0, "imglint: rewrote 2 image references in 1 file\n")
    assert overlay.read_text() == (
        "resources:\n"
        "- ../../base\n"
        "images:\n"
        f"- name: {app}   # the app\n"
        '  newTag: "1.0"  # pinned below\n'
        f"  digest: {seeded.app_1_0}\n"
        f"- {{name: {seeded.ref('library/nginx')}, newTag: '1.25', digest: {seeded.nginx_1_25}}}\n"
    )
    built = yaml.safe_load(kustomize_build(Path("overlays/prod")))
    images = [c["image"] for c in built["spec"]["template"]["spec"]["containers"]]
    assert images[0] == f"{app}:1.0@{seeded.app_1_0}"
    # Pinning again changes nothing: the digest is there.
    code, out, _err = run(["--pin", "--diff", "overlays"], capsys)
    assert (code, out) == (0, "")


def test_fix_leaves_a_base_image_an_entry_matches_by_name(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, out, err = run(["--fix", "--diff", "base", "overlays"], capsys)
    assert (
        "imglint: error: base/deployment.yaml:10:16: cannot rewrite nginx:1.25 safely: "
        "renaming it would unhook what matches it by this name, "
        'overlays/prod/kustomization.yaml:4 (images entry "nginx"): rename both together'
    ) in err
    assert "overlays/prod/kustomization.yaml:4" in err
    assert "-        image: nginx:1.25" not in out
    # The entry itself gains the explicit name kustomize will write.
    assert "+  newName: docker.io/library/nginx" in out


APPLICATION_SET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: shop
spec:
  generators:
  - list:
      elements:
      - env: prod
        tag: "1.4"
  template:
    metadata:
      name: 'shop-{{env}}'
    spec:
      project: default
      sources:
      - repoURL: https://github.com/example/deploy
        path: 'overlays/{{env}}'
        kustomize:
          images:
          - 'shop=registry.example.com/shop:{{tag}}'
          - registry.example.com/tools:latest
          - name: shop
            newTag: '1.4'
          - nginx
      destination:
        server: https://kubernetes.default.svc
"""


def test_argo_cd_application_set_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "appset.yaml"
    path.write_text(APPLICATION_SET)
    code, out, _err = run(["--select", "IMG002", str(path)], capsys)
    assert code == 2
    assert f"{path}:22:13: IMG002" in out  # registry.example.com/tools:latest
    assert (
        f"{path}:23:13: error: Argo CD's kustomize.images are strings: "
        "[NAME=]NEWNAME[:TAG][@DIGEST]"
    ) in out
    assert f'{path}:25:13: error: "nginx" is refused by `kustomize edit set image`' in out
    listed = _listed_any(capsys, str(path))
    assert [(i["line"], i["image"], i["placeholder"]) for i in listed] == [
        (21, "registry.example.com/shop:{{tag}}", "template placeholder"),
        (22, "registry.example.com/tools:latest", None),
    ]


def _listed_any(capsys: pytest.CaptureFixture[str], *paths: str) -> list[dict[str, object]]:
    _code, out, _err = run(["--list-images", "--format", "json", *paths], capsys)
    images: list[dict[str, object]] = json.loads(out)["images"]
    return images


@pytest.mark.registry
@pytest.mark.usefixtures("cli_resolver")
def test_pinning_an_entry_that_keeps_the_base_tag_writes_the_tag_too(
    seeded: Seeded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`newName` alone keeps the base's tag; a digest alone would drop it, so the pin writes
    `newTag` with the base's tag and `digest`, and kustomize builds name:tag@digest."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- pod.yaml\n")
    (tmp_path / "base" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        f"  - name: a\n    image: {seeded.ref('team/armonly:1.0')}\n"
    )
    overlay = tmp_path / "overlay" / "kustomization.yaml"
    overlay.parent.mkdir()
    overlay.write_text(
        "resources:\n- ../base\nimages:\n"
        f"- name: {seeded.ref('team/armonly')}\n  newName: {seeded.ref('team/app')}\n"
    )
    code, out, err = run(["--pin", "base", "overlay"], capsys)
    assert (code, err) == (0, "imglint: rewrote 2 image references in 2 files\n"), out
    assert overlay.read_text().endswith(
        f'  newName: {seeded.ref("team/app")}\n  newTag: "1.0"\n  digest: {seeded.app_1_0}\n'
    )
    built = yaml.safe_load(kustomize_build(Path("overlay")))
    assert (
        built["spec"]["containers"][0]["image"] == f"{seeded.ref('team/app')}:1.0@{seeded.app_1_0}"
    )


def test_an_entry_writing_several_references_is_left_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (tmp_path / "base" / "deployment.yaml").write_text(
        BASE.replace("docker.io/library/redis:7", "nginx:1.27")
    )
    overlay = tmp_path / "overlay" / "kustomization.yaml"
    overlay.parent.mkdir()
    overlay.write_text("resources:\n- ../base\nimages:\n- name: nginx\n  newName: mirror/nginx\n")
    _code, out, err = run(["--fix", "--diff", "base", "overlay"], capsys)
    assert "overlay/kustomization.yaml" not in out
    assert (
        "overlay/kustomization.yaml:4:3: cannot rewrite mirror/nginx:1.25 safely: the entry "
        "writes 2 references over its bases (mirror/nginx:1.25, mirror/nginx:1.27)"
    ) in err


HELM = Path(__file__).parent / "fixtures" / "kustomize-helm"


def test_entries_rewrite_what_their_helm_charts_render(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """kustomize runs a kustomization's chart generators before its transformers, so its
    `images:` entries (and an overlay's above it) rewrite the images of `valuesInline` too:
    those entries are used, the value an entry of the same kustomization rewrites is never
    deployed as written (`tag: latest` under `newTag: 6.9.1` is no finding), and a tag the
    entry keeps is reported where the values write it."""
    monkeypatch.chdir(HELM)
    code, out, err = run(["-v", "base", "overlays"], capsys)
    assert located(out) == [("base/kustomization.yaml:18:14", "IMG002")]  # redis tag: latest
    assert 'image "mirror.gcr.io/library/redis:latest" uses the tag "latest"' in out
    assert code == 1
    not_checked = [line for line in err.splitlines() if "not checked against its bases" in line]
    # Only the entry that matches no valuesInline image is left unjudged (the chart's templates
    # may still write it); the others matched, so they are used.
    assert not_checked == [
        'imglint: overlays/prod/kustomization.yaml:10: images entry "docker.io/library/redis": '
        "not checked against its bases: base/kustomization.yaml: helmCharts: its Helm charts "
        "render images from their templates and own values, which are not at hand (only "
        "valuesInline is read)"
    ]
    code, out, _err = run(["--list-images", "--format", "json", "base", "overlays"], capsys)
    listed = [
        (item["path"], item["line"], item["image"], item["placeholder"], item["value_line"])
        for item in json.loads(out)["images"]
    ]
    rewritten = 'rewritten by images entry "{}"'
    assert listed == [
        (
            "base/kustomization.yaml",
            11,
            "ghcr.io/stefanprodan/podinfo:6.9.1",
            rewritten.format("ghcr.io/stefanprodan/podinfo"),
            20,
        ),
        (
            "base/kustomization.yaml",
            15,
            "mirror.gcr.io/library/redis:latest",
            rewritten.format("redis"),
            22,
        ),
        ("base/kustomization.yaml", 20, "ghcr.io/stefanprodan/podinfo:6.9.1", None, None),
        ("base/kustomization.yaml", 22, "mirror.gcr.io/library/redis:latest", None, None),
        ("overlays/prod/kustomization.yaml", 6, "ghcr.io/stefanprodan/podinfo:6.9.2", None, None),
        (
            "overlays/prod/kustomization.yaml",
            8,
            "mirror.gcr.io/library/redis:7.2.4-alpine",
            None,
            None,
        ),
        ("overlays/prod/kustomization.yaml", 10, "docker.io/library/redis:7.2", None, None),
    ]


def test_a_helm_value_only_an_overlay_rewrites_is_linted_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The base can be built on its own (and deploys `tag: latest` then), as any base file:
    its value is linted as written; the overlay's entry matches it, so it is not unjudged."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "kustomization.yaml").write_text(
        "helmCharts:\n"
        "  - name: podinfo\n"
        "    repo: https://stefanprodan.github.io/podinfo\n"
        "    valuesInline:\n"
        "      image:\n"
        "        repository: ghcr.io/stefanprodan/podinfo\n"
        "        tag: latest\n"
    )
    (tmp_path / "prod").mkdir()
    (tmp_path / "prod" / "kustomization.yaml").write_text(
        "resources: [../base]\nimages:\n  - name: ghcr.io/stefanprodan/podinfo\n"
        "    newName: mirror.example.com/podinfo\n"
    )
    code, out, err = run(["-v", "--select", "IMG002,IMG015", "base", "prod"], capsys)
    assert located(out) == [
        ("base/kustomization.yaml:7:14", "IMG002"),  # as written
        ("prod/kustomization.yaml:3:5", "IMG002"),  # what the entry writes: in another file
    ]
    assert code == 1
    assert "not checked against its bases" not in err
    listed = [(i["path"], i["line"], i["image"]) for i in _listed(capsys, "base", "prod")]
    assert listed == [
        ("base/kustomization.yaml", 5, "ghcr.io/stefanprodan/podinfo:latest"),
        ("prod/kustomization.yaml", 3, "mirror.example.com/podinfo:latest"),
    ]


FIXTURES = Path(__file__).parent / "fixtures"


def _kustomization_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.name in ("kustomization.yaml", "kustomization.yml", "Kustomization")
    )


def test_the_reader_keeps_what_each_kustomization_names_as_the_tree_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading a kustomization file keeps what it names (resources, components, patch and
    configuration files), from the document it composed: settling groups kustomizations by
    it, and finds the users of components and the `configurations:` of the set, without
    composing them again. Every kustomization of the fixtures, real ones from public
    repositories among them, read as the Tree reads it."""
    from imglint.kustomize_sites import kustomization_groups
    from imglint.kustomize_tree import KustomizationLinks, Tree, path_key
    from imglint.manifests import load, read_source
    from imglint.sources import collect

    monkeypatch.chdir(FIXTURES)
    files = _kustomization_files(FIXTURES)
    assert len(files) > 20
    sources = collect([str(FIXTURES)]).sources
    known: dict[str, KustomizationLinks] = {}
    for source in sources:
        known.update(read_source(source).kustomization_links)
    tree = Tree(sources)
    kustomizations = [s for s in sources if s.file_path and Path(s.path) in files]
    assert len(kustomizations) == len(files) == len(known)
    for source in kustomizations:
        assert source.file_path is not None
        real = path_key(source.file_path)
        links = known[real]
        assert list(links.references) == tree.references(real), real
        found = tree.kustomization(real)
        folder = os.path.dirname(real)
        for names, keys in (
            (found.resources if found else [], links.resources),
            (found.components if found else [], links.components),
            (found.patch_files if found else [], links.patches),
            (found.configurations if found else [], links.configurations),
        ):
            assert [path_key(os.path.join(folder, name)) for name in names] == list(keys), real
    assert sum(bool(links.references) for links in known.values()) >= 20
    assert sum(bool(links.components) for links in known.values()) >= 3
    assert any(links.configurations for links in known.values())
    assert kustomization_groups(sources, known) == kustomization_groups(sources)
    # Settling takes them; the run keeps them no longer.
    assert load(sources).kustomization_links == {}


MERGED_OVERLAY = """\
.shared: &shared
  resources:
  - ../base
<<: *shared
images:
- name: nginx
  newName: mirror.example.com/nginx
"""


@pytest.mark.parametrize(
    "overlay",
    [
        MERGED_OVERLAY,  # merge keys: expanded in place by the reader, not by the Tree
        OVERLAY + "{{ .Values.x }}: 1\n",  # composes, but fails to read (a template line)
        OVERLAY + "---\n" + OVERLAY,  # a second document
        "",  # no document at all
        "---\n- a list\n",  # not a kustomization
    ],
)
def test_groups_are_those_of_the_composed_kustomizations(
    overlay: str, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the reader could not take a kustomization's references as the Tree reads them
    (merge keys expanded, a file that fails to read), settling composes it for them: the
    groups are always those the composed files give."""
    from imglint.kustomize_sites import kustomization_groups
    from imglint.kustomize_tree import KustomizationLinks, path_key
    from imglint.manifests import read_source
    from imglint.sources import collect

    (tree / "overlays" / "prod" / "kustomization.yaml").write_text(overlay)
    sources = collect(["base", "overlays"]).sources
    known: dict[str, KustomizationLinks] = {}
    for source in sources:
        known.update(read_source(source).kustomization_links)
    overlay_key = path_key("overlays/prod/kustomization.yaml")
    if overlay == MERGED_OVERLAY or "{{" in overlay:
        assert overlay_key not in known
    else:
        assert overlay_key in known
    assert path_key("base/kustomization.yaml") in known
    groups = kustomization_groups(sources, known)
    assert groups == kustomization_groups(sources)
    together = groups[overlay_key] == groups[path_key("base/kustomization.yaml")]
    assert together == overlay.startswith("resources:")  # (the merged one: not as composed)


def _read_and_settle(paths: list[str], with_links: bool) -> tuple[list[ImageSite], list[str], int]:
    """The sites of `paths` read and settled, with the links the reader kept or (without
    them) composing every kustomization to know them; and how many links the reader kept."""
    from imglint import kustomize_sites
    from imglint.kustomize_tree import KustomizationLinks
    from imglint.manifests import read_source
    from imglint.sources import collect

    sources = collect(paths).sources
    sites = []
    known: dict[str, KustomizationLinks] = {}
    for source in sources:
        part = read_source(source)
        sites.extend(part.sites)
        known.update(part.kustomization_links)
    result, details = kustomize_sites.settle(sites, sources, None, known if with_links else None)
    return result, details, len(known)


def test_settling_with_the_reader_s_links_settles_as_composing_every_kustomization(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Settling every entry and chart value of the fixtures with the links the reader kept
    (components' users, `configurations:` files, groups) gives what settling gives when it
    composes every kustomization to know them."""

    monkeypatch.chdir(FIXTURES)

    def settled(with_links: bool) -> tuple[list[tuple[object, ...]], list[str]]:
        result, details, _ = _read_and_settle([str(FIXTURES)], with_links)
        shown: list[tuple[object, ...]] = [
            (
                s.path,
                s.span,
                s.image,
                s.placeholder,
                s.unmatched,
                s.error,
                str(s.reference),
                s.value_checked_at,
                s.components,
                s.rewrite is not None,
            )
            for s in result
        ]
        return shown, details

    with_links, composed = settled(True), settled(False)
    assert with_links == composed
    sites, details = with_links
    assert any(str(site[3]).startswith("rewritten by images entry") for site in sites)
    assert any("uses this component" in detail for detail in details)


COMPONENT = """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
images:
- name: nginx
  newName: mirror.example.com/nginx
"""
CUSTOM_APP = """\
apiVersion: example.com/v1
kind: MyApp
metadata:
  name: shop
spec:
  runner: nginx:1.24
"""


def test_a_component_s_entry_over_an_image_field_a_configuration_declares(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A component's entry runs in each kustomization that uses it, over the image fields
    that kustomization's `configurations:` declare too (a key no default spec ends in, so the
    bases' documents that hold it are composed): settled so with the links the reader kept,
    as when every kustomization is composed to know its users and configurations."""

    (tree / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n- app.yaml\n")
    (tree / "base" / "app.yaml").write_text(CUSTOM_APP)
    (tree / "comp").mkdir()
    (tree / "comp" / "kustomization.yaml").write_text(COMPONENT)
    (tree / "overlays" / "prod" / "kustomization.yaml").write_text(
        "resources:\n- ../../base\ncomponents:\n- ../../comp\nconfigurations:\n- images.yaml\n"
    )
    (tree / "overlays" / "prod" / "images.yaml").write_text(
        "images:\n- path: spec/runner\n  kind: MyApp\n"
    )

    def settled(with_links: bool) -> list[str]:
        result, _, links = _read_and_settle(["base", "comp", "overlays"], with_links)
        assert links == 3
        return [site.image for site in result if site.origin == "kustomize"]

    written = ["mirror.example.com/nginx:1.25", "mirror.example.com/nginx:1.24"]
    assert settled(True) == settled(False) == written
