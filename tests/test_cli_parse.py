"""The plain reader of the command line (`arguments.read_plain`) and argparse agree: for every
argument list the plain reader accepts, argparse gives equal `Arguments` (and so equal `Options`);
every list argparse refuses, the plain reader hands to argparse. A one-file run never imports
argparse (tests/test_startup.py), so this is what keeps its behaviour argparse's."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imglint import arguments, cli
from imglint.arguments import APPEND, BOOLEAN, FLAG, PATHS, STORE, Arguments
from imglint.errors import UsageError

PARSER = arguments.build_parser()

# A value each option accepts, and one argparse refuses where there is one.
GOOD = {
    "workers": "2",
    "format": "json",
    "output_file": "out.txt",
    "report": "sarif:r.sarif",
    "color": "never",
    "stdin_filename": "chart/",
    "values": "values.yaml",
    "explain": "IMG002",
    "show_settings": "a.yaml",
    "config": "imglint.yaml",
    "select": "IMG001,latest-tag",
    "extend_select": "IMG005",
    "ignore": "",
    "fail_on": "warning",
    "baseline": "base.json",
    "write_baseline": "new.json",
    "jobs": " 4 ",
    "timeout": "2.5",
    "ca_file": "ca.pem",
    "platform": "linux/arm64",
    "cache_dir": "cache",
}
BAD = {"workers": "two", "format": "xml", "color": "sometimes", "fail_on": "never", "jobs": "1.5"}


def by_argparse(argv: list[str]) -> Arguments | None:
    """What argparse makes of `argv`, or None where it exits (an error, --help, --version)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return PARSER.parse_args(argv, namespace=Arguments())
        except SystemExit:
            return None


def options_of(parsed: Arguments) -> object:
    try:
        return cli.options(parsed)
    except UsageError as exc:
        return f"usage error: {exc}"


def assert_agree(argv: list[str]) -> Arguments | None:
    plain = arguments.read_plain(argv)
    expected = by_argparse(argv)
    if plain is not None:
        assert expected is not None, f"argparse refuses {argv}, the plain reader accepts it"
        assert plain == expected, argv
        assert options_of(plain) == options_of(expected), argv
    return plain


def plain_forms() -> list[list[str]]:
    """Every option as written plainly: each flag, with a separate value and with `=`."""
    forms: list[list[str]] = []
    for option in arguments.declared():
        if option.action == PATHS:
            continue
        if option.action in (FLAG, BOOLEAN):
            forms += [[flag] for flag in option.flags]
            if option.action == BOOLEAN:
                forms.append(["--no-" + option.flags[0][2:]])
            continue
        assert option.action in (STORE, APPEND)
        value = GOOD[option.dest]
        for flag in option.flags:
            forms.append([flag, value])
            if flag.startswith("--"):
                forms.append([f"{flag}={value}"])
    return forms


@pytest.mark.parametrize("form", plain_forms(), ids=" ".join)
@pytest.mark.parametrize(
    "place",
    ["before paths", "after paths", "between options", "with --", "alone"],
)
def test_every_option_written_plainly_is_read_without_argparse(form: list[str], place: str) -> None:
    argv = {
        "before paths": [*form, "a.yaml", "b/"],
        "after paths": ["a.yaml", "-", *form],
        "between options": ["--verbose", *form, "--statistics", "a.yaml"],
        "with --": [*form, "--", "-a.yaml", "--", "b.yaml"],
        "alone": form,
    }[place]
    assert assert_agree(argv) is not None


def test_repeated_options_keep_the_last_or_all_as_argparse_does() -> None:
    argv = ["--format", "json", "--format=text", "--report", "a:b", "--report=c:d"]
    argv += ["--values", "v1", "--values=v2", "--force-exclude", "--no-force-exclude", "x"]
    parsed = assert_agree(argv)
    assert parsed is not None
    assert parsed.format == "text"
    assert parsed.report == ["a:b", "c:d"]
    assert parsed.values == ["v1", "v2"]
    assert parsed.force_exclude is False


@pytest.mark.parametrize(
    "argv",
    [
        ["--verb", "a.yaml"],  # an abbreviation
        ["-vq", "a.yaml"],  # joined short flags
        ["-oout.txt", "a.yaml"],
        ["-o=out.txt", "a.yaml"],
        ["--fix=yes", "a.yaml"],  # a value for a flag
        ["--format", "--fix", "a.yaml"],  # a missing value
        ["--select", "-x", "a.yaml"],  # a value argparse may read as an option
        ["--jobs", "-1", "--resolve", "a.yaml"],
        ["-o", "-", "a.yaml"],
        ["a.yaml", "--fix", "b.yaml"],  # two runs of paths
        ["a.yaml", "--fix", "--", "b.yaml"],
        ["--unknown", "a.yaml"],
        ["-x"],
        ["-h"],
        ["--help"],
        ["--version"],
        ["--format"],
        *([f"--{name.replace('_', '-')}", value, "a.yaml"] for name, value in BAD.items()),
    ],
    ids=" ".join,
)
def test_anything_else_goes_to_argparse(argv: list[str]) -> None:
    assert assert_agree(argv) is None


TOKENS = st.sampled_from(
    [
        *(token for form in plain_forms() for token in form),
        *BAD.values(),
        *(f"--{name.replace('_', '-')}={value}" for name, value in BAD.items()),
        "a.yaml",
        "dir/",
        "-",
        "--",
        "",
        "-1",
        "--fix=",
        "--format=",
        "--verb",
        "--no-fix",
        "-vq",
        "-o=x",
        "--report-unused",
        "--values=",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=8))
def test_the_two_readers_agree_on_any_argument_list(argv: list[str]) -> None:
    assert_agree(argv)
    expected = by_argparse(argv)
    if expected is not None:
        assert arguments.parse(argv) == expected
