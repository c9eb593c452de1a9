"""KubeVirt (`kubevirt.io`, `pool.kubevirt.io`): the images of a virtual machine's disks and
kernel.

A virtual machine instance spec pulls, as the Go types of kubevirt/kubevirt define them:

- `volumes[].containerDisk.image`: a disk shipped as a container image;
- `domain.firmware.kernelBoot.container.image`: a kernel and initrd shipped the same way.

The spec sits in `spec` of a VirtualMachineInstance, `spec.template.spec` of a VirtualMachine
and of a VirtualMachineInstanceReplicaSet, and `spec.virtualMachineTemplate.spec.template.spec`
of a VirtualMachinePool.

Pull secrets: each of these images names its own in the singular `imagePullSecret`; KubeVirt
puts all of them on the one virt-launcher pod that pulls every image of the VM (so each applies
to all), and when there are none the pod's ServiceAccount's apply: `spec.serviceAccountName`,
else the ServiceAccount a `serviceAccount` volume names, else `default`.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node

from imglint.documents import scalar_text
from imglint.extract.resources import ResourceSites, holder, items_of, keys_of, named
from imglint.extract.sink import FoundObject, Sink

# Where each kind keeps its virtual machine instance spec.
_SPEC_PATHS = {
    "VirtualMachineInstance": ("spec",),
    "VirtualMachine": ("spec", "template", "spec"),
    "VirtualMachineInstanceReplicaSet": ("spec", "template", "spec"),
    "VirtualMachinePool": ("spec", "virtualMachineTemplate", "spec", "template", "spec"),
}


def extract(found: FoundObject, sink: Sink) -> None:
    node: Node | None = found.node
    for key in _SPEC_PATHS[found.obj.kind]:
        node = keys_of(node).get(key)
    if isinstance(node, MappingNode):
        _instance(found, sink, node, ".".join(_SPEC_PATHS[found.obj.kind]))


def _instance(found: FoundObject, sink: Sink, spec: MappingNode, path: str) -> None:
    keys = keys_of(spec)
    disks: list[tuple[int, MappingNode, dict[str, Node]]] = []
    secrets: list[str] = []
    account = scalar_text(keys.get("serviceAccountName"))
    for index, volume in items_of(keys.get("volumes")):
        vkeys = keys_of(volume)
        disk = vkeys.get("containerDisk")
        if isinstance(disk, MappingNode):
            disks.append((index, volume, keys_of(disk)))
        account = account or scalar_text(
            keys_of(vkeys.get("serviceAccount")).get("serviceAccountName")
        )
    kernel = keys_of(keys_of(keys_of(keys.get("domain")).get("firmware")).get("kernelBoot")).get(
        "container"
    )
    kernel_keys = keys_of(kernel)
    for source in [dkeys for _i, _v, dkeys in disks] + [kernel_keys]:
        secret = scalar_text(source.get("imagePullSecret"))
        if secret and secret not in secrets:
            secrets.append(secret)
    pull = holder(found.obj, spec, secrets, account)
    sites = ResourceSites(found, sink)
    for index, volume, dkeys in disks:
        name = named(volume, f"#{index}")
        sites.image(
            dkeys.get("image"),
            pull,
            path=f"{path}.volumes[{index}].containerDisk.image",
            part=f"container disk {name}",
            field="containerDisk",
            name=name,
            pull_policy=dkeys.get("imagePullPolicy"),
        )
    sites.image(
        kernel_keys.get("image"),
        pull,
        path=f"{path}.domain.firmware.kernelBoot.container.image",
        part="kernel boot container",
        field="kernelBoot",
        pull_policy=kernel_keys.get("imagePullPolicy"),
    )
