"""Is an image value a placeholder that a tool fills in before apply, or meant as a reference?

A placeholder is not linted (no rule, no registry request, no rewrite): the reference it becomes
exists only after the tool ran. Only the substitution forms tools really expand count; any other
`$` is part of the value the runtime gets, and the reference grammar judges it:

- `registry.example.com/app:$(TAG)` is not one. Kubernetes expands `$(VAR)` in a container's
  `command`, `args` and `env`, never in `image`: the kubelet reports InvalidImageName.
- `aa/asdf$$^/aa` is not one either: `$$` is envsubst's and Flux's escape for a literal `$`.

Every extractor asks `placeholder_kind(value, syntaxes)` with the syntaxes its kind of object
uses: pod specs use `POD_IMAGE_SYNTAXES`; a custom resource that substitutes its own parameters
(Tekton's `$(params.x)`) passes its own `Syntax` next to them:

    TEKTON_PARAMETER = Syntax("Tekton parameter", re.compile(r"\\$\\(params\\.[^)]+\\)"))
    placeholder_kind(value, (*POD_IMAGE_SYNTAXES, TEKTON_PARAMETER))
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from imglint.lazy_pattern import LazyPattern
from imglint.records import dataclass

# A shell/envsubst variable name: POSIX, and what Flux's post-build substitution accepts
# (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class Syntax:
    """One substitution form. A value holds it when `pattern` matches somewhere in it; a match
    whose text is `escape` is a literal written that way, not a substitution. `marker`: text
    that every match holds; a value without it is decided without the pattern (most values
    hold no placeholder at all, and a `LazyPattern` then never compiles)."""

    description: str  # what the placeholder is, for --list-images ("variable placeholder")
    pattern: re.Pattern[str] | LazyPattern
    escape: str | None = None
    marker: str = ""

    def found_in(self, value: str) -> bool:
        if self.marker not in value:
            return False
        if self.escape is None:
            return self.pattern.search(value) is not None
        return any(m.group() != self.escape for m in self.pattern.finditer(value))


# Go templates (Helm, Argo CD ApplicationSets, Argo Workflows' `{{inputs.parameters.x}}`).
GO_TEMPLATE = Syntax("template placeholder", LazyPattern(r"\{\{.*?\}\}", re.DOTALL), marker="{{")
# envsubst (GNU gettext: `$NAME`, `${NAME}`; a8m/envsubst adds `${NAME:-default}` and the other
# shell defaults) and Flux's post-build substitution (drone/envsubst: `${NAME}`, `${NAME:=x}` and
# the bash operators `${NAME/a/b}`, `${NAME:0:7}`, `${NAME^^}`...). `$$` escapes a `$` in both
# Go implementations, so `$${NAME}` stays literal; it is matched first so that it is skipped.
SHELL_VARIABLE = Syntax(
    "variable placeholder",
    LazyPattern(rf"\$\$|\$\{{{_NAME}(?:[-=+?:#%/^,][^}}]*)?\}}|\${_NAME}"),
    escape="$$",
    marker="$",
)
# ko's import-path references, replaced by the image ko builds (`ko resolve`, `ko apply`).
KO_BUILD = Syntax("ko build reference", LazyPattern(r"\Ako://"), marker="ko://")

POD_IMAGE_SYNTAXES: tuple[Syntax, ...] = (GO_TEMPLATE, SHELL_VARIABLE, KO_BUILD)


def placeholder_kind(value: str, syntaxes: Sequence[Syntax] = POD_IMAGE_SYNTAXES) -> str | None:
    """The description of the first syntax found in value, or None: a value meant as a reference."""
    for syntax in syntaxes:
        if syntax.found_in(value):
            return syntax.description
    return None
