"""The GitHub Action's step (action.yml): one imglint run, then annotations, the SARIF file, the
job summary and the step's outputs, all from that run.

    python -m imglint.github_action      (action.yml runs it; inputs come as INPUT_* variables)

The run writes SARIF, and everything else is read back from that file: the annotations (workflow
commands on stdout, which the runner turns into annotations), the summary appended to
$GITHUB_STEP_SUMMARY (counts per rule, then every input error and finding), and `exit-code`,
`findings`, `errors` and `sarif-file` in $GITHUB_OUTPUT. The step exits with imglint's exit code.

GitHub shows at most 10 annotations of each kind (error, warning, notice) per step and 50 per job;
the summary lists every finding and says how many were not annotated. A step's summary may hold at
most 1 MiB: a longer table is cut, with a note, so the summary is never refused; the SARIF file is
never cut.

Why one SARIF report and not `--format github --report sarif:FILE` (which imglint has now): the
step needs the findings twice, as annotations and as the summary table, and it writes
annotations relative to $GITHUB_WORKSPACE whatever PATHs the user gave (GitHub resolves no
absolute path); `--format github` prints paths as given. Reading the one SARIF for both keeps
the run single (the registries are asked once) and the annotations right.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from imglint.records import dataclass, field
from imglint.report.github import command

SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts in one step's summary
ANNOTATIONS_PER_KIND = 10  # per step, for each of error, warning and notice
ANNOTATIONS_PER_JOB = 50
KINDS = {"error": "error", "warning": "warning", "note": "notice", "none": "notice"}
SEVERITY_WORDS = {"error": "error", "warning": "warning", "note": "info", "none": "info"}
# Options the action sets itself, or that make a run print something other than a report.
REFUSED_ARGS = {
    "--format": "the action chooses the formats",
    "-o": "the action writes the SARIF file: use the sarif-file input",
    "--output-file": "the action writes the SARIF file: use the sarif-file input",
    "--diff": "it prints a diff instead of a report",
    "--list-images": "it prints the inventory instead of a report",
    "--list-rules": "it prints the rules instead of a report",
    "--explain": "it prints a rule's documentation instead of a report",
    "--write-baseline": "it records findings instead of reporting them",
    "--statistics": "the summary has the counts per rule",
}


class ActionError(Exception):
    """A mistake in the step's inputs: one line for the log, exit 2."""


@dataclass(frozen=True)
class Inputs:
    paths: tuple[str, ...]
    args: tuple[str, ...]
    resolve: bool
    sarif_file: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        """The action's inputs, as action.yml passes them (INPUT_PATHS, INPUT_ARGS, ...)."""
        try:
            paths = tuple(shlex.split(env.get("INPUT_PATHS", "") or "."))
            args = tuple(shlex.split(env.get("INPUT_ARGS", "")))
        except ValueError as exc:  # an unclosed quote
            raise ActionError(f"cannot split the paths or args input: {exc}") from None
        for arg in args:
            option = arg.split("=", 1)[0]
            if option in REFUSED_ARGS:
                raise ActionError(f"args: drop {option} ({REFUSED_ARGS[option]})")
        resolve = env.get("INPUT_RESOLVE", "false").strip().lower()
        if resolve not in ("true", "false", ""):
            raise ActionError(f"resolve must be true or false, not {resolve!r}")
        sarif_file = env.get("INPUT_SARIF_FILE", "").strip() or "imglint.sarif"
        return cls(paths, args, resolve == "true", sarif_file)


def imglint_command(inputs: Inputs, sarif_path: str) -> list[str]:
    """The one imglint run (see SEAM in the module docstring)."""
    command = [sys.executable, "-m", "imglint", "--format", "sarif", "-o", sarif_path]
    if inputs.resolve:
        command.append("--resolve")
    return [*command, *inputs.args, "--", *inputs.paths]


# --- reading the SARIF -------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    path: str  # as GitHub wants it: relative to the workspace, `/`-separated, decoded
    uri: str  # as written in the SARIF (percent-encoded): for links
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True)
class Result:
    """A finding, an input error or a note, as the SARIF file has it."""

    level: str  # SARIF: error, warning, note
    message: str
    rule: str | None = None  # None: a notification (input error, unused suppression, note)
    location: Location | None = None


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    help_uri: str | None


@dataclass
class Run:
    findings: list[Result]
    notifications: list[Result]
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    files_checked: int | None = None
    images_checked: int | None = None


def read_sarif(path: str, workspace: str | None) -> Run:
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    run: dict[str, Any] = document["runs"][0]
    rules = {
        r["id"]: RuleInfo(r["id"], r.get("name", r["id"]), r.get("helpUri"))
        for r in run["tool"]["driver"].get("rules", [])
    }
    findings = [
        Result(
            level=r.get("level", "warning"),
            message=r["message"]["text"],
            rule=r["ruleId"],
            location=_location(r.get("locations"), workspace),
        )
        for r in run.get("results", [])
    ]
    notifications = [
        Result(
            level=n.get("level", "warning"),
            message=n["message"]["text"],
            location=_location(n.get("locations"), workspace),
        )
        for invocation in run.get("invocations", [])
        for n in invocation.get("toolExecutionNotifications", [])
    ]
    properties = run.get("properties", {})
    return Run(
        findings,
        notifications,
        rules,
        properties.get("filesChecked"),
        properties.get("imagesChecked"),
    )


def _location(locations: list[dict[str, Any]] | None, workspace: str | None) -> Location | None:
    if not locations:
        return None
    physical = locations[0]["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    region = physical.get("region", {})
    return Location(
        path=_workspace_path(uri, workspace),
        uri=uri,
        line=region.get("startLine"),
        column=region.get("startColumn"),
        end_line=region.get("endLine"),
        end_column=region.get("endColumn"),
    )


def _workspace_path(uri: str, workspace: str | None) -> str:
    """A SARIF artifact URI as a path GitHub resolves: relative to the repository checkout."""
    if not uri.startswith("file:"):
        return unquote(uri, errors="surrogateescape")
    path = unquote(urlsplit(uri).path, errors="surrogateescape")
    if workspace:
        root = workspace.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root) :]
    return path


# --- annotations -------------------------------------------------------------------------------


def workflow_commands(run: Run) -> list[str]:
    """Workflow commands for every finding and located notification, in the report's order."""
    lines = []
    for result in run.findings:
        rule = run.rules.get(result.rule or "")
        title = f"{result.rule} {rule.name}" if rule else result.rule
        lines.append(_annotation(result, title))
    for note in run.notifications:
        if note.location is not None:
            title = "imglint input error" if note.level == "error" else "imglint"
            lines.append(_annotation(note, title))
        else:
            lines.append(command("notice", {"title": "imglint"}, note.message))
    return lines


def _annotation(result: Result, title: str | None) -> str:
    where = result.location
    properties: dict[str, str | int | None] = {}
    if where is not None:
        one_line = where.end_line in (None, where.line)
        properties = {
            "file": where.path,
            "line": where.line,
            "col": where.column if one_line else None,
            "endLine": where.end_line,
            "endColumn": where.end_column if one_line else None,
        }
    properties["title"] = title
    return command(KINDS.get(result.level, "warning"), properties, result.message)


def unannotated(run: Run) -> int:
    """How many annotations GitHub will not show: past 10 per kind in a step (and 50 a job)."""
    per_kind: dict[str, int] = {}
    for result in [*run.findings, *(n for n in run.notifications if n.location is not None)]:
        kind = KINDS.get(result.level, "warning")
        per_kind[kind] = per_kind.get(kind, 0) + 1
    shown = min(sum(min(n, ANNOTATIONS_PER_KIND) for n in per_kind.values()), ANNOTATIONS_PER_JOB)
    return sum(per_kind.values()) - shown


# --- the job summary ---------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&])")


def md(text: str) -> str:
    """`text` as literal Markdown on one line: manifest text cannot add links, HTML or columns."""
    one_line = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text)
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)
    return escaped.replace("\\<", "&lt;").replace("\\>", "&gt;").replace("\\&", "&amp;")


@dataclass(frozen=True)
class Links:
    """Where a file and line of this commit are on GitHub, when the runner says."""

    base: str | None  # https://github.com/OWNER/REPO/blob/SHA

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Links:
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repository, sha = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_SHA")
        return cls(f"{server}/{repository}/blob/{sha}" if repository and sha else None)

    def location(self, where: Location | None) -> str:
        if where is None:
            return ""
        shown = where.path + (f":{where.line}" if where.line else "")
        relative = not where.uri.startswith("file:") and not where.path.startswith("/")
        if self.base is None or not relative:
            return md(shown)
        anchor = f"#L{where.line}" if where.line else ""
        return f"[{md(shown)}]({self.base}/{where.uri}{anchor})"


def summary(
    run: Run | None, exit_code: int, sarif_file: str, links: Links, limit: int = SUMMARY_LIMIT
) -> str:
    """The job summary in Markdown, at most `limit` bytes of UTF-8."""
    if run is None:
        return (
            "## imglint\n\n"
            f":x: imglint stopped before writing its report (exit code {exit_code}): "
            "the step's log says why.\n"
        )
    errors = [n for n in run.notifications if n.level == "error"]
    others = [n for n in run.notifications if n.level != "error"]
    head = ["## imglint", "", _headline(run, errors, exit_code), ""]
    hidden = unannotated(run)
    if hidden:
        head += [
            f"> [!NOTE]\n> GitHub shows at most {ANNOTATIONS_PER_KIND} annotations of each kind "
            f"per step ({ANNOTATIONS_PER_JOB} per job): {hidden} of this run's are not shown "
            "on the files. The tables below list every one.",
            "",
        ]
    if run.findings:
        head += ["### Findings per rule", "", "| Rule | Name | Severity | Findings |"]
        head.append("|---|---|---|---:|")
        for code, count, level in _counts(run.findings):
            rule = run.rules.get(code)
            label = md(code)
            if rule and rule.help_uri and rule.help_uri.startswith("https://"):
                label = f"[{label}]({rule.help_uri})"
            name = md(rule.name) if rule else ""
            head.append(f"| {label} | {name} | {SEVERITY_WORDS.get(level, level)} | {count} |")
        head.append("")

    sections: list[tuple[str, list[str]]] = []
    if errors:
        rows = [f"| {links.location(e.location)} | {md(e.message)} |" for e in errors]
        sections.append(("### Files not checked\n\n| File | Error |\n|---|---|", rows))
    if run.findings:
        rows = [
            f"| {SEVERITY_WORDS.get(f.level, f.level)} | {md(f.rule or '')} | "
            f"{links.location(f.location)} | {md(f.message)} |"
            for f in run.findings
        ]
        sections.append(
            ("### Findings\n\n| Severity | Rule | Where | Message |\n|---|---|---|---|", rows)
        )
    if others:
        rows = [
            f"- {md(n.message)}" + (f" ({links.location(n.location)})" if n.location else "")
            for n in others
        ]
        sections.append(("### Notes", rows))
    return _fit("\n".join(head) + "\n", sections, sarif_file, limit)


def _headline(run: Run, errors: Sequence[Result], exit_code: int) -> str:
    scope = []
    if run.files_checked is not None:
        scope.append(_plural(run.files_checked, "file"))
    if run.images_checked is not None:
        scope.append(_plural(run.images_checked, "image"))
    where = f" in {', '.join(scope)}" if scope else ""
    icon = ":white_check_mark:" if exit_code == 0 else ":x:"
    if not run.findings and not errors:
        return f"{icon} All checks passed{where}."
    parts = []
    if run.findings:
        levels = [f.level for f in run.findings]
        by_level = ", ".join(
            _plural(levels.count(level), SEVERITY_WORDS[level])
            if level != "note"
            else f"{levels.count(level)} info"  # uncountable, as in imglint's summary line
            for level in ("error", "warning", "note")
            if level in levels
        )
        parts.append(f"{_plural(len(run.findings), 'finding')} ({by_level}){where}")
    if errors:
        parts.append(f"{_plural(len(errors), 'file')} not checked")
    return f"{icon} {'; '.join(parts)}. Exit code {exit_code}."


def _counts(findings: Sequence[Result]) -> list[tuple[str, int, str]]:
    """(rule, count, worst level), most frequent first, then by rule."""
    order = {"error": 3, "warning": 2, "note": 1, "none": 0}
    counts: dict[str, tuple[int, str]] = {}
    for f in findings:
        code = f.rule or ""
        count, level = counts.get(code, (0, f.level))
        worst = level if order.get(level, 0) >= order.get(f.level, 0) else f.level
        counts[code] = (count + 1, worst)
    return sorted(
        ((code, n, level) for code, (n, level) in counts.items()), key=lambda c: (-c[1], c[0])
    )


def _fit(head: str, sections: list[tuple[str, list[str]]], sarif_file: str, limit: int) -> str:
    """`head`, then the sections' rows while they fit in `limit` bytes; the rest is cut, with a
    note saying how much and where all of it is."""
    total_rows = sum(len(rows) for _, rows in sections)
    note_room = 600  # the cut note, with room to spare
    if len(head.encode("utf-8")) + note_room > limit:  # earlier steps' summaries filled it
        return ""
    out = [head]
    used = len(head.encode("utf-8")) + note_room
    shown = 0
    cut = False
    for title, rows in sections:
        block = f"\n{title}\n"
        if used + len(block.encode("utf-8")) > limit:
            cut = True
            break
        out.append(block)
        used += len(block.encode("utf-8"))
        for row in rows:
            size = len(row.encode("utf-8")) + 1
            if used + size > limit:
                cut = True
                break
            out.append(row + "\n")
            used += size
            shown += 1
        if cut:
            break
    if cut:
        out.append(
            f"\n> [!WARNING]\n> This summary is cut after {shown} of {total_rows} rows: GitHub "
            f"accepts at most 1 MiB per step. Every finding is in `{md(sarif_file)}` and in the "
            "step's log.\n"
        )
    return "".join(out)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- the step ----------------------------------------------------------------------------------


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={value}\n")


def append_summary(path: str | None, text: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY, within what is left of the step's 1 MiB."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        inputs = Inputs.from_env(env)
    except ActionError as exc:
        print(command("error", {"title": "imglint action"}, str(exc)))
        return 2
    workspace = env.get("GITHUB_WORKSPACE")
    sarif_path = inputs.sarif_file
    sarif = Path(sarif_path)
    if sarif.exists():
        sarif.unlink()  # a stale report must not pass for this run's
    sarif.parent.mkdir(parents=True, exist_ok=True)  # `reports/imglint.sarif` needs `reports/`
    sys.stdout.flush()
    exit_code = subprocess.run(imglint_command(inputs, sarif_path), check=False).returncode
    run = read_sarif(sarif_path, workspace) if sarif.is_file() else None
    if run is not None:
        for line in workflow_commands(run):
            print(line)
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    used = os.path.getsize(summary_path) if summary_path and os.path.isfile(summary_path) else 0
    limit = max(SUMMARY_LIMIT - used, 0)
    append_summary(summary_path, summary(run, exit_code, sarif_path, Links.from_env(env), limit))
    errors = [n for n in run.notifications if n.level == "error"] if run else []
    write_outputs(
        env.get("GITHUB_OUTPUT"),
        {
            "exit-code": str(exit_code),
            "findings": str(len(run.findings)) if run else "",
            "errors": str(len(errors)),
            "sarif-file": sarif_path if run else "",
        },
    )
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
