"""Images in custom resources: Tekton, Argo Workflows, KubeVirt, Crossplane, the Prometheus
operator, the configuration's `image-fields`, and policies that are never searched.

The fixtures in tests/fixtures/crd are real upstream files (see its NOTICE.md). Each file's
every expected site is listed below by line, path inside the object and label; a listing of
more or fewer sites fails, so anything that merely looks like an image (a `withItems` entry's
`image:` key, a parameter called `IMAGE`, `imagePullPolicy`, a description, a policy's pattern)
is checked not to be one. The few inline manifests below are written for these tests, from the
projects' documented semantics (parameter precedence, pull secrets), where no upstream file
shows the case.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from imglint.extract import argo, tekton
from tests.cli_runner import run
from tests.regserver import Seeded

CRD = Path(__file__).parent / "fixtures" / "crd"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration, credentials or cache of the person running the tests."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(["--list-images", "--format", "json", *args], capsys)
    assert code == 0, err
    images: list[dict[str, Any]] = json.loads(out)["images"]
    return images


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(["--format", "json", *args], capsys)
    report: dict[str, Any] = json.loads(out)
    return code, report, err


# A site: (line, path inside the object, label, placeholder or not).
Site = tuple[int, str, str, bool]

EXPECTED: dict[str, list[Site]] = {
    # -- Tekton ------------------------------------------------------------------------------
    "tekton/pipelinerun.yaml": [
        (61, "spec.steps[0].image", "Task git-clone, step clone", False),
        # `image: $(params.BUILDER_IMAGE)`: a placeholder, and the default it runs unless a
        # TaskRun gives another (the param `IMAGE` and its description are no images).
        (
            135,
            "spec.params[4].default",
            "Task kaniko, step build-and-push (default of param BUILDER_IMAGE)",
            False,
        ),
        (151, "spec.steps[0].image", "Task kaniko, step build-and-push", True),
        (164, "spec.steps[1].image", "Task kaniko, step write-url", False),
        # The Pipeline refers to its tasks (taskRef) and the PipelineRun to the pipeline: no
        # images of their own; the pipeline param `image-registry` is none either.
    ],
    "tekton/git-clone.yaml": [
        (
            106,
            "spec.params[14].default",
            "Task git-clone, step clone (default of param gitInitImage)",
            False,
        ),
        (121, "spec.steps[0].image", "Task git-clone, step clone", True),
    ],
    "tekton/pull-private-image.yaml": [
        (50, "spec.taskSpec.steps[0].image", "TaskRun pull-private-image-*, step pull", False),
    ],
    "tekton/sidecar-ready.yaml": [
        (
            9,
            "spec.taskSpec.sidecars[0].image",
            "TaskRun sidecar-ready-*, sidecar slow-sidecar",
            False,
        ),
        (36, "spec.taskSpec.steps[0].image", "TaskRun sidecar-ready-*, step check-ready", False),
    ],
    "tekton/steptemplate-variable-interop.yaml": [
        # The TaskRun binds the param the step template's image names: that value runs.
        (
            8,
            "spec.params[0].value",
            "TaskRun steptemplate-variables-*, step template (value of param image)",
            False,
        ),
        (
            13,
            "spec.taskSpec.stepTemplate.image",
            "TaskRun steptemplate-variables-*, step template",
            True,
        ),
    ],
    "tekton/6139-regression.yaml": [
        (
            18,
            "spec.pipelineSpec.tasks[0].taskSpec.steps[0].image",
            "PipelineRun pipelinerun-test, task hello, step unnamed-0",
            False,
        ),
        (
            31,
            "spec.pipelineSpec.tasks[1].taskSpec.steps[0].image",
            "PipelineRun pipelinerun-test, task goodbye, step unnamed-0",
            False,
        ),
        (
            46,
            "spec.pipelineSpec.finally[0].taskSpec.steps[0].image",
            "PipelineRun pipelinerun-test, finally task shutdown, step unnamed-0",
            False,
        ),
    ],
    "tekton/stepaction-params.yaml": [
        (62, "spec.image", "StepAction step-action, image", False),
    ],
    "tekton/pipelinerun-taskrunspecs.yaml": [
        (16, "spec.steps[0].image", "Task add-task-taskspec, step add", False),
    ],
    # -- Argo Workflows ----------------------------------------------------------------------
    "argo/init-container.yaml": [
        (
            10,
            "spec.templates[0].container.image",
            "Workflow init-container-*, template init-container-example, container",
            False,
        ),
        # Once: the template's `initContainers` list is not a pod spec of its own.
        (
            17,
            "spec.templates[0].initContainers[0].image",
            "Workflow init-container-*, template init-container-example, init container hello",
            False,
        ),
    ],
    "argo/image-pull-secrets.yaml": [
        (
            17,
            "spec.templates[0].container.image",
            "Workflow hello-world-*, template hello-world, container",
            False,
        ),
    ],
    "argo/steps-inline-workflow.yaml": [
        (
            17,
            "spec.templates[0].steps[0][0].inline.container.image",
            "Workflow steps-inline-*, template main, step a, container",
            False,
        ),
    ],
    "argo/dag-inline-workflowtemplate.yaml": [
        (
            18,
            "spec.templates[0].dag.tasks[0].inline.container.image",
            "WorkflowTemplate dag-inline, template main, task a, container",
            False,
        ),
    ],
    "argo/dag-inline-clusterworkflowtemplate.yaml": [
        (
            18,
            "spec.templates[0].dag.tasks[0].inline.container.image",
            "ClusterWorkflowTemplate dag-inline, template main, task a, container",
            False,
        ),
    ],
    "argo/sequence-workflow.yaml": [
        (
            line,
            f"spec.templates[0].containerSet.containers[{index}].image",
            f"Workflow sequence-*, template main, container {name}",
            False,
        )
        for index, (line, name) in enumerate([(16, "a"), (18, "b"), (21, "c")])
    ],
    "argo/sidecar-dind.yaml": [
        (
            16,
            "spec.templates[0].container.image",
            "Workflow sidecar-dind-*, template dind-sidecar-example, container",
            False,
        ),
        (
            24,
            "spec.templates[0].sidecars[0].image",
            "Workflow sidecar-dind-*, template dind-sidecar-example, sidecar dind",
            False,
        ),
    ],
    "argo/ci.yaml": [
        # Lines 49-51 are `withItems` entries with an `image:` key: data, not images.
        (
            64,
            "spec.templates[1].container.image",
            "Workflow ci-example-*, template build-golang-example, container",
            False,
        ),
        (
            80,
            "spec.templates[2].container.image",
            "Workflow ci-example-*, template run-hello, container",
            True,
        ),
    ],
    "argo/cron-workflow.yaml": [
        (
            19,
            "spec.workflowSpec.templates[0].container.image",
            "CronWorkflow hello-world, template hello-world-with-time, container",
            False,
        ),
    ],
    "argo/scripts-python.yaml": [
        (
            28,
            "spec.templates[1].script.image",
            "Workflow scripts-python-*, template gen-random-int, script",
            False,
        ),
        (
            40,
            "spec.templates[2].container.image",
            "Workflow scripts-python-*, template print-message, container",
            False,
        ),
    ],
    # -- KubeVirt ----------------------------------------------------------------------------
    "kubevirt/vm-cirros.yaml": [
        (
            30,
            "spec.template.spec.volumes[0].containerDisk.image",
            "VirtualMachine vm-cirros, container disk containerdisk",
            False,
        ),
    ],
    "kubevirt/vmi-kernel-boot.yaml": [
        (
            14,
            "spec.domain.firmware.kernelBoot.container.image",
            "VirtualMachineInstance vmi-kernel-boot, kernel boot container",
            False,
        ),
    ],
    "kubevirt/vm-pool-cirros.yaml": [
        (
            34,
            "spec.virtualMachineTemplate.spec.template.spec.volumes[0].containerDisk.image",
            "VirtualMachinePool vm-pool-cirros, container disk containerdisk",
            False,
        ),
    ],
    "kubevirt/vmi-replicaset-cirros.yaml": [
        (
            28,
            "spec.template.spec.volumes[0].containerDisk.image",
            "VirtualMachineInstanceReplicaSet vmi-replicaset-cirros, container disk containerdisk",
            False,
        ),
    ],
    # Every field of the type filled in (KubeVirt's API round-trip test data): exactly two.
    "kubevirt/kubevirt.io.v1.VirtualMachineInstance.yaml": [
        (
            415,
            "spec.domain.firmware.kernelBoot.container.image",
            "VirtualMachineInstance namespaceValue/nameValue, kernel boot container",
            False,
        ),
        (
            571,
            "spec.volumes[0].containerDisk.image",
            "VirtualMachineInstance namespaceValue/nameValue, container disk nameValue",
            False,
        ),
    ],
    # -- Crossplane --------------------------------------------------------------------------
    "crossplane/provider.yaml": [
        (6, "spec.package", "Provider provider-nop-ext-functions, package", False),
    ],
    "crossplane/functions.yaml": [
        (8, "spec.package", "Function function-dummy-lifecycle-upgrade, package", False),
        (18, "spec.package", "Function function-auto-ready-lifecycle-upgrade, package", False),
    ],
    "crossplane/configuration.yaml": [
        (9, "spec.package", "Configuration private-repo, package", False),
    ],
    "crossplane/provider-dependency.yaml": [
        (8, "spec.package", "Provider crossplane-contrib-provider-nop, package", False),
    ],
    # An ImageConfig's prefixes are not references.
    "crossplane/image-config.yaml": [],
    # -- Prometheus operator -----------------------------------------------------------------
    "prometheus/thanos-ruler.yaml": [
        (9, "spec.image", "ThanosRuler default/thanos-ruler, image", False),
    ],
    # spec.containers patches the operator's containers (no image): only spec.image.
    "prometheus/thanos-ruler-restricted.yaml": [
        (
            9,
            "spec.image",
            "ThanosRuler restricted-baseline-ns/thanos-ruler-restricted-baseline-ns, image",
            False,
        ),
    ],
    # `thanos.version` without `thanos.image`: the operator picks the image; nothing written.
    "prometheus/prometheus-thanos.yaml": [],
    "prometheus/prometheus-agent.yaml": [],
    # -- policies: never searched ------------------------------------------------------------
    "policies/restrict-image-registries.yaml": [],
    "policies/disallow-latest-tag.yaml": [],
    "policies/inject-sidecar-deployment.yaml": [],
    "policies/verify-image-ivpol.yaml": [],
    "policies/allowedrepos-template.yaml": [],
    "policies/allowedreposv2-constraint.yaml": [],
}


def sites_of(images: list[dict[str, Any]]) -> list[Site]:
    return [(i["line"], i["field_path"], i["label"], i["placeholder"] is not None) for i in images]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_site_of_an_upstream_file_at_its_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    images = listed(capsys, str(CRD / name))
    assert sites_of(images) == EXPECTED[name]
    for image in images:
        assert image["source"] == "resource-field"
        assert image["field"] == image["field_path"]


def test_every_fixture_has_its_table() -> None:
    files = {str(p.relative_to(CRD)) for p in CRD.rglob("*.yaml")}
    files -= {f for f in files if f.startswith("image-fields/")}
    files -= {"crossplane/deployment-runtime-config.yaml"}  # a pod template: below
    assert files == set(EXPECTED)


def test_a_pod_template_in_a_custom_resource_stays_a_pod_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (image,) = listed(capsys, str(CRD / "crossplane/deployment-runtime-config.yaml"))
    assert image["line"] == 40 and image["source"] == "pod" and image["field"] == "containers"
    assert image["field_path"] == "spec.deploymentTemplate.spec.template.spec.containers[1].image"


def test_policies_are_skipped_for_their_group_not_by_luck(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same policies under another group are searched like any custom resource, and
    their patterns become sites: the group is what keeps them out."""
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("restrict-image-registries.yaml", "inject-sidecar-deployment.yaml"):
        text = (CRD / "policies" / name).read_text().replace("kyverno.io/v1", "example.com/v1", 1)
        (moved / name).write_text(text)
    images = listed(capsys, str(moved))
    # (`=(initContainers)` is Kyverno's conditional anchor: not a key a pod spec has.)
    assert [i["image"] for i in images] == ["vault:1.5.4", "vault:1.5.4", "eu.foo.io/* | bar.io/*"]


# -- placeholders and parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("$(params.builder-image)", "builder-image"),
        ("$(params['builder.image'])", "builder.image"),
        ('$(params["builder-image"])', "builder-image"),
        (" $(params.IMAGE) ", "IMAGE"),
        ("$(params.list[*])", None),  # an array
        ("$(params.obj.key)", None),  # an object's key
        ("$(context.taskRun.name)", None),
        ("registry.example.com/app:$(params.tag)", None),  # more than the reference
    ],
)
def test_tekton_parameter_references(value: str, name: str | None) -> None:
    assert tekton.parameter_name(value) == name


def manifest(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_tekton_variables_are_placeholders_in_tekton_images_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = manifest(
        tmp_path,
        """\
        apiVersion: tekton.dev/v1
        kind: Task
        metadata: {name: t}
        spec:
          steps:
            - {name: a, image: "$(params['base'])"}
            - {name: b, image: "registry.example.com/app:$(context.taskRun.name)"}
            - {name: c, image: "$(params.list[0])"}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - {name: a, image: "registry.example.com/app:$(TAG)"}
        """,
    )
    images = listed(capsys, path)
    assert [(i["line"], i["placeholder"]) for i in images[:3]] == [
        (6, "Tekton variable"),
        (7, "Tekton variable"),
        (8, "Tekton variable"),
    ]
    # Kubernetes substitutes nothing in a pod's image: `$(TAG)` reaches the kubelet.
    assert images[3]["placeholder"] is None and images[3]["valid"] is False


def test_tekton_runtime_values_win_over_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tekton's documented precedence (pipelineruns.md, "Scope and Precedence" and "Default
    Values"): a value given at run time wins over a default; of several bindings the
    innermost wins; a binding that is itself a reference reads the level that wrote it."""
    path = manifest(
        tmp_path,
        """\
        apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {name: run}
        spec:
          params:
            - {name: tool, value: "registry.example.com/tool:2"}
            - {name: base, value: "registry.example.com/base:9"}
          pipelineSpec:
            params:
              - {name: builder, default: "registry.example.com/builder:1"}
            tasks:
              - name: build
                params:
                  - {name: image, value: "$(params.builder)"}
                  - {name: base, value: "registry.example.com/base:inner"}
                taskSpec:
                  params:
                    - {name: image, default: "registry.example.com/never:0"}
                    - {name: tool, default: "registry.example.com/tool:1"}
                  steps:
                    - {name: compile, image: $(params.image)}
                    - {name: tool, image: $(params.tool)}
                    - {name: base, image: "$(params.base)"}
        """,
    )
    resolved = [(i["line"], i["label"]) for i in listed(capsys, path) if i["valid"]]
    assert resolved == [
        (6, "PipelineRun run, task build, step tool (value of param tool)"),
        (10, "PipelineRun run, task build, step compile (default of param builder)"),
        (15, "PipelineRun run, task build, step base (value of param base)"),
    ]


def test_a_placeholder_whose_value_is_checked_is_not_counted_as_unchecked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two steps use one default (linted once, at its line): neither is "not checked"; a
    parameter with no value in the file is."""
    path = manifest(
        tmp_path,
        """\
        apiVersion: tekton.dev/v1
        kind: Task
        metadata: {name: t}
        spec:
          params:
            - {name: IMAGE, default: "registry.example.com/builder:1"}
            - {name: OTHER}
          steps:
            - {name: a, image: $(params.IMAGE)}
            - {name: b, image: $(params.IMAGE)}
            - {name: c, image: $(params.OTHER)}
        """,
    )
    code, out, _err = run([str(path)], capsys)
    assert code == 0
    assert out.splitlines()[-1] == (
        "All checks passed (1 file, 1 image; 1 image is a placeholder, not checked)"
    )
    code, out, _err = run(["--list-images", str(path)], capsys)
    assert [line.split("  ")[-1] for line in out.splitlines()] == [
        "registry.example.com/builder:1",
        "$(params.IMAGE) (Tekton variable; value checked at line 6)",
        "$(params.IMAGE) (Tekton variable; value checked at line 6)",
        "$(params.OTHER) (Tekton variable, not checked)",
    ]
    assert [(i["line"], i["value_line"]) for i in listed(capsys, path)] == [
        (6, None),
        (9, 6),
        (10, 6),
        (11, None),
    ]


def test_list_images_says_what_a_report_says_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Notes (what was not read) and, with -v, the image-like fields nobody reads: stdout
    stays the inventory."""
    path = manifest(
        tmp_path,
        """\
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w}
        spec:
          runner: {image: "busybox:1.36"}
        """,
    )
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (chart / "templates" / "pod.yaml").write_text("image: {{ .Values.image }}\n")
    code, out, err = run(["--list-images", "-v", str(path), str(chart)], capsys)
    assert (code, out) == (0, "")
    assert err.splitlines()[:2] == [
        f"imglint: note: {chart}/templates: Helm chart templates skipped; render it first: "
        "`helm template CHART | imglint -`",
        f"imglint: {path}:5: Widget w has an image-like field spec.runner.image "
        "('busybox:1.36') that imglint does not read; to lint it, add to image-fields: "
        "{group: example.com, kind: Widget, path: spec.runner.image}",
    ]
    code, out, err = run(["--list-images", str(path)], capsys)
    assert (code, out, err) == (0, "", "")


def test_an_empty_default_is_no_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`default: ""` means the run must give a value: nothing to lint but the placeholder."""
    path = manifest(
        tmp_path,
        """\
        apiVersion: tekton.dev/v1beta1
        kind: ClusterTask
        metadata: {name: t}
        spec:
          params: [{name: IMAGE, default: ""}]
          steps: [{name: a, image: $(params.IMAGE)}]
        """,
    )
    assert [(i["line"], i["placeholder"]) for i in listed(capsys, path)] == [(6, "Tekton variable")]


def test_argo_parameters_resolve_to_the_values_written_in_the_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Argo's parameter fields (workflow_types.go): an input's `value`, else its `default`;
    `workflow.parameters` are `spec.arguments.parameters[].value`. Spaces inside the braces
    are allowed (Argo trims the tag)."""
    path = manifest(
        tmp_path,
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowTemplate
        metadata: {name: wt}
        spec:
          arguments:
            parameters:
              - {name: tf, value: "descrepes/terraform:0.12.9-demo"}
          templates:
            - name: plan
              script:
                image: "{{ workflow.parameters.tf }}"
                source: terraform plan
            - name: apply
              inputs:
                parameters:
                  - {name: image, default: "{{workflow.parameters.tf}}"}
              container: {image: "{{inputs.parameters.image}}"}
            - name: test
              inputs:
                parameters:
                  - {name: image, default: "alpine:3.23"}
                  - {name: tag}
              container: {image: "{{inputs.parameters.image}}"}
              sidecars:
                - {name: db, image: "postgres:{{inputs.parameters.tag}}"}
        """,
    )
    images = listed(capsys, path)
    assert [(i["line"], i["label"], i["placeholder"] is not None) for i in images] == [
        (7, "WorkflowTemplate wt, template plan, script (value of param tf)", False),
        (11, "WorkflowTemplate wt, template plan, script", True),
        (17, "WorkflowTemplate wt, template apply, container", True),
        (21, "WorkflowTemplate wt, template test, container (default of param image)", False),
        (23, "WorkflowTemplate wt, template test, container", True),
        (25, "WorkflowTemplate wt, template test, sidecar db", True),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{inputs.parameters.image}}", ("image", "inputs")),
        ("{{ workflow.parameters.image }}", ("image", "workflow")),
        ("{{inputs.parameters.image}}:{{inputs.parameters.tag}}", None),
        ("{{=inputs.parameters.image}}", None),  # an expression
        ("{{item.image}}", None),
    ],
)
def test_argo_parameter_references(value: str, expected: tuple[str, str] | None) -> None:
    match = argo.PARAMETER.fullmatch(value.strip())
    assert (None if match is None else (match.group(2), match.group(1))) == expected


def test_image_volumes_of_tekton_and_argo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both take Kubernetes volumes as they are, image volumes (`image.reference`) included."""
    path = manifest(
        tmp_path,
        """\
        apiVersion: tekton.dev/v1
        kind: Task
        metadata: {name: t}
        spec:
          steps: [{name: a, image: "alpine:3.23"}]
          volumes: [{name: models, image: {reference: "quay.io/acme/models:1", pullPolicy: Always}}]
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: w}
        spec:
          volumes: [{name: data, image: {reference: "quay.io/acme/data:2"}}]
          templates:
            - name: main
              container: {image: "alpine:3.23"}
              volumes: [{name: tools, image: {reference: "quay.io/acme/tools:3"}}]
        """,
    )
    images = listed(capsys, path)
    assert [(i["line"], i["label"], i["pull_policy"]) for i in images] == [
        (5, "Task t, step a", None),
        (6, "Task t, volume models", "Always"),
        (12, "Workflow w, volume data", None),
        (15, "Workflow w, template main, container", None),
        (16, "Workflow w, template main, volume tools", None),
    ]


def test_summary_counts_placeholders_not_checked(capsys: pytest.CaptureFixture[str]) -> None:
    # Four placeholders; three are exactly a parameter whose value the file gives (git-clone's
    # gitInitImage default, kaniko's BUILDER_IMAGE, a TaskRun's bound image): checked there.
    _, out, _ = run([str(CRD / "tekton"), str(CRD / "argo/ci.yaml")], capsys)
    assert "1 image is a placeholder, not checked" in out.splitlines()[-1]
    _code, out, _ = run([str(CRD / "argo/init-container.yaml")], capsys)
    assert "placeholder" not in out


# -- findings, pull secrets and registries -----------------------------------------------------


def test_findings_name_the_site(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--select", "IMG005", str(CRD / "tekton/pipelinerun.yaml")], capsys)
    assert "(Task kaniko, step build-and-push (default of param BUILDER_IMAGE))" in out
    assert "pipelinerun.yaml:135:16: IMG005" in out


PRIVATE = "private-registries: [ghcr.io, docker.io, xpkg.upbound.io, us-west1-docker.pkg.dev]\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # The TaskRun's ServiceAccount lists a secret for gcr.io only: a mismatch, not a miss.
        ("tekton/pull-private-image.yaml", [(50, "IMG007")]),
        # A Task has no pull secrets of its own: its TaskRun decides; nothing is guessed.
        ("tekton/git-clone.yaml", []),
        # spec.imagePullSecrets covers every pod of the workflow.
        ("argo/image-pull-secrets.yaml", []),
        # No imagePullSecrets, no ServiceAccount in the files: unknown, said as such.
        ("argo/init-container.yaml", []),
        ("crossplane/configuration.yaml", []),  # packagePullSecrets
        ("crossplane/provider.yaml", [(6, "IMG006")]),  # a private registry, no secret
    ],
)
def test_each_resource_pulls_with_its_own_secrets(
    name: str,
    expected: list[tuple[int, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / ".imglint.yaml").write_text(PRIVATE + "select: [IMG006, IMG007]\n")
    _, report, _ = lint(capsys, str(CRD / name))
    found = [(f["line"], f["code"]) for f in report["findings"]]
    if name == "argo/init-container.yaml":
        assert [code for _, code in found] == ["IMG006", "IMG006"]
        assert all("not in the linted files" in f["message"] for f in report["findings"])
        return
    assert found == expected


def test_kubevirt_disks_share_the_launcher_pods_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """KubeVirt puts every containerDisk's and the kernel's `imagePullSecret` on the one
    virt-launcher pod (rendervolumes.go, template.go): each covers all of the VM's images."""
    (tmp_path / ".imglint.yaml").write_text(
        "private-registries: [registry.example.com]\nselect: [IMG006]\n"
    )
    path = manifest(
        tmp_path,
        """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: vm, namespace: apps}
        spec:
          template:
            spec:
              domain:
                firmware:
                  kernelBoot:
                    container: {image: "registry.example.com/kernel:6.1"}
              volumes:
                - name: root
                  containerDisk:
                    image: registry.example.com/disks/fedora:40
                    imagePullSecret: registry-example
                - name: data
                  containerDisk: {image: "registry.example.com/disks/data:1"}
        ---
        apiVersion: kubevirt.io/v1
        kind: VirtualMachineInstance
        metadata: {name: bare, namespace: apps}
        spec:
          volumes:
            - name: root
              containerDisk: {image: "registry.example.com/disks/fedora:40"}
        """,
    )
    _, report, _ = lint(capsys, path)
    assert [(f["line"], f["code"]) for f in report["findings"]] == [(25, "IMG006")]


def test_crossplane_packages_default_to_crossplanes_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(CRD / "crossplane/provider-dependency.yaml")
    (image,) = listed(capsys, path)
    assert image["normalized"] == "xpkg.crossplane.io/crossplane-contrib/provider-nop:v0.2.0"
    assert image["registry"] == "xpkg.crossplane.io"
    _, report, _ = lint(capsys, path)
    assert [f["code"] for f in report["findings"]] == ["IMG004"]  # no Docker Hub rule
    assert "pulled from xpkg.crossplane.io" in report["findings"][0]["message"]
    (tmp_path / ".imglint.yaml").write_text("crossplane-registry: xpkg.upbound.io\n")
    (image,) = listed(capsys, path)
    assert image["normalized"] == "xpkg.upbound.io/crossplane-contrib/provider-nop:v0.2.0"


def test_fix_writes_crossplanes_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "provider.yaml"
    path.write_text((CRD / "crossplane/provider-dependency.yaml").read_text())
    _code, _, err = run(["--fix", "--select", "IMG004", str(path)], capsys)
    assert "package: xpkg.crossplane.io/crossplane-contrib/provider-nop:v0.2.0\n" in (
        path.read_text()
    ), err


@pytest.mark.registry
def test_resolve_and_pin_use_the_resources_registry(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--resolve` asks the registry a Crossplane package really comes from, and a Tekton
    default is checked where it is written; `--pin` pins both in place."""
    host = seeded.registry.host
    (tmp_path / ".imglint.yaml").write_text(f"crossplane-registry: {host}\n")
    path = manifest(
        tmp_path,
        f"""\
        apiVersion: pkg.crossplane.io/v1
        kind: Provider
        metadata: {{name: app}}
        spec:
          package: team/app:1.0
        ---
        apiVersion: pkg.crossplane.io/v1
        kind: Function
        metadata: {{name: missing}}
        spec:
          package: team/app:1.1
        ---
        apiVersion: tekton.dev/v1
        kind: Task
        metadata: {{name: build}}
        spec:
          params:
            - name: BUILDER
              default: {host}/team/app:2.0
          steps:
            - name: compile
              image: $(params.BUILDER)
        """,
    )
    _, report, _ = lint(capsys, "--resolve", "--select", "IMG101", path)
    assert [(f["line"], f["code"]) for f in report["findings"]] == [(11, "IMG101")]
    run(["--pin", "--select", "IMG101", path], capsys)
    text = Path(path).read_text()
    assert f"package: team/app:1.0@{seeded.app_1_0}\n" in text
    assert f"default: {host}/team/app:2.0@{seeded.app_2_0}\n" in text
    assert "image: $(params.BUILDER)\n" in text


# -- image-fields --------------------------------------------------------------------------------

IMAGE_FIELDS = """\
image-fields:
  - group: kpack.io
    kind: ClusterStack
    path: spec.buildImage.image
  - group: kpack.io
    kind: ClusterStack
    path: spec.runImage.image
    default-registry: registry.example.com
  - apiVersion: shipwright.io/v1beta1
    kind: ClusterBuildStrategy
    path: spec.steps[].image
"""


def test_image_fields_name_images_of_other_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".imglint.yaml").write_text(IMAGE_FIELDS)
    images = listed(capsys, str(CRD / "image-fields"))
    assert [(i["line"], i["field_path"], i["normalized"]) for i in images] == [
        (9, "spec.steps[0].image", "gcr.io/kaniko-project/executor:v1.23.1"),
        (8, "spec.buildImage.image", "docker.io/paketobuildpacks/build:base-cnb"),
        (10, "spec.runImage.image", "registry.example.com/paketobuildpacks/run:base-cnb"),
    ]
    assert images[0]["label"] == "ClusterBuildStrategy kaniko, spec.steps[0].image"


def test_image_fields_never_report_a_site_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".imglint.yaml").write_text(
        "image-fields:\n"
        "  - {group: tekton.dev, kind: Task, path: 'spec.steps[].image'}\n"
        "  - {group: apps, kind: Deployment, path: 'spec.template.spec.containers[].image'}\n"
    )
    path = manifest(
        tmp_path,
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers: [{name: web, image: "nginx:1.25"}]
        """,
    )
    images = listed(capsys, str(CRD / "tekton/pipelinerun.yaml"), path)
    assert [(i["line"], i["source"]) for i in images] == [
        (61, "resource-field"),
        (135, "resource-field"),
        (151, "resource-field"),
        (164, "resource-field"),
        (7, "pod"),  # the pod-spec walker's, with the pod's pull secrets
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "image-fields:\n  - group: kpack.io\n    kind: ClusterStack\n    path: spec..image\n",
            ".imglint.yaml:4: image-fields[0]: path 'spec..image': '' is not a key",
        ),
        (
            "image-fields:\n  - {kind: ClusterStack, path: spec.image}\n",
            ".imglint.yaml:2: image-fields[0]: needs either group or apiVersion",
        ),
        (
            "image-fields:\n  - group: a.io\n    kind: K\n    path: x\n    registry: r.io\n",
            '.imglint.yaml:5: image-fields[0]: unknown key "registry"',
        ),
        (
            "image-fields:\n  - {group: a.io, kind: K, path: x, default-registry: 'http://r'}\n",
            ".imglint.yaml:2: image-fields[0]: default-registry: 'http://r' is not a registry",
        ),
        ("image-fields: spec.image\n", ".imglint.yaml:1: image-fields must be a list"),
        ("crossplane-registry: [a]\n", ".imglint.yaml:1: crossplane-registry: ['a'] is not"),
    ],
)
def test_bad_image_fields_are_config_errors_at_their_line(
    config: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".imglint.yaml").write_text(config)
    code, _, err = run([str(CRD / "image-fields")], capsys)
    assert code == 2
    assert message in err


def test_verbose_lists_image_like_fields_nobody_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["-v", str(CRD / "image-fields"), str(CRD / "policies")], capsys)
    assert code == 0 and "0 images" in out
    notes = [line for line in err.splitlines() if "image-like field" in line]
    assert len(notes) == 3
    assert notes[1].endswith(
        "cluster_stack.yaml:8: ClusterStack default has an image-like field "
        "spec.buildImage.image ('paketobuildpacks/build:base-cnb') that imglint does not read; "
        "to lint it, add to image-fields: "
        "{group: kpack.io, kind: ClusterStack, path: spec.buildImage.image}"
    )
    # Named in image-fields, it is read, and no longer a note.
    (tmp_path / ".imglint.yaml").write_text(IMAGE_FIELDS)
    code, out, err = run(["-v", str(CRD / "image-fields")], capsys)
    assert "image-like" not in err and "3 images" in out


# -- suppressions, baselines and every output format ---------------------------------------------

TASK = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build
  namespace: ci
  annotations:
    imglint.dev/ignore: IMG005
spec:
  params:
    - name: BUILDER
      default: gcr.io/kaniko-project/executor:latest  # imglint: ignore[IMG002]
  steps:
    - name: compile
      image: $(params.BUILDER)
    - name: test
      image: golang:latest
    - name: lint
      # imglint: ignore[latest-tag]
      image: golangci/golangci-lint:latest
"""


def test_suppressions_work_on_resource_sites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = manifest(tmp_path, TASK)
    _, report, _ = lint(capsys, "--select", "IMG002", path)
    assert [(f["line"], f["code"], f["label"]) for f in report["findings"]] == [
        (16, "IMG002", "Task ci/build, step test"),
    ]
    # The object's annotation suppresses IMG005 for every site of the Task.
    _, report, _ = lint(capsys, "--select", "IMG004,IMG005", path)
    assert [(f["line"], f["code"]) for f in report["findings"]] == [(16, "IMG004"), (19, "IMG004")]


def test_baselines_match_resource_findings_by_site_not_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = manifest(tmp_path, TASK)
    baseline = tmp_path / "baseline.json"
    code, _, err = run(["--write-baseline", str(baseline), "--select", "IMG004", path], capsys)
    assert code == 0, err
    # The same findings, lines moved: still known. A new step's finding is new.
    moved = TASK.replace("spec:\n", "spec:\n  description: moved\n").replace(
        "    - name: lint\n",
        "    - name: vet\n      image: golang:1.22\n    - name: lint\n",
    )
    manifest(tmp_path, moved)
    _, report, _ = lint(capsys, "--baseline", str(baseline), "--select", "IMG004", path)
    assert [(f["line"], f["label"]) for f in report["findings"]] == [
        (19, "Task ci/build, step vet")
    ]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_every_format_names_the_site(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = manifest(tmp_path, TASK)
    code, out, err = run(["--format", fmt, "--select", "IMG002", path], capsys)
    assert code == 1, err
    assert "Task ci/build, step test" in out
    if fmt == "sarif":
        result = json.loads(out)["runs"][0]["results"][0]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (16, 14)
        assert result["partialFingerprints"]
