"""Rewrite image references in place: `--fix`, `--pin`, `--repin`, `--diff`.

Only the image scalars change (for a site assembled from several scalars, such as a Helm
values mapping, the ones its `ImageSite.rewrite` hook names). Each rewrite is an Edit of one
scalar token, located by the character offsets the YAML composer reported, and everything
outside those spans is copied through untouched: comments, quoting, indentation, document
separators, line endings, a missing final newline. Before anything is written the new text is
composed again and compared with the old, node by node: the only differences allowed are the
edited image values. A file is then replaced atomically (temporary file in the same folder,
then rename), or left as it was.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint import pin as pinning
from imglint import rules
from imglint.documents import compose_documents
from imglint.errors import UsageError
from imglint.findings import InputError
from imglint.records import dataclass, field
from imglint.reference import Reference
from imglint.sites import CannotRewrite, ImageSite, ValueChange
from imglint.sources import Source, rewrite_target
from imglint.suppress import Suppressions

_STR = "tag:yaml.org,2002:str"
_DENIED_REGISTRY = "IMG013"  # its fix moves an image to the registry's replacement
_IMPLICIT_REGISTRY = "IMG004"  # its fix names Docker Hub
_BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}
# Node properties before a scalar: a tag (`!!str`) and/or an anchor (`&img`), each followed by
# whitespace (which may be a line break).
_PROPERTIES = re.compile(r"(?:[!&][^ \t\r\n]*[ \t\r\n]+)*")
# A value that reads back as the same string when written plain, in block and flow context
# alike: starts with an alphanumeric, holds no indicator that could end or retype it. Every
# image reference without an IPv6 host fits.
_YAML11_WORDS = frozenset(
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
)  # read as booleans or null by YAML 1.1 readers (go-yaml v2, which kustomize uses)
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*", re.ASCII)


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] (character offsets) with new_text."""

    start: int
    end: int
    new_text: str


class OverlappingEdits(ValueError):
    pass


@dataclass
class FixOutcome:
    changed: list[str] = field(default_factory=list)  # paths changed (with --diff: would change)
    errors: list[InputError] = field(default_factory=list)
    diff: str = ""  # unified diff of every change (filled with --diff)
    stdout_text: str | None = None  # the rewritten stdin manifest (None with --diff or no stdin)
    edits: int = 0  # image values rewritten (with --diff: would be)


def run_fixes(
    sources: Sequence[Source],
    sites: Sequence[ImageSite],
    *,
    explicit_registry: bool = False,
    pin: bool = False,
    repin: bool = False,
    diff: bool = False,
    resolver: pinning.Resolver | None = None,
    moved_name: Callable[[ImageSite], str | None] | None = None,
    selects: Callable[[ImageSite, str], bool] | None = None,
) -> FixOutcome:
    """Rewrite the image values of `sites`, then write (or diff) every source that changed.

    With `explicit_registry` (`--fix`), an image from a registry that moved is rewritten to the
    repository `moved_name(site)` gives (`denied-registries` replacements), tag and digest kept,
    unless a suppression (`# imglint: ignore[IMG013]`, the annotation) silences IMG013 there:
    as ruff, a fix applies only where its finding would be reported. So Docker Hub is named
    only where IMG004 runs (`selects(site, code)`: the file's configuration) and no suppression
    silences it.
    """
    pin = pin or repin
    if pin and resolver is None:
        raise UsageError("--pin needs a registry resolver")
    outcome = FixOutcome()
    suppressions = Suppressions()
    answers = _resolve(sites, resolver, repin=repin) if pin and resolver is not None else {}
    by_source: dict[int, list[Edit]] = {}
    expected: dict[int, dict[int, str]] = {}
    # Per source: mapping start -> the entries to add last to it, in order, and a site to
    # blame if that cannot be done.
    added: dict[int, dict[int, list[tuple[str, str]]]] = {}
    adders: dict[tuple[int, int], ImageSite] = {}
    for site in sites:
        source = site.source
        if source is None or site.reference is None or site.placeholder is not None:
            continue  # invalid references are the linter's to report; templates are not ours
        moved = moved_name(site) if explicit_registry and moved_name is not None else None
        if moved is not None and _suppressed(suppressions, site, _DENIED_REGISTRY):
            moved = None
        names_hub = (
            explicit_registry
            and (selects is None or selects(site, _IMPLICIT_REGISTRY))
            and not _suppressed(suppressions, site, _IMPLICIT_REGISTRY)
        )
        value = _new_value(site, site.reference, names_hub, pin, repin, answers, outcome, moved)
        if value is None or value == site.image:
            continue
        try:
            changes = value_changes(site, value)
            site_edits = [
                scalar_edit(source.text, c.span.start, c.span.end, c.value)
                for c in changes
                if c.new_key is None
            ]
        except (Unsafe, CannotRewrite) as exc:
            outcome.errors.append(_error(site, f"cannot rewrite {site.image} safely: {exc}"))
            continue
        by_source.setdefault(id(source), []).extend(site_edits)
        for change in changes:
            if change.new_key is None:
                expected.setdefault(id(source), {})[change.span.start] = change.value
                continue
            entries = added.setdefault(id(source), {}).setdefault(change.span.start, [])
            if (change.new_key, change.value) not in entries:
                entries.append((change.new_key, change.value))
            adders.setdefault((id(source), change.span.start), site)
    for source in sources:
        if id(source) in added:
            _add_keys(source, added[id(source)], adders, by_source, outcome)

    for source in sources:
        edits = by_source.get(id(source))
        new_text = (
            _rewrite(
                source, edits, expected.get(id(source), {}), outcome, added.get(id(source), {})
            )
            if edits
            else None
        )
        if new_text is None or new_text == source.text:
            continue
        count = len(expected.get(id(source), {})) + len(added.get(id(source), {}))
        if diff:
            outcome.diff += unified_diff(source.path, source.text, new_text)
        elif source.file_path is None:
            outcome.stdout_text = new_text
        else:
            problem = write_atomic(source, new_text)
            if problem is not None:
                outcome.errors.append(InputError(source.path, f"not rewritten: {problem}"))
                continue
        outcome.changed.append(source.path)
        outcome.edits += count

    if not diff and outcome.stdout_text is None:
        # stdin in, the whole manifest out, changed or not: `... | imglint --pin - | kubectl apply`
        stdin = next((s for s in sources if s.file_path is None), None)
        if stdin is not None:
            outcome.stdout_text = stdin.text
    # An aliased node is one scalar reached through several sites: report it once.
    unique = dict.fromkeys(outcome.errors)
    outcome.errors = sorted(unique, key=lambda e: (e.path, e.line or 0, e.column or 0))
    return outcome


# -- new values ------------------------------------------------------------------------------


def _resolve(
    sites: Sequence[ImageSite], resolver: pinning.Resolver, *, repin: bool
) -> dict[str, pinning.ResolutionLike]:
    """Ask the registry once for every unique tag that pinning needs."""
    wanted: dict[str, Reference] = {}
    for site in sites:
        if site.reference is None or site.placeholder is not None or site.source is None:
            continue
        tag_ref = pinning.lookup(site.reference, repin=repin)
        if tag_ref is not None:
            wanted.setdefault(str(tag_ref), tag_ref)
    if not wanted:
        return {}
    return dict(resolver(list(wanted.values())))


def _new_value(
    site: ImageSite,
    ref: Reference,
    explicit_registry: bool,
    pin: bool,
    repin: bool,
    answers: dict[str, pinning.ResolutionLike],
    outcome: FixOutcome,
    moved: str | None = None,
) -> str | None:
    try:
        if moved is not None:
            name = moved
        elif explicit_registry:
            name = pinning.explicit_name(site.image, ref)
        else:
            name = pinning.written_name(site.image, ref)
    except ValueError as exc:
        outcome.errors.append(_error(site, f"cannot rewrite {site.image} safely: {exc}"))
        return None
    tag_ref = pinning.lookup(ref, repin=repin) if pin else None
    if tag_ref is None:
        if moved is not None:
            return pinning.with_suffix(moved, ref)
        return pinning.rewritten(site.image, ref, explicit_registry=explicit_registry)
    try:
        return pinning.pinned_value(name, tag_ref, answers.get(str(tag_ref)))
    except pinning.PinFailed as exc:
        outcome.errors.append(_error(site, f"cannot pin {site.image}: {exc.reason}"))
        # The offline fix does not depend on the registry: still apply it when asked.
        if moved is not None:
            return pinning.with_suffix(moved, ref)
        if explicit_registry:
            return pinning.rewritten(site.image, ref, explicit_registry=True)
        return None


def _suppressed(suppressions: Suppressions, site: ImageSite, code: str) -> bool:
    """Whether a suppression silences `code` at `site`, where its finding would land."""
    rule = rules.lookup(code)
    concerns = rule.concerns if rule is not None else None
    return suppressions.suppressed(site, code, site.span_for(concerns).line)


def value_changes(site: ImageSite, value: str) -> Sequence[ValueChange]:
    """The scalars to set so that the site holds the reference `value`: the site's own span,
    or what its extractor's rewrite hook says for a site that is not one scalar."""
    if site.rewrite is not None:
        return site.rewrite(site, value)
    return (ValueChange(site.span, value),)


def _error(site: ImageSite, message: str) -> InputError:
    return InputError(site.path, message, site.span.line, site.span.column)


# -- edits -----------------------------------------------------------------------------------


class Unsafe(Exception):
    """A scalar that cannot be rewritten without touching more than its value."""


def scalar_edit(text: str, start: int, end: int, value: str) -> Edit:
    """The Edit that makes the scalar token text[start:end] hold `value`, in the same style.

    Tags on the scalar (`!!str x`) are kept; an anchored scalar may be shared by aliases that
    are not images, and a block scalar (`|`, `>`) has its indentation and chomping to keep, so
    both are refused.
    """
    token = text[start:end]
    properties = _PROPERTIES.match(token)
    prefix = properties.group() if properties else ""
    if "&" in prefix:
        raise Unsafe("it carries a YAML anchor that other values may share")
    body = token[len(prefix) :]
    first = body[:1]
    if first in ("|", ">"):
        raise Unsafe("it is a block scalar")
    if first == "'":
        new = _single_quoted(value)
    elif first == '"':
        new = _double_quoted(value)
    elif first in ("", "#", "*", "[", "{", "!", "&"):
        raise Unsafe("its scalar token could not be found")
    else:
        plain = _PLAIN_SAFE.fullmatch(value) is not None and not value.endswith(":")
        new = value if plain else _single_quoted(value)
    return Edit(start, end, prefix + new)


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits; identical edits (an aliased node seen twice) count once."""
    ordered = sorted(set(edits), key=lambda e: (e.start, e.end))
    parts: list[str] = []
    position = 0
    for edit in ordered:
        if edit.start < position or edit.end < edit.start or edit.end > len(text):
            raise OverlappingEdits(f"edit at {edit.start}-{edit.end} overlaps another")
        parts.append(text[position : edit.start])
        parts.append(edit.new_text)
        position = edit.end
    parts.append(text[position:])
    return "".join(parts)


def _single_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _double_quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _rewrite(
    source: Source,
    edits: list[Edit],
    expected: dict[int, str],
    outcome: FixOutcome,
    added: dict[int, list[tuple[str, str]]] | None = None,
) -> str | None:
    """The source's new text, or None (and an error) when it cannot be rewritten safely."""
    try:
        new_text = apply_edits(source.text, edits)
    except OverlappingEdits:
        outcome.errors.append(
            InputError(source.path, "not rewritten: two image rewrites overlap (YAML aliases?)")
        )
        return None
    problem = same_structure(source.text, new_text, expected, added)
    if problem is not None:
        outcome.errors.append(InputError(source.path, f"not rewritten: {problem}"))
        return None
    return new_text


def same_structure(
    old_text: str,
    new_text: str,
    expected: dict[int, str],
    added: dict[int, list[tuple[str, str]]] | None = None,
) -> str | None:
    """None when new_text composes to the same YAML as old_text except for the expected image
    values (keyed by the old scalar's start offset) and the entries added last to mappings
    (`added`: the old mapping's start offset -> its new (key, value) pairs); else what
    differs."""
    added = added or {}
    grown: set[int] = set()
    try:
        old_docs = compose_documents(old_text)
        new_docs = compose_documents(new_text)
    except (yaml.YAMLError, RecursionError) as exc:
        return f"the rewritten text would not parse ({type(exc).__name__})"
    if len(old_docs) != len(new_docs):
        return "the rewritten text would have another number of documents"
    pairs: list[tuple[Node | None, Node | None]] = list(zip(old_docs, new_docs, strict=True))
    seen: set[int] = set()
    found: set[int] = set()
    while pairs:
        old, new = pairs.pop()
        if old is None or new is None:
            if old is not new:
                return "the rewritten text would read differently"
            continue
        if id(old) in seen:
            continue
        seen.add(id(old))
        if type(old) is not type(new) or (
            old.tag != new.tag and old.start_mark.index not in expected
        ):
            return f"the rewritten text would read differently near line {old.start_mark.line + 1}"
        if isinstance(old, ScalarNode):
            want = expected.get(old.start_mark.index)
            if want is not None:
                found.add(old.start_mark.index)
                if new.value != want or new.tag != _STR:
                    line = old.start_mark.line + 1
                    return f"the new image value on line {line} would not read back as written"
            elif old.value != new.value:
                return (
                    f"the rewritten text would read differently on line {old.start_mark.line + 1}"
                )
        elif isinstance(old, (MappingNode, SequenceNode)):
            assert isinstance(new, (MappingNode, SequenceNode))
            entries = added.get(old.start_mark.index) if isinstance(old, MappingNode) else None
            if entries and len(new.value) == len(old.value) + len(entries):
                tail = new.value[len(old.value) :]
                read = [
                    (k.value, v.value)
                    for k, v in tail
                    if isinstance(k, ScalarNode) and isinstance(v, ScalarNode) and v.tag == _STR
                ]
                if read != list(entries):
                    line = old.start_mark.line + 1
                    return f"the entry added on line {line} would not read back as written"
                grown.add(old.start_mark.index)
                new = MappingNode(
                    new.tag, new.value[: len(old.value)], new.start_mark, new.end_mark
                )
            if len(old.value) != len(new.value):
                return (
                    f"the rewritten text would read differently near line {old.start_mark.line + 1}"
                )
            if isinstance(old, MappingNode):
                for (ok, ov), (nk, nv) in zip(old.value, new.value, strict=True):
                    pairs.append((ok, nk))
                    pairs.append((ov, nv))
            else:
                pairs.extend(zip(old.value, new.value, strict=True))
    if found != set(expected) or grown != set(added):
        return "an image value to rewrite was not found again"
    return None


def _add_keys(
    source: Source,
    additions: dict[int, list[tuple[str, str]]],
    adders: dict[tuple[int, int], ImageSite],
    by_source: dict[int, list[Edit]],
    outcome: FixOutcome,
) -> None:
    """One edit per mapping that gains entries (several keys go in together, in order)."""
    mappings = _mappings(source.text)
    for start, entries in list(additions.items()):
        mapping = mappings.get(start)
        try:
            if mapping is None:
                raise Unsafe("the mapping to add a key to could not be found")
            if len({key for key, _value in entries}) != len(entries):
                raise Unsafe("two fixes would add different values for one key")
            edit = key_insert_edit(source.text, mapping, entries)
        except Unsafe as exc:
            site = adders[(id(source), start)]
            outcome.errors.append(_error(site, f"cannot rewrite {site.image} safely: {exc}"))
            del additions[start]
            continue
        by_source.setdefault(id(source), []).append(edit)


def _mappings(text: str) -> dict[int, MappingNode]:
    """Every mapping of a text by its start offset (to add a key to one)."""
    found: dict[int, MappingNode] = {}
    try:
        stack: list[Node] = list(compose_documents(text))
    except (yaml.YAMLError, RecursionError):
        return found
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            found.setdefault(node.start_mark.index, node)
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return found


def _entry_text(key: str, value: str) -> str:
    # Plain only when every YAML reader takes it for a string: a tag like 1.0 or 08 is a number
    # to YAML 1.1 (and to kustomize, which then refuses the file), `yes` a boolean.
    plain = (
        _PLAIN_SAFE.fullmatch(value) is not None
        and value[:1].isalpha()
        and not value.endswith(":")
        and value.lower() not in _YAML11_WORDS
    )
    return f"{key}: {value if plain else _double_quoted(value)}"


def key_insert_edit(text: str, mapping: MappingNode, entries: Sequence[tuple[str, str]]) -> Edit:
    """The Edit adding `key: value` entries last to a mapping, in its style: new lines at the
    mapping's indentation after its last entry's line (comment and all), or `, key: value`
    before a flow mapping's `}`. Everything else is kept byte for byte."""
    texts = [_entry_text(key, value) for key, value in entries]
    if mapping.flow_style:
        close = mapping.end_mark.index - 1
        if text[close : close + 1] != "}":
            raise Unsafe("the flow mapping's end could not be found")
        return Edit(close, close, (", " if mapping.value else "") + ", ".join(texts))
    if not mapping.value:
        raise Unsafe("an empty block mapping has no indentation to follow")
    end = mapping.value[-1][1].end_mark.index
    indent = " " * mapping.start_mark.column
    if text[end - 1 : end] == "\n":  # a block scalar: its token ends after its line break
        newline = "\r\n" if text[end - 2 : end] == "\r\n" else "\n"
        return Edit(end, end, "".join(f"{indent}{t}{newline}" for t in texts))
    line_end = text.find("\n", end)
    if line_end == -1:
        return Edit(len(text), len(text), "".join(f"\n{indent}{t}" for t in texts))
    newline = "\r\n" if text[line_end - 1 : line_end] == "\r" else "\n"
    lines = "".join(f"{indent}{t}{newline}" for t in texts)
    return Edit(line_end + 1, line_end + 1, lines)


# -- output ----------------------------------------------------------------------------------


def unified_diff(path: str, old_text: str, new_text: str) -> str:
    """A unified diff with `a/PATH` `b/PATH` headers; a missing final newline marked as git does."""
    shown = path[2:] if path.startswith("./") else path
    lines = difflib.unified_diff(
        _lines(old_text), _lines(new_text), fromfile=f"a/{shown}", tofile=f"b/{shown}"
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines split on "\\n" only (str.splitlines would also split on \\x0c, \\u2028, ...)."""
    lines = text.split("\n")
    last = lines.pop()
    result = [line + "\n" for line in lines]
    if last:
        result.append(last)
    return result


def encode(source: Source, text: str) -> bytes:
    """`text` in the source's encoding, BOM included when the file had one."""
    data = text.encode(source.encoding)
    return _BOMS.get(source.encoding, b"") + data if source.bom else data


def write_atomic(source: Source, new_text: str) -> str | None:
    """Replace the source's file with new_text; None on success, else why not (file untouched).

    The file is refused when it is read-only or no longer holds the bytes that were read. The
    new bytes go to a temporary file in the same folder (same filesystem, so the rename is
    atomic), keep the file's mode, and replace the file only once fully written and synced.
    """
    target = rewrite_target(source)
    if target is None:
        return "it now leads outside the paths named (a symbolic link changed since it was read?)"
    data = encode(source, new_text)
    original = encode(source, source.text)
    try:
        st = os.stat(target)
    except OSError as exc:
        return _reason(exc)
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return "file is read-only"
    folder = os.path.dirname(target) or "."
    try:
        fd, temp = tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".imglint"
        )
    except OSError as exc:
        return _reason(exc)
    try:
        try:
            _write_fd(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, stat.S_IMODE(st.st_mode))
        if (st.st_uid, st.st_gid) != _owner(temp):
            # Only root may give a file away; the mode is what matters.
            with contextlib.suppress(OSError):
                os.chown(temp, st.st_uid, st.st_gid)
        # Last look before the rename: the file must still hold what was read.
        if _read(target) != original:
            os.unlink(temp)
            return "file changed on disk since it was read"
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return _reason(exc)
    _sync_folder(folder)
    return None


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _owner(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_uid, st.st_gid


def _sync_folder(folder: str) -> None:
    """Make the rename durable; not every platform or filesystem allows it, and it is optional."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return (exc.strerror or str(exc)).lower()
