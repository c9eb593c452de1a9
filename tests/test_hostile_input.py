"""Hostile input (issue 7): imglint never crashes, never hangs, and its memory stays bounded.

Every case runs the real command in a child process under resource limits, 1 GiB of address
space (RLIMIT_AS) and 20 s of CPU (RLIMIT_CPU), and asserts that it ends by itself with the
expected exit code and one-line messages: the limits are the assertion, never a duration (a
child stopped by a limit ends by a signal, which fails the test). Each case lints a known-good
file next to the hostile one, to show that the rest of the input is still read. No output may
hold a Python traceback, a line that is not valid UTF-8, or a raw control character.

Small fixtures live in tests/fixtures/hostile/. Large or byte-level inputs (50 MB files, alias
bombs, 10,000-level nesting, broken encodings, odd file names) are generated here, the large
ones once per module.

Decisions these tests pin down (see linter/documents.py and linter/extract/ for the reasons):
- Aliases are never expanded: a shared node is walked once per object, an aliased List item or
  container is read once, and walks shared between a List's objects are capped.
- YAML merge keys are expanded as kubectl apply's decoder (go-yaml v2) does. An image written
  before a `<<` that merges another one is reported, as kustomize (go-yaml v3) reads it the
  other way; so is an image given twice in one container (kubectl keeps the last one,
  kustomize refuses the file). Other duplicate keys: the last one wins, as for kubectl.
- A document that is a bare scalar or a list is not a Kubernetes object: skipped silently.
- Files over 32 MiB, image values over 4,096 characters and files with over 50,000 images are
  input errors; a document too big for the memory limit is one too.

Set IMGLINT_HOSTILE_TABLE=FILE to write a Markdown table of every run (input, exit code,
first message, peak memory) to FILE.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from imglint import documents, manifests, sources
from imglint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "hostile"
MEMORY_LIMIT = 1 << 30  # bytes of address space
CPU_LIMIT = 20  # seconds

# The witness: a file that must still be linted whatever sits beside it.
GOOD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\n"
    "spec:\n  containers: [{name: app, image: 'nginx:latest'}]\n"
)
GOOD_FINDINGS = [
    "good.yaml:5:35: IMG002 (Pod good, container app)",
    "good.yaml:5:35: IMG004 (Pod good, container app)",
]
# The same Pod with an image no default rule objects to.
CLEAN = GOOD.replace("'nginx:latest'", "registry.example.com/team/app:1.0")
MIB = 1024 * 1024


@dataclass
class Run:
    code: int
    out: str
    err: str
    max_rss_kb: int
    lines: list[str] = field(default_factory=list)  # stdout lines, findings shortened

    def about(self, name: str) -> list[str]:
        """The lines about one input (path `name`), findings shortened to position and code."""
        return [line for line in self.lines if line.startswith(name + ":")]

    @property
    def images(self) -> int:
        """Image count from the summary line."""
        match = re.search(r" (\d+) images?\b", self.lines[-1])
        assert match, self.lines[-1]
        return int(match.group(1))


RECORDS: list[tuple[str, Run]] = []
_FINDING = re.compile(r"^(?P<where>.+?: IMG\d{3}) \[\w+\] .*?(?: \((?P<context>[^()]*)\))?$")


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))


# A process's peak memory (ru_maxrss) starts from that of the process it was forked from, and
# pytest holds the generated inputs. So a small launcher (its limits inherited) forks the real
# command and reports the command's wait status and peak on a pipe.
_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.executable, [sys.executable, "-m", "imglint", *sys.argv[2:]])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
os.write(int(sys.argv[1]), b"%d %d" % (status, usage.ru_maxrss))
"""


def imglint(label: str, *args: str, cwd: Path, stdin: Path | None = None) -> Run:
    """Run `imglint --color never ARGS` in cwd under the limits; check the universal promises."""
    env = {k: v for k, v in os.environ.items() if k != "IMGLINT_DEBUG"}
    env["NO_COLOR"] = "1"
    report_read, report_write = os.pipe()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        open(stdin or os.devnull, "rb") as given,
        os.fdopen(report_read, "rb") as report,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report_write)]
        try:
            subprocess.run(
                [*launcher, "--color", "never", *args],
                stdin=given,
                stdout=out,
                stderr=err,
                cwd=cwd,
                env=env,
                preexec_fn=_limits,
                pass_fds=(report_write,),
                check=True,
            )
        finally:
            os.close(report_write)
        status, max_rss_kb = map(int, report.read().split())
        out.seek(0)
        err.seek(0)
        raw_out, raw_err = out.read(), err.read()
    code = os.waitstatus_to_exitcode(status)
    run = Run(code, raw_out.decode("utf-8"), raw_err.decode("utf-8"), max_rss_kb)
    RECORDS.append((label, run))
    assert run.code >= 0, f"{label}: killed by signal {-run.code} (a resource limit?)"
    assert "Traceback" not in run.out + run.err, run.out + run.err
    for line in (run.out + run.err).splitlines():
        assert line.isprintable(), f"raw control character in {line!r}"
    for line in run.out.splitlines():
        match = _FINDING.match(line)
        if match and match.group("context"):
            line = f"{match.group('where')} ({match.group('context')})"
        elif match:
            line = match.group("where")
        run.lines.append(line)
    return run


def case_dir(root: Path, files: dict[str, bytes]) -> Path:
    """A folder holding the given files and the witness good.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.yaml").write_text(GOOD)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def fixture(name: str) -> dict[str, bytes]:
    return {name: (FIXTURES / name).read_bytes()}


@pytest.fixture(scope="module", autouse=True)
def _table() -> Iterator[None]:
    yield
    target = os.environ.get("IMGLINT_HOSTILE_TABLE")
    if not target:
        return
    rows = ["| input | exit | message | peak RSS |", "|---|---|---|---|"]
    for label, run in RECORDS:
        messages = [line for line in run.out.splitlines() if ": error: " in line]
        message = messages[0].split(": error: ", 1)[1] if messages else run.lines[-1]
        message = message.replace("|", "\\|")
        rows.append(f"| {label} | {run.code} | {message} | {run.max_rss_kb / 1024:.0f} MiB |")
    Path(target).write_text("\n".join(rows) + "\n")


# -- small inputs, each beside the witness -------------------------------------------------------

POD = CLEAN.encode()
CRLF_HEADER = '# Licensed under the Apache License, Version 2.0 (the "License");\n' * 300


@dataclass
class Case:
    name: str  # the hostile file's name
    data: dict[str, bytes]
    code: int
    lines: list[str]  # every output line about the hostile file, findings shortened
    images: int  # images in the whole run (the witness has one)


CASES = [
    # -- alias bombs -------------------------------------------------------------------------
    Case("billion-laughs.yaml", fixture("billion-laughs.yaml"), 1, [], 2),
    Case(
        "billion-laughs-image.yaml",
        fixture("billion-laughs-image.yaml"),
        2,
        [  # an aliased value is reported where its text is: at the anchor
            "billion-laughs-image.yaml:14:7: error: image must be a string, not a list",
            "billion-laughs-image.yaml:23:7: error: image must be a string, not a mapping",
        ],
        1,
    ),
    Case(
        "list-bomb.yaml",
        fixture("list-bomb.yaml"),
        1,
        [
            "list-bomb.yaml:6:95: IMG002 (Pod p, container a)",
            "list-bomb.yaml:6:95: IMG004 (Pod p, container a)",
        ],
        2,
    ),
    Case(
        "list-cycle.yaml",
        fixture("list-cycle.yaml"),
        1,
        [
            "list-cycle.yaml:6:91: IMG002 (Pod p, container a)",
            "list-cycle.yaml:6:91: IMG004 (Pod p, container a)",
        ],
        2,
    ),
    Case(
        "merge-bomb.yaml",
        fixture("merge-bomb.yaml"),
        2,
        [
            "merge-bomb.yaml:24:18: error: merge keys (<<) copy more than 1,000,000 entries "
            "(a merge-key bomb?)"
        ],
        1,
    ),
    # -- merge keys and anchors ----------------------------------------------------------------
    Case(
        "merge-keys.yaml",
        fixture("merge-keys.yaml"),
        1,
        [
            "merge-keys.yaml:8:25: IMG002 (Pod merged, container from-base)",
            "merge-keys.yaml:8:25: IMG002 (Pod merged, container flow)",
            "merge-keys.yaml:8:25: IMG004 (Pod merged, container from-base)",
            "merge-keys.yaml:8:25: IMG004 (Pod merged, container flow)",
            "merge-keys.yaml:9:27: IMG002 (Pod merged, container from-other)",
            "merge-keys.yaml:9:27: IMG004 (Pod merged, container from-other)",
        ],
        5,
    ),
    Case(
        "merge-ambiguous.yaml",
        fixture("merge-ambiguous.yaml"),
        2,
        [
            "merge-ambiguous.yaml:7:25: IMG002 (Pod ambiguous, container app)",
            "merge-ambiguous.yaml:7:25: IMG004 (Pod ambiguous, container app)",
            "merge-ambiguous.yaml:10:7: error: image overridden by the merge key (<<) after it: "
            "kubectl apply uses the merged one (line 7), kustomize this one; write << first",
        ],
        2,
    ),
    Case(
        "merge-scalar.yaml",
        fixture("merge-scalar.yaml"),
        2,
        ["merge-scalar.yaml:7:11: error: a merge key (<<) takes a mapping or a list of mappings"],
        1,
    ),
    Case(
        "merge-aliased-list.yaml",
        fixture("merge-aliased-list.yaml"),
        2,
        [
            "merge-aliased-list.yaml:7:12: error: a merge key (<<) takes a mapping or a list of "
            "mappings"
        ],
        1,
    ),
    Case(
        "merge-self.yaml",
        fixture("merge-self.yaml"),
        2,
        ["merge-self.yaml:6:7: error: a merge key (<<) merges a mapping into itself"],
        1,
    ),
    Case(
        "anchors-on-image.yaml",
        fixture("anchors-on-image.yaml"),
        1,
        [
            "anchors-on-image.yaml:8:14: IMG002 (Pod anchors, container first)",
            "anchors-on-image.yaml:8:14: IMG002 (Pod anchors, container second)",
            "anchors-on-image.yaml:8:14: IMG004 (Pod anchors, container first)",
            "anchors-on-image.yaml:8:14: IMG004 (Pod anchors, container second)",
        ],
        3,
    ),
    # -- duplicate and odd keys ----------------------------------------------------------------
    Case(
        "duplicate-keys.yaml",
        fixture("duplicate-keys.yaml"),
        2,
        [
            "duplicate-keys.yaml:10:14: IMG002 (Pod dup, container app)",
            "duplicate-keys.yaml:10:14: IMG004 (Pod dup, container app)",
            "duplicate-keys.yaml:10:7: error: image given twice in one container (also on line "
            "9): kubectl apply uses this one, kustomize refuses the file",
        ],
        3,  # app (the last image) and second-list: the first initContainers list is replaced
    ),
    Case(
        "duplicate-keys.json",
        fixture("duplicate-keys.json"),
        2,
        [
            "duplicate-keys.json:2:97: IMG002 (Pod dup, container app)",
            "duplicate-keys.json:2:97: IMG004 (Pod dup, container app)",
            "duplicate-keys.json:2:88: error: image given twice in one container (also on line "
            "2): kubectl apply uses this one, kustomize refuses the file",
        ],
        2,
    ),
    Case(
        "non-string-keys.yaml",
        fixture("non-string-keys.yaml"),
        1,
        [
            "non-string-keys.yaml:20:14: IMG002 (Pod keys, container app)",
            "non-string-keys.yaml:20:14: IMG004 (Pod keys, container app)",
        ],
        2,
    ),
    # -- documents that are not objects --------------------------------------------------------
    Case("scalar-document.yaml", fixture("scalar-document.yaml"), 1, [], 1),
    Case("list-document.yaml", fixture("list-document.yaml"), 1, [], 1),
    Case("comments-only.yaml", fixture("comments-only.yaml"), 1, [], 1),
    Case("empty.yaml", {"empty.yaml": b""}, 1, [], 1),
    # -- image values --------------------------------------------------------------------------
    Case(
        "image-values.yaml",
        fixture("image-values.yaml"),
        2,
        [
            "image-values.yaml:23:36: IMG003 (Pod values, container tagged-string)",
            "image-values.yaml:23:36: IMG004 (Pod values, container tagged-string)",
            # `name: null` names no container: its place in the list says which
            "image-values.yaml:24:27: IMG001 (Pod values, containers[16])",
            "image-values.yaml:25:28: IMG001 (Pod values, container tilde)",
            "image-values.yaml:26:28: IMG001 (Pod values, container empty)",
            "image-values.yaml:8:26: error: image must be a string, not int '1' (quote it)",
            "image-values.yaml:9:26: error: image must be a string, not int '0x1F' (quote it)",
            "image-values.yaml:10:28: error: image must be a string, not float '1.5' (quote it)",
            "image-values.yaml:11:26: error: image must be a string, not float '.inf' (quote it)",
            "image-values.yaml:12:27: error: image must be a string, not bool 'true' (quote it)",
            "image-values.yaml:13:29: error: image must be a string, not bool 'no' (quote it)",
            "image-values.yaml:14:27: error: image must be a string, not timestamp "
            "'2002-12-14' (quote it)",
            "image-values.yaml:15:32: error: image must be a string, not timestamp "
            "'2001-12-14t21:59:43.10-05:00' (quote it)",
            "image-values.yaml:16:29: error: image must be a string, not binary 'aGVsbG8=' "
            "(quote it)",
            "image-values.yaml:17:29: error: image must be a string, not !foo 'bar' (quote it)",
            "image-values.yaml:18:34: error: image must be a string, not !foo "
            f"'{'a' * 40}...' (quote it)",
            "image-values.yaml:19:29: error: image must be a string, not os.system 'ls' (quote it)",
            "image-values.yaml:20:27: error: image must be a string, not a list",
            "image-values.yaml:21:30: error: image must be a string, not a mapping",
            "image-values.yaml:22:26: error: image must be a string, not a mapping",
        ],
        5,
    ),
    Case(
        "long-image.yaml",
        {"long-image.yaml": POD.replace(b"registry.example.com/team/app:1.0", b"a" * 1_000_000)},
        2,
        ["long-image.yaml:5:35: error: image is 1,000,000 characters long, not an image reference"],
        1,
    ),
    Case(
        "image-control-characters.yaml",
        fixture("image-control-characters.yaml"),
        1,
        [
            "image-control-characters.yaml:9:14: IMG001 (Pod ctrl, container ansi)",
            "image-control-characters.yaml:11:14: IMG001 (Pod ctrl, container forged-line)",
            "image-control-characters.yaml:13:14: IMG001 (Pod ctrl, container \\u202ebidi)",
            "image-control-characters.yaml:15:14: IMG001 (Pod ctrl, container nul)",
        ],
        5,
    ),
    # -- encodings and bytes -------------------------------------------------------------------
    Case(
        "invalid-utf8.yaml",
        {"invalid-utf8.yaml": POD.replace(b"name: good", b"name: g\xffod")},
        2,
        ["invalid-utf8.yaml:3:19: error: invalid UTF-8 (byte 0xff)"],
        1,
    ),
    *(
        Case(
            f"{encoding}-bom.yaml",
            {f"{encoding}-bom.yaml": bom + GOOD.encode(encoding)},
            1,
            [
                f"{encoding}-bom.yaml:5:35: IMG002 (Pod good, container app)",
                f"{encoding}-bom.yaml:5:35: IMG004 (Pod good, container app)",
            ],
            2,
        )
        for encoding, bom in (
            ("utf-16-le", codecs.BOM_UTF16_LE),
            ("utf-16-be", codecs.BOM_UTF16_BE),
            ("utf-32-le", codecs.BOM_UTF32_LE),
            ("utf-8", codecs.BOM_UTF8),
        )
    ),
    *(
        Case(
            f"{encoding}.yaml",
            {f"{encoding}.yaml": GOOD.encode(encoding)},
            2,
            [
                f"{encoding}.yaml: error: {encoding.upper()} text without a byte order mark; "
                "save it as UTF-8"
            ],
            1,
        )
        for encoding in ("utf-16-le", "utf-16-be", "utf-32-be")
    ),
    Case(
        "nul-first.yaml",
        {"nul-first.yaml": b"\0" + POD},
        2,
        ["nul-first.yaml: error: binary file (contains NUL bytes), not a manifest"],
        1,
    ),
    Case(
        "nul-late.yaml",  # past the first 8 KiB, where the binary sniff looks
        {"nul-late.yaml": POD + b"# " + b"x" * 9000 + b"\n# \0\n"},
        2,
        ["nul-late.yaml:7: error: binary file (contains NUL bytes), not a manifest"],
        1,
    ),
    Case(
        "raw-escape.yaml",
        {"raw-escape.yaml": POD.replace(b"name: good", b"name: \x1b[31mgood")},
        2,
        [
            "raw-escape.yaml:3:18: error: YAML: unacceptable character U+001B (control "
            "characters are not allowed)"
        ],
        1,
    ),
    # A long licence header in CRLF lines: read in time linear in its length (each line could
    # end in two ways to a pattern that let a comment take the `\r`: 2^300 tries).
    Case(
        "crlf-licence-header.yaml",
        {"crlf-licence-header.yaml": (CRLF_HEADER + GOOD).replace("\n", "\r\n").encode()},
        1,
        [
            "crlf-licence-header.yaml:305:35: IMG002 (Pod good, container app)",
            "crlf-licence-header.yaml:305:35: IMG004 (Pod good, container app)",
        ],
        2,
    ),
    Case(
        "crlf-licence-header-indented.yaml",  # its top-level mapping indented
        {
            "crlf-licence-header-indented.yaml": (
                CRLF_HEADER + "".join("  " + line for line in GOOD.splitlines(keepends=True))
            )
            .replace("\n", "\r\n")
            .encode()
        },
        1,
        [
            "crlf-licence-header-indented.yaml:305:37: IMG002 (Pod good, container app)",
            "crlf-licence-header-indented.yaml:305:37: IMG004 (Pod good, container app)",
        ],
        2,
    ),
    # -- tabs ----------------------------------------------------------------------------------
    Case(
        "tabs.yaml",
        fixture("tabs.yaml"),
        1,
        [
            "tabs.yaml:7:12: IMG002 (Pod tabs, container after-value)",
            "tabs.yaml:7:12: IMG004 (Pod tabs, container after-value)",
        ],
        3,
    ),
    Case(
        "tabs-indentation.yaml",
        fixture("tabs-indentation.yaml"),
        2,
        [
            "tabs-indentation.yaml:5:1: error: YAML: found character that cannot start any "
            "token (a tab: YAML indents with spaces only)"
        ],
        1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_small_hostile_input(case: Case, tmp_path: Path) -> None:
    run = imglint(case.name, ".", cwd=case_dir(tmp_path, case.data))
    assert run.code == case.code, run.out
    assert run.about(case.name) == case.lines
    assert run.about("good.yaml") == GOOD_FINDINGS
    assert run.images == case.images
    assert run.err == ""


# -- large inputs, generated once --------------------------------------------------------------


def _pods(count: int) -> str:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\n"
        "spec:\n  containers: [{name: a, image: nginx:latest}]\n"
    )
    return "---\n".join(pod % i for i in range(count))


def _huge_document(size: int) -> str:
    """A ConfigMap of `size` bytes, nearly all one value, then a Pod."""
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: blob}\ndata:\n  blob: "
    return head + "x" * (size - len(head)) + "\n---\n" + CLEAN


def _dense_document(size: int) -> str:
    """One Pod of `size` bytes: flow containers, the densest common YAML (~50 bytes of memory
    per byte composed)."""
    head = "apiVersion: v1\nkind: Pod\nmetadata: {name: dense}\nspec:\n  containers:\n"
    item = "  - {name: c, image: 'nginx:1.25'}\n"
    return head + item * ((size - len(head)) // len(item))


def _many_documents(size: int) -> str:
    one = len(_pods(1)) + 4
    return _pods(size // one + 1)


@dataclass
class Big:
    name: str
    text: str  # emptied once written
    code: int
    lines: list[str]
    images: int


def _big_cases() -> Iterator[Big]:
    """Each case in turn, so that only one large text is held at a time."""
    image = "a" * 100_000
    yield Big(
        "quadratic-image-alias.yaml",  # 10,000 findings quoting 100 KB each: 1 GB of output
        "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n"
        f"  x-image: &image '{image}'\n  containers:\n"
        + "".join(f"    - {{name: c{i}, image: *image}}\n" for i in range(10_000)),
        2,
        [
            "quadratic-image-alias.yaml:5:12: error: image is 100,000 characters long, "
            "not an image reference"
        ],
        1,
    )
    subtree = "{" + ", ".join(f"k{i}: [a, b, c]" for i in range(20_000)) + "}"
    yield Big(
        "list-shared-subtree.yaml",  # 2,000 objects x a 100,000-node shared spec
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - {apiVersion: v1, kind: Pod, metadata: {name: p0}, spec: &spec {x: "
        + subtree
        + ", template: {spec: {containers: [{name: a, image: 'nginx:latest'}]}}}}\n"
        + "".join(
            f"  - {{apiVersion: v1, kind: Pod, metadata: {{name: p{i}}}, spec: *spec}}\n"
            for i in range(1, 2_000)
        ),
        2,
        [
            "list-shared-subtree.yaml:6:5: error: aliases lead imglint through the same "
            "nodes more than 100,000 times (an alias bomb?)"
        ],
        1,
    )
    yield Big(
        "aliased-containers.yaml",  # one container aliased 100,000 times: read once
        "apiVersion: v1\nkind: Pod\nmetadata: {name: many}\nspec:\n"
        "  x-app: &app {name: app, image: 'nginx:latest'}\n"
        "  containers: [" + ", ".join(["*app"] * 100_000) + "]\n",
        1,
        [
            "aliased-containers.yaml:5:34: IMG002 (Pod many, container app)",
            "aliased-containers.yaml:5:34: IMG004 (Pod many, container app)",
        ],
        2,
    )
    limit = f"{sources.MAX_FILE_BYTES:,}"
    for name, text in (
        ("huge-document-50mb.yaml", _huge_document(50_000_000)),
        ("many-documents-50mb.yaml", _many_documents(50_000_000)),
    ):
        too_large = f"file too large ({len(text):,} bytes, limit {limit}); not a manifest?"
        yield Big(name, text, 2, [f"{name}: error: {too_large}"], 1)
    # Under the size limit: read whole.
    yield Big("huge-document-30mb.yaml", _huge_document(30 * MIB), 1, [], 2)
    yield Big(
        "many-documents-30mb.yaml",  # 290,000 Pods: stopped at the image limit
        _many_documents(30 * MIB),
        2,
        [
            "many-documents-30mb.yaml:300005:33: error: more than 50,000 images in one file; "
            "split it to lint it"
        ],
        1,
    )
    # One document that would need ~1.5 GB as PyYAML nodes: refused by counting its parse
    # events (one at a time) before composing it.
    yield Big(
        "dense-document-30mb.yaml",
        _dense_document(30 * MIB),
        2,
        [
            "dense-document-30mb.yaml:1: error: a YAML document of more than 1,000,000 nodes "
            "is too large to read; split it"
        ],
        1,
    )


@pytest.fixture(scope="module")
def big_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Big, Path]]:
    found: dict[str, tuple[Big, Path]] = {}
    for big in _big_cases():
        root = case_dir(tmp_path_factory.mktemp(big.name), {big.name: big.text.encode()})
        big.text = ""  # the file holds it now
        found[big.name] = (big, root)
    return found


BIG_NAMES = [
    "quadratic-image-alias.yaml",
    "list-shared-subtree.yaml",
    "aliased-containers.yaml",
    "huge-document-50mb.yaml",
    "many-documents-50mb.yaml",
    "huge-document-30mb.yaml",
    "many-documents-30mb.yaml",
    "dense-document-30mb.yaml",
]


@pytest.mark.parametrize("name", BIG_NAMES)
def test_large_hostile_input(name: str, big_dirs: dict[str, tuple[Big, Path]]) -> None:
    big, root = big_dirs[name]
    run = imglint(name, ".", cwd=root)
    assert run.code == big.code, run.out[:2000]
    assert run.about(name) == big.lines
    assert run.about("good.yaml") == GOOD_FINDINGS
    assert run.images == big.images
    assert run.err == ""


# -- nesting -------------------------------------------------------------------------------------


def _nesting_limit_in_loader() -> bool:
    """Whether the loader imglint uses stops at libyaml's nesting limit (recent libyaml builds)."""
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    try:
        yaml.compose("[" * 2000 + "]" * 2000, Loader=loader)
    except yaml.YAMLError as exc:
        return "nesting" in str(exc)
    except RecursionError:
        return False
    return False


DEPTH = 10_000
NESTING = {
    "flow-sequences.yaml": "x: " + "[" * DEPTH + "]" * DEPTH + "\n",
    "flow-mappings.yaml": "x: " + "{a: " * DEPTH + "b" + "}" * DEPTH + "\n",
    "block-sequences.yaml": "- " * DEPTH + "x\n",  # compact nested block sequences
    "block-explicit-keys.yaml": "? " * DEPTH + "x\n",  # compact nested block mappings
    # indented block mappings: 2,000 levels are 2 MB (10,000 would be 50 MB)
    "block-mappings.yaml": "".join(" " * i + f"k{i}:\n" for i in range(2_000)),
}
# Where libyaml reports passing its limit of 1,000 levels.
NESTING_STOP = {
    "flow-sequences.yaml": "1:1003",
    "flow-mappings.yaml": "1:4000",
    "block-sequences.yaml": "1:1999",
    "block-explicit-keys.yaml": "1:1999",
    "block-mappings.yaml": "1000:1004",
}


@pytest.mark.parametrize("name", list(NESTING))
def test_deep_nesting(name: str, tmp_path: Path) -> None:
    run = imglint(name, ".", cwd=case_dir(tmp_path, {name: NESTING[name].encode()}))
    assert run.code == 2
    if _nesting_limit_in_loader():
        expected = f"{name}:{NESTING_STOP[name]}: error: YAML: exceeded maximum nesting depth"
    else:
        expected = f"{name}: error: nesting too deep to read"
    assert run.about(name) == [expected]
    assert run.about("good.yaml") == GOOD_FINDINGS


def test_deep_nesting_with_the_pure_python_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the composer recurses in Python: a RecursionError, reported."""
    monkeypatch.setattr(documents, "ManifestLoader", yaml.SafeLoader)
    texts = [CLEAN + "---\n" + NESTING[name] for name in NESTING]
    result = manifests.load([sources.Source(f"{i}.yaml", t) for i, t in enumerate(texts)])
    assert [str(e) for e in result.errors] == [
        f"{i}.yaml: nesting too deep to read" for i in range(len(texts))
    ]
    laughs = (FIXTURES / "billion-laughs.yaml").read_text()
    result = manifests.load([sources.Source("laughs.yaml", laughs)])
    assert result.errors == [] and [s.image for s in result.sites] == [
        "registry.example.com/team/app:1.0"
    ]


# -- stdin ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stdin_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stdin")
    files = {
        "empty": b"",
        "blank": b" \n\n\t\n",
        "binary": bytes(range(256)) * 64,
        "many-documents-50mb": _many_documents(50_000_000).encode(),
        "pods": _pods(3).encode(),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    found = {name: root / name for name in files}
    found["zeros"] = Path("/dev/zero")  # endless
    return found


STDIN_LIMIT = f"{sources.MAX_FILE_BYTES:,}"
STDIN_CASES = {
    "empty": (2, ["-: error: no input on stdin"]),
    "blank": (2, ["-: error: no input on stdin"]),
    "binary": (2, ["-: error: binary file (contains NUL bytes), not a manifest"]),
    "zeros": (2, [f"-: error: input too large (over {STDIN_LIMIT} bytes); not a manifest?"]),
    "many-documents-50mb": (
        2,
        [f"-: error: input too large (over {STDIN_LIMIT} bytes); not a manifest?"],
    ),
    "pods": (
        1,
        [
            f"-:{line}:33: {code} (Pod p{i}, container a)"
            for i, line in enumerate((5, 11, 17))
            for code in ("IMG002", "IMG004")
        ],
    ),
}


@pytest.mark.parametrize("name", list(STDIN_CASES))
def test_stdin(name: str, stdin_files: dict[str, Path], tmp_path: Path) -> None:
    code, lines = STDIN_CASES[name]
    run = imglint(
        f"stdin: {name}", "-", "good.yaml", cwd=case_dir(tmp_path, {}), stdin=stdin_files[name]
    )
    assert run.code == code
    assert run.about("-") == lines
    assert run.about("good.yaml") == GOOD_FINDINGS


# -- the file system -----------------------------------------------------------------------------


def test_odd_file_names_are_linted_and_shown_escaped(tmp_path: Path) -> None:
    root = case_dir(tmp_path, {})
    for name in ("with spaces.yaml", "new\nline.yaml", "tab\there.yaml", "\u202eevil.yaml"):
        (root / name).write_text(GOOD)
    (root / os.fsdecode(b"bad\xffname.yaml")).write_text(GOOD)  # not UTF-8
    run = imglint("file names", ".", cwd=root)
    assert run.code == 1
    shown = {line.split(":", 1)[0] for line in run.lines[:-1]}
    assert shown == {
        "bad\\xffname.yaml",
        "good.yaml",
        "new\\nline.yaml",
        "tab\\there.yaml",
        "with spaces.yaml",
        "\\u202eevil.yaml",
    }
    assert run.images == 6


def test_links_pipes_devices_and_folders_named_like_manifests(tmp_path: Path) -> None:
    root = case_dir(tmp_path, {})
    os.symlink("b.yaml", root / "a.yaml")
    os.symlink("a.yaml", root / "b.yaml")
    os.symlink("self.yaml", root / "self.yaml")
    os.symlink("missing.yaml", root / "dangling.yaml")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")  # a folder loop
    os.mkfifo(root / "pipe.yaml")  # opening it would block forever
    (root / "folder.yaml").mkdir()  # a folder named like a manifest: recursed into
    (root / "folder.yaml" / "inner.yaml").write_text(CLEAN)
    run = imglint("symlink loops, FIFO, folder.yaml", ".", cwd=root)
    assert run.code == 2
    assert run.lines[:-1] == [
        *GOOD_FINDINGS,
        "a.yaml: error: symbolic link loop",
        "b.yaml: error: symbolic link loop",
        "dangling.yaml: error: broken symbolic link",
        "pipe.yaml: error: not a regular file",
        "self.yaml: error: symbolic link loop",
        "sub/up: error: symbolic link loop, not followed",
    ]
    assert run.images == 2
    # Named on the command line, each is reported the same way (and /dev/zero is never read).
    run = imglint(
        "named: symlink loop, FIFO, /dev/zero",
        "a.yaml",
        "self.yaml",
        "pipe.yaml",
        "/dev/zero",
        "folder.yaml",
        "good.yaml",
        cwd=root,
    )
    assert run.code == 2
    assert run.lines[:-1] == [
        *GOOD_FINDINGS,
        "/dev/zero: error: not a regular file",
        "a.yaml: error: symbolic link loop",
        "pipe.yaml: error: not a regular file",
        "self.yaml: error: symbolic link loop",
    ]
    assert run.images == 2


def test_unreadable_files_and_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tests run as root, where chmod 000 changes nothing: the OS refusal is simulated."""
    root = case_dir(tmp_path, {"secret.yaml": GOOD.encode()})
    (root / "locked").mkdir()
    (root / "locked" / "inner.yaml").write_text(GOOD)
    real_open, real_scandir = os.open, os.scandir

    def refusing_open(file: str, *args: Any, **kwargs: Any) -> int:
        if str(file).endswith("secret.yaml"):
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    def refusing_scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "open", refusing_open)
    monkeypatch.setattr(os, "scandir", refusing_scandir)
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(["."])
    out, err = capsys.readouterr()
    assert code == 2 and err == ""
    lines = out.splitlines()
    assert lines[-1] == "2 findings (1 error, 1 warning) in 2 files, 1 image; 2 input errors"
    assert lines[2:-1] == [
        "locked: error: permission denied",
        "secret.yaml: error: permission denied",
    ]
    assert [line.split(" [")[0] for line in lines[:2]] == [
        "good.yaml:5:35: IMG002",
        "good.yaml:5:35: IMG004",
    ]


# -- every output format -------------------------------------------------------------------------


def test_every_output_format_survives_all_of_it(tmp_path: Path) -> None:
    """One folder with every small hostile input: each format ends with exit 2 and parses."""
    files: dict[str, bytes] = {}
    for case in CASES:
        files.update(case.data)
    root = case_dir(tmp_path, files)
    (root / os.fsdecode(b"bad\xffname.yaml")).write_text(GOOD)
    (root / "new\nline.yaml").write_text(GOOD)
    for fmt in ("text", "json", "sarif", "github", "junit"):
        run = imglint(f"--format {fmt}, every small input", "--format", fmt, ".", cwd=root)
        assert run.code == 2 and run.err == ""
        if fmt in ("json", "sarif"):
            json.loads(run.out)
        elif fmt == "junit":
            ElementTree.fromstring(run.out)
