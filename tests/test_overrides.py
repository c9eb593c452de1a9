"""Per-file and per-namespace settings (issue 16): `per-file-ignores`, `overrides`,
`default-namespace`, `--show-settings`, on a monorepo fixture where two teams' folders and
namespaces get different policies (tests/fixtures/monorepo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imglint.config import from_mapping, load
from imglint.errors import ConfigError
from tests.cli_runner import run

MONOREPO = Path(__file__).parent / "fixtures" / "monorepo"


def test_monorepo_teams_get_their_own_policies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """kube-linter #183 and clusterlint #63 (nightly tags) scoped per path, as ruff's
    per-file-ignores and gatekeeper-library #120's constraints scoped by namespace: dev
    overlays may use `nightly`, prod may not; the search namespace may pull official Docker
    Hub images; an object without a namespace is in default-namespace (`shop`), so the
    search team's exception does not reach it; search/'s files do not run IMG004."""
    monkeypatch.chdir(MONOREPO)
    code, out, _ = run(["."], capsys)
    assert code == 1
    assert out.splitlines()[:-1] == [
        'payments/dev/deploy.yaml:11:18: IMG008 [warning] image "quay.io/acme/debug:1.0" comes '
        'from registry "quay.io", which is not in allowed-registries (Deployment '
        "payments-dev/payments, container debug)",
        'payments/prod/deploy.yaml:9:18: IMG012 [error] image "ghcr.io/acme/payments:nightly" '
        'uses the tag "nightly", denied by denied-tags entry "nightly" (Deployment '
        "payments/payments, container api)",
        'search/deploy.yaml:19:18: IMG008 [error] image "busybox:1.36" comes from registry '
        '"docker.io" (implicitly Docker Hub), which is not in allowed-registries (Deployment '
        "stray, container tool)",
    ]


def test_show_settings_names_the_configuration_and_what_applies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ruff's --show-settings, per file: which configuration was read and which overrides and
    per-file-ignores apply to a file."""
    monkeypatch.chdir(MONOREPO)
    code, out, _ = run(["--show-settings", "search/deploy.yaml"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:5] == [
        "search/deploy.yaml:",
        "  configuration: .imglint.yaml",
        "  default-namespace: shop",
        "  overrides[1] (namespaces ['search']): sets allowed-registries",
        "  per-file-ignores 'search/*.yaml': ignore IMG004",
    ]
    assert "IMG004" not in lines[5] and "IMG008" in lines[5]
    code, out, _ = run(["--show-settings", "payments/prod/deploy.yaml"], capsys)
    assert "overrides[0]" not in out


def test_override_selection_and_severity_layer_on_the_file() -> None:
    """polaris #638's per-namespace exemptions: an override's select/ignore/severity layer on
    the file's (as ruff's per-file settings), in order."""
    config = from_mapping(
        {
            "ignore": ["IMG004"],
            "overrides": [
                {"namespaces": ["legacy"], "ignore": ["IMG002"], "extend-select": ["IMG005"]},
                {"files": ["prod/*"], "severity": {"IMG002": "warning"}},
            ],
        }
    )
    legacy = config.choice_for_file("x.yaml", "legacy")
    assert "IMG002" not in legacy.enabled and "IMG005" in legacy.enabled
    assert "IMG004" not in legacy.enabled
    other = config.choice_for_file("prod/app.yaml")
    assert "IMG002" in other.enabled and "IMG005" not in other.enabled
    assert other.severity["IMG002"].label == "warning"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("per-file-ignores: [a]\n", ".imglint.yaml:1: per-file-ignores must map file globs"),
        (
            "per-file-ignores:\n  'dev/*': [IMG999]\n",
            ".imglint.yaml:2: per-file-ignores.dev/*: unknown rule 'IMG999'",
        ),
        ("overrides:\n  - {ignore: [IMG002]}\n", ".imglint.yaml:2: overrides[0] needs `files`"),
        (
            "overrides:\n  - files: [a]\n    exclude: [b]\n",
            '.imglint.yaml:3: overrides[0]: unknown key "exclude"',
        ),
        (
            "overrides:\n  - namespaces: [Prod]\n",
            ".imglint.yaml:2: overrides[0].namespaces: 'Prod' is not a Kubernetes namespace",
        ),
        (
            "overrides:\n  - files: [a]\n    allowed-tags: [re:(]\n",
            ".imglint.yaml:3: overrides[0].allowed-tags[0]: 're:(' is not a regular expression",
        ),
        ("default-namespace: 3\n", ".imglint.yaml:1: default-namespace: 3 is not a Kubernetes"),
    ],
)
def test_override_keys_are_validated_at_their_line(tmp_path: Path, text: str, message: str) -> None:
    """Every new key fails as one line naming the file and line."""
    (tmp_path / ".imglint.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load(None, str(tmp_path))
    assert str(info.value).startswith(message)


def test_an_override_sets_max_image_age() -> None:
    """IMG108 reads its limit per site, so an override may set it (kyverno's
    verify-image-check-age applied per namespace): here legacy/ gets a year, the rest none;
    the registry check then reads build times although the file sets no limit."""
    config = from_mapping(
        {"overrides": [{"files": ["legacy/*"], "max-image-age": "52w"}]}, "t.yaml"
    )
    limit = config.choice_for_file("legacy/app.yaml").settings.max_image_age
    assert limit is not None and limit.text == "52w"
    assert config.choice_for_file("app.yaml").settings.max_image_age is None
    from imglint.resolve import options_from

    assert options_from(config).read_created
    assert not options_from(from_mapping({})).read_created


def test_unused_suppressions_are_judged_by_the_rules_that_run_where_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`# imglint: ignore[IMG002]` is unused where IMG002 runs and silences nothing (prod/),
    not where an override (dev/) or the nearest configuration (team/) does not run IMG002: as
    everywhere in imglint, suppressing a rule that does not run there is no mistake."""
    (tmp_path / ".imglint.yaml").write_text(
        'overrides:\n  - files: ["dev/*"]\n    ignore: [latest-tag]\n'
    )
    for folder in ("dev", "prod", "team"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "pod.yaml").write_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
            "    - name: a\n      image: docker.io/library/nginx:1.27  # imglint: ignore[IMG002]\n"
        )
    (tmp_path / "team" / ".imglint.yaml").write_text("ignore: [IMG002]\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["--report-unused-suppressions", "."], capsys)
    assert code == 0
    assert out.splitlines() == [
        "prod/pod.yaml:7:44: unused suppression of IMG002",
        "All checks passed (3 files, 3 images)",
    ]
