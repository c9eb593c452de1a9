"""The platforms a pod may run on, given its node placement and the configured `platforms`.

Kubernetes labels every node with `kubernetes.io/os` and `kubernetes.io/arch` (GOOS/GOARCH
values: `linux`, `amd64`, `arm64`...). A pod's `nodeSelector` and required node affinity on them
(read by `imglint.extract.placement` into `sites.NodePlacement`) decide where it may run; this
module turns that into platforms for the platform check. No YAML here: rules import it.

    platforms_for(placement, ("linux/amd64",))     # ("linux/arm64",) for arch=arm64
"""

from __future__ import annotations

from collections.abc import Sequence

from imglint.registry.model import normalize_platform
from imglint.sites import NodePlacement

DEFAULT_OS = "linux"


def platforms_for(placement: NodePlacement, configured: Sequence[str]) -> tuple[str, ...]:
    """The platforms ("os/arch[/variant]") the pod may run on: each configured platform its
    terms allow, plus the os/arch pairs they name that no configured platform covers (a pod
    pinned to arm64 nodes runs on arm64 whatever `platforms` says)."""
    found: list[str] = []
    known = [(_split(p), p) for p in configured]
    oses = list(dict.fromkeys(os_name for (os_name, _), _ in known)) or [DEFAULT_OS]
    arches = list(dict.fromkeys(arch for (_, arch), _ in known))
    for term in placement.terms:
        allowed_os = [o for o in (term.os_in or oses) if o not in term.os_not_in]
        if term.arch_in is not None:
            allowed_arch = [a for a in term.arch_in if a not in term.arch_not_in]
        else:
            allowed_arch = [a for a in arches if a not in term.arch_not_in]
        for os_name in allowed_os:
            for arch in allowed_arch:
                same = [text for (o, a), text in known if (o, a) == (os_name, arch)]
                for text in same or [f"{os_name}/{arch}"]:
                    if text not in found:
                        found.append(text)
    return tuple(found)


def _split(platform: str) -> tuple[str, str]:
    os_name, arch, _ = normalize_platform(platform)
    return os_name, arch
