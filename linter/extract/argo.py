"""Argo Workflows (`argoproj.io`): the images of a workflow's templates.

Workflow, WorkflowTemplate and ClusterWorkflowTemplate hold a workflow spec in `spec`, a
CronWorkflow in `spec.workflowSpec`. In it, as the Go types of argoproj/argo-workflows define
them, each of `templates[]` and `templateDefaults` may run:

- `container.image` (a container template), `script.image` (a script template),
- `containerSet.containers[].image`,
- `initContainers[].image` and `sidecars[].image`,
- `volumes[].image.reference` (image volumes; also the workflow's own `volumes`),

and a `dag.tasks[].inline` or `steps[][].inline` template, which is a template again. The
extractor owns every template: the generic pod-spec walker, which would see a template's
`initContainers` list as a pod spec, never reports them a second time.

`{{inputs.parameters.x}}` and `{{workflow.parameters.x}}` (spaces inside the braces allowed) are
placeholders. An image that is exactly one of them is also linted as the value the parameter
holds in the resource: the template input's `value`, else its `default`, else (and for
`workflow.parameters`) the workflow's `spec.arguments.parameters[].value`. The steps or tasks
that call a template may pass other values: the label says which parameter it is.

Pull secrets: the workflow's `spec.imagePullSecrets` (every pod of the workflow gets them), else
those of the service account: the template's `serviceAccountName`, else the workflow's
`spec.serviceAccountName` (`default` when unset).
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

from imglint.documents import scalar_text
from imglint.extract.resources import (
    Declared,
    Parameters,
    ResourceSites,
    holder,
    items_of,
    keys_of,
    named,
)
from imglint.extract.sink import FoundObject, Sink
from imglint.lazy_pattern import LazyPattern
from imglint.pull_secrets import reference_names
from imglint.sites import PullSecretHolder

# Inline templates nest; a hostile file must not recurse without end.
_MAX_DEPTH = 50

# Argo's simple tags: `{{inputs.parameters.name}}`, `{{ workflow.parameters.name }}`.
PARAMETER = LazyPattern(r"\{\{\s*(inputs|workflow)\.parameters\.([A-Za-z0-9_-]+)\s*\}\}")


_CONTAINER_WORDS = {"initContainers": "init container", "sidecars": "sidecar"}


def extract(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    path = "spec"
    if found.obj.kind == "CronWorkflow":
        spec = keys_of(spec).get("workflowSpec")
        path = "spec.workflowSpec"
    if not isinstance(spec, MappingNode):
        return
    _Workflow(found, sink, spec, path).run()


class _Workflow:
    def __init__(self, found: FoundObject, sink: Sink, spec: MappingNode, path: str) -> None:
        self.found = found
        self.spec = spec
        self.path = path
        self.keys = keys_of(spec)
        self.sites = ResourceSites(found, sink, read_ref=self._read_ref)
        self.secrets = reference_names(self.keys.get("imagePullSecrets"))
        self.account = scalar_text(self.keys.get("serviceAccountName"))
        arguments: dict[str, Declared] = {}
        for index, param in items_of(keys_of(self.keys.get("arguments")).get("parameters")):
            pkeys = keys_of(param)
            name = scalar_text(pkeys.get("name"))
            if name and "value" in pkeys:
                arguments[name] = Declared(
                    pkeys["value"], f"{path}.arguments.parameters[{index}].value"
                )
        self.workflow = Parameters(arguments, {})

    def _read_ref(self, value: str, level: Parameters) -> tuple[str, Parameters] | None:
        """`{{inputs.parameters.x}}` reads the template's inputs (no other level: inputs do
        not inherit), `{{workflow.parameters.x}}` the workflow's arguments."""
        match = PARAMETER.fullmatch(value.strip())
        if match is None:
            return None
        scope, name = match.groups()
        return name, (level if scope == "inputs" else self.workflow)

    def run(self) -> None:
        keys = self.keys
        pull = self._holder(None)
        self.sites.image_volumes(keys.get("volumes"), f"{self.path}.volumes", "", pull)
        defaults = keys.get("templateDefaults")
        if isinstance(defaults, MappingNode):
            self._template(defaults, f"{self.path}.templateDefaults", "template defaults", 0)
        for index, template in items_of(keys.get("templates")):
            name = named(template, f"#{index}")
            self._template(template, f"{self.path}.templates[{index}]", f"template {name}", 0)

    def _holder(self, template: dict[str, Node] | None) -> PullSecretHolder:
        account = scalar_text((template or {}).get("serviceAccountName")) or self.account
        # A ClusterWorkflowTemplate runs in the namespace of the workflow that uses it.
        known = self.found.obj.kind != "ClusterWorkflowTemplate" or bool(self.secrets)
        return holder(self.found.obj, self.spec, self.secrets, account, known=known)

    def _template(self, template: MappingNode, path: str, words: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        self.sites.claim(template)
        keys = keys_of(template)
        pull = self._holder(keys)
        params = Parameters({}, _inputs(keys, path))
        for field in ("container", "script"):
            single = keys_of(keys.get(field))
            self.sites.image(
                single.get("image"),
                pull,
                path=f"{path}.{field}.image",
                part=f"{words}, {field}",
                field=field,
                name=scalar_text(single.get("name")),
                pull_policy=single.get("imagePullPolicy"),
                params=params,
            )
        lists = (
            ("containerSet.containers", keys_of(keys.get("containerSet")).get("containers")),
            ("initContainers", keys.get("initContainers")),
            ("sidecars", keys.get("sidecars")),
        )
        for field, node in lists:
            for index, container in items_of(node):
                name = named(container, f"#{index}")
                ckeys = keys_of(container)
                words_of = _CONTAINER_WORDS.get(field, "container")
                self.sites.image(
                    ckeys.get("image"),
                    pull,
                    path=f"{path}.{field}[{index}].image",
                    part=f"{words}, {words_of} {name}",
                    field=field.rpartition(".")[2],
                    name=name,
                    pull_policy=ckeys.get("imagePullPolicy"),
                    params=params,
                )
        self.sites.image_volumes(keys.get("volumes"), f"{path}.volumes", f"{words}, ", pull)
        for index, task in items_of(keys_of(keys.get("dag")).get("tasks")):
            inline = keys_of(task).get("inline")
            if isinstance(inline, MappingNode):
                name = named(task, f"#{index}")
                self._template(
                    inline,
                    f"{path}.dag.tasks[{index}].inline",
                    f"{words}, task {name}",
                    depth + 1,
                )
        for group, parallel in _step_groups(keys.get("steps")):
            for index, step in items_of(parallel):
                inline = keys_of(step).get("inline")
                if isinstance(inline, MappingNode):
                    name = named(step, f"#{index}")
                    self._template(
                        inline,
                        f"{path}.steps[{group}][{index}].inline",
                        f"{words}, step {name}",
                        depth + 1,
                    )


def _inputs(keys: dict[str, Node], path: str) -> dict[str, Declared]:
    """A template's `inputs.parameters[]`: name -> its `value`, else its `default`."""
    table: dict[str, Declared] = {}
    for index, param in items_of(keys_of(keys.get("inputs")).get("parameters")):
        pkeys = keys_of(param)
        name = scalar_text(pkeys.get("name"))
        if not name:
            continue
        for field in ("value", "default"):
            if field in pkeys:
                table[name] = Declared(pkeys[field], f"{path}.inputs.parameters[{index}].{field}")
                break
    return table


def _step_groups(node: Node | None) -> list[tuple[int, Node]]:
    """`steps` is a list of lists of steps (each inner list runs in parallel)."""
    if not isinstance(node, SequenceNode):
        return []
    return list(enumerate(node.value))
