"""The application: one run of imglint, from typed options to an exit code.

`cli` parses the command line into `Options` and hands them, with the streams, to
`Application.run`, which goes through the pipeline in this order:

    initialize   the configuration (file, then the command line's overrides)
    read         collect the sources, read them into image sites and the object index
    select       the sites imglint checks: placeholders out, `ignore-images` out (once each)
    fix          --fix/--pin rewrite the files (or print a diff / the fixed stdin and stop),
                 then read again, so the findings describe what is on disk now
    resolve      --resolve asks the registries about the checked sites
    lint         the selected rules over the checked sites
    trace        findings on rendered stdin move to where they were written (once): `helm
                 template` output to its chart templates, `kustomize build` output to its
                 origin files
    baseline     --write-baseline records the findings and stops; --baseline hides known ones
    report       render the report; the exit code follows from it

A new flag's behaviour goes into the stage it changes, read from `Options`; `cli` only adds the
argument, its checks against other flags, and the field of `Options` it fills.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence

from imglint import records
from imglint.errors import UsageError
from imglint.findings import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Finding, InputError
from imglint.records import dataclass, field, replace

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Literal, TextIO

    from imglint.config import Config
    from imglint.context import RegistryAnswers
    from imglint.findings import UnusedSuppression
    from imglint.helm import RenderedSources
    from imglint.manifests import Manifests
    from imglint.registry.model import RegistrySummary
    from imglint.report import Report
    from imglint.report.inventory import Inventory
    from imglint.sites import ImageSite
    from imglint.sources import Collected

    Format = Literal["text", "json", "sarif", "github", "junit", "gitlab", "cyclonedx"]


@dataclass(frozen=True)
class ReportTarget:
    """`--report FORMAT:FILE`: one more report of the same run, written whole to FILE."""

    format: str
    path: str


@dataclass(frozen=True)
class Options:
    """What one run is asked to do: the command line, parsed and typed (see `cli.options`).

    None means "not given": the configuration file or the built-in default decides.
    """

    paths: tuple[str, ...]
    config_file: str | None = None
    stdin_filename: str | None = None
    # `helm template -f` files of the rendered chart on stdin, in order (findings name the key)
    values: tuple[str, ...] = ()
    # rule selection, layered on the configuration's (codes or names)
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    fail_on: str | None = None
    report_unused_suppressions: bool = False
    baseline: str | None = None
    write_baseline: str | None = None
    # output
    format: Format | None = None
    statistics: bool = False
    list_images: bool = False
    verbose: bool = False
    quiet: bool = False
    # the registry check (jobs, timeout and platforms reach it through the configuration)
    resolve: bool = False
    use_pull_secrets: bool = False
    jobs: int | None = None
    timeout: float | None = None
    ca_file: str | None = None
    platforms: tuple[str, ...] | None = None
    use_cache: bool = True
    cache_dir: str | None = None  # --cache-dir (else $IMGLINT_CACHE_DIR, else the user's)
    # input: the configuration's `exclude` for named paths too (None: the configuration says)
    force_exclude: bool | None = None
    # processes that read the files (None: the configuration says, else one per core)
    workers: int | None = None
    # fixes
    fix: bool = False
    pin: bool = False
    repin: bool = False
    diff: bool = False
    # more reports of the same run (`--report FORMAT:FILE`), beside the --format one
    reports: tuple[ReportTarget, ...] = ()


@dataclass(frozen=True)
class Streams:
    """Where a run writes, owned by the command line.

    `report` opens the report's stream (stdout, or the -o file written whole at the end);
    `messages` takes errors, warnings and progress (stderr); `color` says whether text written
    to a report stream may be coloured.
    """

    report: Callable[[], AbstractContextManager[TextIO]]
    messages: TextIO
    color: Callable[[TextIO], bool] = field(default=lambda out: False)
    # opens a `--report` file (written whole at the end, UTF-8, \n line ends)
    report_file: Callable[[str], AbstractContextManager[TextIO]] = field(
        default=lambda path: open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
    )


@dataclass
class _Read:
    """The sources and what was read from them."""

    collected: Collected
    manifests: Manifests
    written: list[ImageSite]  # every reference (and entry) written, not a placeholder
    checked: list[ImageSite]  # those that `ignore-images` leaves to imglint


class Application:
    """One run. `run()` returns the exit code; usage, configuration and input problems that end
    the run early are raised as ImglintError (the command line prints them)."""

    def __init__(self, options: Options, streams: Streams) -> None:
        self.options = options
        self.streams = streams
        self._trace_errors: list[InputError] = []

    def run(self) -> int:
        frozen = gc.get_freeze_count()
        try:
            return self._run()
        finally:
            if not frozen and gc.get_freeze_count():
                gc.unfreeze()  # what reading froze (`read`) is the run's, no more

    def _run(self) -> int:
        config = self.initialize()
        started = time.monotonic()
        read = self.read(config, for_fix=self.options.fix or self.options.pin)
        if self.options.list_images:
            return self.list_images(config, read)
        fix_errors: list[InputError] = []
        if self.options.fix or self.options.pin:
            finished, fix_errors = self.fix(config, read)
            if finished is not None:
                return finished
            read = self.read(config)  # the files changed: lint what is on disk now
        return self.lint(config, read, started, fix_errors)

    # -- stages ----------------------------------------------------------------------------------

    def initialize(self) -> Config:
        """The configuration: the file (given or discovered), then the command line's values.
        Without --config, each linted file then gets its nearest configuration (in `read`)."""
        import os

        from imglint import config as config_module

        options = self.options
        cwd = os.getcwd()
        config = config_module.load(options.config_file, cwd).with_overrides(
            select=options.select,
            extend_select=options.extend_select,
            ignore=options.ignore,
            fail_on=options.fail_on,
            platforms=options.platforms,
            jobs=options.jobs,
            timeout=options.timeout,
            force_exclude=options.force_exclude,
            workers=options.workers,
        )
        if options.config_file is None:
            config = config.with_discovery(cwd, options.stdin_filename)
        return config

    def read(self, config: Config, *, for_fix: bool = False) -> _Read:
        """Find the files, read them (in worker processes when the input is large and no fix
        will rewrite them), and select the sites imglint checks."""
        from imglint import engine, parallel
        from imglint.documents import gc_paused
        from imglint.sources import Collected, discover

        collected = Collected()
        resources = config.resources
        if self.options.verbose:  # -v: say which image-like fields nobody reads
            resources = replace(resources, survey=True)
        settings = parallel.ReadSettings(
            # `helm-values` globs select more values files, as `exclude` globs select (relative
            # to the folder of the configuration nearest to the file that wrote them).
            {"helm-values": config.is_helm_values},
            resources,
            keep_texts=for_fix,
        )
        found = discover(
            self.options.paths,
            collected,
            stdin_name=self.options.stdin_filename or "-",
            exclude=config.exclusions(),  # each folder's nearest configuration's
        )
        # Read as they are found, in worker processes once the input is large enough (a fix
        # rewrites the texts it read, with hooks that hold YAML nodes: one process). Each
        # file's nearest configuration is read as it is found, before its file is read: a
        # configuration error ends the run before anything is reported.
        workers = 1 if for_fix else parallel.worker_limit(config.workers)
        with gc_paused():
            read = parallel.read_all(
                found,
                collected,
                settings,
                workers,
                check=lambda pending: config.config_for(pending.path),
            )
            if not gc.get_freeze_count():
                # What was read lives until the run ends: the collector's passes need not walk
                # it again (the first one after reading walked every result: 50 ms on the
                # corpus). Frozen before the collector is back; thawed when the run ends.
                gc.freeze()
        # Placeholders are not references yet; an entry that matches nothing still has a rule.
        written = [s for s in read.sites if s.placeholder is None or s.unmatched is not None]
        return _Read(collected, read, written, engine.not_ignored(written, config))

    def list_images(self, config: Config, read: _Read) -> int:
        """--list-images: every image site as written (placeholders and ignored images too);
        with --resolve, each checked one's answer (digest, platforms, or why not)."""
        from imglint.report import INVENTORY_FORMATS, render_inventory

        fmt = self.options.format or "text"
        if fmt not in INVENTORY_FORMATS:
            raise UsageError(f"--list-images supports --format {' or '.join(INVENTORY_FORMATS)}")
        answers: RegistryAnswers | None = None
        if self.options.resolve:
            answers, summary = self.resolve(config, read, read_platforms=True)
            # stdout is the inventory; the summary goes where progress and warnings go
            print(f"imglint: registry: {summary.text()}", file=self.streams.messages)
        inventory = self._inventory(config, read, answers)
        with self.streams.report() as out:
            render_inventory(fmt, inventory, out)
        for target in self.options.reports:
            with self.streams.report_file(target.path) as out:
                render_inventory(target.format, inventory, out)
        # stdout is the inventory (perhaps JSON for a script): what could not be read goes to stderr
        errors = read.collected.errors + read.manifests.errors + self._trace_errors
        self._print_errors(errors)
        # What was not read, and with -v which image-like fields nobody reads: as in a report.
        from imglint.report.common import printable

        for notice in read.collected.notices + read.manifests.notices:
            print(f"imglint: note: {printable(notice)}", file=self.streams.messages)
        if self.options.verbose:
            for detail in read.manifests.details:
                print(f"imglint: {detail}", file=self.streams.messages)
        return EXIT_ERROR if errors else EXIT_OK

    def fix(self, config: Config, read: _Read) -> tuple[int | None, list[InputError]]:
        """--fix/--pin. Returns an exit code when the run ends here (diff, stdin), and the
        references or files that could not be fixed (input errors of the run: exit 2)."""
        from imglint import fix

        options = self.options
        resolver = None
        if options.pin:
            from imglint.resolve import make_resolver

            resolver = make_resolver(
                config,
                ca_file=options.ca_file,
                use_cache=options.use_cache,
                cache_dir=options.cache_dir,
                messages=self.streams.messages,
            )
        outcome = fix.run_fixes(
            read.collected.sources,
            read.checked,
            explicit_registry=options.fix,
            pin=options.pin,
            repin=options.repin,
            diff=options.diff,
            resolver=resolver,
            moved_name=config.moved_name,
            selects=config.selects,
        )
        read_errors = read.collected.errors + read.manifests.errors
        failed = bool(read_errors or outcome.errors)
        # cli allows no other path beside stdin when it is rewritten without --diff.
        stdin_rewrite = "-" in options.paths and not options.diff
        if stdin_rewrite or options.diff:
            # The run ends here: stdout (or -o) carries the manifest or the diff, so problems go
            # to stderr.
            self._print_errors(read_errors + outcome.errors)
            if stdin_rewrite:  # stdin in, the rewritten manifest out
                if failed or outcome.stdout_text is None:
                    # `imglint --pin - | kubectl apply -f -`: the exit code comes too late for the
                    # pipe, so a half-pinned manifest must never reach it. Nothing on stdout.
                    print(
                        "imglint: error: the manifest was not printed (fix the errors above)",
                        file=self.streams.messages,
                    )
                    return EXIT_ERROR, []
                with self.streams.report() as out:
                    out.write(outcome.stdout_text)
                return EXIT_OK, []
            with self.streams.report() as out:
                out.write(outcome.diff)
            if failed:
                return EXIT_ERROR, []
            return (EXIT_FINDINGS if outcome.diff else EXIT_OK), []
        if not options.quiet:
            from imglint.report.common import plural

            edits = plural(outcome.edits, "image reference")
            files = plural(len(outcome.changed), "file")
            print(f"imglint: rewrote {edits} in {files}", file=self.streams.messages)
        return None, outcome.errors

    def resolve(
        self, config: Config, read: _Read, *, read_platforms: bool = False
    ) -> tuple[RegistryAnswers, RegistrySummary]:
        """--resolve: the registries' answers for the checked sites, and what the check did."""
        from imglint.resolve import run_resolve

        options = self.options
        messages = self.streams.messages
        return run_resolve(
            read.checked,
            config,
            objects=read.manifests.objects,
            use_pull_secrets=options.use_pull_secrets,
            ca_file=options.ca_file,
            use_cache=options.use_cache,
            cache_dir=options.cache_dir,
            verbose=options.verbose,
            progress=messages.isatty() and not options.quiet,
            messages=messages,
            read_platforms=read_platforms,
        )

    def lint(
        self, config: Config, read: _Read, started: float, fix_errors: list[InputError]
    ) -> int:
        from imglint import engine, rules
        from imglint.context import Context
        from imglint.report import Report, render

        options = self.options
        if not config.enabled:
            # "All checks passed" with no check run would open the gate (an empty CI variable in
            # `--select "$RULES"` does exactly this).
            raise UsageError("no rules selected: --select, select or ignore left none to run")
        answers, registry = self.resolve(config, read) if options.resolve else (None, None)
        ctx = Context(
            objects=read.manifests.objects,
            settings=config.rule_settings,
            answers=answers,
            chooser=config.settings_chooser() if config.varies else None,
        )
        result = engine.run_rules(read.checked, ctx, config)
        findings, unused = self.trace(
            read,
            result.findings,
            result.unused_suppressions if options.report_unused_suppressions else None,
        )
        errors = sorted(
            read.collected.errors + read.manifests.errors + fix_errors + self._trace_errors,
            key=lambda e: (e.path, e.line or 0, e.column or 0),
        )
        notices = read.collected.notices + read.manifests.notices
        if config.nearest is not None:  # run-wide keys written in nested configurations
            notices.extend(config.nearest.notices)
        if options.write_baseline:
            return self.write_baseline(options.write_baseline, findings, errors)
        if options.baseline:
            findings, hidden = self.filter_baseline(options.baseline, findings)
            if hidden:
                notices.append(f"{hidden} recorded in baseline {options.baseline} not shown")
        report = Report(
            findings=findings,
            errors=errors,
            files_checked=read.collected.files_seen,
            images_checked=len(read.written),
            placeholders=sum(1 for s in read.manifests.sites if s.unchecked_placeholder),
            rules=[r for r in rules.RULES if r.code in result.selected_codes],
            fail_on=config.fail_on,
            notices=notices,
            registry=registry,
            unused_suppressions=unused,
        )
        with self.streams.report() as out:
            render(
                options.format or "text",
                report,
                out,
                color=self.streams.color(out),
                statistics=options.statistics,
            )
        self.write_reports(report, lambda: self._inventory(config, read, answers))
        if options.verbose:
            for detail in read.manifests.details:
                print(f"imglint: {detail}", file=self.streams.messages)
            elapsed = time.monotonic() - started
            print(f"imglint: done in {elapsed:.2f} s", file=self.streams.messages)
        return report.exit_code

    def write_reports(self, report: Report, inventory: Callable[[], Inventory]) -> None:
        """`--report FORMAT:FILE`: the same report in more formats (and the inventory of the
        same read), each file written whole. The exit code stays the report's."""
        from imglint.report import INVENTORY_ONLY_FORMATS, render, render_inventory

        for target in self.options.reports:
            with self.streams.report_file(target.path) as out:
                if target.format in INVENTORY_ONLY_FORMATS:
                    render_inventory(target.format, inventory(), out)
                else:
                    render(target.format, report, out)

    def trace(
        self,
        read: _Read,
        findings: list[Finding],
        unused: list[UnusedSuppression] | None,
    ) -> tuple[list[Finding], list[UnusedSuppression] | None]:
        """Findings on rendered stdin, at the files they came from: `helm template` output at
        its chart templates (unused suppressions too), then `kustomize build` output with
        origin annotations at the origin files."""
        rendered = self._rendered(read)
        if rendered is None:
            return findings, unused
        if unused is not None:
            unused = rendered.suppressions(unused)
        findings = rendered.findings(findings)
        self._trace_errors = rendered.errors  # a --values file that could not be read
        from imglint.kustomize_origin import BuildOutput

        build_output = BuildOutput(read.collected.sources, self.options.stdin_filename)
        if build_output.applies():  # `kustomize build` output with origin annotations
            findings = build_output.findings(findings)
        return findings, unused

    def write_baseline(self, path: str, findings: list[Finding], errors: list[InputError]) -> int:
        from imglint import baseline

        baseline.write(path, findings)
        # A file that could not be read adds nothing to the baseline: say which, and fail.
        self._print_errors(errors)
        print(f"imglint: wrote {len(findings)} findings to {path}", file=self.streams.messages)
        return EXIT_ERROR if errors else EXIT_OK

    def filter_baseline(self, path: str, findings: list[Finding]) -> tuple[list[Finding], str]:
        """The findings the baseline does not know, and how many it hid ("" for none)."""
        from imglint import baseline
        from imglint.report.common import plural

        new = baseline.filter_new(baseline.read(path), findings)
        hidden = len(findings) - len(new)
        return new, plural(hidden, "finding") if hidden else ""

    # -- helpers ---------------------------------------------------------------------------------

    def _inventory(self, config: Config, read: _Read, answers: RegistryAnswers | None) -> Inventory:
        """Every image site as written, placed like findings (`helm template` output at its
        templates), each checked one with its registry answer when there are answers."""
        from imglint.report.inventory import Inventory, InventoryEntry

        checked = {id(site) for site in read.checked}
        entries = [
            InventoryEntry(
                site,
                answers.for_site(site) if answers is not None and id(site) in checked else None,
            )
            for site in read.manifests.sites
        ]
        rendered = self._rendered(read)
        if rendered is not None:
            if self.options.values:
                rendered.values_images()  # read now: a --values file that is missing is an error
            traced = []
            for entry in entries:
                [site] = rendered.sites([entry.site])  # at its template; its values keys
                declared_at = rendered.declared_at(site.image, site.path)
                traced.append(records.replace(entry, site=site, declared_at=declared_at))
            entries = sorted(
                traced, key=lambda e: (e.site.path, e.site.span.line, e.site.span.column)
            )
            self._trace_errors = rendered.errors  # a --values file that could not be read
        return Inventory(entries, resolved=answers is not None, platforms=config.platforms)

    def _rendered(self, read: _Read) -> RenderedSources | None:
        """The `helm template` mapping when stdin is read (its `# Source:` comments), else None."""
        if all(source.file_path is not None for source in read.collected.sources):
            return None
        from imglint.helm import RenderedSources

        return RenderedSources(
            read.collected.sources, self.options.stdin_filename, self.options.values
        )

    def _print_errors(self, errors: Sequence[InputError]) -> None:
        """Input errors on stderr, for runs whose stdout carries something else than a report."""
        from imglint.report.common import printable

        for error in errors:
            print(f"imglint: error: {printable(str(error))}", file=self.streams.messages)
