"""imglint: lint container image references in Kubernetes manifests before they are applied.

Where things are: the package `imglint` is the folder `linter/` and `imglint.rules` is the
folder `rules/` (the design card keeps both at the top of the repository), so `imglint.x` is
`linter/x.py` (`imglint.extract.pods` is `linter/extract/pods.py`) and `imglint.rules.x` is
`rules/x.py`. A run flows down this list:

- `cli`: the command line: flag checks, streams and exit codes (`main(argv)`); `arguments`
  declares its options once (argparse's parser and a fast reader of plain command lines).
- `app`: the pipeline of one run (`Application`, given typed `Options`): configuration, read,
  fix, read again, resolve, lint, tracing rendered stdin, baseline, report.
- `config`: configuration files found and validated into the typed `Config` (patterns parsed
  once; `Config.rule_settings` is what rules read).
- `patterns`: registry patterns and image globs, as the configuration names them.
- `sources`: finding manifest files and reading them into decoded `Source` texts.
- `manifests`: the reader's small front: `load(sources)` runs documents, indexing, extraction.
- `documents`: YAML/JSON text into positioned node trees and Kubernetes objects (limits, merge
  keys, errors at their lines, telling a template from a manifest).
- `document_filter`: which documents need composing, judged from their text (the documents
  nothing would read are blanked in place; `extract.document_filter` says which are wanted).
- `extract/`: finding images in objects and files: the explicit extractor lists and the kinds
  never searched (`__init__`), the seam extractors use (`sink`), the generic pod-spec walker
  (`pods`), one module per further source.
- `pull_secrets`: ServiceAccounts and pull Secrets of the set, into the object index.
- `sites`: the site model every layer shares (K8sObject, PullSecretHolder, ImageSite and its
  identity for baselines and fingerprints); no reader, no YAML.
- `reference`: image references parsed exactly as the container runtime parses them.
- `context`: what a rule may read besides its site: `settings_for(site)` (`RuleSettings`), the
  object index (`pod_secrets(site)`), `answer_for(site)` (the registry's typed answers).
- `engine`: runs the selected rules over the sites into sorted findings (ignore, severity,
  suppressions applied once).
- `suppress`: suppression comments and annotations, and the unused ones.
- `findings`: the diagnostic model (Severity, Span, Finding, InputError, UnusedSuppression).
- `report/`: the renderers (text, json, sarif, github, junit, gitlab, the image inventory).
- `helm`: moves findings on `helm template` output to the chart templates they came from, and
  names the values key that declared each image.
- `helm_values`: image declarations in Helm values files, assembled as the chart renders them;
  `helm_templates` reads what a chart's templates say about its image values (textually),
  `helm_values_chart` reads the chart around a values file (Chart.yaml, subcharts, parent),
  `helm_values_gitops` finds values inside Flux, Argo CD and kustomize objects.
- `baseline`: record today's findings, report only new ones.
- `fix`, `pin`: `--fix`/`--pin` rewriting image scalars in place, byte for byte.
- `resolve`: runs the registry check for the application (options from the configuration,
  pull secrets, progress, the summary line).
- `registry/`: the registry check over HTTP (model, client, transport, auth, credentials,
  cache, media, endpoint); it knows nothing of configuration or rule codes.
- `keyring`: which registry keys of a pull secret the kubelet uses for an image.
- `github_action`: the GitHub Action's step (action.yml): one run, then annotations, SARIF,
  job summary and outputs.
- `records`, `errors`: the light `@dataclass`, the exception hierarchy.
- `rules/` (`imglint.rules`): one module per rule, listed in `rules/__init__.py`.
"""

__version__ = "0.1.0"
