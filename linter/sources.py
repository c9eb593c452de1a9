"""Find manifest files, read and decode them. Problems become InputErrors; nothing here raises.

A Source is one file (or stdin) decoded to text. What is not a manifest is never handed on, with
a note: a Helm chart's templates (files below a `templates/` folder beside `Chart.yaml`, walked
or named), and a `.json` file that does not parse and names no object (an editor's
JSON-with-comments settings). Other templates are recognised by the reader, with
`template_action_lines`: a template is not a manifest, and linting `{{ .Values.image }}` as an
image reference would only produce noise.
"""

from __future__ import annotations

import codecs
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence

from imglint.findings import InputError
from imglint.lazy_pattern import LazyPattern
from imglint.records import dataclass, field

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Files a walk reads by their whole name: kustomize's third kustomization file name has no suffix
# (kustomize reads `kustomization.yaml`, `kustomization.yml` or `Kustomization` in a folder).
MANIFEST_NAMES = frozenset({"Kustomization"})
# imglint's own configuration file is no manifest: a walk passes it by (it would only be counted).
CONFIG_FILE = ".imglint.yaml"
# Larger files are refused rather than read: a manifest this big is almost surely not one (the
# largest of the corpus is 2 MB), and reading it would let one stray file dominate a run. The
# bound is time: PyYAML composes empty documents (`---` lines) at ~2.7 MB/s, so 32 MiB of them
# take ~12 s of CPU (64 MiB took 25 s).
MAX_FILE_BYTES = 32 * 1024 * 1024
# Directory names never entered while recursing (they are never manifests a user deploys).
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})
STDIN = "-"
HELM_HINT = "render it first: `helm template CHART | imglint -`"

# A template action that starts its line (`{{- if .Values.x }}`, `{{ include "x" . }}`, after
# blanks and `-` only): Go-template control flow, which never appears in a rendered manifest.
_BEFORE_LINE_ACTION = " \t-"
# An action that uses what only Helm templates have: its built-in objects (`.Values.image`,
# `$.Release.Name`) and its own functions (`include "x" .`, `tpl`, `required "msg"`, `lookup`).
# Never `{{` alone: Argo Workflows' `{{inputs.parameters.x}}`, Argo CD ApplicationSets'
# `{{ .repository }}` and Prometheus rules' `{{ $labels.pod }}` are in manifests as they apply.
_HELM_OBJECTS = ("Values", "Release", "Chart", "Capabilities", "Files", "Template")
_HELM_FUNCTIONS = ("include", "tpl", "required", "lookup")
_HELM_WORDS = (*(f".{name}" for name in _HELM_OBJECTS), *_HELM_FUNCTIONS)
_HELM_ONLY = LazyPattern(
    rf"\.(?:{'|'.join(_HELM_OBJECTS)})\b|\b(?:{'|'.join(_HELM_FUNCTIONS)})\s+[\"(.$]"
)
# Text that any Kubernetes object has, in YAML or JSON form.
_MENTIONS_OBJECT = LazyPattern(r"""["']?\bapiVersion["']?\s*:""")


class NamedPaths:
    """The paths named on the command line, and their real locations (resolved on first need:
    only a symbolic link met in a walk, or a rewrite, asks, and pre-commit names every file)."""

    __slots__ = ("_real", "paths")

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = tuple(path for path in paths if path != STDIN)
        self._real: tuple[str, ...] | None = None

    def contain(self, path: str) -> bool:
        """Whether path, resolved, is one of the named paths' real locations or lies below one."""
        if self._real is None:
            self._real = tuple(dict.fromkeys(os.path.realpath(p) for p in self.paths))
        real_path = os.path.realpath(path)
        for root in self._real:
            try:
                if os.path.commonpath((real_path, root)) == root:
                    return True
            except ValueError:  # different drives
                continue
        return False


class SourceChanged(Exception):
    """A released source's file cannot be read again as it was (changed, moved or unreadable)."""


# A source's stamp packs the file's size (below MAX_FILE_BYTES) under its modification time.
_SIZE_BITS = 48
_SIZE_MASK = (1 << _SIZE_BITS) - 1


class Source:
    """One file (or stdin) decoded to text, and what writing it back needs.

    A run keeps results, not texts: once a file is read for linting, `release()` drops its text
    (memory then follows the results, not the input's size), and `text` reads the file again
    whenever something asks later (a kustomization settled against its bases after every file
    is read), without keeping it.
    Read again, the file must be as it was (the same size and modification time), else
    SourceChanged. A source without a file (stdin), or not read from one (built from a string),
    keeps its text.
    """

    __slots__ = ("_stamp", "_text", "bom", "encoding", "file_path", "named", "named_paths", "path")

    def __init__(
        self,
        path: str,
        text: str,
        file_path: str | None = None,
        encoding: str = "utf-8",
        bom: bool = False,
        named: bool = True,
        named_paths: NamedPaths | None = None,
        stamp: tuple[int, int] | None = None,
    ) -> None:
        self.path = path  # as shown to the user
        self._text: str | None = text
        self.file_path = file_path  # the file as named or found (None for stdin)
        # encoding facts a fixer needs to write the file back byte for byte
        self.encoding = encoding
        self.bom = bom
        self.named = named  # named on the command line (not found while recursing into a folder)
        # What the run named (shared by its sources): a rewrite must land inside its real
        # locations. None: a source not collected from paths, with no such bound.
        self.named_paths = named_paths
        # (size, modification time in ns) of the file when it was read: what a re-read checks;
        # kept as one number (a tuple of two was 120 bytes a file, for every file of a run)
        self._stamp = None if stamp is None else stamp[1] << _SIZE_BITS | stamp[0]

    def __repr__(self) -> str:
        return f"Source({self.path!r}, file_path={self.file_path!r})"

    @property
    def stamp(self) -> tuple[int, int] | None:
        """(size, modification time in ns) of the file when it was read."""
        packed = self._stamp
        return None if packed is None else (packed & _SIZE_MASK, packed >> _SIZE_BITS)

    @property
    def text(self) -> str:
        # Read again each time it is asked for once released: who asks keeps what it needs.
        return self._read_again() if self._text is None else self._text

    @property
    def released(self) -> bool:
        return self._text is None

    def release(self) -> None:
        """Drop the text (read again from the file on demand); stdin's text stays."""
        if self.file_path is not None and self._stamp is not None:
            self._text = None

    def __getstate__(self) -> tuple[None, dict[str, object]]:
        # What a worker sends back: never the text, and never the run's named paths (shared by
        # every source: the parent gives its own back). As (None, slots), the form pickle sets
        # on its own, without a call back into Python per source.
        state = {name: getattr(self, name) for name in self.__slots__}
        if self.file_path is not None and self._stamp is not None:
            state["_text"] = None
        state["named_paths"] = None
        return None, state

    def _read_again(self) -> str:
        assert self.file_path is not None and self.stamp is not None  # else never released
        try:
            stamp, data = _read_file(self.file_path)  # as it was read the first time
        except OSError as exc:
            raise SourceChanged(f"{self.path}: {_os_reason(exc)}") from None
        decoded = decode(data) if stamp == self.stamp else None
        if not isinstance(decoded, tuple) or decoded[1] != self.encoding:
            raise SourceChanged(f"{self.path}: changed since it was read")
        return decoded[0]


class PackedSources:
    """Released sources that nothing of a run refers to, packed into bytes (about 30 a file
    where a Source, its path and its stamp are about 300), in case a step after reading opens
    one again: settling kustomize entries opens the files kustomizations name, which may be
    read long before the kustomization that names them is. `sources()` makes them again.

    Packed per file: its name (the folder it is in is written once for the files of a folder
    that follow one another, as what differs from the folder before), the stamp a re-read
    checks, and whether it was named or had a byte order mark. Only sources `can_pack` says
    fit: a released UTF-8 file, its path its file path, and a path that the file system
    encoding writes back as it was read."""

    __slots__ = ("_data", "_folder", "_folder_bytes")

    def __init__(self) -> None:
        self._data = bytearray()
        self._folder: str | None = None  # the folder of the last file packed
        self._folder_bytes = b""  # and as written

    @staticmethod
    def can_pack(source: Source) -> bool:
        return (
            source._text is None
            and source.file_path == source.path
            and source.encoding == "utf-8"
            and source._stamp is not None
        )

    def add(self, source: Source) -> bool:
        """Pack a source (`can_pack`); False, and nothing packed, when its path does not
        fit (the caller keeps the Source)."""
        path = source.path
        cut = path.rfind(os.sep) + 1
        folder, name = path[:cut], path[cut:]
        try:
            encoded_name = name.encode("utf-8", "surrogateescape")
            encoded_folder = (
                None if folder == self._folder else folder.encode("utf-8", "surrogateescape")
            )
        except UnicodeEncodeError:
            return False
        if b"\0" in encoded_name or (encoded_folder is not None and b"\0" in encoded_folder):
            return False
        data = self._data
        if encoded_folder is not None:
            shared = _shared_start(encoded_folder, self._folder_bytes)
            data += _FOLDER_RECORD
            data += shared.to_bytes(2, "little")
            data += encoded_folder[shared:]
            data += b"\0"
            self._folder = folder
            self._folder_bytes = encoded_folder
        data.append(_FILE_RECORD | source.named | source.bom << 1)
        data += encoded_name
        data += b"\0"
        assert source._stamp is not None  # can_pack
        data += source._stamp.to_bytes(_STAMP_BYTES, "little", signed=True)
        return True

    def packed(self) -> bytes:
        """What `extend` takes (a worker sends its sources so)."""
        return bytes(self._data)

    def extend(self, packed: bytes) -> None:
        """Sources packed by another PackedSources (a worker's), after these."""
        if packed:
            self._data += packed
            self._folder = None  # its records name the folder their files are in
            self._folder_bytes = b""  # and the first one all of it

    def sources(
        self,
        named_paths: NamedPaths | None = None,
        keep: Callable[[str], bool] | None = None,
    ) -> Iterator[Source]:
        """The sources packed, in the order they were, released (read again on demand);
        with `keep`, only those whose path it keeps (the others are not made again)."""
        data = self._data
        folder = ""
        folder_bytes = b""
        position = 0
        while position < len(data):
            record = data[position]
            if record == _FOLDER_RECORD[0]:
                shared = int.from_bytes(data[position + 1 : position + 3], "little")
                end = data.index(0, position + 3)
                folder_bytes = folder_bytes[:shared] + data[position + 3 : end]
                folder = folder_bytes.decode("utf-8", "surrogateescape")
                position = end + 1
                continue
            end = data.index(0, position + 1)
            text = data[position + 1 : end].decode("utf-8", "surrogateescape")
            position = end + 1
            stamp_end = position + _STAMP_BYTES
            stamp = int.from_bytes(data[position:stamp_end], "little", signed=True)
            position = stamp_end
            path = folder + text
            if keep is not None and not keep(path):
                continue
            source = Source(path, "", path, bom=bool(record & 2), named=bool(record & 1))
            source.named_paths = named_paths
            source._stamp = stamp
            source._text = None
            yield source


# The records of PackedSources: one byte, then a name (or, after two bytes that say how much of
# the folder before it starts it, the rest of a folder) ended by a NUL byte, which no path holds;
# a file's byte holds its flags (named, bom) in its low bits and is never NUL.
_FOLDER_RECORD = b"\x10"
_FILE_RECORD = 0x20
_STAMP_BYTES = 16  # size under the modification time in ns: 48 + 64 bits, and a sign


def _shared_start(one: bytes, other: bytes) -> int:
    """How many bytes one and other start with alike (at most 65535), found by halving."""
    low, high = 0, min(len(one), len(other), 0xFFFF)
    while low < high:
        middle = (low + high + 1) // 2
        if one[:middle] == other[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True, slots=True)
class Pending:
    """A manifest found and not read yet: a file (its size as found, to share work out by), or
    stdin, whose bytes are read when it is found."""

    path: str  # as shown to the user
    file_path: str | None  # None for stdin
    named: bool
    size: int
    data: bytes | None = field(default=None, repr=False)  # stdin's bytes


@dataclass(frozen=True)
class Skipped:
    """A file read and found not to be a manifest: the note that says so."""

    notice: str


@dataclass
class Collected:
    sources: list[Source] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    files_seen: int = 0
    # The run's named paths (shared by its sources; a rewrite must stay inside them).
    named_paths: NamedPaths | None = field(default=None, repr=False, compare=False)
    # While reading: the sources no site needs, packed (`sources` keeps
    # those a later step may open again once every file is read; see imglint.parallel).
    set_aside: PackedSources = field(default_factory=PackedSources, repr=False, compare=False)

    def add(self, read: Source | InputError | Skipped) -> None:
        """What reading one pending file gave."""
        if isinstance(read, Source):
            self.sources.append(read)
        elif isinstance(read, InputError):
            self.errors.append(read)
        else:
            _note(self, read.notice)


@dataclass(frozen=True)
class Exclusions:
    """The configuration's `exclude` globs and how they apply.

    A glob without a `/` matches a file's or folder's own name, at any depth (`vendor`,
    `*.tpl.yaml`); one with a `/` matches its path from `root`, the configuration file's folder
    (`k8s/legacy`, `k8s/*.generated.yaml`; a leading `/` or `**/` is allowed). `*` spans `/`.
    While walking a folder, what matches is not read or entered. Paths named on the command
    line are read regardless, unless `force` (ruff's `force-exclude`; what pre-commit needs,
    as it names every file): then a named path that matches, or lies in a folder that does, is
    not read either, and a note says so.

    With `nearest`, a folder may have a configuration of its own (ruff's nearest configuration):
    what is in it is matched against that configuration's exclusions instead. (Reading one may
    raise ConfigError: a bad configuration ends the run, as the working folder's does.)
    """

    patterns: tuple[str, ...] = ()
    root: str | None = None  # absolute; None: the working folder
    force: bool = False
    source: str | None = None  # the configuration file, as shown in notes
    # The exclusions of the configuration nearest to an absolute folder; None: these.
    nearest: Callable[[str], Exclusions | None] | None = field(default=None, compare=False)

    @property
    def active(self) -> bool:
        """Whether anything may be excluded (a walk checks every entry only then)."""
        return bool(self.patterns) or self.nearest is not None

    def match(self, path: str) -> str | None:
        """The pattern that excludes path itself (not for a folder above it), if one does."""
        if not self.patterns and self.nearest is None:
            return None  # asked of every file: no path arithmetic when nothing is excluded
        return self._match(os.path.abspath(path))[0]

    def _match(self, absolute: str) -> tuple[str | None, Exclusions]:
        """The pattern that excludes `absolute`, and the exclusions that decided."""
        deciding = self.in_folder(os.path.dirname(absolute))
        return deciding.own_match(absolute), deciding

    def in_folder(self, absolute: str) -> Exclusions:
        """The exclusions that decide for what is in the absolute folder (a walk asks once per
        folder, then matches each entry with `own_match`)."""
        if self.nearest is None:
            return self
        return self.nearest(absolute) or self

    def own_match(self, absolute: str) -> str | None:
        """The pattern of these exclusions (not a nearer configuration's) that excludes
        `absolute`, if one does."""
        if not self.patterns:
            return None
        import fnmatch  # only a configuration with `exclude` gets here

        name = os.path.basename(absolute)
        relative = self._relative(absolute)
        for pattern in self.patterns:
            glob = pattern.rstrip("/")
            if glob.startswith("./"):
                glob = glob[2:]
            if "/" not in glob:
                if fnmatch.fnmatchcase(name, glob):
                    return pattern
            elif relative is not None and any(
                fnmatch.fnmatchcase(relative, form) for form in _anchored_forms(glob)
            ):
                return pattern
        return None

    def selects(self, path: str) -> bool:
        """Whether a pattern matches path (globs that select files, as `helm-values`)."""
        return self.match(path) is not None

    def named_note(self, path: str) -> str | None:
        """With `force`: the note saying that a named path is not read because it, or the
        folder above it, is excluded; None when it is read."""
        if not (self.force and self.active):
            return None
        current = os.path.abspath(path)
        while self._relative(current) not in (None, "."):
            pattern, deciding = self._match(current)
            if pattern is not None:
                shown = current if os.path.isabs(path) else os.path.relpath(current)
                return deciding.note(shown, pattern)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        return None

    def note(self, path: str, pattern: str) -> str:
        where = f" in {self.source}" if self.source else ""
        return f"{path}: excluded by `exclude: {pattern}`{where} (force-exclude); not read"

    def _relative(self, absolute: str) -> str | None:
        """absolute's path from root, with `/` separators; None when it lies outside root."""
        try:
            relative = os.path.relpath(absolute, self.root or os.getcwd())
        except ValueError:  # another drive
            return None
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return None
        return relative.replace(os.sep, "/")


def _anchored_forms(glob: str) -> tuple[str, ...]:
    if glob.startswith("/"):
        return (glob[1:],)
    if glob.startswith("**/"):
        return (glob, glob[3:])  # `**/x`: x at any depth, the top included
    return (glob,)


def collect(
    paths: Sequence[str],
    *,
    stdin_name: str = STDIN,
    exclude: Sequence[str] | Exclusions = (),
    stdin_bytes: bytes | None = None,
) -> Collected:
    """Find and read every manifest named by `paths` (files, folders, or "-" for stdin), texts
    kept. A run reads each file only when it lints it (`discover`, then `read`)."""
    result = Collected()
    for pending in discover(
        paths, result, stdin_name=stdin_name, exclude=exclude, stdin_bytes=stdin_bytes
    ):
        result.add(read(pending, result.named_paths))
    return result


def discover(
    paths: Sequence[str],
    result: Collected,
    *,
    stdin_name: str = STDIN,
    exclude: Sequence[str] | Exclusions = (),
    stdin_bytes: bytes | None = None,
) -> Iterator[Pending]:
    """The manifests named by `paths` (files, folders, or "-" for stdin), in order, found but
    not read; what cannot be read goes into result's errors and notes as it is met."""
    exclusions = exclude if isinstance(exclude, Exclusions) else Exclusions(tuple(exclude))
    seen_files = _Inodes()  # the files found so far: each is linted once
    named_paths = result.named_paths = NamedPaths(paths)
    for arg in paths:
        if arg == STDIN:
            data = stdin_bytes if stdin_bytes is not None else _read_stdin()
            result.files_seen += 1
            if not data.strip():
                result.errors.append(InputError(stdin_name, "no input on stdin"))
                continue
            if len(data) > MAX_FILE_BYTES:
                reason = f"input too large (over {MAX_FILE_BYTES:,} bytes)"
                result.errors.append(InputError(stdin_name, f"{reason}; not a manifest?"))
                continue
            yield Pending(stdin_name, None, True, len(data), data)
            continue
        excluded = exclusions.named_note(arg)
        if excluded is not None:
            _note(result, excluded)
            continue
        try:
            st = os.stat(arg)
        except FileNotFoundError:
            if os.path.islink(arg):
                result.errors.append(InputError(arg, "broken symbolic link"))
            else:
                result.errors.append(InputError(arg, "no such file or directory"))
            continue
        except OSError as exc:
            result.errors.append(InputError(arg, _os_reason(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            for file_path in _walk(arg, exclusions, result, named_paths):
                found = _found_file(result, file_path, seen_files, named=False)
                if found is not None:
                    yield found
        else:
            chart_templates = _chart_templates_folder(arg)
            if chart_templates is not None:  # pre-commit names every file a commit touches
                _note(result, _chart_templates_note(chart_templates))
                continue
            found = _found_file(result, arg, seen_files, named=True)
            if found is not None:
                yield found


def _chart_templates_folder(path: str) -> str | None:
    """The `templates` folder of a Helm chart that path lies below, if it does."""
    folder = os.path.dirname(path)
    while folder:
        head, name = os.path.split(folder)
        if name == "templates" and os.path.isfile(os.path.join(head, "Chart.yaml")):
            return folder
        if head == folder:
            break
        folder = head
    return None


def _chart_templates_note(folder: str) -> str:
    return f"{folder}: Helm chart templates skipped; {HELM_HINT}"


def _note(result: Collected, note: str) -> None:
    if note not in result.notices:
        result.notices.append(note)


def rewrite_target(source: Source) -> str | None:
    """The real file that rewriting source replaces, or None when it lies outside the real
    locations of what was named (a symbolic link that changed since the file was read).

    Resolved here, when a file is written, not for every file read: only a rewrite needs it,
    and writing through a link keeps the link (replacing it would turn it into a copy).
    """
    assert source.file_path is not None
    if source.named_paths is not None and not source.named_paths.contain(source.file_path):
        return None
    return os.path.realpath(source.file_path)


class _Inodes:
    """Files (or folders) met so far, by their device and inode: a discovery's record, an
    entry per file that lives until the last file is found. Kept as sets of inodes by device:
    a (device, inode) tuple each cost about 150 bytes (19,000 files: 2.8 MiB, more than the
    run's results), an inode in its device's set about 60."""

    __slots__ = ("_by_device",)

    def __init__(self) -> None:
        self._by_device: dict[int, set[int]] = {}

    def add(self, st: os.stat_result) -> bool:
        """Record the file st describes; False when it was met before."""
        inodes = self._by_device.get(st.st_dev)
        if inodes is None:
            inodes = self._by_device[st.st_dev] = set()
        elif st.st_ino in inodes:
            return False
        inodes.add(st.st_ino)
        return True


def _walk(
    root: str, exclusions: Exclusions, result: Collected, named_paths: NamedPaths
) -> Iterator[str]:
    """Yield manifest files below root in sorted order.

    Symbolic links are followed while they stay inside what was named (a link to a sibling
    folder, or back to a parent: a loop, reported once); a link that leads out of every path
    named is not followed and a note says so. Rewriting a file found through such a link would
    change a file the user never pointed imglint at.
    """
    # Each folder with the (device, inode) keys of the folders above it: a folder that is its own
    # ancestor is a loop; one reached again elsewhere (two links to it) is walked once.
    stack: list[tuple[str, frozenset[tuple[int, int]]]] = [(root, frozenset())]
    visited = _Inodes()
    while stack:
        folder, ancestors = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            result.errors.append(InputError(folder, _os_reason(exc)))
            continue
        key = (st.st_dev, st.st_ino)
        if key in ancestors:
            result.errors.append(InputError(folder, "symbolic link loop, not followed"))
            continue
        if not visited.add(st):
            continue
        below = ancestors | {key}
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            result.errors.append(InputError(folder, _os_reason(exc)))
            continue
        if _is_chart_root(entries):
            _note(result, _chart_templates_note(_join(folder, "templates")))
        subfolders: list[str] = []
        # What excludes an entry is decided per folder (its nearest configuration's globs).
        absolute_folder = os.path.abspath(folder)
        deciding = exclusions.in_folder(absolute_folder) if exclusions.active else None
        if deciding is not None and not deciding.patterns:
            deciding = None
        for entry in entries:
            path = _join(folder, entry.name)
            if (
                deciding is not None
                and deciding.own_match(os.path.join(absolute_folder, entry.name)) is not None
            ):
                continue
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
                    continue
                if entry.name == "templates" and _is_chart_root(entries):
                    continue
                if entry.is_symlink() and _leads_outside(path, named_paths, result):
                    continue
                subfolders.append(path)
            elif entry.name == CONFIG_FILE:
                continue
            elif entry.name.endswith(MANIFEST_SUFFIXES) or entry.name in MANIFEST_NAMES:
                if entry.is_symlink():
                    try:
                        os.stat(path)
                    except FileNotFoundError:
                        result.errors.append(InputError(path, "broken symbolic link"))
                        continue
                    except OSError as exc:  # a.yaml -> b.yaml -> a.yaml is a loop, not broken
                        result.errors.append(InputError(path, _os_reason(exc)))
                        continue
                    if _leads_outside(path, named_paths, result):
                        continue
                yield path
        stack.extend((subfolder, below) for subfolder in reversed(subfolders))


def _leads_outside(link: str, named_paths: NamedPaths, result: Collected) -> bool:
    """Whether a symbolic link met in a walk leads out of every path named (noted if so)."""
    if named_paths.contain(link):
        return False
    try:
        written = os.readlink(link)
    except OSError:
        written = os.path.realpath(link)
    result.notices.append(
        f"{link}: symbolic link to {written} leads outside the paths named; not followed "
        "(name it to read it)"
    )
    return True


def _is_chart_root(entries: list[os.DirEntry[str]]) -> bool:
    names = {e.name for e in entries}
    return "Chart.yaml" in names and "templates" in names


def _join(folder: str, name: str) -> str:
    """os.path.join(folder, name) for a folder entry's name (never absolute, never holding a
    separator), as a concatenation where the separator is `/`: a walk joins every file and
    folder it meets, and posixpath.join's generality cost more than the rest of its own work."""
    if folder == ".":
        return name
    if os.sep != "/":
        return os.path.join(folder, name)  # (drives, and either separator, on Windows)
    return folder + name if folder.endswith("/") else folder + "/" + name


def _found_file(result: Collected, path: str, seen: _Inodes, *, named: bool) -> Pending | None:
    try:
        st = os.stat(path)
    except OSError as exc:
        result.errors.append(InputError(path, _os_reason(exc)))
        return None
    if not seen.add(st):  # the same file reached twice (a symlink, or named twice): lint it once
        return None
    if not stat.S_ISREG(st.st_mode):
        result.errors.append(InputError(path, "not a regular file"))
        return None
    result.files_seen += 1
    if st.st_size > MAX_FILE_BYTES:
        reason = f"file too large ({st.st_size:,} bytes, limit {MAX_FILE_BYTES:,})"
        result.errors.append(InputError(path, f"{reason}; not a manifest?"))
        return None
    return Pending(path, path, named, st.st_size)


def read(pending: Pending, named_paths: NamedPaths | None = None) -> Source | InputError | Skipped:
    """A found manifest read and decoded, or why it cannot be linted."""
    data = pending.data
    stamp: tuple[int, int] | None = None
    if pending.file_path is not None:
        try:
            stamp, data = _read_file(pending.file_path)
        except OSError as exc:
            return InputError(pending.path, _os_reason(exc))
        if len(data) > MAX_FILE_BYTES:  # grew since found, or a size stat cannot tell
            reason = f"file too large (over {MAX_FILE_BYTES:,} bytes)"
            return InputError(pending.path, f"{reason}; not a manifest?")
    assert data is not None  # stdin's bytes come with it
    path = pending.path
    decoded = decode(data)
    if isinstance(decoded, InputError):
        return InputError(path, decoded.message, decoded.line, decoded.column)
    text, encoding, bom = decoded
    if path.endswith(".json") and text.strip():
        problem = _json_problem(text)
        if problem is not None:
            if not _MENTIONS_OBJECT.search(text):
                # JSON with comments (.eslintrc.json, .vscode settings): no object to lint.
                return Skipped(f"{path}: skipped, not JSON and no Kubernetes object in it")
            if text.lstrip().startswith(("{", "[")):
                return InputError(path, *problem)
            # Not meant as JSON: kubectl reads a file that does not start with `{` as YAML.
    named_paths = named_paths if pending.file_path is not None else None
    return Source(
        path, text, pending.file_path, encoding, bom, pending.named, named_paths, stamp=stamp
    )


def _drop(_: object) -> None:
    return None


def _json_problem(text: str) -> tuple[str, int | None, int | None] | None:
    """Why text is not JSON, as (message, line, column), or None when it is JSON."""
    import json  # only for .json files: a YAML-only run does not load it

    try:
        # Validated, not kept: each object and number is dropped as soon as it is parsed, so a
        # 30 MB file costs little memory (the reader composes it again, with positions).
        json.loads(
            text,
            object_pairs_hook=_drop,
            parse_float=_drop,
            parse_int=_drop,
            parse_constant=_drop,
        )
    except RecursionError:
        return "JSON: nesting too deep to read", None, None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            return f"JSON: {exc.msg}", exc.lineno, exc.colno
        return f"JSON: {exc}", None, None
    return None


def template_action_lines(text: str) -> list[int]:
    """0-based numbers of the lines that make a file a template: lines that start with a
    Go-template action (`{{- if ... }}`), and lines with an action only Helm has
    (`image: "{{ .Values.image }}"`, `name: {{ .Release.Name }}-web`).

    Such a line makes the file a template when it stands outside any multi-line YAML scalar;
    inside a block scalar (a ConfigMap holding a Jinja chat template, or a Grafana alert
    template) it is just data. A YAML comment is no exception: Helm renders a template's whole
    text, so `# {{ include "x" . | nindent 4 }}` runs (and its lines are not commented), and
    `helm template` output never holds a Helm action anywhere: a file that does was not
    rendered. A comment's action without Helm in it (`# {{ $labels.pod }}`) is just words.
    """
    # (`{` alone first: one character is searched ten times as fast, and most texts have none)
    first_brace = text.find("{")
    if first_brace < 0 or text.find("{{", first_brace) < 0:
        return []
    starts = set(_line_action_starts(text))
    starts.update(_helm_action_starts(text))
    lines: list[int] = []
    line = position = 0
    for start in sorted(starts):  # counted once through the text, not once per line found
        line += text.count("\n", position, start)
        position = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _line_action_starts(text: str) -> Iterator[int]:
    """Where lines that start with a template action start. From one `{{` to the next by
    substring search, at most one per line: a pattern anchored at line starts is tried at every
    character (5% of a corpus run, for the few files that have `{{` at all)."""
    found = text.find("{{")
    while found >= 0:
        line_start = text.rfind("\n", 0, found) + 1
        if not text[line_start:found].strip(_BEFORE_LINE_ACTION):
            yield line_start
        line_end = text.find("\n", found)
        if line_end < 0:
            return
        found = text.find("{{", line_end)


def _helm_action_starts(text: str) -> Iterator[int]:
    """Where actions that use what only Helm has start. One pass: each action is read from its
    `{{` to its `}}` or the end of its line, so no input makes this quadratic."""
    if not any(word in text for word in _HELM_WORDS):
        return  # most files, told at the speed of a substring search
    start = text.find("{{")
    while start >= 0:
        line_end = text.find("\n", start)
        if line_end < 0:
            line_end = len(text)
        end = text.find("}}", start + 2, line_end)
        if end < 0:
            end = line_end
        if _HELM_ONLY.search(text, start + 2, end):
            yield start
        start = text.find("{{", end)


def decode(data: bytes) -> tuple[str, str, bool] | InputError:
    """Decode bytes as YAML allows: UTF-8 (with or without BOM) or BOM-marked UTF-16/32.

    Returns (text, encoding, had_bom) or an InputError saying where decoding failed.
    """
    if b"\0" in data[:8192] and not data.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
    ):
        encoding = _unmarked_encoding(data)
        if encoding:
            # Valid YAML 1.2, but libyaml (PyYAML) and go-yaml (kubectl) detect an encoding by
            # its byte order mark only and see NUL bytes: name the real problem.
            return InputError("", f"{encoding} text without a byte order mark; save it as UTF-8")
        return InputError("", "binary file (contains NUL bytes), not a manifest")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding, True
            except UnicodeDecodeError as exc:
                return InputError("", f"invalid {encoding.upper()} ({exc.reason})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        return InputError("", f"invalid UTF-8 (byte 0x{byte:02x})", line, column)
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        return InputError("", "binary file (contains NUL bytes), not a manifest", line)
    return text, "utf-8", False


def _unmarked_encoding(data: bytes) -> str | None:
    """The UTF-16/32 encoding of text that has no byte order mark, if it is one.

    YAML 1.2 (section 5.2) tells them apart by the NUL bytes around the first, ASCII, character;
    a manifest is then almost all ASCII and holds no control characters.
    """
    for encoding in ("UTF-32-BE", "UTF-32-LE", "UTF-16-BE", "UTF-16-LE"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data[:8192])
        except UnicodeDecodeError:
            continue
        if not text or not text[0].isascii():
            continue
        ascii_chars = sum(ch.isascii() for ch in text)
        if ascii_chars >= 0.9 * len(text) and all(
            ch.isprintable() or ch in "\t\n\r" for ch in text
        ):
            return encoding
    return None


def _read_file(file_path: str) -> tuple[tuple[int, int], bytes]:
    """A file's stamp (size and modification time, of the file opened) and its bytes, at most
    one past the size limit, so that a file over it is told. Asked for as many as its size says,
    plus one: asking for the limit itself would allocate 32 MiB for every file read, and the C
    allocator then keeps that much of the heap for good. Plain system calls: open() makes a
    file object, a buffer, and asks the file one more stat and whether it is a terminal, for
    every file a run reads (about 40% of the time reading the corpus's files took)."""
    descriptor = os.open(file_path, os.O_RDONLY)
    try:
        st = os.fstat(descriptor)
        limit = min(st.st_size, MAX_FILE_BYTES) + 1
        data = os.read(descriptor, limit)
        # Read on to the end of the file: a read may give less than it was asked before the
        # end. Beyond the size it had when opened only when it grew (or a size says nothing:
        # a /proc file), and at most one past the limit, so a file over it is told.
        while len(data) <= MAX_FILE_BYTES:
            chunk = os.read(
                descriptor, (limit if len(data) < limit else MAX_FILE_BYTES + 1) - len(data)
            )
            if not chunk:
                break
            data += chunk
        return (st.st_size, st.st_mtime_ns), data
    finally:
        os.close(descriptor)


def _read_stdin() -> bytes:
    """At most one byte past the size limit: `imglint - < /dev/zero` must end, not fill memory."""
    try:
        return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    except (OSError, AttributeError, ValueError):
        return b""


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno is not None and exc.errno == 40:  # ELOOP
        return "symbolic link loop"
    return (exc.strerror or str(exc)).lower()
