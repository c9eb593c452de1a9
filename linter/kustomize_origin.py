"""Point findings in `kustomize build` output at the files their images come from.

A build keeps each resource's origin when its kustomization asks for it
(`buildMetadata: [originAnnotations]`): kustomize writes `config.kubernetes.io/origin` with the
file's path relative to the folder built (and `repo`/`ref` for a remote base). With stdin named
after that folder (`kustomize build overlays/prod | imglint --stdin-filename overlays/prod -`),
a finding about an image of the output moves:

1. to the origin file, at the image's line there, when the image is written there as rendered;
2. else to the `images:` entry that wrote the rendered value (the last one, in kustomize's
   build order), or to the patch that wrote it, when the model of the build identifies one
   (imglint.kustomize_tree);
3. else it stays on the build output's line, and its message names the origin file.

A remote origin (a repository and ref) is named, never fetched. Without origin annotations, or
without the folder's name, findings stay on the output's lines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint import records
from imglint.documents import node_span
from imglint.findings import Finding, Span
from imglint.kustomize_tree import Entry, Tree, child, path_key, scalar
from imglint.records import dataclass
from imglint.sources import Source

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class ResourceOrigin:
    """A resource's `config.kubernetes.io/origin`: where kustomize read it."""

    path: str  # relative to the folder built (or inside the repository, for a remote base)
    repo: str | None = None
    ref: str | None = None

    @property
    def remote(self) -> bool:
        return self.repo is not None

    def describe(self, folder: str | None) -> str:
        if self.repo is not None:
            at = f" at {self.ref}" if self.ref else ""
            return f"{self.path} of {self.repo}{at}"
        if folder is not None:
            return os.path.normpath(os.path.join(folder, self.path))
        return f"{self.path} in the folder built"


@dataclass(frozen=True)
class _Place:
    path: str
    span: Span


def has_origins(text: str) -> bool:
    return ORIGIN_ANNOTATION in text


class BuildOutput:
    """Maps findings on stdin (`kustomize build` output with origins) to their origins.

    `built_folder`: the stdin name (--stdin-filename), when it is the folder that was built.
    """

    def __init__(self, sources: Sequence[Source], built_folder: str | None) -> None:
        self._texts = {s.path: s.text for s in sources if s.file_path is None}
        self._folder = built_folder if built_folder and os.path.isdir(built_folder) else None
        self._documents: dict[str, list[Node]] = {}
        self._tree: Tree | None = None
        self._files: dict[str, list[Node] | None] = {}

    def applies(self) -> bool:
        return any(has_origins(text) for text in self._texts.values())

    def findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """Findings moved to their origins (or naming them), resorted."""
        moved = [self._finding(f) for f in findings]
        return sorted(moved, key=lambda f: f.sort_key)

    # -- one finding -----------------------------------------------------------------------

    def _finding(self, finding: Finding) -> Finding:
        text = self._texts.get(finding.path)
        if text is None or not has_origins(text):
            return finding
        found = self._locate(finding.path, text, finding.span)
        if found is None:
            return finding
        document, node, field_path = found
        origin = _origin(document)
        if origin is None:
            return finding
        extra = {
            **finding.extra,
            "rendered_path": finding.path,
            "rendered_line": str(finding.span.line),
            "origin": origin.describe(self._folder),
        }
        place = (
            None
            if origin.remote or self._folder is None
            else self._trace(origin, document, field_path, str(node.value))
        )
        if place is None:
            message = f"{finding.message} (from {origin.describe(self._folder)})"
            return records.replace(finding, message=message, extra=extra)
        return records.replace(finding, path=place.path, span=place.span, extra=extra)

    def _locate(
        self, path: str, text: str, span: Span
    ) -> tuple[MappingNode, ScalarNode, str] | None:
        """The output document and image scalar a finding's span points at, and its path."""
        documents = self._documents.get(path)
        if documents is None:
            try:
                documents = list(yaml.compose_all(text, Loader=_Loader))
            except (yaml.YAMLError, RecursionError):
                documents = []
            self._documents[path] = documents
        for document in documents:
            if not isinstance(document, MappingNode):
                continue
            if not document.start_mark.line < span.line <= document.end_mark.line + 1:
                continue
            found = _scalar_at(document, span.start, "")
            if found is not None:
                return document, found[0], found[1]
        return None

    # -- tracing ---------------------------------------------------------------------------

    def _trace(
        self, origin: ResourceOrigin, document: MappingNode, field_path: str, rendered: str
    ) -> _Place | None:
        assert self._folder is not None
        shown = os.path.normpath(os.path.join(self._folder, origin.path))
        written = self._written_object(shown, document)
        if written is None:
            return self._by_patch(document, rendered)
        found = _same_field(document, written, field_path)
        if found is None:
            return self._by_patch(document, rendered)
        node, origin_path = found
        if str(node.value) == rendered:
            return _Place(shown, node_span(node))
        return self._by_entry(shown, origin_path, rendered) or self._by_patch(document, rendered)

    def _written_object(self, shown: str, document: MappingNode) -> MappingNode | None:
        """The origin file's object of the same kind and name as an output object."""
        if shown not in self._files:
            try:
                with open(shown, encoding="utf-8") as handle:
                    self._files[shown] = list(yaml.compose_all(handle.read(), Loader=_Loader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
                self._files[shown] = None
        candidates = [d for d in self._files[shown] or [] if isinstance(d, MappingNode)]
        kind = scalar(child(document, "kind"))
        name = scalar(child(child(document, "metadata"), "name")) or ""
        same_kind = [d for d in candidates if scalar(child(d, "kind")) == kind]
        # A build may add a namePrefix/nameSuffix: the written name is inside the rendered one.
        named = [
            d
            for d in same_kind
            if (written := scalar(child(child(d, "metadata"), "name"))) and written in name
        ]
        return named[0] if len(named) == 1 else same_kind[0] if len(same_kind) == 1 else None

    def _model(self) -> Tree:
        if self._tree is None:
            self._tree = Tree([], from_disk=True)
        return self._tree

    def _by_entry(self, shown: str, field_path: str, rendered: str) -> _Place | None:
        tree = self._model()
        assert self._folder is not None
        real = path_key(shown)
        last: _Place | None = None
        for kustomization, entry, outcome in tree.entries_in_build_order(self._folder):
            for match in outcome.matches:
                if (match.real_path, match.field_path, match.after) == (real, field_path, rendered):
                    last = _Place(kustomization.display, _entry_span(entry, rendered))
        return last

    def _by_patch(self, document: MappingNode, rendered: str) -> _Place | None:
        tree = self._model()
        assert self._folder is not None
        kind = scalar(child(document, "kind"))
        found = [
            _Place(path, span)
            for path, span, patch_kind, value in tree.patch_images(self._folder)
            if patch_kind == kind and value == rendered
        ]
        return found[-1] if found else None


def _entry_span(entry: Entry, rendered: str) -> Span:
    """The field of an entry that decided the rendered value: its newTag, digest, newName."""
    from imglint.kustomize import split

    name, tag, digest = split(rendered)
    for field, value in (("newTag", tag), ("digest", digest), ("newName", name)):
        node = entry.values.get(field)
        if node is not None and value and str(node.value) == value:
            return node_span(node)
    node = entry.values.get("name")
    return node_span(node) if node is not None else node_span(entry.node)


def _origin(document: MappingNode) -> ResourceOrigin | None:
    annotations = child(child(document, "metadata"), "annotations")
    text = scalar(child(annotations, ORIGIN_ANNOTATION))
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        return None  # a generated resource (configuredIn/configuredBy): no file holds it
    repo, ref = data.get("repo"), data.get("ref")
    return ResourceOrigin(
        data["path"], repo if isinstance(repo, str) else None, ref if isinstance(ref, str) else None
    )


def _scalar_at(node: Node, offset: int, path: str) -> tuple[ScalarNode, str] | None:
    """The scalar starting at a character offset, and its path (`spec.containers[0].image`)."""
    if isinstance(node, ScalarNode):
        return (node, path) if node.start_mark.index == offset else None
    if not node.start_mark.index <= offset <= node.end_mark.index:
        return None
    if isinstance(node, MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else "?"
            found = _scalar_at(value, offset, f"{path}.{name}" if path else name)
            if found is not None:
                return found
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            found = _scalar_at(item, offset, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _same_field(
    output: MappingNode, written: MappingNode, path: str
) -> tuple[ScalarNode, str] | None:
    """The scalar of the written object at the output's `path`, and its path there.

    List items are paired by their `name` where they have one: a strategic-merge patch moves
    the containers it touches to the front of the list.
    """
    rendered: Node | None = output
    current: Node | None = written
    written_path = ""
    for part in path.replace("[", ".[").split("."):
        if rendered is None or current is None:
            return None
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(rendered, SequenceNode) or not isinstance(current, SequenceNode):
                return None
            rendered = rendered.value[index] if index < len(rendered.value) else None
            name = scalar(child(rendered, "name"))
            position = index
            if name is not None:
                named = [
                    i for i, item in enumerate(current.value) if scalar(child(item, "name")) == name
                ]
                if len(named) != 1:
                    return None
                position = named[0]
            if position >= len(current.value):
                return None
            current = current.value[position]
            written_path += f"[{position}]"
        else:
            rendered, current = child(rendered, part), child(current, part)
            written_path += f".{part}" if written_path else part
    return (current, written_path) if isinstance(current, ScalarNode) else None
