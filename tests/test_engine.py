"""The engine: rule selection, IMG001 alone, ignore-images, severities, registry gating, the
shape and order of findings, and exit codes."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from imglint import rules
from imglint.config import Config, from_mapping
from imglint.context import Context, RegistryAnswers
from imglint.engine import active_rules, lint
from imglint.findings import Finding, InputError, Severity, Span, exit_code
from imglint.patterns import ImageGlobs
from imglint.reference import parse
from imglint.registry import Resolution
from imglint.sites import ImageSite
from tests.factories import DIGEST, make_site


def codes(
    sites: list[ImageSite], config: Config | None = None, ctx: Context | None = None
) -> list[str]:
    return [f.code for f in lint(sites, ctx or Context(), config or Config()).findings]


def test_finding_fields() -> None:
    site = make_site("nginx:latest", namespace="prod", line=7, column=18)
    (latest, implicit) = lint([site], Context(), Config()).findings
    assert latest == Finding(
        code="IMG002",
        name="latest-tag",
        severity=Severity.ERROR,
        message='image "nginx:latest" uses the tag "latest", which moves: '
        "pin a version tag or a digest",
        path="deploy.yaml",
        span=Span(7, 18, 7, 30, 0, 12),
        image="nginx:latest",
        kind="Deployment",
        namespace="prod",
        object="web",
        container="app",
    )
    assert (implicit.code, implicit.severity) == ("IMG004", Severity.WARNING)


def test_sorted_by_path_line_column_code_whatever_the_input_order() -> None:
    sites = [
        make_site("nginx", path="b.yaml", line=3),
        make_site("nginx:latest", path="a.yaml", line=9, column=20),
        make_site("Nginx", path="a.yaml", line=9, column=12),
        make_site("ghcr.io/a/b", path="a.yaml", line=2),
    ]
    expected = [
        ("a.yaml", 2, "IMG003"),
        ("a.yaml", 9, "IMG001"),
        ("a.yaml", 9, "IMG002"),
        ("a.yaml", 9, "IMG004"),
        ("b.yaml", 3, "IMG003"),
        ("b.yaml", 3, "IMG004"),
    ]
    for seed in range(5):
        shuffled = sites[:]
        random.Random(seed).shuffle(shuffled)
        found = lint(shuffled, Context(), Config()).findings
        assert [(f.path, f.span.line, f.code) for f in found] == expected


def test_invalid_reference_draws_img001_alone() -> None:
    site = make_site("Nginx:latest")
    assert codes([site], from_mapping({"select": ["ALL"]})) == ["IMG001"]
    assert codes([site], from_mapping({"ignore": ["IMG001"]})) == []


def test_placeholders_are_skipped_and_unparsed_sites_are_parsed() -> None:
    placeholder = make_site("nginx")
    placeholder.placeholder = "variable placeholder"
    unparsed = make_site("nginx:latest")
    unparsed.reference = None
    assert codes([placeholder, unparsed]) == ["IMG002", "IMG004"]
    assert unparsed.reference is not None


def test_selection() -> None:
    site = make_site("nginx:latest", pull_policy="IfNotPresent")
    assert codes([site]) == ["IMG002", "IMG004"]
    every = from_mapping({"select": ["ALL"]})
    assert codes([site], every) == ["IMG002", "IMG004", "IMG005", "IMG009", "IMG010", "IMG014"]
    assert codes([site], every.with_overrides(ignore=["IMG009", "latest-tag"])) == [
        "IMG004",
        "IMG005",
        "IMG010",
        "IMG014",
    ]


def test_severity_overrides() -> None:
    config = from_mapping({"severity": {"latest-tag": "info", "IMG004": "error"}})
    found = lint([make_site("nginx:latest")], Context(), config).findings
    assert [(f.code, f.severity) for f in found] == [
        ("IMG002", Severity.INFO),
        ("IMG004", Severity.ERROR),
    ]


@pytest.mark.parametrize(
    ("glob", "image", "ignored"),
    [
        ("nginx*", "nginx:latest", True),  # as written
        ("docker.io/library/nginx", "nginx:latest", True),  # normalized name
        ("docker.io/library/nginx:latest", "nginx:latest", True),  # normalized reference
        ("*/library/*", "nginx:latest", True),  # `*` spans `/`
        ("docker.io/library/nginx", "docker.io/bitnami/nginx:latest", False),
        ("registry.example.com/sandbox/*", "registry.example.com/sandbox/x/y:latest", True),
        ("Nginx*", "Nginx:latest", True),  # invalid references match as written
        ("nginx", "nginx:latest", False),  # globs match the whole string
    ],
)
def test_ignore_images(glob: str, image: str, ignored: bool) -> None:
    config = from_mapping({"ignore-images": [glob]})
    assert (codes([make_site(image)], config) == []) is ignored


def test_image_globs_without_globs_match_nothing() -> None:
    globs = ImageGlobs.compile([])
    assert not globs
    assert globs.matches("nginx", parse("nginx")) is False


def _fake_registry_check(site: ImageSite, ctx: Context) -> Iterator[str]:
    if ctx.answer_for(site) is not None:
        yield "tag not found"


FAKE = rules.Rule(
    code="IMG199",
    name="fake-registry-rule",
    severity=Severity.ERROR,
    default_enabled=True,
    needs_registry=True,
    doc="A test rule.",
    check=_fake_registry_check,
)


def test_registry_rules_run_only_with_registry_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, FAKE))
    config = Config(enabled=frozenset({"IMG199", "IMG003"}))
    site = make_site(f"ghcr.io/a/b:1@{DIGEST}")
    assert [r.code for r in active_rules(config, Context())] == ["IMG003"]
    assert codes([site], config) == []
    missing = Resolution(reference=str(site.reference), status="tag-not-found")
    answers = RegistryAnswers({str(site.reference): missing})
    result = lint([site], Context(answers=answers), config)
    assert [f.code for f in result.findings] == ["IMG199"]
    assert result.selected_codes == {"IMG003", "IMG199"}


def test_many_sites_share_parses_and_lookups() -> None:
    lines = ["image: nginx  # imglint: ignore[IMG004]"]
    sites = [make_site("nginx", lines=lines) for _ in range(2000)]
    found = lint(sites, Context(), Config()).findings
    assert len(found) == 2000 and {f.code for f in found} == {"IMG003"}


# --- exit codes --------------------------------------------------------------------------------


def _finding(severity: Severity) -> Finding:
    return Finding("IMG004", "implicit-registry", severity, "m", "f", Span(1, 1, 1, 2, 0, 1), "x")


@pytest.mark.parametrize(
    ("severities", "errors", "fail_on", "code"),
    [
        ([], 0, Severity.ERROR, 0),
        ([Severity.WARNING], 0, Severity.ERROR, 0),
        ([Severity.WARNING], 0, Severity.WARNING, 1),
        ([Severity.INFO], 0, Severity.WARNING, 0),
        ([Severity.INFO], 0, Severity.INFO, 1),
        ([Severity.ERROR], 0, Severity.ERROR, 1),
        ([], 1, Severity.ERROR, 2),
        ([Severity.ERROR], 1, Severity.ERROR, 2),
    ],
)
def test_exit_code(severities: list[Severity], errors: int, fail_on: Severity, code: int) -> None:
    input_errors = [InputError("f.yaml", "YAML: bad")] * errors
    assert exit_code([_finding(s) for s in severities], input_errors, fail_on) == code
