"""The `imglint` command: arguments in, exit code out. `main(argv) -> int` never raises."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from imglint import __version__
from imglint.errors import ImglintError, UsageError
from imglint.findings import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, InputError

if TYPE_CHECKING:
    from imglint.config import Config
    from imglint.manifests import Manifests
    from imglint.sites import ImageSite
    from imglint.sources import Collected


EPILOG = """\
examples:
  imglint manifests/                      lint every *.yaml, *.yml, *.json below a folder
  helm template ./chart | imglint -       lint a rendered chart (findings point at its templates)
  kustomize build overlays/prod | imglint -
  imglint --resolve k8s/                  also ask each registry whether every tag exists
  imglint --format sarif k8s/ > imglint.sarif
  imglint --list-images --format json k8s/
  imglint --explain IMG006                what a rule checks, why, and how to fix it
  imglint --pin --diff k8s/               show the digests pinning would write

exit status: 0 no findings at or above --fail-on, 1 findings, 2 usage, config or input errors.
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, given its width up front: by default it imports shutil (and with it
    bz2 and lzma) to measure the terminal, on every run, even when no help is printed."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ.get("COLUMNS") or os.get_terminal_size(2).columns)
        except (OSError, ValueError):
            width = 80
        super().__init__(prog, width=max(width, 40) - 2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imglint",
        description="Lint container image references in Kubernetes manifests before they are "
        "applied: invalid names, latest or missing tags, implicit Docker Hub, missing pull "
        "secrets, disallowed registries, and (with --resolve) tags that do not exist.",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders; - for stdin")
    parser.add_argument("--version", action="version", version=f"imglint {__version__}")

    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        default=None,
        choices=("text", "json", "sarif", "github", "junit"),
        help="output format (default: text; --list-images takes text or json)",
    )
    out.add_argument("-o", "--output-file", metavar="FILE", help="write the report to FILE")
    out.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour text output (auto: on a terminal, unless NO_COLOR is set)",
    )
    out.add_argument("--statistics", action="store_true", help="print counts per rule")
    out.add_argument(
        "--stdin-filename", metavar="NAME", help="the name to show for stdin (default: -)"
    )
    out.add_argument("--list-images", action="store_true", help="print every image site and exit")
    out.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    out.add_argument("--explain", metavar="RULE", help="print a rule's documentation and exit")
    out.add_argument("-v", "--verbose", action="store_true", help="say more on stderr")
    out.add_argument(
        "-q", "--quiet", action="store_true", help="no progress line or fix summary on stderr"
    )

    sel = parser.add_argument_group("rule selection")
    sel.add_argument("--config", metavar="FILE", help="configuration file (default: discovered)")
    sel.add_argument("--select", metavar="RULES", help="comma-separated codes or names to run")
    sel.add_argument("--extend-select", metavar="RULES", help="add rules to the selection")
    sel.add_argument("--ignore", metavar="RULES", help="comma-separated codes or names to skip")
    sel.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        help="lowest severity that fails the run (default: error)",
    )
    sel.add_argument(
        "--report-unused-suppressions",
        action="store_true",
        help="report suppression comments and annotations that silence nothing",
    )
    sel.add_argument("--baseline", metavar="FILE", help="report only findings not in FILE")
    sel.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record today's findings in FILE (exit 0, or 2 if a file was unreadable)",
    )

    reg = parser.add_argument_group("registry check")
    reg.add_argument(
        "--resolve", action="store_true", help="ask each registry whether every image exists"
    )
    reg.add_argument(
        "--use-pull-secrets",
        action="store_true",
        help="authenticate with the pods' own pull secrets from the manifests",
    )
    reg.add_argument(
        "--jobs", type=int, metavar="N", help="concurrent registry requests (default: 16)"
    )
    reg.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="overall registry deadline (default: 60)"
    )
    reg.add_argument("--ca-file", metavar="FILE", help="extra CA certificates (PEM)")
    reg.add_argument(
        "--platform",
        action="append",
        metavar="OS/ARCH",
        help="a platform every image must offer; repeat for more (default: linux/amd64)",
    )
    reg.add_argument("--no-cache", action="store_true", help="do not read or write the cache")

    fix = parser.add_argument_group("fixes")
    fix.add_argument(
        "--fix", action="store_true", help="make implicit Docker Hub references explicit"
    )
    fix.add_argument(
        "--pin", action="store_true", help="pin every tag to its digest (asks the registry)"
    )
    fix.add_argument("--repin", action="store_true", help="with --pin, refresh existing digests")
    fix.add_argument("--diff", action="store_true", help="print the changes instead of writing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:
        print("imglint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`imglint ... | head`): nothing more to say, and nothing to flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except ImglintError as exc:
        print(f"imglint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug: one line, never a traceback (IMGLINT_DEBUG=1 shows it)
        if os.environ.get("IMGLINT_DEBUG"):
            raise
        print(
            f"imglint: internal error: {type(exc).__name__}: {exc} "
            "(please report it; IMGLINT_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _main(argv: list[str]) -> int:
    # Manifest text (paths, images) may hold anything; a terminal in a C locale must not crash us.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)

    if args.list_rules or args.explain:
        return _rule_docs(args)
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("imglint: error: no PATH given (use - to read stdin)", file=sys.stderr)
        return EXIT_ERROR
    if args.repin and not args.pin:
        raise UsageError("--repin needs --pin")
    if args.diff and not (args.fix or args.pin):
        raise UsageError("--diff needs --fix or --pin")
    if args.paths.count("-") > 1:
        raise UsageError("stdin (-) given more than once")
    if (args.fix or args.pin) and not args.diff and "-" in args.paths and len(args.paths) > 1:
        # The rewritten stdin goes to stdout, which leaves no room for the other files' report.
        raise UsageError("--fix/--pin on stdin (-) prints the manifest: name no other PATH")
    _check_flag_combinations(args)

    from imglint import config as config_module

    config = config_module.load(args.config, os.getcwd())
    config = config.with_overrides(
        select=_split(args.select),
        extend_select=_split(args.extend_select),
        ignore=_split(args.ignore),
        fail_on=args.fail_on,
        jobs=args.jobs,
        timeout=args.timeout,
    )
    if args.platform:
        config = config.with_overrides(platforms=tuple(args.platform))

    started = time.monotonic()
    collected, manifests = _read(args, config)

    if args.list_images:
        fmt = args.format or "text"
        if fmt not in ("text", "json"):
            raise UsageError("--list-images supports --format text or json")
        from imglint.report import render_inventory

        sites = manifests.sites
        if any(s.file_path is None for s in collected.sources):  # `helm template` output?
            from imglint.helm import RenderedSources

            sites = RenderedSources(collected.sources, args.stdin_filename).sites(sites)
        with _output(args.output_file) as out:
            render_inventory(fmt, sites, out)  # type: ignore[arg-type]
        # stdout is the inventory (perhaps JSON for a script): what could not be read goes to stderr
        _print_errors(collected.errors + manifests.errors)
        return EXIT_ERROR if collected.errors or manifests.errors else EXIT_OK

    fix_errors: list[InputError] = []
    if args.fix or args.pin:
        finished, fix_errors = _fix(args, config, collected, manifests)
        if finished is not None:
            return finished
        # The files changed: read them again so the findings describe what is on disk now.
        collected, manifests = _read(args, config)

    return _lint(args, config, collected, manifests, started, fix_errors)


def _read(args: argparse.Namespace, config: Config) -> tuple[Collected, Manifests]:
    from imglint import manifests as manifests_module
    from imglint.sources import collect

    collected = collect(args.paths, stdin_name=args.stdin_filename or "-", exclude=config.exclude)
    return collected, manifests_module.load(collected.sources)


def _lint(
    args: argparse.Namespace,
    config: Config,
    collected: Collected,
    manifests: Manifests,
    started: float,
    fix_errors: list[InputError],
) -> int:
    from imglint import engine, rules
    from imglint.context import Context
    from imglint.report import Report, render

    if not config.enabled:
        # "All checks passed" with no check run would open the gate (an empty CI variable in
        # `--select "$RULES"` does exactly this).
        raise UsageError("no rules selected: --select, select or ignore left none to run")

    # Placeholders are not references yet; an entry that matches nothing still has a rule.
    sites = [s for s in manifests.sites if s.placeholder is None or s.unmatched is not None]
    ctx = Context(
        objects=manifests.objects,
        private_registries=config.private_registries,
        allowed_registries=config.allowed_registries,
        platforms=config.platforms,
    )
    registry_summary = None
    if args.resolve:
        ctx.answers, registry_summary = _resolve(
            args, config, _not_ignored(sites, config), manifests
        )
    result = engine.lint(sites, ctx, config)
    findings = result.findings
    unused = result.unused_suppressions if args.report_unused_suppressions else None
    if any(s.file_path is None for s in collected.sources):  # stdin: `helm template` output?
        from imglint.helm import RenderedSources

        rendered = RenderedSources(collected.sources, args.stdin_filename)
        findings = rendered.findings(findings)
        if unused is not None:
            unused = rendered.suppressions(unused)
        from imglint.kustomize_origin import BuildOutput

        build_output = BuildOutput(collected.sources, args.stdin_filename)
        if build_output.applies():  # `kustomize build` output with origin annotations
            findings = build_output.findings(findings)

    errors = sorted(
        collected.errors + manifests.errors + fix_errors,
        key=lambda e: (e.path, e.line or 0, e.column or 0),
    )
    notices = collected.notices + manifests.notices
    if args.write_baseline:
        from imglint import baseline

        baseline.write(args.write_baseline, findings)
        # A file that could not be read adds nothing to the baseline: say which, and fail.
        _print_errors(errors)
        print(f"imglint: wrote {len(findings)} findings to {args.write_baseline}", file=sys.stderr)
        return EXIT_ERROR if errors else EXIT_OK
    if args.baseline:
        from imglint import baseline
        from imglint.report.common import plural

        known = len(findings)
        findings = baseline.filter_new(baseline.read(args.baseline), findings)
        if known > len(findings):
            hidden = plural(known - len(findings), "finding")
            notices.append(f"{hidden} recorded in baseline {args.baseline} not shown")
    report = Report(
        findings=findings,
        errors=errors,
        files_checked=collected.files_seen,
        images_checked=len(sites),
        rules=[r for r in rules.RULES if r.code in result.selected_codes],
        fail_on=config.fail_on,
        notices=notices,
        registry_summary=registry_summary,
        unused_suppressions=unused,
    )
    fmt = args.format or "text"
    with _output(args.output_file) as out:
        render(fmt, report, out, color=_use_color(args, out), statistics=args.statistics)
    if args.verbose:
        for detail in manifests.details:
            print(f"imglint: {detail}", file=sys.stderr)
        print(f"imglint: done in {time.monotonic() - started:.2f} s", file=sys.stderr)
    return report.exit_code


def _resolve(
    args: argparse.Namespace, config: Config, sites: list[ImageSite], manifests: Manifests
) -> tuple[dict[str, object], str]:
    from imglint.registry import run_resolve

    return run_resolve(
        sites,
        config,
        objects=manifests.objects,
        use_pull_secrets=args.use_pull_secrets,
        jobs=args.jobs,
        timeout=args.timeout,
        ca_file=args.ca_file,
        use_cache=not args.no_cache,
        verbose=args.verbose,
        progress=sys.stderr.isatty() and not args.quiet,
    )


def _fix(
    args: argparse.Namespace, config: Config, collected: Collected, manifests: Manifests
) -> tuple[int | None, list[InputError]]:
    """Apply --fix/--pin. Returns an exit code when the run ends here (diff, stdin), and the
    references or files that could not be fixed (input errors of the run: exit 2)."""
    from imglint import fix

    resolver = None
    if args.pin:
        from imglint.registry import make_resolver

        resolver = make_resolver(
            config,
            jobs=args.jobs,
            timeout=args.timeout,
            ca_file=args.ca_file,
            use_cache=not args.no_cache,
        )
    outcome = fix.run_fixes(
        collected.sources,
        _not_ignored(manifests.sites, config),
        explicit_registry=args.fix,
        pin=args.pin,
        repin=args.repin,
        diff=args.diff,
        resolver=resolver,
    )
    errors = bool(collected.errors or manifests.errors or outcome.errors)
    if outcome.stdout_text is not None or args.diff:
        # The run ends here: stdout (or -o) carries the manifest or the diff, so problems go to
        # stderr.
        _print_errors(collected.errors + manifests.errors + outcome.errors)
        with _output(args.output_file) as out:
            if outcome.stdout_text is not None:  # stdin in, the rewritten manifest out
                out.write(outcome.stdout_text)
                return (EXIT_ERROR if errors else EXIT_OK), []
            out.write(outcome.diff)
        if errors:
            return EXIT_ERROR, []
        return (EXIT_FINDINGS if outcome.diff else EXIT_OK), []
    if not args.quiet:
        from imglint.report.common import plural

        edits = plural(outcome.edits, "image reference")
        print(
            f"imglint: rewrote {edits} in {plural(len(outcome.changed), 'file')}", file=sys.stderr
        )
    return None, outcome.errors


def _not_ignored(sites: list[ImageSite], config: Config) -> list[ImageSite]:
    """The sites `ignore-images` leaves to imglint: no registry request or rewrite for the rest."""
    from imglint.engine import image_matcher

    ignored = image_matcher(config.ignore_images)
    return sites if ignored is None else [site for site in sites if not ignored(site)]


def _check_flag_combinations(args: argparse.Namespace) -> None:
    """Refuse options that would be silently ignored in this run."""
    if args.stdin_filename is not None and "-" not in args.paths:
        raise UsageError("--stdin-filename names stdin: add - to the paths")
    if args.write_baseline:
        for flag, value in (
            ("-o", args.output_file),
            ("--format", args.format),
            ("--statistics", args.statistics or None),
        ):
            if value is not None:
                raise UsageError(
                    f"--write-baseline records every finding and prints no report: drop {flag}"
                )
    if args.statistics and args.format in ("sarif", "github", "junit"):
        raise UsageError(f"--statistics works with --format text or json, not {args.format}")
    if args.use_pull_secrets and not args.resolve:
        raise UsageError("--use-pull-secrets needs --resolve (--pin uses your own credentials)")
    if args.platform and not args.resolve:
        raise UsageError("--platform needs --resolve (the platform check asks the registries)")
    if not (args.resolve or args.pin):
        for flag, value in (
            ("--jobs", args.jobs),
            ("--timeout", args.timeout),
            ("--ca-file", args.ca_file),
            ("--no-cache", args.no_cache or None),
        ):
            if value is not None:
                raise UsageError(f"{flag} needs --resolve or --pin (it is a registry option)")


def _rule_docs(args: argparse.Namespace) -> int:
    from imglint import rules

    if args.explain:
        rule = rules.lookup(args.explain)
        if rule is None:
            raise UsageError(f"unknown rule {args.explain!r} (see imglint --list-rules)")
        print(rules.render_explain(rule))
        return EXIT_OK
    for rule in rules.RULES:
        default = "on" if rule.default_enabled else "opt-in"
        needs = " (needs --resolve)" if rule.needs_registry else ""
        print(
            f"{rule.code}  {rule.name:<32} {rule.severity.label:<8} {default:<7}"
            f"{rule.summary}{needs}"
        )
    return EXIT_OK


class _output:
    """The report's stream: stdout, or a file written whole at the end."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.handle: TextIO = sys.stdout

    def __enter__(self) -> TextIO:
        if self.path:
            try:
                self.handle = open(self.path, "w", encoding="utf-8", newline="\n")
            except OSError as exc:
                raise UsageError(f"cannot write {self.path}: {exc.strerror}") from None
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not sys.stdout:
            self.handle.close()
        else:
            self.handle.flush()


def _print_errors(errors: Sequence[InputError]) -> None:
    """Input errors on stderr, for runs whose stdout carries something else than a report."""
    from imglint.report.common import printable

    for error in errors:
        print(f"imglint: error: {printable(str(error))}", file=sys.stderr)


def _use_color(args: argparse.Namespace, out: TextIO) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or os.environ.get("NO_COLOR"):
        return False
    return out.isatty()


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]
