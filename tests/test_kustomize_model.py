"""imglint.kustomize against the real kustomize: every modelled value compared with what
`kubectl kustomize` writes.

Each case is a small kustomization (an object with image fields, one or more `images:`
entries, maybe `configurations:`). All cases are built in one `kubectl kustomize` run (a top
kustomization listing one folder per case, so each case's entries apply to its own objects
only), then every image field the model says kustomize rewrites is compared, value for value,
and every other image field must be left as written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from imglint import kustomize
from imglint.kustomize import ImageOverride, apply_all, image_fields, split
from tests.kustomize_tool import kustomize_build, kustomize_version

DIGEST = "sha256:" + "1" * 64
OTHER_DIGEST = "sha256:" + "2" * 64


def deployment(*images: str) -> str:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "NAME"},
        "spec": {"template": {"spec": {"containers": containers}}},
    }
    return json.dumps(doc)


# (case id, objects (NAME is replaced by a per-case name), entries, configuration file or None)
Case = tuple[str, str, list[dict[str, str]], str | None]
CASES: list[Case] = [
    (
        "new-tag",
        deployment("nginx:1.0", "nginx", f"nginx@{DIGEST}"),
        [{"name": "nginx", "newTag": "1.25"}],
        None,
    ),
    (
        "new-tag-and-digest",
        deployment("nginx:1.0"),
        [{"name": "nginx", "newTag": "1.25", "digest": DIGEST}],
        None,
    ),
    (
        "digest-alone-drops-tag",
        deployment("nginx:1.0", f"nginx:1.0@{OTHER_DIGEST}"),
        [{"name": "nginx", "digest": DIGEST}],
        None,
    ),
    (
        "new-name-keeps-tag",
        deployment("nginx:1.0", "nginx", f"nginx:1@{DIGEST}"),
        [{"name": "nginx", "newName": "registry.example.com/web/nginx"}],
        None,
    ),
    (
        "new-name-and-tag",
        deployment("nginx:1.0"),
        [{"name": "nginx", "newName": "ghcr.io/o/web", "newTag": "2"}],
        None,
    ),
    (
        "name-with-registry-differs",
        deployment("docker.io/library/redis:7", "redis:7", "library/redis"),
        [{"name": "redis", "newTag": "7.2"}],
        None,
    ),
    (
        "name-with-registry-matches",
        deployment("docker.io/library/redis:7", "redis:7"),
        [{"name": "docker.io/library/redis", "newTag": "7.2"}],
        None,
    ),
    (
        "registry-port",
        deployment("localhost:5000/app:1", "localhost:5000/app", f"localhost:5000/app@{DIGEST}"),
        [{"name": "localhost:5000/app", "newTag": "2"}],
        None,
    ),
    (
        "registry-port-new-name",
        deployment("localhost:5000/app:1"),
        [{"name": "localhost:5000/app", "newName": "registry.example.com:443/team/app"}],
        None,
    ),
    (
        "dot-is-a-wildcard",
        deployment("abc:1", "a.c:1", "axc"),
        [{"name": "a.c", "newTag": "dot"}],
        None,
    ),
    (
        "regex-name",
        deployment("app-one:1", "app-two:1", "other:1"),
        [{"name": "app-.*", "newTag": "re"}],
        None,
    ),
    (
        "regex-alternation",
        deployment("alpha:1", "beta:1", "alphabet:1"),
        [{"name": "alpha|beta", "newTag": "alt"}],
        None,
    ),
    (
        "name-with-tag",
        deployment("nginx:1.0", "nginx:1.1"),
        [{"name": "nginx:1.0", "newName": "x"}],
        None,
    ),
    (
        "prefix-is-no-match",
        deployment("nginx-exporter:1", "my-nginx:1"),
        [{"name": "nginx", "newTag": "no"}],
        None,
    ),
    (
        "tag-suffix-twice-where-two-walks-select",
        deployment("nginx:1.0", "nginx", f"nginx:1@{DIGEST}"),
        [{"name": "nginx", "tagSuffix": "-x"}],
        None,
    ),
    (
        "tag-suffix-ignored-with-new-tag",
        deployment("nginx:1.0"),
        [{"name": "nginx", "newTag": "2", "tagSuffix": "-x"}],
        None,
    ),
    (
        "entries-in-order",
        deployment("nginx:1.0", "web:1"),
        [{"name": "nginx", "newName": "web"}, {"name": "web", "newTag": "9"}],
        None,
    ),
    (
        "later-entry-same-name",
        deployment("nginx:1.0"),
        [{"name": "nginx", "newTag": "a"}, {"name": "nginx", "newTag": "b"}],
        None,
    ),
    (
        "empty-strings-are-unset",
        deployment("nginx:1.0"),
        [{"name": "nginx", "newName": "", "newTag": "", "digest": DIGEST}],
        None,
    ),
    ("name-only-does-nothing", deployment("nginx:1.0"), [{"name": "nginx"}], None),
    (
        "tag-with-braces",
        deployment("app:{STABLE_TAG}", "app:v1.2_3"),
        [{"name": "app", "newName": "reg.example.com/app"}],
        None,
    ),
    ("uppercase-is-kept", deployment("App:1"), [{"name": "App", "newTag": "2"}], None),
    (
        "pod-init-and-nested-containers",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "NAME"},
                "spec": {
                    "initContainers": [{"name": "i", "image": "busybox:1"}],
                    "containers": [{"name": "c", "image": "busybox"}],
                    "ephemeralContainers": [{"name": "e", "image": "busybox:1"}],
                },
            }
        ),
        [
            {"name": "busybox", "newTag": "1.36", "tagSuffix": "-s"},
            {"name": "busybox", "tagSuffix": "-glibc"},
        ],
        None,
    ),
    (
        "custom-resource-legacy-walk-only",
        json.dumps(
            {
                "apiVersion": "example.com/v1",
                "kind": "Runner",
                "metadata": {"name": "NAME"},
                "spec": {
                    "pipeline": {"stages": [{"containers": [{"image": "nginx:1"}]}]},
                    "runLatest": {"container": {"image": "nginx:1"}},
                    "template": {"spec": {"containers": [{"name": "a", "image": "nginx:2"}]}},
                },
            }
        ),
        [{"name": "nginx", "tagSuffix": "-cr"}],
        None,
    ),
    (
        "configurations-custom-field",
        json.dumps(
            {
                "apiVersion": "example.com/v1",
                "kind": "Runner",
                "metadata": {"name": "NAME"},
                "spec": {
                    "runLatest": {"container": {"image": "nginx:1"}},
                    "builder": {"image": "nginx:1"},
                    "steps": [{"image": "nginx:3"}, {"image": "nginx:4"}],
                },
            }
        ),
        [{"name": "nginx", "newName": "mirror.example.com/nginx", "tagSuffix": "-c"}],
        "images:\n- path: spec/runLatest/container/image\n  kind: Runner\n"
        "- path: spec/steps[]/image\n  group: example.com\n"
        "- path: spec/builder/image\n  kind: Other\n",
    ),
    (
        "crd-is-never-touched",
        json.dumps(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "NAME.example.com"},
                "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx:1"}]}}},
            }
        ),
        [{"name": "nginx", "newTag": "2"}],
        None,
    ),
    (
        "image-volume",
        json.dumps(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "NAME"},
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "a", "image": "nginx:1"}],
                            "volumes": [{"name": "v", "image": {"reference": "nginx:1"}}],
                        }
                    }
                },
            }
        ),
        [{"name": "nginx", "newTag": "2"}],
        None,
    ),
]


def _field_specs() -> tuple[kustomize.FieldSpec, ...]:
    specs = kustomize.DEFAULT_FIELD_SPECS
    if kustomize_version() >= (5, 6, 0):
        specs += kustomize.VOLUME_FIELD_SPECS
    return specs


def _config_specs(text: str | None) -> tuple[kustomize.FieldSpec, ...]:
    if text is None:
        return ()
    return tuple(
        kustomize.FieldSpec(s["path"], s.get("kind", ""), s.get("group", ""), s.get("version", ""))
        for s in yaml.safe_load(text)["images"]
    )


def _walk(doc: Any, path: str) -> Any:
    node = doc
    for part in path.replace("[", ".[").split("."):
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


def _all_images(node: Any, path: str = "") -> dict[str, str]:
    """Every `image`/`reference` string of a plain object, by path (to check the untouched)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            inner = f"{path}.{key}" if path else key
            if key in ("image", "reference") and isinstance(value, str):
                found[inner] = value
            found.update(_all_images(value, inner))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.update(_all_images(item, f"{path}[{index}]"))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every case built by the real kustomize: {object name: its rendered object}."""
    root = tmp_path_factory.mktemp("kustomize-model")
    folders = []
    for number, (_case, objects, entries, configuration) in enumerate(CASES):
        folder = root / f"case{number}"
        folder.mkdir()
        (folder / "objects.yaml").write_text(objects.replace("NAME", f"case{number}"))
        kustomization: dict[str, Any] = {"resources": ["objects.yaml"], "images": entries}
        if configuration is not None:
            (folder / "images-config.yaml").write_text(configuration)
            kustomization["configurations"] = ["images-config.yaml"]
        (folder / "kustomization.yaml").write_text(json.dumps(kustomization))
        folders.append(folder.name)
    (root / "kustomization.yaml").write_text(json.dumps({"resources": folders}))
    output = kustomize_build(root)
    return {doc["metadata"]["name"].split(".")[0]: doc for doc in yaml.safe_load_all(output)}


@pytest.mark.parametrize(("number", "case"), list(enumerate(CASES)), ids=[c[0] for c in CASES])
def test_model_writes_what_kustomize_writes(built: dict[str, Any], number: int, case: Case) -> None:
    _case, objects, entries, configuration = case
    text = objects.replace("NAME", f"case{number}")
    document = yaml.compose(text)
    assert isinstance(document, yaml.MappingNode)
    overrides = [
        ImageOverride(
            e["name"],
            e.get("newName", ""),
            e.get("newTag", ""),
            e.get("digest", ""),
            e.get("tagSuffix", ""),
        )
        for e in entries
    ]
    specs = _field_specs() + _config_specs(configuration)
    rendered = built[f"case{number}"]
    written = _all_images(yaml.safe_load(text))
    modelled = {}
    for field in image_fields(document, specs):
        modelled[field.path] = apply_all(overrides, field.node.value, field.selections)
    assert written, "every case has image fields"
    for path, original in written.items():
        expected = modelled.get(path, original)
        assert _walk(rendered, path) == expected, path


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("nginx", ("nginx", "", "")),
        ("nginx:1.25", ("nginx", "1.25", "")),
        (f"nginx@{DIGEST}", ("nginx", "", DIGEST)),
        (f"nginx:1@{DIGEST}", ("nginx", "1", DIGEST)),
        ("localhost:5000/app", ("localhost:5000/app", "", "")),
        ("localhost:5000/app:1", ("localhost:5000/app", "1", "")),
        ("a/b@sha256:x:y", ("a/b", "", "sha256:x:y")),
    ],
)
def test_split_is_kustomizes(image: str, parts: tuple[str, str, str]) -> None:
    assert split(image) == parts


def test_invalid_regular_expression_matches_nothing() -> None:
    # kustomize v5.8 and older crash on it (nil regexp); newer ones match nothing.
    assert kustomize.name_pattern("[bad") is None
    assert not kustomize.matches("[bad", "[bad")
    # RE2 has no lookarounds: Python would accept it, Go does not.
    assert kustomize.name_pattern("(?=x)x") is None


def test_re2_only_syntax_is_not_guessed() -> None:
    with pytest.raises(kustomize.UnmodelledName):
        kustomize.name_pattern("[[:alpha:]]+")
