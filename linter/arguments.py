"""The command line's options, declared once, and the two readers made from that declaration.

`Arguments` declares every option as a class attribute (its flags, value, help and group); a
parsed command line is an instance with one typed attribute per option. argparse, built from
those declarations by `build_parser`, is the authority: --help, --version, errors, abbreviated
options and anything unusual. Importing and building it costs about a tenth of a one-file run
(argparse loads gettext and locale, and translates every help text as it is added), so `parse`
first tries `read_plain`, which reads only the plain invocations (exact long options, with `=`
or a separate value, flags, -o/-v/-q, one run of paths, `--`) and hands every other command line
to argparse. Both give equal `Arguments` for what the plain reader accepts (tests/test_cli_parse.py
proves it over many argument lists, every option among them).
"""

from __future__ import annotations

import os

from imglint import __version__
from imglint.context import DEFAULT_PLATFORMS

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.records)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any

    from imglint.app import Format

DESCRIPTION = (
    "Lint container image references in Kubernetes manifests before they are applied: invalid "
    "names, latest or missing tags, implicit Docker Hub, missing pull secrets, disallowed "
    "registries, and (with --resolve) tags that do not exist."
)

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

# What an option does with its value, as argparse names the action.
STORE = "store"  # takes a value, the last one given wins
APPEND = "append"  # takes a value, every one given is kept in order
FLAG = "store_true"
BOOLEAN = "boolean-optional"  # --name sets True, --no-name False (argparse.BooleanOptionalAction)
PATHS = "paths"  # the positional arguments


class Option:
    """One option of the command line: a class attribute of `Arguments`, whose name is its dest."""

    __slots__ = (
        "action",
        "choices",
        "default",
        "dest",
        "flags",
        "group",
        "help",
        "metavar",
        "type",
    )

    def __init__(
        self,
        *flags: str,
        action: str = STORE,
        help: str,
        group: str | None = None,
        metavar: str | None = None,
        type: Callable[[str], object] | None = None,
        choices: tuple[str, ...] | None = None,
        default: object = None,
    ) -> None:
        self.flags = flags
        self.action = action
        self.help = help
        self.group = group  # the heading --help lists it under (None: the general options)
        self.metavar = metavar
        self.type = type
        self.choices = choices
        self.default = default
        self.dest = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.dest = name

    @property
    def takes_value(self) -> bool:
        return self.action in (STORE, APPEND)

    def starting_value(self) -> object:
        """The value before any flag is read (a list of its own for an appending option)."""
        if self.action == FLAG:
            return False
        return list(self.default) if isinstance(self.default, list) else self.default


def option(*flags: str, **settings: Any) -> Any:
    """An option of `Arguments` (typed as its value, which the parsed instance holds)."""
    return Option(*flags, **settings)


OUTPUT = "output"
SELECTION = "rule selection"
REGISTRY = "registry check"
FIXES = "fixes"


class Arguments:
    """The parsed command line. The class attributes declare the options, in --help's order;
    an instance holds each option's value (its default when not given)."""

    paths: list[str] = option(action=PATHS, metavar="PATH", help="files or folders; - for stdin")
    workers: int | None = option(
        "--workers",
        type=int,
        metavar="N",
        help="processes that read the files (default: one per core, for an input large "
        "enough; 1: this process alone)",
    )

    format: Format | None = option(
        "--format",
        group=OUTPUT,
        choices=("text", "json", "sarif", "github", "junit", "gitlab", "cyclonedx"),
        help="output format (default: text; --list-images takes text, json or cyclonedx)",
    )
    output_file: str | None = option(
        "-o", "--output-file", group=OUTPUT, metavar="FILE", help="write the report to FILE"
    )
    report: list[str] | None = option(
        "--report",
        group=OUTPUT,
        action=APPEND,
        metavar="FORMAT:FILE",
        help="also write the same run's report in FORMAT to FILE (repeatable), e.g. "
        "--report sarif:imglint.sarif",
    )
    color: str = option(
        "--color",
        group=OUTPUT,
        choices=("auto", "always", "never"),
        default="auto",
        help="colour text output (auto: on a terminal or with FORCE_COLOR; never with NO_COLOR)",
    )
    statistics: bool = option(
        "--statistics", group=OUTPUT, action=FLAG, help="print counts per rule"
    )
    stdin_filename: str | None = option(
        "--stdin-filename",
        group=OUTPUT,
        metavar="NAME",
        help="the name to show for stdin (default: -)",
    )
    values: list[str] = option(
        "--values",
        group=OUTPUT,
        metavar="FILE",
        action=APPEND,
        default=[],
        help="a values file `helm template -f` was given (repeatable, last wins): findings on "
        "rendered stdin name the values key that declared their image",
    )
    list_images: bool = option(
        "--list-images",
        group=OUTPUT,
        action=FLAG,
        help="print every image site and exit (with --resolve: each one's digest and platforms)",
    )
    list_rules: bool = option(
        "--list-rules", group=OUTPUT, action=FLAG, help="list the rules and exit"
    )
    explain: str | None = option(
        "--explain", group=OUTPUT, metavar="RULE", help="print a rule's documentation and exit"
    )
    show_settings: str | None = option(
        "--show-settings",
        group=OUTPUT,
        metavar="FILE",
        help="say which configuration, overrides and rules apply to FILE, and exit",
    )
    verbose: bool = option("-v", "--verbose", group=OUTPUT, action=FLAG, help="say more on stderr")
    quiet: bool = option(
        "-q",
        "--quiet",
        group=OUTPUT,
        action=FLAG,
        help="no progress line or fix summary on stderr",
    )

    config: str | None = option(
        "--config",
        group=SELECTION,
        metavar="FILE",
        help="configuration file (default: discovered)",
    )
    select: str | None = option(
        "--select",
        group=SELECTION,
        metavar="RULES",
        help="comma-separated codes or names to run",
    )
    extend_select: str | None = option(
        "--extend-select", group=SELECTION, metavar="RULES", help="add rules to the selection"
    )
    ignore: str | None = option(
        "--ignore",
        group=SELECTION,
        metavar="RULES",
        help="comma-separated codes or names to skip",
    )
    fail_on: str | None = option(
        "--fail-on",
        group=SELECTION,
        choices=("error", "warning", "info"),
        help="lowest severity that fails the run (default: error)",
    )
    report_unused_suppressions: bool = option(
        "--report-unused-suppressions",
        group=SELECTION,
        action=FLAG,
        help="report suppression comments and annotations that silence nothing",
    )
    force_exclude: bool | None = option(
        "--force-exclude",
        group=SELECTION,
        action=BOOLEAN,
        help="apply the configuration's exclude to paths named here too (for pre-commit)",
    )
    baseline: str | None = option(
        "--baseline",
        group=SELECTION,
        metavar="FILE",
        help="report only findings not in FILE",
    )
    write_baseline: str | None = option(
        "--write-baseline",
        group=SELECTION,
        metavar="FILE",
        help="record today's findings in FILE (exit 0, or 2 if a file was unreadable)",
    )

    resolve: bool = option(
        "--resolve",
        group=REGISTRY,
        action=FLAG,
        help="ask each registry whether every image exists",
    )
    use_pull_secrets: bool = option(
        "--use-pull-secrets",
        group=REGISTRY,
        action=FLAG,
        help="authenticate with the pods' own pull secrets from the manifests",
    )
    jobs: int | None = option(
        "--jobs",
        group=REGISTRY,
        type=int,
        metavar="N",
        help="concurrent registry requests (default: 16)",
    )
    timeout: float | None = option(
        "--timeout",
        group=REGISTRY,
        type=float,
        metavar="SECONDS",
        help="overall registry deadline (default: 60)",
    )
    ca_file: str | None = option(
        "--ca-file", group=REGISTRY, metavar="FILE", help="extra CA certificates (PEM)"
    )
    platform: list[str] | None = option(
        "--platform",
        group=REGISTRY,
        action=APPEND,
        metavar="OS/ARCH",
        help="a platform every image must offer; repeat for more "
        f"(default: {', '.join(DEFAULT_PLATFORMS)})",
    )
    no_cache: bool = option(
        "--no-cache", group=REGISTRY, action=FLAG, help="do not read or write the cache"
    )
    cache_dir: str | None = option(
        "--cache-dir",
        group=REGISTRY,
        metavar="DIR",
        help="the registry cache folder (default: $IMGLINT_CACHE_DIR, else ~/.cache/imglint)",
    )

    fix: bool = option(
        "--fix",
        group=FIXES,
        action=FLAG,
        help="make implicit Docker Hub references explicit",
    )
    pin: bool = option(
        "--pin",
        group=FIXES,
        action=FLAG,
        help="pin every tag to its digest (asks the registry)",
    )
    repin: bool = option(
        "--repin", group=FIXES, action=FLAG, help="with --pin, refresh existing digests"
    )
    diff: bool = option(
        "--diff", group=FIXES, action=FLAG, help="print the changes instead of writing"
    )

    def __init__(self) -> None:
        for each in declared():
            setattr(self, each.dest, each.starting_value())

    def __eq__(self, other: object) -> bool:
        return type(other) is Arguments and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"Arguments({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def declared() -> Iterator[Option]:
    """The options of `Arguments`, in declaration order."""
    for value in vars(Arguments).values():
        if isinstance(value, Option):
            yield value


def parse(argv: Sequence[str]) -> Arguments:
    """The command line read: by `read_plain` when it can, else by argparse (which exits with
    its message and status 2 on an error, and after --help or --version)."""
    plain = read_plain(argv)
    if plain is not None:
        return plain
    return build_parser().parse_args(argv, namespace=Arguments())


def read_plain(argv: Sequence[str]) -> Arguments | None:
    """The arguments of a plain command line, or None for argparse to read it: an option not
    written out in full (or -h, --version, an unknown one), a value that argparse might take for
    an option (it starts with -), a value that is not of the option's type or choices, an
    option's value given to a flag, short options joined (-vq, -oFILE), or paths in more than
    one run (argparse takes the first run and refuses the others)."""
    by_flag: dict[str, Option] = {}
    for each in declared():
        for flag in each.flags:
            by_flag[flag] = each
        if each.action == BOOLEAN:
            by_flag["--no-" + each.flags[0][2:]] = each
    arguments = Arguments()
    paths: list[str] = []
    run = "before"  # where the paths' one run is: before it, in it, after it
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == "--":  # the rest are paths, whatever they look like
            if run == "after":
                return None
            paths.extend(argv[index:])
            break
        if arg == "-" or not arg.startswith("-"):
            if run == "after":
                return None
            run = "in"
            paths.append(arg)
            continue
        if run == "in":
            run = "after"
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        found = by_flag.get(name)
        if found is None:
            return None
        if not found.takes_value:
            if equals:
                return None
            setattr(arguments, found.dest, found.action == FLAG or not name.startswith("--no-"))
            continue
        if not equals:
            if index == len(argv) or argv[index].startswith("-"):
                return None
            value = argv[index]
            index += 1
        converted = _converted(found, value)
        if converted is _REFUSED:
            return None
        if found.action == APPEND:  # (a list of its own, as argparse copies before appending)
            converted = [*(getattr(arguments, found.dest) or ()), converted]
        setattr(arguments, found.dest, converted)
    arguments.paths = paths
    return arguments


_REFUSED = object()


def _converted(found: Option, value: str) -> object:
    """The value as argparse stores it, or _REFUSED where argparse would report an error."""
    converted: object = value
    if found.type is not None:
        try:
            converted = found.type(value)
        except (TypeError, ValueError):
            return _REFUSED
    if found.choices is not None and converted not in found.choices:
        return _REFUSED
    return converted


def build_parser() -> argparse.ArgumentParser:
    """argparse's parser of the declared options (what --help shows, how errors are said)."""
    import argparse

    class HelpFormatter(argparse.RawDescriptionHelpFormatter):
        """argparse's formatter, given its width up front: by default it imports shutil (and
        with it bz2 and lzma) to measure the terminal."""

        def __init__(self, prog: str) -> None:
            try:
                width = int(os.environ.get("COLUMNS") or os.get_terminal_size(2).columns)
            except (OSError, ValueError):
                width = 80
            super().__init__(prog, width=max(width, 40) - 2)

    parser = argparse.ArgumentParser(
        prog="imglint", description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter
    )
    groups: dict[str | None, Any] = {None: parser}
    for each in declared():
        if each.group not in groups:
            groups[each.group] = parser.add_argument_group(each.group)
        target = groups[each.group]
        if each.action == PATHS:
            target.add_argument(each.dest, nargs="*", metavar=each.metavar, help=each.help)
            # --version stores nothing, so it is no attribute; --help has always shown it here.
            target.add_argument("--version", action="version", version=f"imglint {__version__}")
            continue
        settings: dict[str, Any] = {"help": each.help, "dest": each.dest}
        if each.action == BOOLEAN:
            settings["action"] = argparse.BooleanOptionalAction
        else:
            settings["action"] = each.action
        for key in ("metavar", "type", "choices"):
            if getattr(each, key) is not None:
                settings[key] = getattr(each, key)
        if each.action != FLAG:
            settings["default"] = each.default
        target.add_argument(*each.flags, **settings)
    return parser
