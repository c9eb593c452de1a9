"""What a chart's templates say about its image values, read textually (no Go template engine).

A values file holds the parts of an image (`registry`, `repository`, `tag`, `digest`); the chart's
templates decide how they become a reference. This module reads the templates as text for the few
idioms that decide it in real charts, per values path (`controller.image`):

- the tag falls back to the chart's `appVersion`: one template action names both the tag (or the
  whole image mapping, passed to a helper) and `.Chart.AppVersion`
  (`{{ .Values.image.tag | default .Chart.AppVersion }}`,
  `{{ template "image" (tuple .Values.image $.Chart.AppVersion) }}`);
- the tag falls back to something else (`| default $kubeVersion`): not known before deploy;
- the tag is dropped when a digest is set: a plain `{{ if .digest }}` whose branch writes the digest
  and never the tag (cert-manager's `image` helper, Bitnami's `common.images.image`);
- the tag is rendered verbatim at the end of a reference (`{{ .Values.image.repository }}:{{
  .Values.image.tag }}` and nothing after it), so `tag: "1.2.3@sha256:..."` renders a pinned
  reference; and `@sha256:{{ .Values.x.sha }}` says a `sha` value holds bare hex;
- a mapping whose repository feeds an `image:` line is an image even under a key that does not say
  so (podinfo's `redis.repository`).

Helpers are followed by name: a path passed whole to `include "NAME"`/`template "NAME"` (directly or
through another helper, or as the dot of a `with` block) gets what NAME's body says about its
relative fields (`.tag`, `.imageRoot.digest`). Anything else is "not told", never guessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

from imglint.records import dataclass, field

# Template files of a chart: what `helm template` renders or includes.
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")
# A chart's templates beyond this many characters are not read (real charts: well under 2 MB).
MAX_TEMPLATE_CHARS = 8_000_000

_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_COMMENT = re.compile(r"^\s*/\*.*\*/\s*$", re.DOTALL)
_VALUES_PATH = re.compile(r"\$?\.Values((?:\.[A-Za-z_][\w-]*|\s*\|\s*)*)")
_DOTTED = re.compile(r"\$?\.Values\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)")
_INDEXED = re.compile(r"""index\s+\$?\.Values((?:\s+"[^"]+")+)""")
_CALL = re.compile(r"""\b(?:include|template)\s+"([^"]+)\"""")
_DEFINE = re.compile(r"""^\s*(?:define|block)\s+"([^"]+)\"""")
_RELATIVE = re.compile(r"(?<![\w$\]\)])\.((?:[A-Za-z_]\w*\.)?)(tag|digest|sha|repository|image)\b")
_APP_VERSION = re.compile(r"\.Chart\.AppVersion\b|\.chart\.AppVersion\b")
_PRINTED_VALUE = re.compile(r"(\$?\.Values\.[\w.]+)(?:\s*\|\s*quote)?")
_IMAGE_LINE = re.compile(r"(?:^|[\s-])image\s*:|image=|Image\s*:")
_TAG_ONLY = re.compile(r"\$?\.Values\.[\w.]+\.tag|\.tag|\.[A-Za-z_]\w*\.tag")
# Fields of an image mapping the idioms concern.
TAG, DIGEST_KEYS = "tag", ("digest", "sha")
_OPENERS = ("if", "with", "range", "define", "block")


@dataclass
class PathUse:
    """What the templates say about one values path (an image mapping)."""

    tag_app_version: bool = False  # an empty tag renders as the chart's appVersion
    tag_other_default: str | None = None  # an empty tag renders as this (not knowable)
    tag_literal_default: str | None = None  # `default "latest" .tag`: an empty tag renders so
    drops_tag_with_digest: bool = False
    keeps_tag_with_digest: bool = False
    tag_verbatim: int = 0  # uses of the tag at the very end of a reference
    tag_other_use: int = 0  # uses of the tag elsewhere (labels, `default`, inside a string)
    sha_hex: bool = False  # `@sha256:{{ ...sha }}`: the value is bare hex
    sha_full: bool = False  # `@{{ ...sha }}` / `@{{ ...digest }}`: the value is `sha256:...`
    in_image_line: bool = False  # its repository/image field feeds an `image:` line
    string_verbatim: int = 0  # the whole value is an image line's reference, as is
    string_other_use: int = 0  # the whole value is printed elsewhere
    mentioned: bool = False


@dataclass
class ChartTemplates:
    """Per values path (dotted, relative to this chart's `.Values`), what the templates say."""

    uses: dict[str, PathUse] = field(default_factory=dict)
    files: int = 0

    def use(self, path: str) -> PathUse | None:
        return self.uses.get(path)

    def _at(self, path: str) -> PathUse:
        found = self.uses.get(path)
        if found is None:
            found = self.uses[path] = PathUse()
        return found


def read_templates(chart_dir: str) -> ChartTemplates:
    """The templates of the chart at chart_dir, analysed; its subcharts' helpers are read too
    (Helm shares every `define` across a chart and its subcharts: Bitnami's `common`).

    Unreadable files are left out: the answer is then "not told", which only ever adds notes.
    A chart's values files, its subcharts' and its parent's all ask about the same templates:
    the analysis is kept while no template file changes (size and modification time).
    """
    key = (os.path.abspath(chart_dir), _signature(chart_dir))
    found = _ANALYSED.get(key)
    if found is None:
        own = list(_template_texts(os.path.join(chart_dir, "templates")))
        library: list[str] = []
        subcharts = os.path.join(chart_dir, "charts")
        if os.path.isdir(subcharts):
            library = [t for t in _template_texts(subcharts) if "define" in t]
        found = analyse(own, library)
        if len(_ANALYSED) >= MAX_CHARTS_KEPT:
            _ANALYSED.clear()
        _ANALYSED[key] = found
    return found


# Analysed charts kept for the run (a chart repository has tens of charts, each a few MB at most).
MAX_CHARTS_KEPT = 64
_ANALYSED: dict[tuple[str, tuple[tuple[str, int, int], ...]], ChartTemplates] = {}


def _signature(chart_dir: str) -> tuple[tuple[str, int, int], ...]:
    """Every template file below the chart (and its subcharts): path, size, mtime."""
    found: list[tuple[str, int, int]] = []
    for root in (os.path.join(chart_dir, "templates"), os.path.join(chart_dir, "charts")):
        for folder, _subfolders, names in os.walk(root):
            for name in names:
                if name.endswith(TEMPLATE_SUFFIXES):
                    path = os.path.join(folder, name)
                    try:
                        stat = os.stat(path)
                    except OSError:
                        continue
                    found.append((path, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def _template_texts(root: str) -> Iterator[str]:
    total = 0
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            if not name.endswith(TEMPLATE_SUFFIXES):
                continue
            try:
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                    text = f.read(MAX_TEMPLATE_CHARS + 1)
            except OSError:
                continue
            total += len(text)
            if total > MAX_TEMPLATE_CHARS:
                return
            yield text


@dataclass
class _Action:
    body: str  # inside the braces, trimmed
    start: int  # offset of `{{` in the text
    end: int  # offset after `}}`


@dataclass
class _Block:
    """A define/with body: its relative-field facts, to hand to the paths that reach it."""

    facts: list[tuple[str, str]] = field(default_factory=list)  # (fact, detail)
    calls: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)  # .Values paths named inside


def analyse(texts: Iterable[str], library: Iterable[str] = ()) -> ChartTemplates:
    """Analyse a chart's template texts (pure: the caller reads the files). `library`: other
    charts' templates whose helpers (`define`) this chart may call; their own uses are not its."""
    result = ChartTemplates()
    defines: dict[str, _Block] = {}
    for text in library:
        _analyse_text(text, ChartTemplates(), defines, [])
    # (helper name, values path passed to it whole)
    calls: list[tuple[str, str]] = []
    for text in texts:
        result.files += 1
        _analyse_text(text, result, defines, calls)
    # A path passed to a helper gets the helper's relative facts, and those of the helpers that
    # helper calls (Bitnami: nginx.image -> common.images.image).
    for helper, path in calls:
        for fact, detail in _reach(helper, defines):
            _apply(result._at(path), fact, detail)
    return result


def _reach(helper: str, defines: dict[str, _Block]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    stack = [helper]
    while stack:
        name = stack.pop()
        if name in seen or name not in defines:
            continue
        seen.add(name)
        block = defines[name]
        yield from block.facts
        stack.extend(block.calls)


def _apply(use: PathUse, fact: str, detail: str) -> None:
    use.mentioned = True
    if fact == "app_version":
        use.tag_app_version = True
    elif fact == "other_default":
        use.tag_other_default = use.tag_other_default or detail
    elif fact == "literal_default":
        use.tag_literal_default = use.tag_literal_default or detail
    elif fact == "drops":
        use.drops_tag_with_digest = True
    elif fact == "keeps":
        use.keeps_tag_with_digest = True
    elif fact == "verbatim":
        use.tag_verbatim += 1
    elif fact == "other_use":
        use.tag_other_use += 1
    elif fact == "sha_hex":
        use.sha_hex = True
    elif fact == "sha_full":
        use.sha_full = True
    elif fact == "image_line":
        use.in_image_line = True
    elif fact == "string_verbatim":
        use.string_verbatim += 1
    elif fact == "string_other_use":
        use.string_other_use += 1


def _actions(text: str) -> list[_Action]:
    actions = []
    for match in _ACTION.finditer(text):
        body = match.group(1).strip()
        if _COMMENT.match(body):
            continue
        actions.append(_Action(body, match.start(), match.end()))
    return actions


def _keyword(body: str) -> str:
    word = body.split(None, 1)[0] if body else ""
    if word == "else":
        return "else"
    return word


def _analyse_text(
    text: str,
    result: ChartTemplates,
    defines: dict[str, _Block],
    calls: list[tuple[str, str]],
) -> None:
    actions = _actions(text)
    # Which define / with block each action sits in: a stack of (keyword, block or None, path).
    stack: list[tuple[str, _Block | None, str | None]] = []
    for index, action in enumerate(actions):
        body = action.body
        word = _keyword(body)
        if word == "end":
            if stack:
                stack.pop()
            continue
        block, bound = _innermost(stack)
        if word in _OPENERS:
            define = _DEFINE.match(body)
            if define:
                new_block = defines.setdefault(define.group(1), _Block())
                stack.append(("define", new_block, None))
                continue
            with_path = _whole_paths(body)[:1] if word == "with" else []
            stack.append((word, None, with_path[0] if with_path else None))
        for fact, detail, path in _facts(text, actions, index):
            if path is None:  # a relative field: the helper's or the with block's
                if bound is not None:
                    _apply(result._at(bound), fact, detail)
                elif block is not None:
                    block.facts.append((fact, detail))
            else:
                _apply(result._at(path), fact, detail)
        for helper in _CALL.findall(body):
            if block is not None:
                block.calls.add(helper)
            for path in _whole_paths(body):
                calls.append((helper, path))
            if bound is not None:
                calls.append((helper, bound))
        for path in _paths(body):
            result._at(path).mentioned = True
            if block is not None:
                block.paths.add(path)


def _innermost(
    stack: list[tuple[str, _Block | None, str | None]],
) -> tuple[_Block | None, str | None]:
    """The define block and the `with` path that relative fields of an action refer to."""
    for _word, block, path in reversed(stack):
        if path is not None:
            return None, path
        if block is not None:
            return block, None
    return None, None


def _paths(body: str) -> list[str]:
    paths = [m.group(1) for m in _DOTTED.finditer(body)]
    for m in _INDEXED.finditer(body):
        paths.append(".".join(re.findall(r'"([^"]+)"', m.group(1))))
    return paths


def _whole_paths(body: str) -> list[str]:
    """`.Values.x.image` named as a whole (not one of its fields): a mapping handed on."""
    # `image` is both a field (ingress-nginx's `image.image`) and a mapping's key: both kept.
    return [
        p
        for p in _paths(body)
        if p.rsplit(".", 1)[-1] not in (TAG, *DIGEST_KEYS, "repository", "registry")
    ]


def _split_field(path: str) -> tuple[str, str] | None:
    owner, _, name = path.rpartition(".")
    if owner and name in (TAG, *DIGEST_KEYS, "repository", "image", "registry"):
        return owner, name
    return None


def _facts(text: str, actions: list[_Action], index: int) -> Iterator[tuple[str, str, str | None]]:
    """(fact, detail, values path or None for a relative field) that one action states."""
    action = actions[index]
    body = action.body
    fields = _fields(body)
    tags = [(owner, expr) for owner, name, expr in fields if name == TAG]
    # The tag's default: `TAG | default X` or `default X TAG`.
    for owner, expr in tags:
        default = _default_for(body, expr)
        if default is None:
            continue
        if _APP_VERSION.search(default):
            yield "app_version", "", owner
        elif re.fullmatch(r'"[^"]*"', default):
            yield "literal_default", default[1:-1], owner
        else:
            yield "other_default", default, owner
    if _APP_VERSION.search(body) and not tags:
        for owner in _whole_paths(
            body
        ):  # `template "image" (tuple .Values.image $.Chart.AppVersion)`
            yield "app_version", "", owner
    # Where the tag is rendered: verbatim at the end of a reference, or anywhere else.
    for owner, _expr in tags:
        yield ("verbatim" if _ends_reference(text, action, body) else "other_use"), "", owner
    # Digest fields: their format, and whether a plain `if DIGEST` drops the tag.
    before = text[max(0, action.start - 8) : action.start]
    for owner, name, _expr in fields:
        if name not in DIGEST_KEYS:
            continue
        if before.endswith("@sha256:") or '"@sha256:%s"' in body:
            yield "sha_hex", "", owner
        elif before.endswith("@") or '"@%s"' in body:
            yield "sha_full", "", owner
    if _keyword(body) == "if" and not tags:
        digests = [owner for owner, name, _expr in fields if name in DIGEST_KEYS]
        if digests and len(fields) == len(digests) and not body.startswith("if and"):
            fact = _digest_branch(text, actions, index)
            if fact is not None:
                for owner in digests:
                    yield fact, "", owner
    # A whole value printed alone as an image line's reference: `image: {{ .Values.x.image }}`.
    printed = _PRINTED_VALUE.fullmatch(body)
    if printed and _split_field(printed.group(1)[printed.group(1).index("Values.") + 7 :]) is None:
        path = printed.group(1)[printed.group(1).index("Values.") + 7 :]
        line_start = text.rfind("\n", 0, action.start) + 1
        line_end = text.find("\n", action.end)
        before_text = text[line_start : action.start]
        after_text = text[action.end : len(text) if line_end < 0 else line_end]
        alone = re.fullmatch(r"\s*(?:-\s+)?image:\s*[\"']?", before_text) and re.fullmatch(
            r"[\"']?\s*", after_text
        )
        yield ("string_verbatim" if alone else "string_other_use"), "", path
    # An `image:` line (or `--...-image=` argument) that this action helps write.
    line_start = text.rfind("\n", 0, action.start) + 1
    if _IMAGE_LINE.search(text[line_start : action.start]):
        for owner, name, _expr in fields:
            if name in ("repository", "image"):
                yield "image_line", "", owner


def _fields(body: str) -> list[tuple[str | None, str, str]]:
    """(owner path or None when relative, field name, the expression as written)."""
    found: list[tuple[str | None, str, str]] = []
    for match in _DOTTED.finditer(body):
        split = _split_field(match.group(1))
        if split is not None:
            found.append((split[0], split[1], match.group(0)))
    for match in _RELATIVE.finditer(_strip_values(body)):
        found.append((None, match.group(2), match.group(0)))
    return found


def _default_for(body: str, expr: str) -> str | None:
    """What `default` gives the expression when it is empty, if the action says so."""
    if "default" not in body:
        return None
    quoted = re.escape(expr)
    operand = r'(\([^()]*\)|"[^"]*"|[^\s()|]+)'
    pipe = re.search(quoted + r"(?![\w.])\s*(?:\|\s*toString\s*)?\|\s*default\s+" + operand, body)
    if pipe:
        return pipe.group(1)
    prefix = re.search(r"\bdefault\s+" + operand + r"\s+" + quoted + r"(?![\w.])", body)
    return prefix.group(1) if prefix else None


def _strip_values(body: str) -> str:
    """The action without its `.Values...` paths, leaving relative fields (`.tag`) to find."""
    return _DOTTED.sub(" ", body)


def _default_of(body: str) -> str:
    match = re.search(r"\bdefault\s+(\S+)", body)
    return match.group(1) if match else "a default"


def _ends_reference(text: str, action: _Action, body: str) -> bool:
    """The action prints only the tag, right after `:`, and the reference ends after it."""
    if not _TAG_ONLY.fullmatch(body):
        return False
    if text[action.start - 1 : action.start] != ":":
        return False
    after = text[action.end : action.end + 1]
    return after in ("", '"', "'", "\n", "\r", " ")


def _digest_branch(text: str, actions: list[_Action], index: int) -> str | None:
    """For `{{ if DIGEST }}` followed by an `@`: "keeps" when its branch writes the tag too;
    "drops" when the tag is written only in its `else` branch (cert-manager's `image` helper) or
    the branch overwrites a variable that held the tag (Bitnami's `$termination`); else None
    (ingress-nginx writes the tag before the `if`: both are rendered)."""
    branch = _branch(actions, index + 1)
    if branch is None:
        return None
    branch_actions, after = branch
    if "@" not in text[actions[index].end : (branch_actions[-1].end if branch_actions else 0)] and (
        "@" not in " ".join(a.body for a in branch_actions)
    ):
        return None  # the digest goes somewhere, but not after an image name
    names = [name for a in branch_actions for _owner, name, _expr in _fields(a.body)]
    if not any(name in DIGEST_KEYS for name in names):
        return None
    if TAG in names:
        return "keeps"
    if after < len(actions) and _keyword(actions[after].body) == "else":
        else_branch = _branch(actions, after + 1)
        if else_branch is not None and any(
            name == TAG for a in else_branch[0] for _owner, name, _expr in _fields(a.body)
        ):
            return "drops"
    for a in branch_actions:
        assigned = re.match(r"(\$\w+)\s*=[^=]", a.body)
        if assigned and any(name in DIGEST_KEYS for _o, name, _e in _fields(a.body)):
            variable = re.escape(assigned.group(1))
            earlier = text[: actions[index].start]
            if re.search(variable + r"\s*:=[^}]*\.tag\b", earlier):
                return "drops"
    return None


def _branch(actions: list[_Action], first: int) -> tuple[list[_Action], int] | None:
    """The actions of one branch starting at `first`, and the index of the `else`/`end` that
    closes it (None when the text ends first)."""
    depth = 0
    for position in range(first, len(actions)):
        word = _keyword(actions[position].body)
        if word in _OPENERS:
            depth += 1
        elif word == "end":
            if depth == 0:
                return actions[first:position], position
            depth -= 1
        elif word == "else" and depth == 0:
            return actions[first:position], position
    return None
