"""The object index's tables, read from the objects of the set: ServiceAccounts (their
`imagePullSecrets`) and Secrets (pull secrets decoded: registry keys and credentials).

Every object passes through `index_object`; only ServiceAccounts and Secrets are kept.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.context import PULL_SECRET_TYPES, ObjectIndex, PullSecret
from imglint.documents import mapping_keys, node_span, scalar_text
from imglint.sites import K8sObject

# The kinds (of any group) the object index records: a document of one of them is always read.
INDEXED_KINDS = frozenset({"ServiceAccount", "Secret"})


def index_object(
    index: ObjectIndex,
    obj: K8sObject,
    keys: dict[str, Node],
    node: MappingNode,
    lines: Callable[[], list[str]],
) -> None:
    """Record obj in index when it is a ServiceAccount or a Secret (`lines`: the file's lines,
    for suppression comments on a pull Secret)."""
    if obj.kind not in INDEXED_KINDS:
        return
    if obj.kind == "ServiceAccount":
        if obj.name:
            secrets = reference_names(keys.get("imagePullSecrets"))
            index.service_accounts[(obj.namespace, obj.name)] = list(secrets)
    elif obj.kind == "Secret":
        _secret(index, obj, keys, node, lines)


def reference_names(node: Node | None) -> tuple[str, ...]:
    """The names of a list of `{name: ...}` references (`imagePullSecrets`). (A tuple: most
    pod specs list none, and the empty tuple is one for all of them, where an empty list is
    56 bytes a pod spec for the whole run.)"""
    if not isinstance(node, SequenceNode):
        return ()
    names: list[str] = []
    for item in node.value:
        if isinstance(item, MappingNode):
            name = scalar_text(mapping_keys(item).get("name"))
            if name:
                names.append(name)
    return tuple(names)


def _secret(
    index: ObjectIndex,
    obj: K8sObject,
    keys: dict[str, Node],
    node: MappingNode,
    lines: Callable[[], list[str]],
) -> None:
    if not obj.name:
        return
    type_node = keys.get("type")
    secret_type = scalar_text(type_node) or "Opaque"
    if secret_type not in PULL_SECRET_TYPES:
        index.other_secrets[(obj.namespace, obj.name)] = secret_type
        return
    reading = _read_pull_secret(secret_type, keys)
    where = reading.node or type_node or node
    index.secrets[(obj.namespace, obj.name)] = PullSecret(
        name=obj.name,
        namespace=obj.namespace,
        type=secret_type,
        path=obj.path,
        line=node.start_mark.line + 1,
        keys=tuple(reading.credentials),
        credentials=reading.credentials,
        error=reading.error,
        problem=node_span(where) if reading.error is not None else None,
        obj=obj,
        source_lines=lines(),
    )


class _Reading:
    """What one pull Secret gives the kubelet, or why it gives nothing (and where that is)."""

    def __init__(self) -> None:
        self.credentials: dict[str, tuple[str, str]] = {}
        self.error: str | None = None
        self.node: Node | None = None

    def fail(self, error: str, node: Node | None) -> _Reading:
        self.error, self.node = error, node
        return self


def _read_pull_secret(secret_type: str, keys: dict[str, Node]) -> _Reading:
    """Decode a pull Secret as the API server and then the kubelet do.

    The API server refuses a Secret whose data key is missing, whose `data` is not base64 or
    whose content is not a JSON object; the kubelet then refuses (failing every pull of the pod,
    `MakeDockerKeyring`) an `auths` entry that is not an object or whose `auth` is not
    base64(user:password). A `.dockerconfigjson` without `auths` is accepted by both and gives
    no credentials at all.
    """
    reading = _Reading()
    data_key = ".dockerconfigjson" if secret_type == PULL_SECRET_TYPES[0] else ".dockercfg"
    string_data, data = keys.get("stringData"), keys.get("data")
    value: Node | None = None
    raw: str | None = None
    # The API server merges stringData over data before validating: stringData wins.
    if isinstance(string_data, MappingNode) and data_key in mapping_keys(string_data):
        value = mapping_keys(string_data)[data_key]
        if not isinstance(value, ScalarNode):
            return reading.fail(f"stringData[{data_key}] is not a string", value)
        raw = value.value
    elif isinstance(data, MappingNode) and data_key in mapping_keys(data):
        value = mapping_keys(data)[data_key]
        if not isinstance(value, ScalarNode):
            return reading.fail(f"data[{data_key}] is not a base64 string", value)
        try:
            decoded = base64.b64decode("".join(value.value.split()), validate=True)
            raw = decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return reading.fail(f"{data_key} is not valid base64", value)
    else:
        found = data if isinstance(data, MappingNode) else string_data
        where = found if isinstance(found, MappingNode) else None
        return reading.fail(f"has no {data_key} in data or stringData", where)
    import json  # only for pull secrets: a run without one does not load it

    try:
        config = json.loads(raw)
    except ValueError:
        return reading.fail(f"{data_key} is not valid JSON", value)
    if not isinstance(config, dict):
        return reading.fail(f"{data_key} is not a JSON object", value)
    if data_key == ".dockerconfigjson":
        if "auths" not in config:
            return reading.fail(f"{data_key} has no auths map: it holds no credentials", value)
        config = config["auths"]
        if not isinstance(config, dict):
            return reading.fail(f"{data_key}: auths is not a JSON object", value)
    for key, entry in config.items():
        if not isinstance(entry, dict):
            return reading.fail(f'{data_key}: the entry for "{key}" is not a JSON object', value)
        username = str(entry.get("username") or "")
        password = str(entry.get("password") or "")
        encoded = entry.get("auth")
        if encoded:
            pair = _auth_pair(encoded)
            if pair is None:
                return reading.fail(
                    f'{data_key}: the auth of "{key}" is not base64(username:password)', value
                )
            username, password = pair
        reading.credentials[str(key)] = (username, password)
    return reading


def _auth_pair(encoded: object) -> tuple[str, str] | None:
    """base64(user:password) as the kubelet decodes it: padded or unpadded, split on the first
    colon (`decodeDockerConfigFieldAuth`)."""
    if not isinstance(encoded, str):
        return None
    text = encoded.strip()
    try:
        padded = text if text.endswith("=") else text + "=" * (-len(text) % 4)
        decoded = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None
