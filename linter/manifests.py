"""Kubernetes objects and the image sites inside them, read from YAML/JSON with positions.

Data flow: a Source's text is composed into YAML nodes (never constructed into Python objects, so
every scalar keeps its line and column, and an alias bomb stays a small graph of shared nodes);
each document that is a Kubernetes object (has `apiVersion` and `kind`) becomes a K8sObject;
pod specs are found in it generically and every image scalar becomes an ImageSite.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gc
import json
import re
from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint import records
from imglint.context import ObjectIndex, PullSecret
from imglint.findings import InputError, Span
from imglint.records import dataclass
from imglint.reference import InvalidReference, Reference, parse
from imglint.sources import HELM_HINT, Source, template_action_lines

try:  # the C composer is ~10x faster; the pure-Python one is a correct fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
# Entries that `<<` merge keys may copy in one file. Real manifests merge a few small mappings;
# mappings that merge mappings that merge... double at each level (a "merge bomb").
MAX_MERGED_ENTRIES = 1_000_000
# Nodes that the objects of a List may reach again through aliases (items sharing an anchored
# template), per file: beyond it, Lists of items sharing one huge subtree cost items x subtree.
MAX_SHARED_VISITS = 100_000
# Image sites per file. The largest file of the corpus has 32; each site costs ~4 KB through
# linting and reporting, so this keeps one hostile file (50 MB of tiny Pods) near 200 MB.
MAX_SITES_PER_FILE = 50_000
# An image value longer than this is no reference (DNS names stop at 253 characters, paths at
# 255, tags at 128, digests at 135): an input error, so no message quotes a megabyte of it.
MAX_IMAGE_CHARS = 4096
# Input errors shown per file: 20 MB of containers with `image: 1` made 250,000 of them.
MAX_ERRORS_PER_FILE = 1_000
# YAML nodes in one document. Composed nodes cost ~400 bytes each, so this bounds a document
# near 400 MB (a dense 30 MB document needed 1.5 GB; the largest corpus document is far below
# 100,000 nodes). A node takes at least two characters, so only longer texts are counted first.
MAX_NODES_PER_DOCUMENT = 1_000_000
# Built-in kinds that never hold a pod spec but can be huge (schemas, data): not walked. Only
# when built in: a Knative `serving.knative.dev/v1` Service does hold one.
_NOT_WORKLOADS = frozenset(
    {
        "CustomResourceDefinition",
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "Namespace",
        "Ingress",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "StorageClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }
)
# Image values that a tool replaces before apply: not references yet, so never linted as such.
# Text that any Kubernetes object has, in YAML or JSON form.
_MENTIONS_OBJECT = re.compile(r"""["']?\bapiVersion["']?\s*:""")
_PLACEHOLDERS = (
    ("{{", "template placeholder"),
    ("$", "variable placeholder"),  # ${IMAGE} and $IMAGE (envsubst, shell)
    ("ko://", "ko build reference"),
)
PULL_SECRET_TYPES = ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")


@dataclass
class K8sObject:
    kind: str
    api_version: str
    name: str | None
    namespace: str | None
    annotations: dict[str, str]
    path: str  # displayed path of the file it came from
    line: int  # line of the object's first key (1-based)


@dataclass
class PodSpec:
    """The parts of one pod spec that image rules need."""

    obj: K8sObject
    image_pull_secrets: list[str]  # secret names from spec.imagePullSecrets
    service_account: str | None  # spec.serviceAccountName (or the deprecated serviceAccount)
    line: int


@dataclass
class ImageSite:
    """One image scalar: `containers[].image`, `initContainers[].image`,
    `ephemeralContainers[].image` or `volumes[].image.reference`."""

    path: str
    span: Span
    image: str  # exactly as written (the scalar's value)
    pod: PodSpec
    container: str | None  # container (or volume) name
    field: str  # "containers", "initContainers", "ephemeralContainers" or "volumes"
    pull_policy: str | None  # imagePullPolicy / volumes[].image.pullPolicy as written
    reference: Reference | None = None
    error: str | None = None  # why the reference is invalid, in the runtime's words
    placeholder: str | None = None  # set when the value is a template/variable, not a reference
    # Lines of the source text, for suppression comments; shared by all sites of a file.
    source_lines: list[str] = records.field(default_factory=list, repr=False, compare=False)
    source: Source | None = records.field(default=None, repr=False, compare=False)

    @property
    def obj(self) -> K8sObject:
        return self.pod.obj


@dataclass
class Manifests:
    """Everything read from a set of sources."""

    sites: list[ImageSite] = records.field(default_factory=list)
    objects: ObjectIndex = records.field(default_factory=ObjectIndex)
    errors: list[InputError] = records.field(default_factory=list)
    notices: list[str] = records.field(default_factory=list)
    object_count: int = 0


def load(sources: list[Source]) -> Manifests:
    result = Manifests()
    for source in sources:
        part = _Reader(source).read()
        result.sites.extend(part.sites)
        for index_field in records.fields(ObjectIndex):  # every table of the index
            getattr(result.objects, index_field.name).update(
                getattr(part.objects, index_field.name)
            )
        result.errors.extend(part.errors)
        result.notices.extend(part.notices)
        result.object_count += part.object_count
    return result


def compose_documents(text: str) -> list[Node]:
    """Every YAML document of text as a node tree (raises yaml.YAMLError, RecursionError).

    The cyclic garbage collector is paused meanwhile: composing allocates hundreds of thousands
    of nodes, none of them in a cycle, and the collector walking them again and again made
    composing a large file 4-5x slower (argo-cd's install.yaml: 1.4-1.9 s against 0.37 s).
    """
    with _gc_paused():
        return list(yaml.compose_all(text, Loader=_Loader))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_image(site: ImageSite) -> None:
    """Fill site.reference or site.error (parse is cached, so repeated images cost nothing)."""
    try:
        site.reference = parse(site.image)
    except InvalidReference as exc:
        site.error = exc.reason


class _Unreadable(Exception):
    """The file cannot be read as kubectl would read it; reported at node."""

    def __init__(self, message: str, node: Node | None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.line = line  # 1-based, when there is no node to point at


class _Reader:
    """Reads one source: its sites and objects, or only the reason it could not be read."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.result = Manifests()
        self.lines: list[str] | None = None
        self.has_merge_keys = "<<" in source.text
        self.merge_budget = MAX_MERGED_ENTRIES
        self.shared_budget = MAX_SHARED_VISITS
        self.walked: set[int] = set()  # nodes walked by earlier objects of this document
        self.reported: set[InputError] = set()
        # Entries as written of the mappings merge keys expanded (this document's), by node id.
        self.written: dict[int, list[tuple[Node, Node]]] = {}

    def read(self) -> Manifests:
        text = self.source.text
        action_lines = template_action_lines(text)
        covered: set[int] = set()  # lines inside multi-line scalars: data, not template actions
        try:
            if len(text) > 2 * MAX_NODES_PER_DOCUMENT:
                self._check_document_sizes(text)
            with _gc_paused():
                # One document at a time, each dropped once read: memory follows the largest
                # document, not the file (a 10 MB file of small Pods held 850 MB as one list).
                for document in yaml.compose_all(text, Loader=_Loader):
                    if action_lines:
                        _cover_multiline_scalars(document, covered)
                    if self.has_merge_keys:
                        self.written = {}
                        self._expand_merges(document)
                    if isinstance(document, MappingNode):
                        self._document(document)
        except yaml.MarkedYAMLError as exc:
            self._discard()
            self._yaml_error(exc)
        except yaml.reader.ReaderError as exc:
            self._discard()
            self._reader_error(exc)
        except yaml.YAMLError as exc:
            self._discard()
            self._error("YAML error: " + " ".join(str(exc).split()))
        except _Unreadable as exc:
            self._discard()
            self._error(exc.message, exc.node, exc.line)
        except RecursionError:
            self._discard()
            self._error("nesting too deep to read")
        except MemoryError:
            # Only a limit the user set (ulimit -v) gets here: say so instead of crashing.
            self._discard()
            self._error(f"too large to read in the memory available ({len(text):,} characters)")
        else:
            if any(line not in covered for line in action_lines):
                self._discard()
                self._template()
            # Init containers come before containers in a pod spec's walk but may follow them
            # in the file: keep each file's sites in file order.
            self.result.sites.sort(key=lambda site: site.span.start)
        return self.result

    @staticmethod
    def _check_document_sizes(text: str) -> None:
        """Refuse a document with too many nodes before composing it: counting parse events
        holds one event at a time, composing holds every node of the document at once."""
        count, start = 0, 1
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentStartEvent):
                mark = event.start_mark
                count, start = 0, (mark.line + 1 if mark is not None else 1)
            elif isinstance(event, (yaml.ScalarEvent, yaml.NodeEvent)) and not isinstance(
                event, yaml.AliasEvent
            ):
                count += 1
                if count > MAX_NODES_PER_DOCUMENT:
                    raise _Unreadable(
                        f"a YAML document of more than {MAX_NODES_PER_DOCUMENT:,} nodes is too "
                        "large to read; split it",
                        None,
                        start,
                    )

    def _discard(self) -> None:
        """Forget what was read so far: a file that fails is reported, never half linted."""
        self.result = Manifests()
        self.reported = set()

    def _template(self) -> None:
        message = f"looks like a template, not a manifest; {HELM_HINT}"
        if self.source.named:
            self.result.errors.append(InputError(self.source.path, message))
        else:
            self.result.notices.append(f"{self.source.path}: skipped, {message}")

    def _yaml_error(self, exc: yaml.MarkedYAMLError) -> None:
        if template_action_lines(self.source.text):
            self._template()
            return
        if (
            not self.source.named
            and self.source.path.endswith(".json")
            and not _MENTIONS_OBJECT.search(self.source.text)
        ):
            # A .json file met while walking a folder that neither parses nor names any object:
            # a JSON-with-comments editor config (tsconfig.json, .vscode), not a broken manifest.
            # (A .yaml file that does not parse stays an input error: it may be a manifest.)
            self.result.notices.append(
                f"{self.source.path}: skipped, not JSON and no Kubernetes object in it"
            )
            return
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        if (
            "tab" not in problem
            and mark
            and _char_at(self.source.text, mark.line, mark.column) == "\t"
        ):
            # libyaml only says "found character that cannot start any token"
            problem += " (a tab: YAML indents with spaces only)"
        self.result.errors.append(InputError(self.source.path, f"YAML: {problem}", line, column))

    def _reader_error(self, exc: yaml.reader.ReaderError) -> None:
        """A character YAML forbids (a control character, U+FFFE...), at its line and column.

        The error's position counts characters or UTF-8 bytes depending on the loader; the
        reader stops at the first forbidden character, so the first occurrence is the one.
        """
        code = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        )
        message = f"YAML: unacceptable character U+{code:04X} ({exc.reason})"
        text = self.source.text
        index = text.find(chr(code))
        if index < 0:
            self.result.errors.append(InputError(self.source.path, message))
            return
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        self.result.errors.append(InputError(self.source.path, message, line, column))

    def _error(self, message: str, node: Node | None = None, line: int | None = None) -> None:
        column = None
        if node is not None:
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
        error = InputError(self.source.path, message, line, column)
        # One anchored value aliased by many containers is one error, not one per container.
        if error in self.reported or len(self.reported) > MAX_ERRORS_PER_FILE:
            return
        self.reported.add(error)
        if len(self.reported) <= MAX_ERRORS_PER_FILE:
            self.result.errors.append(error)
        else:
            more = f"more than {MAX_ERRORS_PER_FILE:,} errors in this file; the rest are not shown"
            self.result.errors.append(InputError(self.source.path, more, line, column))

    def _expand_merges(self, document: Node) -> None:
        """Expand `<<` merge keys in place, as kubectl apply's YAML decoder (go-yaml v2) does.

        The merged mappings' entries take the place of the `<<` entry. With `_keys` (the last
        entry wins) a key written after `<<` overrides the merged one and a key written before
        it is overridden; in a list of merged mappings the earlier ones win. Every mapping is
        expanded once, after the mappings it merges (post-order, without recursion, so a chain
        of 100,000 merges is fine), and the entries copied per file are capped.
        """
        entered: set[int] = set()
        done: set[int] = set()
        stack: list[tuple[Node, bool]] = [(document, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                if isinstance(node, MappingNode):
                    self._expand_mapping(node, done)
                done.add(id(node))
                continue
            if id(node) in entered:
                continue
            entered.add(id(node))
            stack.append((node, True))
            if isinstance(node, MappingNode):
                for key, value in reversed(node.value):
                    stack.append((value, False))
                    stack.append((key, False))
            elif isinstance(node, SequenceNode):
                stack.extend((item, False) for item in reversed(node.value))

    def _expand_mapping(self, node: MappingNode, done: set[int]) -> None:
        if not any(isinstance(k, ScalarNode) and k.tag == _MERGE for k, _ in node.value):
            return
        entries: list[tuple[Node, Node]] = []
        for key, value in node.value:
            if not (isinstance(key, ScalarNode) and key.tag == _MERGE):
                entries.append((key, value))
                continue
            # A mapping, or a list of them written in place: go-yaml v2 refuses an alias of a
            # list here (an aliased node starts before the key that refers to it).
            if isinstance(value, MappingNode):
                merged = [value]
            elif isinstance(value, SequenceNode) and value.start_mark.index > key.start_mark.index:
                merged = list(value.value)
            else:
                raise _Unreadable("a merge key (<<) takes a mapping or a list of mappings", value)
            for source in reversed(merged):  # earlier mappings win, so their entries go last
                if not isinstance(source, MappingNode):
                    raise _Unreadable("a merge key (<<) takes only mappings", source)
                if id(source) not in done:
                    raise _Unreadable("a merge key (<<) merges a mapping into itself", source)
                self.merge_budget -= len(source.value)
                if self.merge_budget < 0:
                    raise _Unreadable(
                        f"merge keys (<<) copy more than {MAX_MERGED_ENTRIES:,} entries "
                        "(a merge-key bomb?)",
                        value,
                    )
                entries.extend(source.value)
        self.written[id(node)] = node.value
        node.value = entries

    # -- objects -------------------------------------------------------------------------------

    def _document(self, document: MappingNode) -> None:
        """Read a document's object, or every object of a `List` (nested Lists too).

        Iterative, and an item reached again through an alias is the same object, read once:
        Lists of aliased Lists (`items: [*l8, *l8, ...]`) would otherwise expand exponentially,
        and a List among its own items would recurse forever.
        """
        seen: set[int] = set()
        self.walked = set()
        stack: list[tuple[MappingNode, bool]] = [(document, False)]
        while stack:
            node, in_list = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = self._object(node, in_list=in_list)
            stack.extend((item, True) for item in reversed(items))

    def _object(self, node: MappingNode, *, in_list: bool) -> list[MappingNode]:
        """Read one object; for a List, return its items instead."""
        keys = _keys(node)
        kind = _text(keys.get("kind"))
        api_version = _text(keys.get("apiVersion"))
        if not kind or (not api_version and not in_list):
            return []  # not a Kubernetes object (values file, compose file, CI config...)
        items = keys.get("items")
        if kind.endswith("List") and isinstance(items, SequenceNode):
            return [item for item in items.value if isinstance(item, MappingNode)]
        self.result.object_count += 1
        meta = keys.get("metadata")
        meta_keys = _keys(meta) if isinstance(meta, MappingNode) else {}
        annotations_node = meta_keys.get("annotations")
        annotations: dict[str, str] = {}
        if isinstance(annotations_node, MappingNode):
            for key_node, value_node in annotations_node.value:
                key, value = _text(key_node), _text(value_node)
                if key is not None and value is not None:
                    annotations[key] = value
        obj = K8sObject(
            kind=kind,
            api_version=api_version or "",
            name=_text(meta_keys.get("name")),
            namespace=_text(meta_keys.get("namespace")),
            annotations=annotations,
            path=self.source.path,
            line=node.start_mark.line + 1,
        )
        if kind == "ServiceAccount":
            self._service_account(obj, keys)
        elif kind == "Secret":
            self._secret(obj, keys, node)
        if kind in _NOT_WORKLOADS and _is_builtin(obj.api_version):
            return []
        walked: set[int] = set()  # this object's nodes, each walked once
        for pod_keys, pod_node in _pod_specs(keys, walked):
            self._pod(obj, pod_node, pod_keys, walked)
        # Objects of one List may share nodes through aliases; each walks them again (and
        # reports their images with its own name), up to a budget.
        self.shared_budget -= len(walked & self.walked)
        if self.shared_budget < 0:
            raise _Unreadable(
                f"aliases lead imglint through the same nodes more than {MAX_SHARED_VISITS:,} "
                "times (an alias bomb?)",
                node,
            )
        self.walked |= walked
        return []

    def _service_account(self, obj: K8sObject, keys: dict[str, Node]) -> None:
        if obj.name:
            secrets = _secret_names(keys.get("imagePullSecrets"))
            self.result.objects.service_accounts[(obj.namespace, obj.name)] = secrets

    def _secret(self, obj: K8sObject, keys: dict[str, Node], node: MappingNode) -> None:
        if not obj.name:
            return
        secret_type = _text(keys.get("type")) or "Opaque"
        index = self.result.objects
        if secret_type not in PULL_SECRET_TYPES:
            index.other_secrets[(obj.namespace, obj.name)] = secret_type
            return
        data_key = ".dockerconfigjson" if secret_type == PULL_SECRET_TYPES[0] else ".dockercfg"
        raw: str | None = None
        error: str | None = None
        string_data = keys.get("stringData")
        data = keys.get("data")
        if isinstance(string_data, MappingNode) and data_key in _keys(string_data):
            raw = _text(_keys(string_data)[data_key])
        elif isinstance(data, MappingNode) and data_key in _keys(data):
            encoded = _text(_keys(data)[data_key]) or ""
            try:
                raw = base64.b64decode("".join(encoded.split()), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                error = f"{data_key} is not valid base64"
        else:
            error = f"no {data_key} key"
        secret_keys: tuple[str, ...] = ()
        credentials: dict[str, tuple[str, str]] = {}
        if raw is not None:
            parsed = _docker_config_auths(raw, wrapped=data_key == ".dockerconfigjson")
            if isinstance(parsed, str):
                error = parsed
            else:
                secret_keys = tuple(parsed)
                credentials = parsed
        index.secrets[(obj.namespace, obj.name)] = PullSecret(
            name=obj.name,
            namespace=obj.namespace,
            type=secret_type,
            path=self.source.path,
            line=node.start_mark.line + 1,
            keys=secret_keys,
            credentials=credentials,
            error=error,
        )

    # -- pod specs and images ------------------------------------------------------------------

    def _pod(
        self, obj: K8sObject, pod_node: MappingNode, pod_keys: dict[str, Node], walked: set[int]
    ) -> None:
        service_account = _text(pod_keys.get("serviceAccountName")) or _text(
            pod_keys.get("serviceAccount")
        )
        pod = PodSpec(
            obj=obj,
            image_pull_secrets=_secret_names(pod_keys.get("imagePullSecrets")),
            service_account=service_account,
            line=pod_node.start_mark.line + 1,
        )
        for field_name in ("initContainers", "containers", "ephemeralContainers"):
            containers = pod_keys.get(field_name)
            if not isinstance(containers, SequenceNode):
                continue
            for container in containers.value:
                # An aliased container (`[*c, *c]`, or one list shared by two pod specs of the
                # object) is one container of the object: reported once.
                if not isinstance(container, MappingNode) or id(container) in walked:
                    continue
                walked.add(id(container))
                ckeys = _keys(container)
                image = ckeys.get("image")
                if image is not None:
                    self._check_ambiguous(container, "image", image, "container")
                    self._site(
                        pod, image, field_name, ckeys.get("name"), ckeys.get("imagePullPolicy")
                    )
        volumes = pod_keys.get("volumes")
        if isinstance(volumes, SequenceNode):
            for volume in volumes.value:
                if not isinstance(volume, MappingNode) or id(volume) in walked:
                    continue
                walked.add(id(volume))
                vkeys = _keys(volume)
                source = vkeys.get("image")
                if isinstance(source, MappingNode):
                    skeys = _keys(source)
                    reference = skeys.get("reference")
                    if reference is not None:
                        self._check_ambiguous(source, "reference", reference, "image volume")
                        self._site(
                            pod, reference, "volumes", vkeys.get("name"), skeys.get("pullPolicy")
                        )

    def _check_ambiguous(self, mapping: MappingNode, key: str, value: Node, where: str) -> None:
        """Report an image that YAML decoders read differently.

        kubectl apply keeps the last of duplicate keys where kustomize refuses the file; and a key
        written before a merge key (<<) that merges the same key is overridden for kubectl
        (go-yaml v2) but wins for kustomize and the YAML merge spec. imglint lints what kubectl
        applies (`value`) and says that the file is ambiguous.
        """
        entries: list[tuple[Node, Node]] = self.written.get(id(mapping)) or mapping.value
        written = [(k, v) for k, v in entries if isinstance(k, ScalarNode) and k.value == key]
        if len(written) > 1:
            self._error(
                f"{key} given twice in one {where} (also on line "
                f"{written[0][0].start_mark.line + 1}): kubectl apply uses this one, kustomize "
                "refuses the file",
                written[-1][0],
            )
        elif written and written[0][1] is not value:
            self._error(
                f"{key} overridden by the merge key (<<) after it: kubectl apply uses the "
                f"merged one (line {value.start_mark.line + 1}), kustomize this one; "
                "write << first",
                written[0][0],
            )

    def _site(
        self,
        pod: PodSpec,
        node: Node,
        field_name: str,
        name_node: Node | None,
        policy_node: Node | None,
    ) -> None:
        if not isinstance(node, ScalarNode):
            shape = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self._error(f"image must be a string, not {shape}", node)
            return
        if node.tag == _NULL:
            value = ""  # `image:` left empty: the runtime sees an empty reference
        elif node.tag != _STR:
            kind = node.tag.rsplit(":", 1)[-1]
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            self._error(f"image must be a string, not {kind} {shown!r} (quote it)", node)
            return
        else:
            value = node.value
        if len(value) > MAX_IMAGE_CHARS:
            self._error(f"image is {len(value):,} characters long, not an image reference", node)
            return
        if len(self.result.sites) >= MAX_SITES_PER_FILE:
            raise _Unreadable(
                f"more than {MAX_SITES_PER_FILE:,} images in one file; split it to lint it", node
            )
        start, end = node.start_mark, node.end_mark
        if self.lines is None:
            self.lines = self.source.text.splitlines()
        site = ImageSite(
            path=self.source.path,
            span=Span(
                line=start.line + 1,
                column=start.column + 1,
                end_line=end.line + 1,
                end_column=end.column + 1,
                start=start.index,
                end=end.index,
            ),
            image=value,
            pod=pod,
            container=_text(name_node),
            field=field_name,
            pull_policy=_text(policy_node),
            source_lines=self.lines,
            source=self.source,
        )
        for marker, what in _PLACEHOLDERS:
            if marker in value:
                site.placeholder = what
                break
        else:
            parse_image(site)
        self.result.sites.append(site)


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column ("" past the end)."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column : start + column + 1]


def _is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return not group or group.endswith(".k8s.io")


def _keys(node: MappingNode) -> dict[str, Node]:
    """A mapping's string keys to value nodes (the last duplicate wins, as in kubectl's decoder)."""
    return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}


def _text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != _NULL:
        value = node.value
        return value if isinstance(value, str) else None
    return None


def _secret_names(node: Node | None) -> list[str]:
    names: list[str] = []
    if isinstance(node, SequenceNode):
        for item in node.value:
            if isinstance(item, MappingNode):
                name = _text(_keys(item).get("name"))
                if name:
                    names.append(name)
    return names


def _pod_specs(
    top: dict[str, Node], seen: set[int]
) -> Iterator[tuple[dict[str, Node], MappingNode]]:
    """Find pod specs anywhere below an object's top level (except metadata and status).

    A pod spec is a mapping with a `containers` (or `initContainers`) list of mappings. This finds
    the built-in workloads (Pod `spec`, `spec.template.spec`, CronJob's job template) and custom
    resources (Argo Rollouts, Knative Services, operators' pod templates) with one rule, and never
    expands a shared (aliased) node twice, so an alias bomb costs nothing. `seen` collects the
    ids of the nodes walked.
    """
    stack: list[Node] = [v for k, v in top.items() if k not in ("metadata", "status")]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            keys = _keys(node)
            if _is_pod_spec(keys):
                yield keys, node
                continue
            stack.extend(reversed(list(keys.values())))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))


def _is_pod_spec(keys: dict[str, Node]) -> bool:
    for field_name in ("containers", "initContainers"):
        value = keys.get(field_name)
        if isinstance(value, SequenceNode) and any(
            isinstance(item, MappingNode) for item in value.value
        ):
            return True
    return False


def _docker_config_auths(raw: str, *, wrapped: bool) -> dict[str, tuple[str, str]] | str:
    """Registry keys and credentials of a docker config (or an error message)."""
    try:
        config = json.loads(raw)
    except ValueError:
        return "pull secret data is not valid JSON"
    if wrapped:
        if not isinstance(config, dict) or not isinstance(config.get("auths"), dict):
            return "pull secret has no `auths` map"
        config = config["auths"]
    if not isinstance(config, dict):
        return "pull secret is not a JSON object"
    auths: dict[str, tuple[str, str]] = {}
    for key, entry in config.items():
        username = password = ""
        if isinstance(entry, dict):
            username = str(entry.get("username") or "")
            password = str(entry.get("password") or "")
            encoded = entry.get("auth")
            if isinstance(encoded, str) and encoded:
                try:
                    padded = encoded + "=" * (-len(encoded) % 4)
                    decoded = base64.b64decode(padded).decode("utf-8")
                    username, _, password = decoded.partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    pass
        auths[str(key)] = (username, password)
    return auths


def _cover_multiline_scalars(document: Node, covered: set[int]) -> None:
    """Add the (0-based) lines that multi-line scalars of the document span to covered."""
    seen: set[int] = set()
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.end_mark.line > node.start_mark.line:
                covered.update(range(node.start_mark.line, node.end_mark.line + 1))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
