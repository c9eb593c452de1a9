"""Property tests: the parser against an oracle built independently from the grammar text.

The oracle does not share code with imglint.reference. Its regexes are compiled from the grammar
as the distribution/reference package documents it (the table below, translated by a small
EBNF-to-regex function), and instead of one big reference regex with capture groups it cuts the
text at "@", the last ":" and the first "/" and matches each piece on its own. Digest rules come
from a table of hash sizes rather than a table of hex lengths. If both agree on thousands of
generated references, near-misses and garbage, a slip in either would have to be made twice.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from imglint import reference
from imglint.reference import InvalidReference, Reference, parse, parse_unnormalized

# Generated inputs are small; 200 examples per property keep the whole file near 3 seconds on
# a laptop. CI (CI=true, as .ci/run runs) tries 6,000 per property: 30,000 cases in all.
EXAMPLES = 6_000 if os.environ.get("CI") else 200

# --- the oracle ------------------------------------------------------------------------------

# From the package doc comment of distribution/reference (reference.go), with two corrections
# the code itself makes: the separator's `[-]*` is written `[-]+` (same names, and an empty
# alternative would make a backtracking engine explode), and the doc's `[+.-_]`, which as a
# character class is the range "." to "_", is written as the four characters the code means.
# The IPv6 rule is the code's (brackets, hex digits and colons only).
GRAMMAR = r"""
reference           := name [ ":" tag ] [ "@" digest ]
name                := [ domain "/" ] remote-name
domain              := host [ ":" port-number ]
host                := domain-name | "[" ipv6-address "]"
domain-name         := domain-component [ "." domain-component ]*
domain-component    := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
ipv6-address        := /[a-fA-F0-9:]+/
port-number         := /[0-9]+/
remote-name         := path-component [ "/" path-component ]*
path-component      := alpha-numeric [ separator alpha-numeric ]*
alpha-numeric       := /[a-z0-9]+/
separator           := /[_.]|__|[-]+/
tag                 := /[\w][\w.-]{0,127}/
digest              := digest-algorithm ":" digest-hex
digest-algorithm    := algorithm-component [ algorithm-separator algorithm-component ]*
algorithm-separator := /[-_+.]/
algorithm-component := /[A-Za-z][A-Za-z0-9]*/
digest-hex          := /[0-9a-fA-F]{32,}/
identifier          := /[a-f0-9]{64}/
"""

_TOKEN = re.compile(r'"[^"]*"|/[^/]+/|\[|\]\*?|\||[a-z][a-z0-9-]*|\S')


def _rules(text: str) -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {}
    for line in text.strip().splitlines():
        name, _, body = line.partition(":=")
        rules[name.strip()] = _TOKEN.findall(body)
    return rules


def _to_regex(rule: str, rules: dict[str, list[str]]) -> str:
    out: list[str] = []
    for token in rules[rule]:
        if token.startswith('"'):
            out.append(re.escape(token[1:-1]))
        elif token.startswith("/"):
            out.append(f"(?:{token[1:-1]})")
        elif token == "[":
            out.append("(?:")
        elif token == "]":
            out.append(")?")
        elif token == "]*":
            out.append(")*")
        elif token == "|":
            out.append("|")
        else:
            out.append(f"(?:{_to_regex(token, rules)})")
    return "".join(out)


_GRAMMAR = _rules(GRAMMAR)


def _piece(rule: str) -> re.Pattern[str]:
    return re.compile(_to_regex(rule, _GRAMMAR), re.ASCII)


O_DOMAIN = _piece("domain")
O_REMOTE = _piece("remote-name")
O_TAG = _piece("tag")
O_DIGEST = _piece("digest")
O_IDENTIFIER = _piece("identifier")
O_REFERENCE = _piece("reference")  # only used to cross-check the piecewise matcher

HASH_BYTES = {"sha256": 32, "sha384": 48, "sha512": 64}

Fields = tuple[str, str, "str | None", "str | None"]


def go_lower(text: str) -> str:
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


def oracle_split_name(name: str) -> tuple[str, str] | None:
    first, slash, rest = name.partition("/")
    if slash and O_DOMAIN.fullmatch(first) and O_REMOTE.fullmatch(rest):
        return first, rest
    if O_REMOTE.fullmatch(name):
        return "", name
    return None


def oracle_pieces(text: str) -> tuple[str, str, str | None, str | None] | None:
    before, at, digest = text.partition("@")
    if at and not O_DIGEST.fullmatch(digest):
        return None
    colon = before.rfind(":")
    tag: str | None = None
    if colon >= 0 and "/" not in before[colon + 1 :]:
        before, tag = before[:colon], before[colon + 1 :]
        if not O_TAG.fullmatch(tag):
            return None
    split = oracle_split_name(before)
    if split is None:
        return None
    return split[0], split[1], tag, digest if at else None


def oracle_digest_error(digest: str) -> str | None:
    algorithm, _, encoded = digest.partition(":")
    if algorithm not in HASH_BYTES:
        shaped = not any(ch.isupper() for ch in algorithm)
        return "unsupported digest algorithm" if shaped else "invalid checksum digest format"
    if len(encoded) != 2 * HASH_BYTES[algorithm]:
        return "invalid checksum digest length"
    if encoded != encoded.lower():
        return "invalid checksum digest format"
    return None


def oracle_parse(text: str) -> Fields | str:
    """Go's reference.Parse; returns the fields or the error message."""
    if text == "":
        return "repository name must have at least one component"
    pieces = oracle_pieces(text)
    if pieces is None:
        lowered = go_lower(text)
        if lowered != text and oracle_pieces(lowered) is not None:
            return "repository name must be lowercase"
        return "invalid reference format"
    domain, path, tag, digest = pieces
    if len(path) > 255:
        return "repository name must not be more than 255 characters"
    if digest is not None:
        error = oracle_digest_error(digest)
        if error is not None:
            return error
    return domain, path, tag, digest


def oracle_normalized(text: str) -> Fields | str:
    """ParseNormalizedNamed; returns the fields or the error message."""
    if O_IDENTIFIER.fullmatch(text):
        return f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
    parts = text.split("/", 1)
    if len(parts) == 1:
        domain, rest = "docker.io", "library/" + text
    else:
        first, rest = parts
        looks_like_host = (
            first == "localhost"
            or re.search(r"[.:]", first) is not None
            or go_lower(first) != first
        )
        if first == "index.docker.io":
            domain = "docker.io"
        elif looks_like_host:
            domain = first
        else:
            domain, rest = "docker.io", text
        if domain == "docker.io" and "/" not in rest:
            rest = "library/" + rest
    remote = rest.split(":", 1)[0]
    if go_lower(remote) != remote:
        return f"invalid reference format: repository name ({remote}) must be lowercase"
    return oracle_parse(f"{domain}/{rest}")


def outcome(parser: Callable[[str], Reference], text: str) -> Fields | str:
    try:
        ref = parser(text)
    except InvalidReference as exc:
        return exc.reason
    return ref.domain, ref.path, ref.tag, ref.digest


# --- strategies ------------------------------------------------------------------------------

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"

alnum = st.text(LOWER_ALNUM[:6] + LOWER_ALNUM[-4:], min_size=1, max_size=5)
separator = st.sampled_from([".", "_", "__", "-", "--", "---"])
path_component = st.builds(
    lambda head, rest: head + "".join(sep + run for sep, run in rest),
    alnum,
    st.lists(st.tuples(separator, alnum), max_size=3),
)
remote_name = st.lists(path_component, min_size=1, max_size=4).map("/".join)

domain_component = st.one_of(
    st.text("abcXYZ019", min_size=1, max_size=1),
    st.builds(
        lambda a, mid, b: a + mid + b,
        st.text("abcXYZ019", min_size=1, max_size=1),
        st.text("abz09-X", max_size=4),
        st.text("abcXYZ019", min_size=1, max_size=1),
    ),
)
domain_name = st.lists(domain_component, min_size=1, max_size=3).map(".".join)
ipv6 = st.text("0123456789abcdefABCDEF:::.%", min_size=1, max_size=10).map(lambda s: f"[{s}]")
host = st.one_of(
    st.sampled_from(["docker.io", "index.docker.io", "localhost", "Docker.io", "LOCAL"]),
    # hosts to the normalizer (a dot) but no valid hosts: the grammar reads them as a path
    st.sampled_from(["foo_bar.com", "a__b.c", "x.y-_z"]),
    domain_name,
    ipv6,
)
port = st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=6).map(":".__add__))
domain = st.builds(lambda h, p: h + p, host, port)

tag = st.one_of(
    st.from_regex(re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}", re.ASCII), fullmatch=True),
    st.sampled_from(["latest", "5000", "a" * 128, "a" * 129, "-x", ".x"]),
)


def _digest(algorithm: str, length: int, upper: bool, data: str) -> str:
    encoded = (data * (length // len(data) + 1))[:length]
    return f"{algorithm}:{encoded.upper() if upper else encoded}"


hex_data = st.text(HEX, min_size=1, max_size=8)
good_digest = st.sampled_from([("sha256", 64), ("sha512", 128), ("sha384", 96)]).flatmap(
    lambda alg_len: st.builds(
        _digest, st.just(alg_len[0]), st.just(alg_len[1]), st.just(False), hex_data
    )
)
bad_digest = st.builds(
    _digest,
    st.sampled_from(["sha256", "sha512", "md5", "SHA256", "sha256+b64"]),
    st.sampled_from([64, 128, 96, 63, 32, 31]),
    st.booleans(),  # uppercase hex
    hex_data,
)
digest = st.one_of(good_digest, good_digest, bad_digest)

reference_text: st.SearchStrategy[str] = st.builds(
    lambda d, r, t, g: (f"{d}/" if d else "") + r + (f":{t}" if t else "") + (f"@{g}" if g else ""),
    st.one_of(st.just(""), domain),
    remote_name,
    st.one_of(st.just(""), tag),
    st.one_of(st.just(""), digest),
)


@st.composite
def near_miss(draw: st.DrawFn) -> str:
    """A grammar-built reference with one character inserted, replaced or removed."""
    text = draw(reference_text)
    pos = draw(st.integers(0, len(text)))
    char: str = draw(st.sampled_from([*"/:@._-[]A\u0130\u00e9 \n", "sha256:" + "a" * 64]))
    how = draw(st.sampled_from(["insert", "replace", "delete"]))
    if how == "insert":
        return text[:pos] + char + text[pos:]
    if how == "replace":
        return text[:pos] + char + text[pos + 1 :]
    return text[:pos] + text[pos + 1 :]


grammar_alphabet = st.text("abAZ09._-/:@[]\u0130\n ", max_size=24)
candidates = st.one_of(reference_text, near_miss(), grammar_alphabet)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(st.text(), grammar_alphabet))
@example("")
@example("\ud800")
@example("\u0130/x")
def test_only_invalid_reference_escapes(text: str) -> None:
    try:
        ref = parse(text)
    except InvalidReference as exc:
        assert exc.reason
        assert "\n" not in exc.reason or "\n" in text
    else:
        assert ref.original == text


@settings(max_examples=EXAMPLES, deadline=None)
@given(reference_text)
def test_valid_references_round_trip(text: str) -> None:
    try:
        ref = parse(text)
    except InvalidReference:
        return
    again = parse(str(ref))
    assert (again.domain, again.path, again.tag, again.digest) == (
        ref.domain,
        ref.path,
        ref.tag,
        ref.digest,
    )
    assert str(again) == str(ref)
    assert ref.host + (f":{ref.port}" if ref.port is not None else "") == ref.domain
    assert ref.name == (f"{ref.domain}/{ref.path}" if ref.domain else ref.path)


@settings(max_examples=EXAMPLES, deadline=None)
@given(candidates)
@example("Foo_bar/app")
@example("foo_bar.com/app:v1")
@example("nginx@SHA256:" + "a" * 64)
@example("a" * 248)
@example("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a")
def test_parse_agrees_with_oracle(text: str) -> None:
    assert outcome(parse, text) == oracle_normalized(text)


@settings(max_examples=EXAMPLES, deadline=None)
@given(candidates)
def test_unnormalized_parse_agrees_with_oracle(text: str) -> None:
    assert outcome(parse_unnormalized, text) == oracle_parse(text)
    # the piecewise matcher and the whole-reference regex of the oracle accept the same texts
    assert (oracle_pieces(text) is not None) == (O_REFERENCE.fullmatch(text) is not None)


@settings(max_examples=EXAMPLES, deadline=None)
@given(candidates)
@example("localhost:5000/a/b:1@sha256:" + "a" * 64)
@example("a--b/c__d.e:-x")
@example("a-/b")
@example("[::1]:5000/app")
def test_the_plain_reader_agrees_with_the_grammar_regexes(text: str) -> None:
    """Where `_plain_reference` reads a text without the regexes, REFERENCE_RE matches it with
    the same parts (and NAME_RE splits its name the same way)."""
    plain = reference._plain_reference(text)
    if plain is None:
        return
    match = reference.REFERENCE_RE.fullmatch(text)
    assert match is not None, text
    name, tag, digest = match.groups()
    name_match = reference.NAME_RE.fullmatch(name)
    assert name_match is not None
    domain, path = name_match.groups()
    assert plain == (domain or "", path, tag, digest)


def test_the_plain_reader_reads_the_usual_references() -> None:
    digest = "sha256:" + "0" * 64
    for text in ("nginx", "library/nginx:1.25", "ghcr.io/org/app:v1", "host:5000/a/b@" + digest):
        assert reference._plain_reference(text) is not None, text


SHAPES: dict[str, Callable[[Reference], bool]] = {
    "hub, tag and digest": lambda r: r.is_docker_hub and r.tag is not None and r.digest is not None,
    "host with port, nested path": lambda r: r.port is not None and "/" in r.path,
    "ipv6 host": lambda r: r.host.startswith("["),
    "no domain": lambda r: r.domain == "",
    "sha512 digest": lambda r: r.digest is not None and r.digest.startswith("sha512:"),
    "uppercase host": lambda r: r.host != r.host.lower(),
}


def test_generator_reaches_valid_references() -> None:
    # The agreement property is only worth something if the generator makes valid references
    # of every shape, not just garbage the parser rejects.
    valid: list[Reference] = []

    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=True)
    @given(reference_text)
    def collect(text: str) -> None:
        with contextlib.suppress(InvalidReference):
            valid.append(parse(text))

    collect()
    assert len(valid) > EXAMPLES // 3
    missing = [shape for shape, wanted in SHAPES.items() if not any(map(wanted, valid))]
    assert missing == []
