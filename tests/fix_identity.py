"""The byte-identity check behind `--fix`/`--pin`, independent of imglint.fix's own machinery.

Given a file's text before and after a rewrite, and the image values each old scalar should now
hold, it checks that every character outside the image scalars is unchanged, that each scalar
kept its quoting style, and that the YAML still loads to the same data except those values.
Shared by tests/test_fix.py and benchmarks/fix_identity.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from imglint.findings import Span
from imglint.reference import Reference

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def check_identity(old: str, new: str, rewrites: Mapping[Span, str]) -> list[str]:
    """Problems found (empty when the promise holds). `rewrites` maps an old scalar's span to
    the value it should hold now; scalars not in it must be unchanged."""
    problems: list[str] = []
    position = 0  # in new
    previous_end = 0  # in old
    for span in sorted(rewrites, key=lambda s: s.start):
        if span.start < previous_end:
            continue  # the same scalar reached twice through an alias
        gap = old[previous_end : span.start]
        if new[position : position + len(gap)] != gap:
            problems.append(f"text before line {span.line} changed")
            return problems
        position += len(gap)
        token = old[span.start : span.end]
        wanted = _token(token, rewrites[span])
        if new[position : position + len(wanted)] != wanted:
            got = new[position : position + len(wanted) + 10]
            problems.append(f"line {span.line}: expected {wanted!r}, found {got!r}")
            return problems
        position += len(wanted)
        previous_end = span.end
    if new[position:] != old[previous_end:]:
        problems.append("text after the last image changed")
    swaps = {_value(old, s): v for s, v in rewrites.items()}
    try:
        before = list(yaml.load_all(old, Loader=_Loader))
    except yaml.YAMLError:
        return problems  # nothing to compare with (and nothing imglint would rewrite)
    try:
        after = list(yaml.load_all(new, Loader=_Loader))
    except yaml.YAMLError as exc:
        problems.append(f"does not load: {exc}")
        return problems
    problems.extend(_differences(before, after, swaps))
    return problems


def _token(old_token: str, value: str) -> str:
    """What the scalar token should read now: same tag prefix, same quotes."""
    prefix = ""
    if old_token.startswith("!"):
        tag, _, rest = old_token.partition(" ")
        prefix, old_token = tag + " ", rest
    if old_token.startswith("'"):
        return f"{prefix}'{value}'"
    if old_token.startswith('"'):
        return f'{prefix}"{value}"'
    return prefix + value


def _value(text: str, span: Span) -> str:
    token = text[span.start : span.end]
    if token.startswith("!"):
        token = token.partition(" ")[2]
    return token.strip("'\"")


def _differences(a: Any, b: Any, swaps: Mapping[str, str], where: str = "") -> Iterator[str]:
    if isinstance(a, str) and isinstance(b, str):
        if a != b and swaps.get(a) != b:
            yield f"{where or '/'}: {a!r} became {b!r}"
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            yield f"{where or '/'}: keys changed"
            return
        for key in a:
            yield from _differences(a[key], b[key], swaps, f"{where}/{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{where or '/'}: length changed"
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, swaps, f"{where}/{i}")
    elif a != b or type(a) is not type(b):
        yield f"{where or '/'}: {a!r} became {b!r}"


# -- what the rewrite should produce, stated independently of imglint.pin --------------------


@dataclass(frozen=True)
class FakeResolution:
    status: str
    digest: str | None = None
    detail: str = ""


def fake_digest(reference: str) -> str:
    """A stable made-up digest for a canonical reference."""
    return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()


def fake_resolver(refs: list[Reference]) -> dict[str, FakeResolution]:
    """Every tag resolves, to a digest derived from its canonical name."""
    return {str(ref): FakeResolution("ok", fake_digest(str(ref))) for ref in refs}


def expected_explicit(image: str) -> str:
    """--fix's rule: a name without a registry host gets Docker Hub's, spelled out."""
    first, slash, _ = image.partition("/")
    if slash and (first == "localhost" or "." in first or ":" in first or first != first.lower()):
        return image  # names its registry already
    return "docker.io/" + (image if slash else "library/" + image)


def expected_value(image: str, ref: Reference, *, explicit: bool, pin: bool) -> str:
    """The value a site should hold after --fix and/or --pin with `fake_resolver`."""
    value = expected_explicit(image) if explicit else image
    if not pin or ref.digest is not None:
        return value
    tag = ref.tag or "latest"
    name = value[: len(value) - len(f":{ref.tag}")] if ref.tag else value
    canonical = f"{ref.domain}/{ref.path}:{tag}"
    return f"{name}:{tag}@{fake_digest(canonical)}"
