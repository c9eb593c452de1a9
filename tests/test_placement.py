"""The platforms a pod may run on, from its nodeSelector and required node affinity."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imglint.manifests import load
from imglint.placement import platforms_for
from imglint.sites import NodePlacement
from imglint.sources import Source

GKE_SAMPLE = Path(__file__).parent / "fixtures" / "placement" / "migrate-x86-app-to-multi-arch"
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
SPEC
  containers:
  - {name: a, image: registry.example/app:1.0}
"""


def placement_of(text: str) -> NodePlacement | None:
    manifests = load([Source("pod.yaml", text)])
    assert manifests.errors == []
    (site,) = manifests.sites
    return site.holder.placement


def pod(spec: str) -> str:
    return POD.replace("SPEC\n", spec)


def platforms(spec: str, configured: tuple[str, ...] = ("linux/amd64",)) -> tuple[str, ...]:
    placement = placement_of(pod(spec))
    assert placement is not None
    return platforms_for(placement, configured)


def test_no_demand_no_placement() -> None:
    assert placement_of(pod("")) is None
    assert placement_of(pod("  nodeSelector: {disktype: ssd}\n")) is None
    # preferred affinity and tolerations do not bind
    spec = (
        "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n"
        "      - weight: 1\n        preference:\n          matchExpressions:\n"
        "          - {key: kubernetes.io/arch, operator: In, values: [arm64]}\n"
        "  tolerations: [{key: kubernetes.io/arch, operator: Equal, value: arm64}]\n"
    )
    assert placement_of(pod(spec)) is None


def test_node_selector_arch_wins_over_the_configured_platforms() -> None:
    spec = "  nodeSelector: {kubernetes.io/arch: arm64}\n"
    assert platforms(spec) == ("linux/arm64",)
    placement = placement_of(pod(spec))
    assert placement is not None and placement.source == "nodeSelector kubernetes.io/arch: arm64"
    # a configured platform for that arch keeps its variant
    assert platforms(spec, ("linux/amd64", "linux/arm64/v8")) == ("linux/arm64/v8",)


def test_node_selector_os_keeps_the_configured_arches() -> None:
    spec = "  nodeSelector: {kubernetes.io/os: windows}\n"
    assert platforms(spec, ("linux/amd64", "linux/arm64")) == ("windows/amd64", "windows/arm64")
    assert platforms("  nodeSelector: {beta.kubernetes.io/os: linux}\n") == ("linux/amd64",)


def affinity(*terms: str) -> str:
    lines = [
        "  affinity:",
        "    nodeAffinity:",
        "      requiredDuringSchedulingIgnoredDuringExecution:",
        "        nodeSelectorTerms:",
    ]
    for term in terms:
        lines += ["        - matchExpressions:", *(f"          - {e}" for e in term.split(";"))]
    return "\n".join(lines) + "\n"


def test_required_affinity_in_several_means_every_one() -> None:
    spec = affinity("{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}")
    assert platforms(spec) == ("linux/amd64", "linux/arm64")
    placement = placement_of(pod(spec))
    assert placement is not None
    assert placement.source == "required node affinity kubernetes.io/arch In [amd64, arm64]"


def test_several_terms_are_ored() -> None:
    spec = affinity(
        "{key: kubernetes.io/arch, operator: In, values: [arm64]}",
        "{key: kubernetes.io/arch, operator: In, values: [s390x]}",
    )
    assert platforms(spec) == ("linux/arm64", "linux/s390x")


def test_not_in_and_the_node_selector_narrow_each_term() -> None:
    spec = affinity("{key: kubernetes.io/arch, operator: NotIn, values: [amd64]}")
    assert platforms(spec, ("linux/amd64", "linux/arm64")) == ("linux/arm64",)
    spec = "  nodeSelector: {kubernetes.io/arch: arm64}\n" + affinity(
        "{key: kubernetes.io/arch, operator: In, values: [amd64, arm64]};"
        "{key: kubernetes.io/os, operator: In, values: [linux]}"
    )
    assert platforms(spec) == ("linux/arm64",)
    placement = placement_of(pod(spec))
    assert placement is not None and placement.source == (
        "nodeSelector kubernetes.io/arch: arm64 and required node affinity "
        "kubernetes.io/arch In [amd64, arm64], kubernetes.io/os In [linux]"
    )


def test_does_not_exist_matches_no_node_and_exists_any() -> None:
    spec = affinity(
        "{key: kubernetes.io/arch, operator: DoesNotExist}",
        "{key: kubernetes.io/arch, operator: In, values: [arm64]}",
    )
    assert platforms(spec) == ("linux/arm64",)
    # Exists: any value, so no demand at all
    assert placement_of(pod(affinity("{key: kubernetes.io/arch, operator: Exists}"))) is None


@pytest.mark.parametrize(("overlay", "expected"), [("arm", ("linux/arm64",)), ("multiarch", None)])
def test_the_gke_multi_arch_sample(overlay: str, expected: tuple[str, ...] | None) -> None:
    """GKE's x86-to-multi-arch migration sample, built by the real `kubectl kustomize`: the arm
    overlay pins the Deployment to arm64 nodes; the multiarch one only tolerates them."""
    built = subprocess.run(
        ["kubectl", "kustomize", str(GKE_SAMPLE / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    placement = placement_of(built)
    if expected is None:
        assert placement is None
    else:
        assert placement is not None
        assert platforms_for(placement, ("linux/amd64",)) == expected
