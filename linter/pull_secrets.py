"""The object index's tables, read from the objects of the set: ServiceAccounts (their
`imagePullSecrets`) and Secrets (pull secrets decoded: registry keys and credentials).

Every object passes through `index_object`; only ServiceAccounts and Secrets are kept.
"""

from __future__ import annotations

import base64
import binascii
import json

from yaml.nodes import MappingNode, Node, SequenceNode

from imglint.context import PULL_SECRET_TYPES, ObjectIndex, PullSecret
from imglint.documents import mapping_keys, scalar_text
from imglint.sites import K8sObject


def index_object(
    index: ObjectIndex, obj: K8sObject, keys: dict[str, Node], node: MappingNode
) -> None:
    """Record obj in index when it is a ServiceAccount or a Secret."""
    if obj.kind == "ServiceAccount":
        if obj.name:
            secrets = reference_names(keys.get("imagePullSecrets"))
            index.service_accounts[(obj.namespace, obj.name)] = secrets
    elif obj.kind == "Secret":
        _secret(index, obj, keys, node)


def reference_names(node: Node | None) -> list[str]:
    """The names of a list of `{name: ...}` references (`imagePullSecrets`)."""
    names: list[str] = []
    if isinstance(node, SequenceNode):
        for item in node.value:
            if isinstance(item, MappingNode):
                name = scalar_text(mapping_keys(item).get("name"))
                if name:
                    names.append(name)
    return names


def _secret(index: ObjectIndex, obj: K8sObject, keys: dict[str, Node], node: MappingNode) -> None:
    if not obj.name:
        return
    secret_type = scalar_text(keys.get("type")) or "Opaque"
    if secret_type not in PULL_SECRET_TYPES:
        index.other_secrets[(obj.namespace, obj.name)] = secret_type
        return
    data_key = ".dockerconfigjson" if secret_type == PULL_SECRET_TYPES[0] else ".dockercfg"
    raw: str | None = None
    error: str | None = None
    string_data = keys.get("stringData")
    data = keys.get("data")
    if isinstance(string_data, MappingNode) and data_key in mapping_keys(string_data):
        raw = scalar_text(mapping_keys(string_data)[data_key])
    elif isinstance(data, MappingNode) and data_key in mapping_keys(data):
        encoded = scalar_text(mapping_keys(data)[data_key]) or ""
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
        path=obj.path,
        line=node.start_mark.line + 1,
        keys=secret_keys,
        credentials=credentials,
        error=error,
    )


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
