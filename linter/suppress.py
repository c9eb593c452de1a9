"""Suppressions: comments and an object annotation that silence findings on purpose.

Three forms, all naming rule codes or names, comma-separated:

* `# imglint: ignore[IMG002,implicit-registry]` at the end of the image's line, or alone on a
  comment line directly above it (a block of comment lines just above the image counts);
  `# imglint: ignore` without a list silences every rule there;
* `# imglint: ignore-file[IMG004]` anywhere in a file (bare `ignore-file`: every rule);
* the annotation `imglint.dev/ignore: "IMG004,IMG005"` (or `all`) on the object. Tools that
  re-serialize YAML (kustomize, `kubectl`, most generators) drop comments but keep annotations,
  and a Helm chart can set the annotation from its values. (`helm template` itself passes a
  template's comments through, so comment forms work in rendered charts.)

Which suppressions silenced nothing is tracked, so `--report-unused-suppressions` can list them.
Only codes of rules that ran count as unused: suppressing an opt-in rule nobody selected, or a
registry rule in a run without the registry check, is not a mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from imglint import rules
from imglint.findings import UnusedSuppression
from imglint.lazy_pattern import LazyPattern
from imglint.records import dataclass, field
from imglint.sites import ImageSite, K8sObject

ANNOTATION = "imglint.dev/ignore"
# `#` must start the line or follow whitespace, as a YAML comment does (`a#b` is no comment).
_DIRECTIVE = LazyPattern(r"(?:^|\s)#\s*imglint:\s*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")


@dataclass
class Suppression:
    """One directive. `codes` None: every rule."""

    path: str
    line: int
    column: int | None  # None for an annotation
    codes: frozenset[str] | None
    written: tuple[str, ...]  # the selectors as written, in order
    unknown: tuple[str, ...] = ()  # selectors naming no rule (they silence nothing)
    used: set[str] = field(default_factory=set)  # codes it silenced in this run
    # the codes of rules that ran where it applies, when they vary by file and namespace
    ran_where: set[str] | None = None

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def parse_codes(text: str) -> tuple[frozenset[str] | None, tuple[str, ...], tuple[str, ...]]:
    """`IMG002, latest-tag` -> (codes, as written, unknown). `all` or nothing means every rule."""
    written = tuple(part.strip() for part in text.split(",") if part.strip())
    if not written or any(w.lower() == "all" for w in written):
        return None, written, ()
    codes: set[str] = set()
    unknown: list[str] = []
    for item in written:
        rule = rules.lookup(item)
        if rule is None:
            unknown.append(item)
        else:
            codes.add(rule.code)
    return frozenset(codes), written, tuple(unknown)


@dataclass(frozen=True)
class Located:
    """Where a finding sits, as suppressions see it: the file's lines, the line, the object."""

    path: str
    lines: list[str]
    line: int
    obj: K8sObject | None
    finding_line: int | None = None  # where the finding lands, when not at `line`


@dataclass
class _FileDirectives:
    file: list[Suppression]
    by_line: dict[int, list[Suppression]]  # the image line a directive applies to
    orphans: list[Suppression]  # line directives above nothing (a blank line, the file's end)


class Suppressions:
    """Looks up the suppressions that apply to a site; files are scanned once, on first use."""

    def __init__(self) -> None:
        # keyed by the identity of the shared source_lines list (one per file)
        self._files: dict[int, _FileDirectives] = {}
        self._keep: list[list[str]] = []  # keep the lists alive so their ids stay unique
        self._objects: dict[int, list[Suppression]] = {}
        self._object_refs: list[K8sObject] = []

    def suppressed(self, site: ImageSite, code: str, line: int | None = None) -> bool:
        """Whether a directive silences `code` at `site`; records that it was used.

        `line`: where the finding lands when the site places its parts on several lines (a
        Helm value's `tag:`); a directive there counts as well as one at the site's own line.
        """
        if not site.source_lines and ANNOTATION not in site.obj.annotations:
            # Most sites: a file with no directive (no lines kept) and an object without the
            # annotation, so nothing applies (and nothing is used).
            return False
        return self._silences(self._applicable(site, line), code)

    def suppressed_at(self, place: Located, code: str) -> bool:
        """The same for a finding about an object rather than an image (a pull Secret)."""
        return self._silences(self._applicable_at(place), code)

    @staticmethod
    def _silences(directives: list[Suppression], code: str) -> bool:
        hit = False
        for directive in directives:
            if directive.covers(code):
                directive.used.add(code)
                hit = True
        return hit

    def _applicable(self, site: ImageSite, line: int | None = None) -> list[Suppression]:
        place = Located(site.path, site.source_lines, site.span.line, site.obj, line)
        return self._applicable_at(place)

    def _applicable_at(self, place: Located) -> list[Suppression]:
        found: list[Suppression] = []
        if place.lines:
            directives = self._file(place.path, place.lines)
            found.extend(directives.by_line.get(place.line, ()))
            if place.finding_line is not None and place.finding_line != place.line:
                found.extend(directives.by_line.get(place.finding_line, ()))
            found.extend(directives.file)
        if place.obj is not None:
            found.extend(self._annotation(place.obj))
        return found

    def _file(self, path: str, lines: list[str]) -> _FileDirectives:
        key = id(lines)
        cached = self._files.get(key)
        if cached is None:
            cached = scan(path, lines)
            self._files[key] = cached
            self._keep.append(lines)
        return cached

    def _annotation(self, obj: K8sObject) -> Sequence[Suppression]:
        value = obj.annotations.get(ANNOTATION)
        if value is None:
            return ()  # most objects: nothing remembered for them (a list each grew the run)
        key = id(obj)
        cached = self._objects.get(key)
        if cached is None:
            codes, written, unknown = parse_codes(value)
            cached = [Suppression(obj.path, obj.line, None, codes, written, unknown)]
            self._objects[key] = cached
            self._object_refs.append(obj)
        return cached

    def all(self) -> list[Suppression]:
        seen: list[Suppression] = []
        for directives in self._files.values():
            seen.extend(directives.file)
            seen.extend(directives.orphans)
            for listed in directives.by_line.values():
                seen.extend(listed)
        for listed in self._objects.values():
            seen.extend(listed)
        return seen

    def unused(
        self,
        ran: Collection[str],
        sites: Iterable[ImageSite],
        places: Iterable[Located] = (),
        ran_at: Callable[[str, str | None], Collection[str]] | None = None,
    ) -> list[UnusedSuppression]:
        """Directives (or the codes of them) that silenced nothing, for rules that ran.

        `sites` are all sites of the run and `places` the other objects checked (pull
        Secrets), so files and objects without findings are scanned too. Unknown codes are
        always reported: they can never silence anything. With `ran_at` (the rules that ran
        for a file and namespace, when overrides or nested configurations vary them), a
        directive is judged by the rules that ran where it applies, not anywhere in the run.
        """
        for site in sites:
            found = self._applicable(site)
            if ran_at is not None:
                _ran_where(found, ran_at(site.path, site.obj.namespace))
        for place in places:
            found = self._applicable_at(place)
            if ran_at is not None:
                namespace = place.obj.namespace if place.obj is not None else None
                _ran_where(found, ran_at(place.path, namespace))
        out: list[UnusedSuppression] = []
        for directive in self.all():
            judged = ran
            if ran_at is not None:  # above nothing: the file's rules in its default namespace
                where = directive.ran_where
                judged = ran_at(directive.path, None) if where is None else where
            if directive.codes is None:
                if not directive.used:
                    out.append(
                        UnusedSuppression(directive.path, directive.line, (), directive.column)
                    )
                continue
            unknown = directive.unknown
            idle = [w for w in directive.written if w in unknown or _idle(w, directive, judged)]
            if idle:
                out.append(
                    UnusedSuppression(directive.path, directive.line, tuple(idle), directive.column)
                )
        out.sort(key=lambda u: (u.path, u.line, u.column or 0, u.codes))
        return out


def _ran_where(directives: Iterable[Suppression], codes: Collection[str]) -> None:
    for directive in directives:
        if directive.ran_where is None:
            directive.ran_where = set()
        directive.ran_where.update(codes)


def _idle(written: str, directive: Suppression, ran: Collection[str]) -> bool:
    rule = rules.lookup(written)
    return rule is not None and rule.code in ran and rule.code not in directive.used


def scan(path: str, lines: list[str]) -> _FileDirectives:
    """Find every directive of a file and the line each applies to."""
    if "imglint" not in "\n".join(lines):
        # Most files: told without the per-line bookkeeping below.
        return _FileDirectives([], {}, [])
    file_level: list[Suppression] = []
    by_line: dict[int, list[Suppression]] = {}
    orphans: list[Suppression] = []
    pending: list[Suppression] = []  # from comment-only lines, waiting for the next code line
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        comment_only = stripped.startswith("#")
        if not comment_only and pending:
            if stripped:
                by_line.setdefault(number, []).extend(pending)
            else:  # a blank line breaks the block: the directive is not "just above" anything
                orphans.extend(pending)
            pending = []
        if "imglint" not in line:
            continue
        for match in _DIRECTIVE.finditer(line):
            codes, written, unknown = parse_codes(match.group(2) or "")
            column = match.start() + (0 if line[match.start()] == "#" else 1) + 1
            directive = Suppression(path, number, column, codes, written, unknown)
            if match.group(1) == "ignore-file":
                file_level.append(directive)
            elif comment_only:
                pending.append(directive)
            else:
                by_line.setdefault(number, []).append(directive)
    orphans.extend(pending)
    return _FileDirectives(file_level, by_line, orphans)
