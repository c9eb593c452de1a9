"""The `imglint` command: arguments in, exit code out. `main(argv) -> int` never raises.

Only the command line lives here: the checks between flags, the streams and the exit codes (the
options themselves are declared and read in `imglint.arguments`). The run itself is
`imglint.app.Application`, given typed `Options`.
"""

from __future__ import annotations

import atexit
import gc
import os
import stat
import sys

from imglint.errors import ImglintError, UsageError

# imglint's other modules are imported in the functions that use them: `main` pauses the
# collector before any of them loads (see there).

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn, TextIO

    from imglint.app import Options, ReportTarget
    from imglint.arguments import Arguments


EXIT_INTERRUPTED = 130  # as a shell reports a command that SIGINT stopped

# An offline run over named files this small keeps nearly all it allocates to its end (modules,
# the configuration, the documents it composes with the collector paused anyway): the cyclic
# garbage collector's passes over what it imports, PyYAML included, cost more than its lint and
# free next to nothing. Such a run goes without them.
SMALL_INPUT_BYTES = 1024 * 1024


def _exit_now(code: int) -> None:
    """End the process without the interpreter's exit handlers. After Ctrl-C the workers are
    stopped, but concurrent.futures joins its pool's thread at exit, and that thread may wait
    forever for the rest of a message a stopped worker had begun to send."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def run() -> NoReturn:
    """The `imglint` process (the console script, `python -m imglint`): `main()` on its own
    command line, then the end of the process."""
    _end_process(main())


def _end_process(code: int) -> NoReturn:
    """Exit with code. Like mypy, without the interpreter's teardown when nothing needs it: the
    teardown frees every module and object one by one (about 17 M of a one-file run's 217 M
    instructions, more than its lint), for a process about to end. It still runs when
    something may be waiting for it (an exit handler such as coverage's, a profiler or tracer
    running imglint, another thread) or when the output cannot be flushed (the interpreter
    then says so, as it always has)."""
    threading = sys.modules.get("threading")
    if (
        sys.gettrace() is None
        and sys.getprofile() is None
        and getattr(atexit, "_ncallbacks", lambda: 1)() == 0
        and (threading is None or threading.active_count() == 1)
    ):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # (BrokenPipeError is an OSError) the interpreter's own exit reports it
        else:
            os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    # The collector is paused while the command line is read and imglint's modules load: they
    # keep all they make, and its passes over them found nothing to free (2 M of a one-file
    # run's instructions). `_main` gives it back to a run that needs it.
    collecting = gc.isenabled()
    gc.disable()
    from imglint.findings import EXIT_ERROR

    try:
        return _main(sys.argv[1:] if argv is None else list(argv), collecting)
    except KeyboardInterrupt:
        print("imglint: interrupted", file=sys.stderr)
        if argv is None:  # the process's own command line: it ends here
            _exit_now(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
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
    finally:
        if argv is None:
            # The process's own command line: the process ends when this returns, and its exit
            # need not walk every object it made once more looking for cycles (the interpreter
            # collects at exit only when the collector is on; 3.6 M of a one-file run's 222 M
            # instructions, more for a large run).
            gc.disable()
        elif collecting:
            gc.enable()


def _main(argv: list[str], collecting: bool) -> int:
    """The run of a command line; `collecting`: whether the collector was on before `main`
    paused it."""
    from imglint import arguments
    from imglint.findings import EXIT_ERROR

    # Manifest text (paths, images) may hold anything; a terminal in a C locale must not crash us.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = arguments.parse(argv)

    if args.list_rules or args.explain:
        return _rule_docs(args)
    if args.show_settings:
        return _show_settings(args.show_settings, args.config)
    if not args.paths:
        arguments.build_parser().print_usage(sys.stderr)
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

    from imglint.app import Application, Streams

    streams = Streams(
        report=lambda: _output(args.output_file),
        report_file=_output,
        messages=sys.stderr,
        color=lambda out: _use_color(args.color, out),
    )
    # (not with the registry check: its requests may run for a minute, and leave cycles)
    if collecting and (args.resolve or args.pin or not _small_input(args.paths)):
        gc.enable()
    return Application(options(args), streams).run()


def _small_input(paths: Sequence[str]) -> bool:
    """Whether the paths are regular files of fewer than SMALL_INPUT_BYTES together (stdin and
    folders are of unknown size: not small)."""
    total = 0
    for path in paths:
        if path == "-":
            return False
        try:
            status = os.stat(path)
        except (OSError, ValueError):  # missing, unreadable, a NUL in the name: the run says so
            return False
        if not stat.S_ISREG(status.st_mode):
            return False
        total += status.st_size
    return total < SMALL_INPUT_BYTES


def options(args: Arguments) -> Options:
    """The typed options of a run, from the parsed command line."""
    from imglint.app import Options

    return Options(
        paths=tuple(args.paths),
        config_file=args.config,
        stdin_filename=args.stdin_filename,
        values=tuple(args.values),
        select=_split(args.select),
        extend_select=_split(args.extend_select),
        ignore=_split(args.ignore),
        fail_on=args.fail_on,
        report_unused_suppressions=args.report_unused_suppressions,
        baseline=args.baseline,
        write_baseline=args.write_baseline,
        format=args.format,
        statistics=args.statistics,
        list_images=args.list_images,
        verbose=args.verbose,
        quiet=args.quiet,
        resolve=args.resolve,
        use_pull_secrets=args.use_pull_secrets,
        jobs=args.jobs,
        timeout=args.timeout,
        ca_file=args.ca_file,
        platforms=tuple(args.platform) if args.platform else None,
        use_cache=not args.no_cache,
        cache_dir=args.cache_dir,
        force_exclude=args.force_exclude,
        workers=args.workers,
        fix=args.fix,
        pin=args.pin,
        repin=args.repin,
        diff=args.diff,
        reports=_report_targets(args),
    )


def _report_targets(args: Arguments) -> tuple[ReportTarget, ...]:
    """The `--report FORMAT:FILE` values: known formats, each file once and not the -o file."""
    from imglint.app import ReportTarget
    from imglint.report import FORMATS, INVENTORY_FORMATS, INVENTORY_ONLY_FORMATS

    allowed = INVENTORY_FORMATS if args.list_images else FORMATS + INVENTORY_ONLY_FORMATS
    targets: list[ReportTarget] = []
    seen = {os.path.realpath(args.output_file)} if args.output_file else set()
    for value in args.report or ():
        fmt, sep, path = value.partition(":")
        if not sep or not path:
            raise UsageError(f"--report {value}: give FORMAT:FILE, e.g. sarif:imglint.sarif")
        if fmt not in allowed:
            what = "--list-images --report" if args.list_images else "--report"
            raise UsageError(
                f"{what} {value}: unknown format {fmt!r} (choose from {', '.join(allowed)})"
            )
        if path == "-":
            raise UsageError(f"--report {value}: stdout is --format's; name a file")
        real = os.path.realpath(path)
        if real in seen:
            raise UsageError(f"--report {value}: {path} is written twice in this run")
        seen.add(real)
        targets.append(ReportTarget(fmt, path))
    return tuple(targets)


def _check_flag_combinations(args: Arguments) -> None:
    """Refuse options that would be silently ignored in this run."""
    if args.format == "cyclonedx" and not args.list_images:
        raise UsageError(
            "--format cyclonedx is the image inventory: add --list-images "
            "(or write it beside the report with --report cyclonedx:FILE)"
        )
    if args.report:
        rewrites_stdin = (args.fix or args.pin) and "-" in args.paths
        for flag, value in (
            ("--write-baseline", args.write_baseline),
            ("--diff", args.diff or None),
            ("--fix/--pin on stdin", rewrites_stdin or None),
        ):
            if value is not None:
                raise UsageError(f"--report needs a run that reports: {flag} prints no report")
    if args.stdin_filename is not None and "-" not in args.paths:
        raise UsageError("--stdin-filename names stdin: add - to the paths")
    if args.values:
        if "-" not in args.paths:
            raise UsageError("--values traces rendered stdin to its values: add - to the paths")
        if args.stdin_filename is None:
            raise UsageError("--values needs --stdin-filename CHART_FOLDER (the chart rendered)")
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
    if args.list_images:
        # The inventory lists what is written: it neither lints, rewrites, nor compares.
        for flag, value in (
            ("--fix", args.fix or None),
            ("--pin", args.pin or None),
            ("--baseline", args.baseline),
            ("--write-baseline", args.write_baseline),
            ("--statistics", args.statistics or None),
            ("--fail-on", args.fail_on),
            ("--report-unused-suppressions", args.report_unused_suppressions or None),
            ("--select", args.select),
            ("--extend-select", args.extend_select),
            ("--ignore", args.ignore),
        ):
            if value is not None:
                raise UsageError(f"--list-images runs no rule and rewrites nothing: drop {flag}")
    if args.statistics and args.format in ("sarif", "github", "junit", "gitlab"):
        raise UsageError(f"--statistics works with --format text or json, not {args.format}")
    if args.use_pull_secrets and not args.resolve:
        raise UsageError("--use-pull-secrets needs --resolve (--pin uses your own credentials)")
    if args.cache_dir is not None and args.no_cache:
        raise UsageError("--cache-dir names the cache --no-cache turns off: drop one")
    if args.platform and not args.resolve:
        raise UsageError("--platform needs --resolve (the platform check asks the registries)")
    if not (args.resolve or args.pin):
        registry_options: tuple[tuple[str, object], ...] = (
            ("--jobs", args.jobs),
            ("--timeout", args.timeout),
            ("--ca-file", args.ca_file),
            ("--no-cache", args.no_cache or None),
            ("--cache-dir", args.cache_dir),
        )
        for flag, given in registry_options:
            if given is not None:
                raise UsageError(f"{flag} needs --resolve or --pin (it is a registry option)")


def _show_settings(path: str, config_file: str | None) -> int:
    """`--show-settings FILE`: the configuration that applies to FILE (the nearest one, or
    --config) and the files it extends, the overrides and per-file-ignores whose files match
    FILE, and the rules that run on it (ruff's --show-settings, per file)."""
    from imglint import config as configuration
    from imglint.findings import EXIT_OK

    cwd = os.getcwd()
    run = configuration.load(config_file, cwd)
    if config_file is None:
        run = run.with_discovery(cwd)
    nearest = run.config_for(path)
    print(f"{path}:")
    print(f"  configuration: {nearest.describe_source()}")
    if len(nearest.chain) > 1:
        for shown, keys in nearest.keys_by_file():
            if nearest is not run:  # its run-wide keys do not apply
                keys = [key for key in keys if key in configuration.PER_FILE_KEYS]
            print(f"    from {shown}: {', '.join(keys) or 'nothing'}")
    if nearest is not run:
        print(f"  run-wide settings: {run.describe_source()}")
    print(f"  default-namespace: {nearest.default_namespace}")
    applying = run.applying(path, None)
    for line in applying:
        print(f"  {line}")
    if not applying:
        print("  overrides: none apply")
    choice = run.choice_for_file(path)
    print(f"  rules (objects in the default namespace): {', '.join(sorted(choice.enabled))}")
    if run.nearest is not None:
        for notice in run.nearest.notices:
            print(f"  note: {notice}")
    return EXIT_OK


def _rule_docs(args: Arguments) -> int:
    from imglint import rules
    from imglint.findings import EXIT_OK

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


def _use_color(mode: str, out: TextIO) -> bool:
    """--color wins; then NO_COLOR (no-color.org), then FORCE_COLOR (force-color.org: CI logs
    that render colour but are not terminals), each when set and not empty. FORCE_COLOR=0 or
    false forces nothing (as Node reads it), and it colours stdout only: never a -o file."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    forced = os.environ.get("FORCE_COLOR", "").strip().lower() not in ("", "0", "false")
    if forced and out is sys.stdout:
        return True
    return out.isatty()


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())
