"""Start-up stays near `python -c "import yaml"`: an offline run loads only what it uses.

Every module below has a run that needs it (the registry check, --fix, kustomize builds, Helm
values, other report formats, workers...); none is needed to lint one YAML file offline, so
none may load then. (`datetime` is not among them: PyYAML's constructor imports it, so it is
part of `import yaml` itself.) The speed is measured by benchmarks/bench_lint.py, not here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

NOT_LOADED_OFFLINE = (
    # the registry check and what only its answers need
    "httpx",
    "ssl",
    "socket",
    "hashlib",
    "json",
    "imglint.registry",
    "imglint.resolve",
    "imglint.placement",
    # rules that do not run offline or by default: a rule's module loads when its check runs
    "imglint.rules._registry",
    "imglint.rules.img101_tag_not_found",
    "imglint.rules.img102_repository_not_found",
    "imglint.rules.img103_registry_auth_failed",
    "imglint.rules.img104_stale_digest",
    "imglint.rules.img105_digest_not_found",
    "imglint.rules.img106_platform_missing",
    "imglint.rules.img107_registry_unreachable",
    "imglint.rules.img108_image_too_old",
    "imglint.rules.img005_unpinned_image",
    "imglint.rules.img009_docker_hub_anonymous",
    "imglint.rules.img010_pull_policy_mutable_tag",
    "imglint.rules.img014_pull_policy_not_always",
    # rules that find nothing until a setting is configured, or without Secrets in the set
    "imglint.rules.img006_missing_pull_secret",
    "imglint.rules.img007_pull_secret_registry_mismatch",
    "imglint.rules.img008_disallowed_registry",
    "imglint.rules.img012_disallowed_tag",
    "imglint.rules._shared",
    "imglint.keyring",
    # extractors of custom resources: loaded when an object of their kinds is met; image-fields
    # entries and -v's survey
    "imglint.extract.argo",
    "imglint.extract.tekton",
    "imglint.extract.kubevirt",
    "imglint.extract.crossplane",
    "imglint.extract.prometheus",
    "imglint.extract.fields",
    # kustomization and Helm values extractors: loaded when a file or object of theirs is met
    "imglint.extract.kustomize",
    "imglint.extract.helm",
    "imglint.extract.resources",
    # a pod's placement, read only when it says where it runs (nodeSelector, affinity)
    "imglint.extract.placement",
    # rewriting files
    "imglint.fix",
    "imglint.pin",
    "difflib",
    # kustomize builds and Helm values, read only when a file is one
    "subprocess",
    "imglint.kustomize",
    "imglint.kustomize_tree",
    "imglint.kustomize_sites",
    "imglint.kustomize_origin",
    "imglint.helm",
    "imglint.helm_values",
    "imglint.helm_values_chart",
    "imglint.helm_templates",
    "imglint.helm_values_gitops",
    "imglint.github_action",
    # reports not asked for, baselines, configuration formats not present
    "imglint.report.json",
    "imglint.report.sarif",
    "imglint.report.junit",
    "imglint.report.github",
    "imglint.report.gitlab",
    "imglint.report.cyclonedx",
    "imglint.report.inventory",
    "imglint.baseline",
    "tomllib",
    "ipaddress",
    # parallel reading, never for one small file
    "concurrent.futures",
    "multiprocessing",
    "pickle",
    "select",
    # what only files with template lines, or composed whole, need
    "heapq",
    "bisect",
    # globs in the configuration (registry patterns, tag globs, exclude)
    "fnmatch",
    # importlib.import_module: importing importlib loads warnings too (`python -m` loads both
    # anyway, for runpy)
    "importlib",
    "warnings",
    # YAML libraries imglint does not run
    "ruamel",
    "ruamel.yaml",
    # annotations only (TYPE_CHECKING = False in each module): typing is a large import
    "typing",
    # a plain command line is read without argparse (imglint.arguments), which loads gettext
    # and locale and translates each option's help as the parser is built
    "argparse",
    "gettext",
    "locale",
)

MANIFESTS = {
    "no object": "kind: ConfigMap\n",
    "one pod": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
    "spec:\n  containers: [{name: a, image: 'docker.io/library/nginx:1.25'}]\n",
    "a pod and a CRD": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
    "metadata: {name: widgets.example.com}\nspec: {group: example.com}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
    "    spec:\n      containers: [{name: web, image: 'nginx:latest'}]\n",
}


@pytest.mark.parametrize("manifest", sorted(MANIFESTS))
def test_an_offline_one_file_run_loads_only_what_it_uses(tmp_path: Path, manifest: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(MANIFESTS[manifest])
    probe = (
        "import sys; from imglint.cli import main; code = main([sys.argv[1]]); "
        f"print(code, ','.join(m for m in {NOT_LOADED_OFFLINE!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    code, _, loaded = result.stdout.splitlines()[-1].partition(" ")
    assert code in ("0", "1")  # linted: findings or none, no input error
    assert loaded == ""


def test_an_extractor_module_loads_when_an_object_of_its_kinds_is_met(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text(
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build}\n"
        "spec:\n  steps: [{name: a, image: 'docker.io/library/golang:1.22'}]\n"
    )
    probe = (
        "import sys; from imglint.cli import main; code = main(['--list-images', sys.argv[1]]); "
        "print(code, *(f'imglint.extract.{m}' in sys.modules for m in ('tekton', 'argo')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "docker.io/library/golang:1.22" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 True False"


# imglint's own command line (`run`, what the console script and `python -m imglint` call) in
# a process that says when it is left to the interpreter's usual exit (and its teardown).
_PROCESS = (
    "import sys\n"
    "{setup}\n"
    "from imglint.cli import run\n"
    "try:\n"
    "    run()\n"
    "except SystemExit:\n"
    "    print('interpreter exit')\n"
    "    raise\n"
)

_WAITING_FOR_TEARDOWN = {
    "nothing": "",
    "an exit handler": "import atexit; atexit.register(print, 'exit handler')",
    "a profiler": "sys.setprofile(lambda *args: None)",
    "a tracer": "sys.settrace(lambda *args: None)",
    # (a daemon thread waiting for ever: still there at the end, whatever the machine's load)
    "a thread": "import threading; threading.Thread(target=threading.Event().wait, daemon=True)"
    ".start()",
}


@pytest.mark.parametrize("waiting", sorted(_WAITING_FOR_TEARDOWN))
def test_the_process_ends_without_teardown_only_when_nothing_waits_for_it(
    tmp_path: Path, waiting: str
) -> None:
    """The interpreter's teardown is skipped (`os._exit`) when nothing waits for it; the report
    is complete even in a file (block-buffered), and the exit code is the run's."""
    path = tmp_path / "p.yaml"
    path.write_text(MANIFESTS["a pod and a CRD"])  # nginx:latest: findings, exit 1
    report = tmp_path / "report.txt"
    with report.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-c", _PROCESS.format(setup=_WAITING_FOR_TEARDOWN[waiting]), path],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            cwd=tmp_path,
        )
    assert result.returncode == 1, result.stderr
    lines = report.read_text().splitlines()
    after_report = [] if waiting == "nothing" else ["interpreter exit"]
    if waiting == "an exit handler":
        after_report.append("exit handler")
    assert "IMG002" in lines[0]
    assert lines[-1 - len(after_report)] == "2 findings (1 error, 1 warning) in 1 file, 1 image"
    assert lines[len(lines) - len(after_report) :] == after_report
