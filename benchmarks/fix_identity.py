"""The byte-identity promise of `--fix`/`--pin`, checked on every file of a corpus copy.

    python benchmarks/fix_identity.py ../shared/corpus [--ruamel]

Copies CORPUS into a temporary folder (the corpus itself is never written), runs `--fix` and
`--pin` together on the copy (pinning with a made-up resolver: every tag resolves to a digest
derived from its name, so no network), then checks every rewritten file with
tests/fix_identity.py: every character outside the image scalars unchanged, each scalar in its
old quoting style, the YAML loading to the same data except the image values. Files without an
image to rewrite must be byte-identical. Prints counts and the time the rewrite took.

With --ruamel it also counts the files that ruamel.yaml's round trip (load, then dump, no edit
at all) would change: the alternative this module does not use.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imglint.findings import InputError, Span
from imglint.fix import encode, run_fixes
from imglint.manifests import load
from imglint.sources import collect, decode
from tests.fix_identity import check_identity, expected_value, fake_resolver


def check_corpus(folder: str) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, "corpus")
        shutil.copytree(folder, copy, symlinks=True)
        for root, dirs, files in os.walk(copy):  # the corpus is read-only; its copy must not be
            for name in dirs + files:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode | 0o200)
        collected = collect([copy])
        before = {s.path: Path(s.path).read_bytes() for s in collected.sources}
        manifests = load(collected.sources)
        started = time.perf_counter()
        outcome = run_fixes(
            collected.sources,
            manifests.sites,
            explicit_registry=True,
            pin=True,
            resolver=fake_resolver,
        )
        elapsed = time.perf_counter() - started
        problems = 0
        expected_edits = 0
        by_source: dict[int, dict[Span, str]] = {}
        for site in manifests.sites:
            if site.reference is None or site.placeholder is not None or site.source is None:
                continue
            value = expected_value(site.image, site.reference, explicit=True, pin=True)
            if value != site.image:
                by_source.setdefault(id(site.source), {})[site.span] = value
        refused = {(e.path, e.line) for e in outcome.errors}
        for old in collected.sources:
            data = Path(old.path).read_bytes()
            rewrites = {
                span: value
                for span, value in by_source.get(id(old), {}).items()
                if (old.path, span.line) not in refused
            }
            decoded = decode(data)
            if isinstance(decoded, InputError) or data != encode(old, decoded[0]):
                print(f"{old.path}: the file no longer reads back in its encoding")
                problems += 1
                continue
            new_text = decoded[0]
            if not rewrites and data != before[old.path]:
                print(f"{old.path}: changed without an image to rewrite")
                problems += 1
            for problem in check_identity(old.text, new_text, rewrites):
                print(f"{old.path}: {problem}")
                problems += 1
            expected_edits += len({span.start for span in rewrites})
    print(f"corpus:              {folder}")
    print(f"files read:          {len(collected.sources)}")
    print(f"image sites:         {len(manifests.sites)}")
    print(f"files rewritten:     {len(outcome.changed)}")
    print(f"images rewritten:    {outcome.edits} (expected {expected_edits})")
    print(f"refused or failed:   {len(outcome.errors)}")
    for error in outcome.errors:
        print(f"  {error}")
    print(f"identity problems:   {problems}")
    print(f"rewrite time:        {elapsed:.2f} s (edits, structure check, atomic writes)")
    return 1 if problems or outcome.edits != expected_edits else 0


def ruamel_round_trip(folder: str) -> None:
    try:
        from ruamel.yaml import YAML
    except ImportError:
        print(
            "ruamel round trip:   skipped: ruamel.yaml is not installed (pip install -e '.[bench]')"
        )
        return

    yaml = YAML()  # round-trip mode
    yaml.width = 4096
    changed = failed = same = 0
    started = time.perf_counter()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            text = Path(root, name).read_bytes().decode("utf-8", "replace")
            try:
                documents = list(yaml.load_all(text))
                out = io.StringIO()
                yaml.dump_all(documents, out)
            except Exception:  # ruamel raises many types; a failure is all this counts
                failed += 1
                continue
            if out.getvalue() == text:
                same += 1
            else:
                changed += 1
    elapsed = time.perf_counter() - started
    print(f"ruamel round trip:   {same} files unchanged, {changed} changed, {failed} failed")
    print(f"ruamel time:         {elapsed:.2f} s (load + dump, no edit)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--ruamel", action="store_true", help="also measure ruamel's round trip")
    args = parser.parse_args()
    status = check_corpus(args.corpus)
    if args.ruamel:
        ruamel_round_trip(args.corpus)
    return status


if __name__ == "__main__":
    sys.exit(main())
