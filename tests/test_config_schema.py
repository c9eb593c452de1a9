"""schemas/imglint.schema.json, the JSON Schema editors use for `.imglint.yaml` and
`[tool.imglint]`, held to the real validator (imglint.config) both ways: every documented
example and every valid case below passes both, every invalid case fails both, and the schema
knows exactly the keys and rules imglint knows.

The schema is stricter than imglint in two documented ways (docs/configuration.md): it knows rule
codes in capitals and names in lower case only, and it refuses empty entries in a rule list.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from imglint import config, rules
from imglint.errors import ConfigError

if sys.version_info >= (3, 11):
    from tomllib import loads as toml_loads
else:  # pragma: no cover - Python 3.10
    from tomli import loads as toml_loads  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schemas" / "imglint.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
UPDATE_THE_SCHEMA = (
    "update schemas/imglint.schema.json (and docs/configuration.md) to match config.py, and add "
    "a valid and an invalid case for it to VALID and INVALID in tests/test_config_schema.py"
)

# Each valid case passes both; together they use every key (checked below).
VALID: list[dict[str, Any]] = [
    {},
    {"select": ["IMG001", "latest-tag", "ALL"]},
    {"select": "IMG001, IMG002,"},  # a comma-separated string, as on the command line
    {"select": None},  # YAML `select:` with no value: the defaults
    {"extend-select": ["unpinned-image"], "ignore": "IMG004"},
    {"severity": {"missing-tag": "warning", "IMG004": "error"}},
    {"fail-on": "info"},
    {"private-registries": ["registry.example.com", "*.corp.example", "docker.io/acme"]},
    {"private-registries": ["registry.local:5000/team", "[::1]:5000"]},
    {"allowed-registries": []},  # an empty allow-list allows nothing
    {"allowed-registries": None},
    {"ignore-images": ["registry.example.com/sandbox/*"], "exclude": ["vendor", "*.tpl.yaml"]},
    {"platforms": ["linux/amd64", "linux/arm64/v8"]},
    {"insecure-registries": ["registry.local:5000", "10.0.0.0/8", "fd00::/8"]},
    {"mirrors": {"docker.io": ["mirror.gcr.io", "registry.local:5000/hub"]}},
    {"mirrors": {"docker.io": "mirror.gcr.io"}},  # one mirror as a plain string
    {"cache-ttl": 0, "timeout": 0.5, "jobs": 1, "workers": 1},
    {"cache-ttl": "12h", "timeout": "500ms"},
    {"cache-ttl": None, "timeout": None, "jobs": None, "workers": None},
    {"trusted-realm-hosts": ["auth.corp.example", "auth.corp.example:8443"]},
    {"force-exclude": True},
    {"helm-values": ["values-*.yaml", "environments/*/values.yaml"]},
    {
        "image-fields": [
            {"group": "kpack.io", "kind": "ClusterStack", "path": "spec.buildImage.image"},
            {
                "apiVersion": "shipwright.io/v1beta1",
                "kind": "ClusterBuildStrategy",
                "path": "spec.steps[].image",
                "default-registry": "registry.example.com:5000",
            },
        ],
        "crossplane-registry": "xpkg.upbound.io",
    },
    {"allowed-images": ["ubuntu:20.04", "ghcr.io/acme/*"], "allowed-tags": None},
    {"denied-tags": ["nightly", {"pattern": "re:dev-.*", "registries": ["ghcr.io/acme"]}]},
    {"allowed-tags": ["re:v?\\d+\\.\\d+\\.\\d+"], "allowed-images": None},
    {"denied-registries": {"k8s.gcr.io": "registry.k8s.io", "quay.io/old": None}},
    {"denied-registries": ["quay.io/old", {"old.example": "new.example"}]},
    {"per-file-ignores": {"legacy/*": ["IMG004"], "dev/*.yaml": "IMG002,IMG012"}},
    {
        "overrides": [
            {"files": ["dev/*"], "denied-tags": [], "severity": {"IMG008": "warning"}},
            {"namespaces": ["search"], "allowed-registries": ["docker.io/library"]},
        ],
        "default-namespace": "shop",
    },
    {"max-image-age": "180d"},
    {"max-image-age": "36h", "platforms": ["linux/arm64"]},
    {"max-image-age": " 26w "},
    {"max-image-age": None},
    {"extend": "base.yaml"},  # load_yaml writes base.yaml beside each case
    {"overrides": [{"files": ["legacy/*"], "max-image-age": "52w"}]},
]

# Each invalid case fails both: (case, the words imglint's message has).
INVALID: list[tuple[Any, str]] = [
    (["select", "IMG001"], "must be a mapping"),
    ({"fail_on": "error"}, 'unknown key "fail_on"'),
    ({"colour": "always"}, 'unknown key "colour"'),
    ({"select": ["IMG999"]}, "unknown rule 'IMG999'"),
    ({"select": "IMG001,no-such-rule"}, "unknown rule 'no-such-rule'"),
    ({"select": 5}, "must be a list of rule codes or names"),
    ({"extend-select": None}, "must be a list of rule codes or names"),
    ({"ignore": [["IMG001"]]}, "is not a rule code or name"),
    ({"severity": {"IMG002": "fatal"}}, "unknown severity"),
    ({"severity": {"no-such-rule": "error"}}, "unknown rule"),
    ({"severity": ["IMG002"]}, "severity must map"),
    ({"fail-on": "critical"}, "unknown severity"),
    ({"fail-on": 1}, "must be error, warning or info"),
    ({"private-registries": "registry.example.com"}, "not a single string"),
    ({"private-registries": ["https://registry.example.com"]}, "not a URL"),
    ({"private-registries": ["registry.example.com:http"]}, "not a registry host pattern"),
    ({"allowed-registries": ["a..example.com"]}, "empty host label"),
    ({"allowed-registries": [" "]}, "must be a non-empty string"),
    ({"ignore-images": "nginx:*"}, "not a single string"),
    ({"exclude": [""]}, "must be a non-empty string"),
    ({"exclude": [3]}, "must be a non-empty string"),
    ({"platforms": ["linux"]}, "is not a platform"),
    ({"platforms": ["Linux/AMD64"]}, "is not a platform"),
    ({"insecure-registries": ["http://registry.local"]}, "is not a registry host"),
    ({"insecure-registries": ["registry local"]}, "is not a registry host"),
    ({"mirrors": {"docker.io": []}}, "must be a list of mirror hosts"),
    ({"mirrors": {"docker.io/library": ["mirror.gcr.io"]}}, "is not a registry host"),
    ({"mirrors": {"docker.io": ["https://mirror.gcr.io"]}}, "is not a registry host"),
    ({"mirrors": ["mirror.gcr.io"]}, "mirrors must map"),
    ({"cache-ttl": -1}, "must be seconds"),
    ({"cache-ttl": "a while"}, "must be seconds"),
    ({"cache-ttl": True}, "must be seconds"),
    ({"timeout": 0}, "more than 0"),
    ({"timeout": "0s"}, "more than 0"),
    ({"timeout": "10 minutes"}, "must be seconds"),
    ({"jobs": 0}, "at least 1"),
    ({"jobs": 2.5}, "at least 1"),
    ({"jobs": True}, "at least 1"),
    ({"jobs": "8"}, "at least 1"),
    ({"workers": 0}, "at least 1"),
    ({"workers": True}, "at least 1"),
    ({"trusted-realm-hosts": "auth.corp.example"}, "not a single string"),
    ({"force-exclude": "yes"}, "force-exclude must be true or false"),
    (
        {"helm-values": "values-*.yaml"},
        "helm-values must be a list of strings, not a single string",
    ),
    ({"allowed-images": "ubuntu"}, "not a single string"),
    ({"denied-tags": "nightly"}, "must be a list of tag patterns"),
    ({"allowed-tags": [{"tag": "v*"}]}, "must be a pattern or a mapping"),
    ({"denied-registries": "k8s.gcr.io"}, "must map registries"),
    ({"per-file-ignores": ["dev/*"]}, "must map file globs"),
    ({"overrides": [{"ignore": ["IMG002"]}]}, "needs `files` and/or `namespaces`"),
    ({"default-namespace": "Shop"}, "is not a Kubernetes namespace name"),
    ({"max-image-age": 180}, "max-image-age must be a duration of hours, days or weeks"),
    ({"max-image-age": "6 months"}, "max-image-age must be a duration"),
    ({"max-image-age": "0d"}, "max-image-age must be a duration"),
    ({"max-image-age": "30m"}, "max-image-age must be a duration"),
    ({"trusted-realm-hosts": ["https://auth.corp.example"]}, "is not a host name"),
    ({"trusted-realm-hosts": ["auth.corp.example/token"]}, "is not a host name"),
    ({"image-fields": "spec.image"}, "image-fields must be a list"),
    ({"image-fields": [{"group": "a.io", "kind": "K", "path": "spec..image"}]}, "is not a key"),
    ({"image-fields": [{"kind": "K", "path": "x"}]}, "needs either group or apiVersion"),
    (
        {"image-fields": [{"group": "a.io", "apiVersion": "a.io/v1", "kind": "K", "path": "x"}]},
        "needs either group or apiVersion",
    ),
    (
        {"image-fields": [{"group": "a.io", "kind": "K", "path": "x", "registry": "r"}]},
        "unknown key",
    ),
    ({"crossplane-registry": "https://xpkg.upbound.io"}, "is not a registry host"),
    ({"extend": 3}, "extend must be the path of a configuration file"),
    ({"extend": " "}, "extend must be the path of a configuration file"),
    (
        {"overrides": [{"files": ["a"], "max-image-age": "6 months"}]},
        "overrides[0].max-image-age must be a duration",
    ),
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    return jsonschema.Draft7Validator(SCHEMA)


def schema_errors(validator: jsonschema.Draft7Validator, data: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def load_yaml(tmp_path: Path, text: str) -> config.Config:
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / ".imglint.yaml").write_text(text, encoding="utf-8")
    (folder / "base.yaml").write_text("ignore: [IMG004]\n", encoding="utf-8")  # for `extend`
    data = yaml.safe_load(text)
    extended = data.get("extend") if isinstance(data, dict) else None
    if isinstance(extended, str) and extended.strip():  # a documented `extend: ../x.yaml`
        target = folder / extended.strip()
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("{}\n", encoding="utf-8")
    return config.load(None, str(folder))


# --- documented examples -----------------------------------------------------------------------


def documented_examples() -> list[tuple[str, str, str]]:
    """(where, language, text) of every configuration example in the docs and examples/."""
    found: list[tuple[str, str, str]] = []
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for language, text in re.findall(r"^```(yaml|toml)\n(.*?)^```$", doc, re.M | re.S):
        found.append(("docs/configuration.md", language, text))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Configuration\n") :]
    section = section[: section.index("\n## ", 1)]
    found += [
        ("README.md", "yaml", t) for t in re.findall(r"^```yaml\n(.*?)^```$", section, re.M | re.S)
    ]
    found.append(
        ("examples/imglint.yaml", "yaml", (ROOT / "examples" / "imglint.yaml").read_text())
    )
    return found


def test_there_are_documented_examples_of_both_kinds() -> None:
    kinds = {(where, language) for where, language, _ in documented_examples()}
    assert ("docs/configuration.md", "yaml") in kinds and ("docs/configuration.md", "toml") in kinds
    assert ("README.md", "yaml") in kinds


@pytest.mark.parametrize(
    ("where", "language", "text"),
    documented_examples(),
    ids=[f"{w}:{lang}{i}" for i, (w, lang, _) in enumerate(documented_examples())],
)
def test_documented_examples_pass_both(
    validator: jsonschema.Draft7Validator, tmp_path: Path, where: str, language: str, text: str
) -> None:
    if language == "toml":
        data = toml_loads(text)["tool"]["imglint"]
        (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
        config.load(None, str(tmp_path))  # raises ConfigError if imglint refuses it
    else:
        data = yaml.safe_load(text) or {}
        load_yaml(tmp_path, text)
    assert schema_errors(validator, data) == []


def test_the_documented_schema_line_points_at_the_schema() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    (url,) = set(re.findall(r"# yaml-language-server: \$schema=(\S+)", doc))
    assert url == SCHEMA["$id"]
    assert url.endswith("/" + str(SCHEMA_FILE.relative_to(ROOT)))


# --- both ways ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VALID, ids=[json.dumps(c)[:60] for c in VALID])
def test_valid_cases_pass_both(
    validator: jsonschema.Draft7Validator, tmp_path: Path, case: dict[str, Any]
) -> None:
    assert schema_errors(validator, case) == []
    if "extend" not in case:  # a path relative to a file: only files have one
        config.from_mapping(case)
    load_yaml(tmp_path, yaml.safe_dump(case))


@pytest.mark.parametrize(("case", "message"), INVALID, ids=[json.dumps(c)[:60] for c, _ in INVALID])
def test_invalid_cases_fail_both(
    validator: jsonschema.Draft7Validator, tmp_path: Path, case: Any, message: str
) -> None:
    assert schema_errors(validator, case) != [], f"the schema accepts {case!r}"
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path, yaml.safe_dump(case))
    assert message in str(info.value)


# --- the schema keeps up with imglint -----------------------------------------------------------


def test_the_schema_knows_every_key_imglint_accepts() -> None:
    accepted = set(config._KEYS)
    described = set(SCHEMA["properties"])
    assert not accepted - described, (
        f"config.py accepts {sorted(accepted - described)}, which the schema lacks: "
        + UPDATE_THE_SCHEMA
    )
    assert not described - accepted, (
        f"the schema describes {sorted(described - accepted)}, which config.py refuses: "
        + UPDATE_THE_SCHEMA
    )
    assert SCHEMA["additionalProperties"] is False


def test_every_key_has_a_valid_and_an_invalid_case() -> None:
    valid = {key for case in VALID for key in case}
    invalid = {key for case, _ in INVALID if isinstance(case, dict) for key in case}
    keys = set(SCHEMA["properties"])
    assert keys - valid == set(), f"no valid case for {sorted(keys - valid)}: " + UPDATE_THE_SCHEMA
    assert keys - invalid == set(), (
        f"no invalid case for {sorted(keys - invalid)}: " + UPDATE_THE_SCHEMA
    )


def with_current_rules(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its three rule lists made from imglint.rules.RULES."""
    names = [r.code for r in rules.RULES] + [r.name for r in rules.RULES]
    alternatives = "|".join([*names, "ALL"])
    updated: dict[str, Any] = json.loads(json.dumps(schema))
    updated["definitions"]["rule"]["enum"] = [*names, "ALL"]
    updated["properties"]["severity"]["propertyNames"]["enum"] = names
    override = updated["properties"]["overrides"]["items"]["properties"]
    override["severity"]["propertyNames"]["enum"] = names
    updated["definitions"]["ruleList"]["oneOf"][1]["pattern"] = (
        rf"^\s*({alternatives})?\s*(,\s*({alternatives})?\s*)*$"
    )
    return updated


def test_the_schema_knows_every_rule() -> None:
    assert with_current_rules(SCHEMA) == SCHEMA, (
        "the rules changed: update the rule lists in schemas/imglint.schema.json with "
        "`.venv/bin/python -m tests.test_config_schema`"
    )


if __name__ == "__main__":  # rewrite the schema's rule lists from the rule catalogue
    SCHEMA_FILE.write_text(json.dumps(with_current_rules(SCHEMA), indent=2) + "\n", "utf-8")
