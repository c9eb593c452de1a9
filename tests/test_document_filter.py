"""Composing only the documents that can hold an image gives the same run as composing all.

The filter (`imglint.extract.document_filter`) is derived from what reading an object does
(the extractors' kinds and key names, the object index's kinds, Lists, image-fields, the -v
survey); these tests hold it to them, and compare the fast path with the full composition
(`manifests.COMPOSE_EVERY_DOCUMENT`) byte for byte, in every output format: on hostile inputs,
on the repository's own fixtures (always) and on the shared corpus (when it is there).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node

import imglint.document_filter as text_filter
from imglint import extract, manifests, sources
from imglint.cli import main
from imglint.document_filter import (
    BlankedText,
    DocumentHead,
    composed_stretch,
    may_hold_merge_key,
    only_markers_between,
    unwanted_ranges,
)
from imglint.documents import ManifestLoader, compose_documents, mark_index
from imglint.extract import (
    GENERIC_EXTRACTOR,
    OBJECT_EXTRACTORS,
    FoundObject,
    ObjectExtractor,
    Sink,
    document_filter,
)
from imglint.extract.fields import SURVEY_KEY_NAMES
from imglint.image_fields import ImageField, PathStep, ResourceSettings, parse_entries
from imglint.pull_secrets import INDEXED_KINDS
from imglint.sites import PullSecretHolder
from imglint.sources import Source

LINT_FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")
INVENTORY_FORMATS = ("text", "json", "cyclonedx")
FIXTURES = Path(__file__).parent / "fixtures"


def _head(api_version: str, kind: str, keys: frozenset[str] = frozenset()) -> DocumentHead:
    return DocumentHead(kind, api_version, keys)


def _api_version(group: str) -> str:
    return f"{group}/v1" if group else "v1"


# -- the filter follows the extractors' declarations ------------------------------------------


def test_every_registered_object_extractor_gets_its_kinds() -> None:
    wants = document_filter().wants
    for extractor in OBJECT_EXTRACTORS:
        assert extractor.kinds, f"{extractor.name} declares no kinds"
        for group, kind in extractor.kinds:
            head = _head(_api_version(group), "SomeKind" if kind == "*" else kind)
            assert wants(head), (extractor.name, group, kind)


def test_every_object_extractor_gets_documents_with_its_keys() -> None:
    wants = document_filter().wants
    every_object = [e for e in (*OBJECT_EXTRACTORS, GENERIC_EXTRACTOR) if e.kinds is None]
    assert every_object
    for extractor in every_object:
        assert extractor.key_names, f"{extractor.name} declares no key names"
        for key in extractor.key_names:
            assert wants(_head("example.com/v1", "Widget", frozenset({key}))), key
    assert not wants(_head("example.com/v1", "Widget"))
    assert not wants(_head("apps/v1", "Deployment", frozenset({"volumes", "image"})))


def test_indexed_kinds_and_lists_are_always_read() -> None:
    wants = document_filter().wants
    for kind in INDEXED_KINDS:
        assert wants(_head("v1", kind))
        assert wants(_head("example.com/v1", kind))  # the index records them of any group
    assert wants(_head("v1", "List"))
    assert wants(_head("apps/v1", "DeploymentList"))


def test_never_searched_kinds_are_not_read() -> None:
    wants = document_filter().wants
    assert not wants(_head("v1", "ConfigMap", frozenset({"containers"})))
    assert not wants(_head("kyverno.io/v1", "ClusterPolicy", frozenset({"containers"})))
    # A Knative Service is no built-in Service: read when it may hold a pod spec.
    assert wants(_head("serving.knative.dev/v1", "Service", frozenset({"containers"})))


def test_image_fields_entries_are_read() -> None:
    entry = ImageField(
        kind="ClusterStack",
        path="spec.buildImage.image",
        steps=(PathStep("spec"), PathStep("buildImage"), PathStep("image")),
        group="kpack.io",
    )
    head = _head("kpack.io/v1alpha2", "ClusterStack")
    assert not document_filter().wants(head)
    assert document_filter(ResourceSettings(image_fields=(entry,))).wants(head)


def test_the_verbose_survey_reads_unknown_kinds_with_its_keys() -> None:
    head = _head("example.com/v1", "Widget", SURVEY_KEY_NAMES)
    assert not document_filter().wants(head)
    surveying = document_filter(ResourceSettings(survey=True))
    assert surveying.key_names >= SURVEY_KEY_NAMES
    assert surveying.wants(head)
    assert not surveying.wants(_head("apps/v1", "Widget"))  # built-in groups are not surveyed
    assert not surveying.wants(_head("example.com/v1", "Widget"))


def test_an_extractor_without_declared_keys_reads_every_object() -> None:
    def extract_nothing(found: FoundObject, sink: Sink) -> None:
        return None

    anything = ObjectExtractor("anything", None, extract_nothing)  # may find images anywhere
    wants = document_filter(object_extractors=(*OBJECT_EXTRACTORS, anything)).wants
    assert wants(_head("example.com/v1", "Widget"))
    assert not wants(_head("v1", "ConfigMap"))


def _widget_image(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    if isinstance(spec, MappingNode):
        for key, value in spec.value:
            if key.value == "runImage":
                holder = PullSecretHolder(found.obj, [], None, found.obj.line, known=False)
                sink.scalar_site(
                    value, holder, field="runImage", field_path="spec.runImage", key="run"
                )


WIDGETS = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n---\n"
    "apiVersion: toys.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    "spec:\n  runImage: 'busybox:1.36'\n"
)


def test_a_new_extractor_declaring_a_kind_gets_its_documents_composed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "widgets.yaml"
    path.write_text(WIDGETS)
    source = Source(str(path), WIDGETS, file_path=str(path))
    # Without an extractor for it, the Widget is not composed (nothing would read it).
    assert manifests.load([source]).object_count == 0
    toy = ObjectExtractor("toys", frozenset({("toys.example.com", "Widget")}), _widget_image)
    monkeypatch.setattr(extract, "OBJECT_EXTRACTORS", (*OBJECT_EXTRACTORS, toy))
    monkeypatch.setattr(extract, "EXTRACTORS_BY_KIND", extract.by_kind(extract.OBJECT_EXTRACTORS))
    found = manifests.load([source])
    assert [(site.image, site.span.line) for site in found.sites] == [("busybox:1.36", 11)]


# -- the text judgement ---------------------------------------------------------------------


def _blanked(text: str) -> str:
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges is not None
    whole = BlankedText(text, ranges).whole()
    read = BlankedText(text, ranges)
    chunks = iter(lambda: read.read(7), "")  # as the composer reads it: a chunk at a time
    assert "".join(chunks) == whole
    return whole


def _documents(text: str) -> list[str]:
    """The kinds of the documents composed from the blanked text (and the text's shape kept)."""
    blanked = _blanked(text)
    assert len(blanked) == len(text) and blanked.count("\n") == text.count("\n")
    kinds = []
    for document in compose_documents(blanked):
        if isinstance(document, MappingNode):
            keys = {k.value: v for k, v in document.value}
            kinds.append(str(keys["kind"].value))
    return kinds


POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec:\n"
    "  containers:\n  - {name: a, image: nginx}\n"
)
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata:\n  k: %s\n"
LICENCE = "# Copyright the authors.\n#\n  # Licensed under the Apache License 2.0.\n\n"


def test_documents_nothing_reads_are_blanked_in_place() -> None:
    text = CONFIG % (1, "x") + "---\n" + POD % 2 + "--- # a comment\n" + CONFIG % (3, "ünï ☃")
    assert _documents(text) == ["Pod"]
    blanked = _blanked(text)
    pod = text.index(POD % 2)
    end = text.index("# a comment") + len("# a comment")  # marker lines are kept
    assert blanked[pod:end] == text[pod:end]
    assert blanked[:pod].strip() == "---" and not blanked[end:].strip()


@pytest.mark.parametrize(
    "text",
    [
        POD % 1 + "---\n" + CONFIG % (2, "'ünï ☃'") + "---\n" + POD % 3,
        (POD % 1 + "---\n" + CONFIG % (2, "x") + "---\n" + POD % 3).replace("\n", "\r\n"),
        POD % 1 + "---\n" + CONFIG % (2, "x") + "  j: no final line break",
        POD % 1 + "---\n" + "apiVersion: v1\nkind: ConfigMap",
    ],
)
def test_a_blanked_document_ends_where_its_text_ends(text: str) -> None:
    """Line, column and offset after each blanked document are the text's own (the breaks
    inside it are gathered, which nothing reads)."""
    blanked = _blanked(text)
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges
    for _, end in ranges:
        assert blanked[:end].count("\n") == text[:end].count("\n")
        assert blanked.rfind("\n", 0, end) == text.rfind("\n", 0, end)
    assert _documents(text) == ["Pod"] * text.count("kind: Pod")


@pytest.mark.parametrize(
    "config",
    [
        # a kind the text does not show plainly, or shows twice: composed
        "apiVersion: v1\nkind: Config\n  Map\ndata: {a: b}\n",  # "Config Map"
        "apiVersion: v1\nkind: ConfigMap\nkind : Pod\n",
        "apiVersion: v1\nkind: ConfigMap\nkind-x: Pod\n",
        "apiVersion: v1\napiVersion: apps/v1\nkind: ConfigMap\n",
        "apiVersion: v1\nkind: ConfigMap\n!!str kind: Pod\n",
        'apiVersion: v1\nkind: ConfigMap\n"kind": Pod\n',
        "apiVersion: v1\nkind: !!str ConfigMap\n",
        "apiVersion: v1\nkind: ConfigMap#x\n",
        "  apiVersion: v1\n  kind: ConfigMap\n",
        # checked only by composing: anchors, aliases, merge keys
        "apiVersion: v1\nkind: ConfigMap\ndata: {a: &x 1, b: *x}\n",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  <<: {a: 1}\n",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  !!merge x: {a: 1}\n",
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: 1\n...\n# the end\n",
    ],
)
def test_what_the_text_cannot_say_for_certain_is_composed(config: str) -> None:
    text = config + "---\n" + POD % 2
    assert len(_documents(text)) == 2


def test_a_stretch_of_comments_is_blanked_and_nothing_else_left_is_not_composed() -> None:
    text = LICENCE + "---\n" + CONFIG % (1, "x") + "--- # last\n" + LICENCE
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges is not None and len(ranges) == 3
    assert only_markers_between(text, ranges)
    assert _documents(text) == []
    with_pod = text + "---\n" + POD % 2
    ranges = unwanted_ranges(with_pod, extract.document_filter())
    assert ranges is not None and not only_markers_between(with_pod, ranges)
    assert _documents(with_pod) == ["Pod"]


def test_other_keys_at_column_0_leave_the_head_plain() -> None:
    text = "kinds: [a]\napiVersions: [b]\n" + CONFIG % (1, "x") + "---\n" + POD % 2
    assert _documents(text) == ["Pod"]


def test_text_in_scalars_is_no_anchor_and_no_merge_key() -> None:
    text = CONFIG % (1, "'a **bold** b && c *d* | cat <<EOF'") + "---\n" + POD % 2
    assert _documents(text) == ["Pod"]
    # Lines of a block scalar's or a plain scalar's text that start like an alias.
    block = CONFIG % (1, "|-\n    deprecated.\n     *Warning: do not use\n  j: x\n    *more")
    assert _documents(block + "---\n" + POD % 2) == ["Pod"]
    # ... below a line of that text that reads as `words: words` (a CRD's deprecation note).
    block = CONFIG % (1, "|-\n    token is deprecated: use x.\n     *Warning: do not use")
    assert _documents(block + "---\n" + POD % 2) == ["Pod"]
    # An alias where a node starts: a mapping key after a sibling, a value on its own line.
    for alias in ("  a: 1\n  *x : 2\n", "  a:\n    *x\n", "  - [a,\n    *x]\n"):
        text = "apiVersion: v1\nkind: ConfigMap\ndata:\n" + alias + "---\n" + POD % 2
        assert len(_documents(text.replace("*x", "&x y"))) == 2, alias
    assert may_hold_merge_key("a:\n  <<: *b\n") and may_hold_merge_key("? <<\n: {a: 1}\n")
    assert not may_hold_merge_key("run: cat <<EOF\nx: a << b\n")


@pytest.mark.parametrize(
    "text",
    [
        "%YAML 1.1\n---\n" + CONFIG % (1, "x"),
        "\ufeff" + CONFIG % (1, "x"),
        (CONFIG % (1, "x") + "---\n" + POD % 2).replace("\n", "\r"),
        CONFIG % (1, "x") + "---\r\n" + "a: b\u2028c: d\n",
        CONFIG % (1, "[") + "---\n" + POD % 2,  # a syntax error in a document not wanted
    ],
)
def test_files_composed_whole(text: str) -> None:
    assert unwanted_ranges(text, extract.document_filter()) is None


# A ConfigMap long enough to be remembered once skipped (its data: 60 keys of 40 characters).
LONG_CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: long\ndata:\n" + "".join(
    f"  key{n:02}: {'v' * 40}\n" for n in range(60)
)


class _CountedParser:
    """libyaml's event parse, counting the documents it is given."""

    parsed: ClassVar[list[str]] = []

    def __init__(self, text: str) -> None:
        self._text = text

    def raw_parse(self) -> int:
        _CountedParser.parsed.append(self._text)
        return int(CParser(self._text).raw_parse())


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(text_filter, "_CParser", _CountedParser)
    _CountedParser.parsed = []
    return _CountedParser.parsed


def test_a_long_document_met_again_is_skipped_without_judging_it_again(
    counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(LONG_CONFIG) >= text_filter._REMEMBERED_LENGTH
    wanted = extract.document_filter()
    first = LONG_CONFIG + "---\n" + POD % 1
    second = POD % 2 + "---\n" + LONG_CONFIG + "---\n" + LONG_CONFIG
    assert unwanted_ranges(first, wanted) == [(0, len(LONG_CONFIG))]
    assert counted == [LONG_CONFIG]

    judged: list[str] = []
    real_head = text_filter._head

    def head(body: str, key_names: frozenset[str]) -> DocumentHead | None:
        judged.append(body)
        return real_head(body, key_names)

    monkeypatch.setattr(text_filter, "_head", head)
    start = len(POD % 2)
    ranges = unwanted_ranges(second, wanted)
    assert ranges == [
        (start + 4, start + 4 + len(LONG_CONFIG)),
        (start + 8 + len(LONG_CONFIG), len(second)),
    ]
    assert counted == [LONG_CONFIG] and judged == [POD % 2]  # the Pod alone is judged
    # (Its text after the marker line is what a document is remembered by.)
    # Another filter has judged nothing yet: it parses the text again.
    assert unwanted_ranges(first, extract.document_filter()) == [(0, len(LONG_CONFIG))]
    assert counted == [LONG_CONFIG, LONG_CONFIG]
    # A short document is judged each time (as quick as looking it up).
    short = CONFIG % (1, "x")
    assert len(short) < text_filter._REMEMBERED_LENGTH
    for _ in range(2):
        assert unwanted_ranges(short + "---\n" + POD % 1, wanted) == [(0, len(short))]
    assert counted[2:] == [short, short]


@pytest.mark.parametrize(
    "changed",
    [
        LONG_CONFIG + "  alias: *nowhere\n",  # composed (an alias), and reported so
        LONG_CONFIG.replace("key00", "key00: ["),  # a syntax error: the file is composed whole
        # wanted: a custom resource holding a key images are found under
        LONG_CONFIG.replace("v1\nkind: ConfigMap", "example.com/v1\nkind: Widget").replace(
            "key00", "containers"
        ),
    ],
)
def test_a_long_document_changed_at_all_is_judged_again(counted: list[str], changed: str) -> None:
    wanted = extract.document_filter()
    assert unwanted_ranges(LONG_CONFIG + "---\n" + POD % 1, wanted)
    counted.clear()
    ranges = unwanted_ranges(changed + "---\n" + POD % 1, wanted)
    assert not ranges
    assert len(wanted.skipped_before) == 1


def test_the_long_documents_remembered_are_bounded(
    counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_filter, "_MOST_REMEMBERED", 2)
    wanted = extract.document_filter()
    configs = [LONG_CONFIG.replace("name: long", f"name: long{n}") for n in range(4)]
    text = "---\n".join([*configs, POD % 1])
    for _ in range(2):
        ranges = unwanted_ranges(text, wanted)
        assert ranges is not None and len(ranges) == 4
    assert len(wanted.skipped_before) == 2
    parsed = [text.removeprefix("---\n") for text in counted]
    assert parsed == configs + configs[2:]  # the two not remembered are parsed again


def test_the_remembered_tags_are_pyyaml_s() -> None:
    plain = (
        "[yes, No, on, OFF, true, ~, null, '', 1, 0x1f, 0o17, 017, 1_000, 1.5e3, .inf, -.Inf,"
        " .NaN, 2001-12-14, 2001-12-14t21:59:43.10-05:00, '<<', =, 1:20, '1', a, Pod]"
    )
    text = f"a: {plain}\nb: {plain}\n<<: {{x: 1}}\n"

    def tags(node: Node) -> Iterator[str]:
        yield node.tag
        if isinstance(node.value, list):
            for item in node.value:
                for part in item if isinstance(item, tuple) else (item,):
                    yield from tags(part)

    assert not ManifestLoader.yaml_path_resolvers
    for _ in range(2):  # the second time from the cache
        ours = [list(tags(d)) for d in yaml.compose_all(text, Loader=ManifestLoader)]
        pyyaml = [list(tags(d)) for d in yaml.compose_all(text, Loader=yaml.SafeLoader)]
        assert ours == pyyaml


# -- the fast path and the full composition agree, byte for byte ---------------------------


def _run(args: list[str], full: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr(manifests, "COMPOSE_EVERY_DOCUMENT", full)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _agree(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    fast = _run(args, False, monkeypatch)
    full = _run(args, True, monkeypatch)
    # -v says how long the run took: the one line that may differ.
    assert fast[:2] == full[:2] and _untimed(fast[2]) == _untimed(full[2])
    return fast


def _untimed(err: str) -> str:
    return re.sub(r"(?m)^imglint: done in [0-9.]+ s$", "imglint: done", err)


HOSTILE = {
    "undefined-alias.yaml": POD % 1 + "---\n" + CONFIG % (2, "*nowhere") + "---\n" + POD % 3,
    "undefined-alias-key.yaml": CONFIG % (1, "x\n  *nowhere : y") + "---\n" + POD % 2,
    "undefined-alias-below.yaml": CONFIG % (1, "\n    *nowhere") + "---\n" + POD % 2,
    "alias-like-text.yaml": CONFIG % (1, "|-\n    a\n     *Warning: b") + "---\n" + POD % 2,
    "alias-like-text-after-words.yaml": CONFIG % (1, "|-\n    a b: c.\n     *Warning: d")
    + "---\n"
    + POD % 2,
    "undefined-alias-below-words.yaml": CONFIG % (1, "x\n  a b:\n    *nowhere") + "---\n" + POD % 2,
    "alias-after-words-value.yaml": CONFIG % (1, "x\n  a b: c\n    *nowhere") + "---\n" + POD % 2,
    "duplicate-anchor.yaml": CONFIG % (1, "&a x\n  j: &a y") + "---\n" + POD % 2,
    "late-syntax-error.yaml": POD % 1 + "---\n" + CONFIG % (2, "ok") + "---\n" + "a: [\n",
    "syntax-error-in-skipped.yaml": POD % 1
    + "---\n"
    + CONFIG % (2, "'unclosed")
    + "---\n"
    + POD % 3,
    "tab-in-skipped.yaml": POD % 1 + "---\n" + CONFIG % (2, "x\n\tj: y"),
    "bom.yaml": "\ufeff" + CONFIG % (1, "x") + "---\n" + POD % 2,
    "control-character-in-skipped.yaml": CONFIG % (1, "'a\x07b'") + "---\n" + POD % 2,
    "control-character-in-read.yaml": CONFIG % (1, "x") + "---\n" + POD % 2 + "x: '\x07'\n",
    "bom-mid-stream.yaml": CONFIG % (1, "x")
    + "---\n\ufeff"
    + CONFIG % (2, "y")
    + "---\n"
    + POD % 3,
    "unicode-before.yaml": CONFIG % (1, "'ünïcödé ☃ 🐳'") + "---\n" + POD % 2,
    "merge.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n  containers:\n"
    "  - &c {name: a, image: 'nginx:1.25'}\n  - <<: *c\n    name: b\n---\n" + CONFIG % (2, "x"),
    "bad-merge-in-skipped.yaml": CONFIG % (1, "x\n  <<: [1, 2]") + "---\n" + POD % 2,
    "merge-before-key.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: m}\nspec:\n"
    "  containers:\n  - &c {name: a, image: 'nginx:1.25'}\n  - image: busybox\n    <<: *c\n",
    "template-in-skipped.yaml": CONFIG % (1, "x") + "{{- if .Values.x }}\n---\n" + POD % 2,
    "template-data.yaml": CONFIG % (1, "|\n    {{ .Values.x }}\n    {{- end }}")
    + "---\n"
    + POD % 2,
    "escaped-key.yaml": "apiVersion: example.com/v1\nkind: Widget\nspec:\n  template:\n"
    '    spec:\n      "contai\\u006eers": [{name: a, image: busybox}]\n---\n' + POD % 2,
    "marker-content.yaml": "--- |\n  text\n--- {apiVersion: v1, kind: Pod, metadata: {name: f},"
    " spec: {containers: [{name: a, image: 'redis:latest'}]}}\n",
    "document-end.yaml": CONFIG % (1, "x") + "...\n" + POD % 2 + "...\n",
    "crlf.yaml": (CONFIG % (1, "x") + "---\n" + POD % 2).replace("\n", "\r\n"),
    "directive.yaml": "%YAML 1.1\n---\n" + POD % 1,
    "kind-in-scalar.yaml": 'apiVersion: v1\nmetadata: {name: q}\nnote: "a\nkind: ConfigMap\nb"\n'
    "kind: Pod\nspec:\n  containers: [{name: a, image: busybox}]\n",
    "kind-continued.yaml": "apiVersion: v1\nkind: Config\n  Map\nmetadata: {name: k}\nspec:\n"
    "  containers: [{name: a, image: busybox}]\n",
    "tagged-kind.yaml": "apiVersion: v1\nkind: !!str Pod\nmetadata: {name: t}\nspec:\n"
    "  containers: [{name: a, image: busybox}]\n",
    "too-deep.yaml": CONFIG % (1, "[" * 2000 + "]" * 2000) + "---\n" + POD % 2,
    "keep-chomping.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: k}\nspec:\n"
    "  containers: [{name: a, image: busybox}]\nnote: |+\n  x\n\n---\n" + CONFIG % (2, "y"),
    "pull-secrets.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}\n"
    "imagePullSecrets: [{name: missing}]\n---\n" + POD % 1,
    # Stretches of nothing but comments, and files where nothing else is left to compose.
    "licence-header-only-configs.yaml": LICENCE + "---\n" + CONFIG % (1, "x") + "---\n" + LICENCE,
    "licence-header-crlf.yaml": (LICENCE + "---\n" + CONFIG % (1, "x")).replace("\n", "\r\n"),
    "licence-header-tab.yaml": "\t" + LICENCE + "---\n" + CONFIG % (1, "x") + "---\n" + POD % 2,
    "licence-header-control-character.yaml": "# a\x07b\n---\n" + CONFIG % (1, "x"),
    "licence-header-then-pod.yaml": LICENCE + POD % 1 + "---\n" + CONFIG % (2, "x"),
    "only-comments.yaml": LICENCE,
    "only-markers.yaml": "---\n--- # x\n---",
    "comment-then-document-end.yaml": LICENCE + "...\n---\n" + CONFIG % (1, "x"),
    # A long document met again (remembered once skipped), then changed: judged again.
    "long-repeated.yaml": LONG_CONFIG + "---\n" + POD % 1 + "---\n" + LONG_CONFIG,
    "long-repeated-with-alias.yaml": LONG_CONFIG + "---\n" + LONG_CONFIG + "  a: *nowhere\n",
    "long-repeated-anchors.yaml": LONG_CONFIG
    + "---\n"
    + LONG_CONFIG
    + "  a: &x 1\n  b: &x 2\n---\n"
    + POD % 2,
    "long-repeated-syntax-error.yaml": POD % 1 + "---\n" + LONG_CONFIG + "  a: 'open\n",
}


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, text in HOSTILE.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    # One large stream of documents: the per-document decisions (`{{` lines, merge keys).
    big = (
        "---\n".join((POD % n if n % 7 == 0 else CONFIG % (n, "x")) for n in range(3000))
        + "---\n"
        + HOSTILE["merge.yaml"]
        + "---\n"
        + HOSTILE["template-data.yaml"]
    )
    (folder / "stream.yaml").write_text(big)
    return folder


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_fast_path_matches_full_composition_on_hostile_files(
    name: str, hostile_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for fmt in LINT_FORMATS:
        _agree([str(hostile_folder / name), "--format", fmt], monkeypatch)


@pytest.mark.parametrize("fmt", LINT_FORMATS)
def test_fast_path_matches_full_composition_on_the_hostile_folder(
    fmt: str, hostile_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _agree([str(hostile_folder), "--format", fmt], monkeypatch)
    assert code == 2 and out  # input errors, and findings reported


def _corpus() -> Path | None:
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "shared" / "corpus", Path("/work/shared/corpus")):
        if candidate.is_dir():
            return candidate
    return None


def _every_report(folder: Path) -> Iterator[list[str]]:
    for fmt in LINT_FORMATS:
        yield [str(folder), "--format", fmt]
    yield [str(folder), "-v"]  # the survey of kinds nobody reads
    for fmt in INVENTORY_FORMATS:
        yield [str(folder), "--list-images", "--format", fmt]


@pytest.mark.parametrize("args", list(_every_report(FIXTURES)), ids=" ".join)
def test_fast_path_matches_full_composition_on_the_fixtures(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _agree(args, monkeypatch)[1]


@pytest.mark.skipif(
    _corpus() is None, reason="the shared corpus (../shared/corpus) is not beside this clone"
)
def test_fast_path_matches_full_composition_on_the_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = _corpus()
    assert corpus is not None
    for args in _every_report(corpus):
        assert _agree(args, monkeypatch)[1], args


def test_a_document_too_large_to_read_is_refused_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document with more nodes than the limit is refused whether or not anything would read
    it (the limit lowered here, so that the file stays small)."""
    from imglint import documents

    monkeypatch.setattr(documents, "MAX_NODES_PER_DOCUMENT", 500)
    entries = "".join(f"  k{n}: v\n" for n in range(600))
    path = tmp_path / "huge.yaml"
    path.write_text(CONFIG % (1, "x") + entries + "---\n" + POD % 2)
    code, out, _ = _agree([str(path), "--format", "json"], monkeypatch)
    assert code == 2 and "too large to read" in out


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["# c", "#", " ", "\t", "\n", "\r\n", "a", "-", ": ", "\r"]), max_size=24
    ).map("".join)
)
def test_leading_comment_lines_are_judged_as_the_plain_patterns_judge_them(body: str) -> None:
    # The filter's patterns take blank and comment lines without ever giving one back (linear
    # on long licence headers); giving one back could never have matched, so they judge every
    # text as the plain, backtracking forms do.
    empty_stretch = r"(?:[ ]*(?:#[^\r\n]*)?\r?\n)*[ ]*(?:#[^\r\n]*)?"
    starts_at_column_0 = r"(?:[ \t]*(?:#[^\r\n]*)?\r?\n)*[A-Za-z0-9_]"
    assert bool(text_filter._EMPTY_STRETCH.fullmatch(body)) == bool(
        re.fullmatch(empty_stretch, body)
    )
    plain = re.match(starts_at_column_0, body)
    atomic = text_filter._STARTS_AT_COLUMN_0.match(body)
    assert (plain and plain.end()) == (atomic and atomic.end())


# -- composing only the stretch between the documents left out ------------------------------


def _marks(
    stream: str | BlankedText,
) -> list[tuple[str, tuple[int, int, int], tuple[int, int, int]]]:
    """Every node of the documents composed that hold something, in order: its tag, and where
    it starts and ends (line, column, offset in the text)."""
    found = []
    for document in yaml.compose_all(stream, Loader=ManifestLoader):
        if document.tag == "tag:yaml.org,2002:null" and document.value == "":
            continue  # an empty document: what a blanked one composes to
        stack: list[Node] = [document]
        while stack:
            node = stack.pop()
            start, end = node.start_mark, node.end_mark
            found.append(
                (
                    node.tag,
                    (start.line, start.column, mark_index(start)),
                    (end.line, end.column, mark_index(end)),
                )
            )
            if isinstance(node.value, list):
                for item in reversed(node.value):
                    stack.extend(reversed(item) if isinstance(item, tuple) else (item,))
    return found


KEEP_CHOMPING_POD = POD % 1 + "note: |+\n  x\n\n"
STRETCHES = {
    "configs around a pod": CONFIG % (1, "x")
    + "---\n"
    + CONFIG % (2, "y")
    + "---\n"
    + POD % 3
    + "---\n"
    + CONFIG % (4, "z"),
    "licence, comment markers": LICENCE
    + "---\n"
    + CONFIG % (1, "x")
    + "--- # a comment\n"
    + POD % 2
    + "--- # another\n"
    + CONFIG % (3, "'ünï ☃'")
    + "---\n"
    + LICENCE,
    "crlf": (CONFIG % (1, "x") + "---\n" + POD % 2 + "---\n" + CONFIG % (3, "y")).replace(
        "\n", "\r\n"
    ),
    "unicode before": CONFIG % (1, "'ünïcödé ☃ 🐳'") + "---\n" + POD % 2,
    "keep chomping at the end": KEEP_CHOMPING_POD + "---\n" + CONFIG % (2, "y"),
    "no final line break": CONFIG % (1, "x")
    + "---\n"
    + POD % 2
    + "---\n"
    + CONFIG % (3, "y")
    + "  j: no final line break",
    "an empty last document": CONFIG % (1, "x") + "---\n" + POD % 2 + "---\n",
    "an end marker kept": CONFIG % (1, "x") + "---\n" + POD % 2 + "...\n---\n" + CONFIG % (3, "y"),
    "pods apart": CONFIG % (1, "x")
    + "---\n"
    + POD % 2
    + "---\n"
    + CONFIG % (3, "y")
    + "---\n"
    + POD % 4
    + "---\n"
    + CONFIG % (5, "z"),
}


@pytest.mark.parametrize("text", list(STRETCHES.values()), ids=list(STRETCHES))
def test_composing_only_the_stretch_kept_puts_every_node_where_the_blanked_text_does(
    text: str,
) -> None:
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges
    start, stop = composed_stretch(text, ranges)
    assert (start, stop) != (0, len(text))  # something is left out
    whole = BlankedText(text, ranges).whole()
    kept = BlankedText(text, ranges, start, stop)
    assert _marks(kept) == _marks(whole) != []
    chunked = BlankedText(text, ranges, start, stop)  # as the composer reads it
    assert "".join(iter(lambda: chunked.read(5), "")) == kept.whole()


def test_the_stretch_composed_starts_and_ends_at_marker_lines() -> None:
    text = CONFIG % (1, "x") + "---\n" + POD % 2 + "--- # a comment\n" + CONFIG % (3, "y")
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges is not None
    start, stop = composed_stretch(text, ranges)
    assert text[start:stop] == "---\n" + POD % 2
    # Nothing left out before a kept document, or after one: the whole text.
    text = POD % 1 + "---\n" + CONFIG % (2, "x") + "---\n" + POD % 3
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges and composed_stretch(text, ranges) == (0, len(text))
    # Everything left out: the whole text (composing it finds nothing).
    text = CONFIG % (1, "x") + "---\n" + CONFIG % (2, "y")
    ranges = unwanted_ranges(text, extract.document_filter())
    assert ranges and composed_stretch(text, ranges) == (0, len(text))


ARGO_VALUES = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: app, namespace: argocd}
spec:
  source:
    repoURL: https://charts.example.com
    chart: web
    targetRevision: 1.0.0
    helm:
      values: |
        image:
          repository: nginx
          tag: "1.25"
"""
GADGET = """apiVersion: example.com/v1
kind: Gadget
metadata: {name: g}
spec:
  template:
    spec:
      containers: [{name: a, image: "redis:7"}]
  sidecar: {image: "busybox:1.36"}
"""
WIDGET = """apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  runner: {image: "busybox:1.36"}
  helper:
    image: alpine
"""


def _sites_and_errors(
    paths: list[str], full: bool, monkeypatch: pytest.MonkeyPatch, settings: ResourceSettings
) -> tuple[list[tuple[object, ...]], list[str]]:
    monkeypatch.setattr(manifests, "COMPOSE_EVERY_DOCUMENT", full)
    collected = sources.collect(paths)
    read = manifests.load(collected.sources, settings=settings)
    places: list[tuple[object, ...]] = [
        (s.path, s.image, s.span, s.value_checked_at, tuple(sorted(s.components.items())))
        for s in read.sites
    ]
    return places, [str(e) for e in [*collected.errors, *read.errors]] + read.notices + read.details


def test_sites_are_where_the_full_composition_puts_them(
    hostile_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offsets, not only lines and columns (which the reports show): --fix rewrites at them."""
    leading = CONFIG % (1, "'ünï ☃'") + "---\n" + CONFIG % (2, "y") + "---\n"
    (tmp_path / "argo.yaml").write_text(leading + ARGO_VALUES + "---\n" + CONFIG % (3, "z"))
    (tmp_path / "widget.yaml").write_text(leading + WIDGET + "---\n" + POD % 4)
    (tmp_path / "gadget.yaml").write_text(leading + GADGET)
    (tmp_path / "pods.yaml").write_text(leading + POD % 5 + "---\n" + CONFIG % (6, "z"))
    for name, text in STRETCHES.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    widget_images = parse_entries(
        [
            {"kind": "Widget", "group": "example.com", "path": "spec.runner.image"},
            # where the pod-spec walker finds them too: each is reported once
            {"kind": "Pod", "group": "", "path": "spec.containers[].image"},
        ]
    )
    assert isinstance(widget_images, tuple)
    for resources in (
        ResourceSettings(),
        ResourceSettings(image_fields=widget_images, survey=True),
        ResourceSettings(survey=True),  # notes on image-like fields no extractor reads
    ):
        for folder in (tmp_path, hostile_folder):
            fast = _sites_and_errors([str(folder)], False, monkeypatch, resources)
            assert fast == _sites_and_errors([str(folder)], True, monkeypatch, resources)
            assert fast[0]
    fast = _sites_and_errors([str(tmp_path / "argo.yaml")], False, monkeypatch, ResourceSettings())
    assert [place[1] for place in fast[0]] == ["nginx:1.25"]


@pytest.mark.skipif(
    _corpus() is None, reason="the shared corpus (../shared/corpus) is not beside this clone"
)
def test_sites_are_where_the_full_composition_puts_them_on_the_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = _corpus()
    assert corpus is not None
    resources = ResourceSettings(survey=True)
    fast = _sites_and_errors([str(corpus)], False, monkeypatch, resources)
    assert fast == _sites_and_errors([str(corpus)], True, monkeypatch, resources)
