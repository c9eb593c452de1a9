"""docs/rules.md is generated from the rule docstrings; this fails when it drifts."""

from __future__ import annotations

from pathlib import Path

from imglint import rules
from imglint.findings import Severity

DOC = Path(__file__).parent.parent / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == rules.render_markdown(), (
        "docs/rules.md is stale: regenerate it with "
        "`.venv/bin/python -m imglint.rules > docs/rules.md`"
    )


def test_every_rule_has_a_section_and_a_table_row() -> None:
    text = rules.render_markdown()
    for rule in rules.RULES:
        assert f"\n## {rule.code} `{rule.name}`\n" in text
        anchor = f"{rule.code}-{rule.name}".lower()
        assert f"| [{rule.code}](#{anchor}) | `{rule.name}` |" in text


def test_section_headings_are_demoted_outside_code_blocks() -> None:
    doc = '"""Summary.\n\n## What it does\nText.\n\n```yaml\n# comment\n```\n"""'
    rule = rules.Rule("IMG900", "x", Severity.INFO, False, False, doc.strip('"'), _never)
    text = rules.render_markdown((rule,))
    assert "\n### What it does\n" in text
    assert "\n# comment\n" in text


def _never(site: object, ctx: object) -> list[str]:
    return []
