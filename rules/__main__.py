"""`python -m imglint.rules` prints docs/rules.md (the rule reference, from the docstrings)."""

from __future__ import annotations

import sys

from imglint.rules import render_markdown

if __name__ == "__main__":
    sys.stdout.write(render_markdown())
