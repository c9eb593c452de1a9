"""Tekton Pipelines (`tekton.dev`): the images of steps, sidecars and step templates.

Fields, as the Go types of tektoncd/pipeline define them (v1 and v1beta1 alike):

- Task, ClusterTask: `spec.steps[].image`, `spec.sidecars[].image`, `spec.stepTemplate.image`
  (and image volumes, `spec.volumes[].image.reference`).
- TaskRun: the same below `spec.taskSpec`.
- Pipeline: `spec.tasks[]` and `spec.finally[]`, each with an inline `taskSpec` (the same
  fields) or an inline `pipelineSpec` (pipelines in pipelines: the same again).
- PipelineRun: the pipeline of `spec.pipelineSpec`.
- StepAction: `spec.image`.

Tekton substitutes `$(params.x)`, `$(params['x'])`, `$(params["x"])`, `$(context.taskRun.name)`
and its other variables into images: such a value is a placeholder. An image that is exactly a
parameter reference is also linted as the value the parameter holds: the value the run binds
(`spec.params` of a TaskRun or PipelineRun, `params` of a pipeline task), else the parameter's
`default` (`imglint.extract.resources.resolve`).

Pull secrets: a Task, ClusterTask, Pipeline or StepAction has none of its own (the run that uses
it supplies them), so the pull-secret rules leave their images alone. A TaskRun pulls with its
`podTemplate.imagePullSecrets`, else its `serviceAccountName`'s (`default` when unset); a
PipelineRun with `taskRunSpecs[]` for that pipeline task, else `taskRunTemplate` (v1beta1:
`taskRunSpecs[].taskPodTemplate` / `taskServiceAccountName`, `podTemplate`, `serviceAccountName`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from yaml.nodes import MappingNode, Node

from imglint.documents import scalar_text
from imglint.extract.resources import (
    Declared,
    Parameters,
    ResourceSites,
    holder,
    items_of,
    keys_of,
    named,
    unknown_holder,
)
from imglint.extract.sink import FoundObject, Sink
from imglint.lazy_pattern import LazyPattern
from imglint.placeholders import POD_IMAGE_SYNTAXES, Syntax
from imglint.pull_secrets import reference_names
from imglint.sites import PullSecretHolder

TASK_KINDS = ("Task", "ClusterTask")

# Any Tekton variable: `$(params.x)`, `$(params['x'])`, `$(context.taskRun.name)`,
# `$(steps.step-a.results.b)`, `$(workspaces.src.path)`... (a name, then `.`, `[` or `)`).
TEKTON_VARIABLE = Syntax("Tekton variable", re.compile(r"\$\([A-Za-z][\w-]*[.\[)][^)]*\)?"))
SYNTAXES = (TEKTON_VARIABLE, *POD_IMAGE_SYNTAXES)
# Exactly one string parameter: `$(params.name)`, `$(params['name'])`, `$(params["name"])`.
# (`$(params.obj.key)` and `$(params.list[0])` are object and array parts: not followed.)
_PARAMETER = LazyPattern(
    r"""\$\(params(?:\.([A-Za-z0-9_-]+)|\['([^']+)'\]|\["([^"]+)"\])\)""", re.ASCII
)


def parameter_name(value: str) -> str | None:
    """The parameter a value is exactly a reference to, else None."""
    match = _PARAMETER.fullmatch(value.strip())
    if match is None:
        return None
    return next(group for group in match.groups() if group is not None)


def _read_ref(value: str, level: Parameters) -> tuple[str, Parameters] | None:
    name = parameter_name(value)
    return None if name is None else (name, level)


def extract(found: FoundObject, sink: Sink) -> None:
    kind = found.obj.kind
    spec = found.keys.get("spec")
    if not isinstance(spec, MappingNode):
        return
    sites = ResourceSites(found, sink, syntaxes=SYNTAXES, read_ref=_read_ref)
    sink.claim(spec)
    unknown = unknown_holder(found.obj, found.node)
    if kind in TASK_KINDS:
        params = Parameters({}, _declared(spec, "spec"))
        _task_spec(sites, spec, "spec", "", unknown, params)
    elif kind == "TaskRun":
        keys = keys_of(spec)
        task_spec = keys.get("taskSpec")
        if isinstance(task_spec, MappingNode):
            params = Parameters(
                _bound(keys.get("params"), "spec.params"),
                _declared(task_spec, "spec.taskSpec"),
            )
            _task_spec(sites, task_spec, "spec.taskSpec", "", _task_run_holder(found, spec), params)
    elif kind == "Pipeline":
        _pipeline_spec(sites, spec, "spec", "", lambda task: unknown, Parameters({}, {}), True)
    elif kind == "PipelineRun":
        keys = keys_of(spec)
        pipeline = keys.get("pipelineSpec")
        if isinstance(pipeline, MappingNode):
            run = Parameters(
                _bound(keys.get("params"), "spec.params"),
                _declared(pipeline, "spec.pipelineSpec"),
            )
            holders = _PipelineRunHolders(found, spec)
            _pipeline_spec(sites, pipeline, "spec.pipelineSpec", "", holders.for_task, run, False)
    elif kind == "StepAction":
        keys = keys_of(spec)
        params = Parameters({}, _declared(spec, "spec"))
        sites.image(
            keys.get("image"),
            unknown,
            path="spec.image",
            part="image",
            field="image",
            pull_policy=keys.get("imagePullPolicy"),
            params=params,
        )


def _task_spec(
    sites: ResourceSites,
    spec: MappingNode,
    path: str,
    prefix: str,
    pull: PullSecretHolder,
    params: Parameters,
) -> None:
    keys = keys_of(spec)
    for field, word in (("steps", "step"), ("sidecars", "sidecar")):
        for index, container in items_of(keys.get(field)):
            # Tekton names an unnamed step's container `step-unnamed-<index>`.
            name = named(container, f"unnamed-{index}")
            container_keys = keys_of(container)
            sites.image(
                container_keys.get("image"),
                pull,
                path=f"{path}.{field}[{index}].image",
                part=f"{prefix}{word} {name}",
                field=field,
                name=name,
                pull_policy=container_keys.get("imagePullPolicy"),
                params=params,
            )
    sites.image_volumes(keys.get("volumes"), f"{path}.volumes", prefix, pull)
    template = keys_of(keys.get("stepTemplate"))
    sites.image(
        template.get("image"),
        pull,
        path=f"{path}.stepTemplate.image",
        part=f"{prefix}step template",
        field="stepTemplate",
        pull_policy=template.get("imagePullPolicy"),
        params=params,
    )


# The pull secrets of one pipeline task's pod, by the pipeline task's name.
HolderFor = Callable[[str], PullSecretHolder]


def _pipeline_spec(
    sites: ResourceSites,
    spec: MappingNode,
    path: str,
    prefix: str,
    holder_for: HolderFor,
    params: Parameters,
    declares: bool,
) -> None:
    """The inline tasks (and inline pipelines) of a pipeline spec. `params` is the pipeline's
    level; for a Pipeline object (`declares`) its defaults are read here."""
    keys = keys_of(spec)
    if declares:
        params = Parameters(params.values, _declared(spec, path), params.parent)
    for section, words in (("tasks", "task"), ("finally", "finally task")):
        for index, task in items_of(keys.get(section)):
            name = named(task, f"#{index}")
            tkeys = keys_of(task)
            task_path = f"{path}.{section}[{index}]"
            bound = _bound(tkeys.get("params"), f"{task_path}.params")
            pull = holder_for(name)
            task_spec = tkeys.get("taskSpec")
            if isinstance(task_spec, MappingNode):
                level = Parameters(bound, _declared(task_spec, f"{task_path}.taskSpec"), params)
                task_prefix = f"{prefix}{words} {name}, "
                _task_spec(sites, task_spec, f"{task_path}.taskSpec", task_prefix, pull, level)
            inner = tkeys.get("pipelineSpec")
            if isinstance(inner, MappingNode):
                level = Parameters(bound, _declared(inner, f"{task_path}.pipelineSpec"), params)
                _pipeline_spec(
                    sites,
                    inner,
                    f"{task_path}.pipelineSpec",
                    f"{prefix}{words} {name}, ",
                    _same(pull),
                    level,
                    False,
                )


def _declared(spec: Node, path: str) -> dict[str, Declared]:
    """A spec's `params[]` declarations: name -> its `default`."""
    table: dict[str, Declared] = {}
    for index, param in items_of(keys_of(spec).get("params")):
        pkeys = keys_of(param)
        name = scalar_text(pkeys.get("name"))
        default = pkeys.get("default")
        if name and default is not None:
            table[name] = Declared(default, f"{path}.params[{index}].default")
    return table


def _bound(node: Node | None, path: str) -> dict[str, Declared]:
    """A run's or a pipeline task's `params[]` bindings: name -> its `value`."""
    table: dict[str, Declared] = {}
    for index, param in items_of(node):
        pkeys = keys_of(param)
        name = scalar_text(pkeys.get("name"))
        value = pkeys.get("value")
        if name and value is not None:
            table[name] = Declared(value, f"{path}[{index}].value")
    return table


def _task_run_holder(found: FoundObject, spec: MappingNode) -> PullSecretHolder:
    keys = keys_of(spec)
    secrets = reference_names(keys_of(keys.get("podTemplate")).get("imagePullSecrets"))
    account = scalar_text(keys.get("serviceAccountName"))
    return holder(found.obj, spec, secrets, account)


class _PipelineRunHolders:
    """A PipelineRun's pull secrets per pipeline task: `taskRunSpecs[]` for the task, else the
    run's `taskRunTemplate` (v1beta1: `taskPodTemplate`/`taskServiceAccountName` per task,
    `podTemplate`/`serviceAccountName` for the run)."""

    def __init__(self, found: FoundObject, spec: MappingNode) -> None:
        self.found = found
        self.spec = spec
        keys = keys_of(spec)
        template = keys_of(keys.get("taskRunTemplate"))
        self.secrets = reference_names(
            keys_of(template.get("podTemplate") or keys.get("podTemplate")).get("imagePullSecrets")
        )
        self.account = scalar_text(template.get("serviceAccountName")) or scalar_text(
            keys.get("serviceAccountName")
        )
        self.per_task: dict[str, tuple[tuple[str, ...], str | None]] = {}
        for _index, entry in items_of(keys.get("taskRunSpecs")):
            ekeys = keys_of(entry)
            task = scalar_text(ekeys.get("pipelineTaskName"))
            if not task:
                continue
            pod = ekeys.get("podTemplate") or ekeys.get("taskPodTemplate")
            account = scalar_text(ekeys.get("serviceAccountName")) or scalar_text(
                ekeys.get("taskServiceAccountName")
            )
            self.per_task[task] = (reference_names(keys_of(pod).get("imagePullSecrets")), account)

    def for_task(self, task: str) -> PullSecretHolder:
        secrets, account = self.per_task.get(task, ((), None))
        return holder(self.found.obj, self.spec, secrets or self.secrets, account or self.account)


def _same(pull: PullSecretHolder) -> HolderFor:
    """An inline pipeline's tasks run in the pod settings of the task that holds it."""
    return lambda _task: pull
