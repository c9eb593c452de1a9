"""Point findings in `helm template` output at the chart templates they came from.

Helm writes `# Source: CHART/templates/FILE.yaml` at the top of every rendered document. A finding
at line L of stdin is shown at that template path, at its line inside the rendered document (the
line after the comment is line 1), which is where a chart author goes to fix it.

Helm's paths start at the chart's name, not at the repository root, so GitHub annotations and
code scanning could not place them. When stdin is named after the chart's folder
(`helm template charts/shop | imglint --stdin-filename charts/shop -`, a folder holding a
Chart.yaml), the chart name is replaced by that folder: `charts/shop/templates/deployment.yaml`.

The chart's values are then read too (imglint.helm_values, with the `--values` files applied in
order): a finding whose image a values key declares names that key (`Finding.declared_at`), the
one its rule concerns, while its own location and identity stay the template's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from imglint import records
from imglint.findings import Declaration, Finding, InputError, Span, UnusedSuppression
from imglint.reference import InvalidReference, parse
from imglint.sites import ImageSite
from imglint.sources import Source

if TYPE_CHECKING:
    from imglint.helm_values import ValuesImage

_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$")
_SEPARATOR = re.compile(r"^---(\s|$)")


class RenderedSources:
    """Maps positions on stdin to the `# Source:` templates of `helm template` output.

    `chart_dir`: the stdin name; if it is a chart's folder, template paths are placed in it.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        chart_dir: str | None = None,
        values_files: Sequence[str] = (),
    ) -> None:
        self._texts = {s.path: s.text for s in sources if s.file_path is None}
        is_chart = chart_dir and os.path.isfile(os.path.join(chart_dir, "Chart.yaml"))
        self._root = chart_dir if is_chart else None
        self._values_files = tuple(values_files)
        self._values: list[ValuesImage] | None = None
        # Values files (or parts of the chart) that could not be read for tracing.
        self.errors: list[InputError] = []

    def values_images(self) -> list[ValuesImage]:
        """The images the chart's values declare (with the `--values` files applied): read once,
        only when a finding is to be traced."""
        if self._values is None:
            self._values = []
            if self._root is not None:
                self._values, self.errors = chart_values_images(self._root, self._values_files)
        return self._values

    def locate(self, path: str, line: int) -> tuple[str, int] | None:
        """(template path, lines to subtract) for a 1-based line of stdin; None: not Helm's."""
        text = self._texts.get(path)
        origin = _origin(text, line) if text is not None else None
        if origin is None:
            return None
        template, comment_line = origin
        if self._root is not None:
            template = _in_chart(self._root, template)
        return template, comment_line

    def _move(self, path: str, span: Span) -> tuple[str, Span] | None:
        """The template and the span inside its rendered document, for a span on stdin."""
        place = self.locate(path, span.line)
        if place is None:
            return None
        template, offset = place
        return template, span.moved_up(offset)

    def findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """Findings moved to their templates (naming the values keys that declared their
        images, for a chart folder), resorted."""
        if self._values_files:
            self.values_images()  # read now: a --values file that is missing is an error
        mapped: list[Finding] = []
        for finding in findings:
            place = self._move(finding.path, finding.span)
            if place is None:
                mapped.append(finding)
                continue
            template, span = place
            extra = {
                **finding.extra,
                "rendered_path": finding.path,
                "rendered_line": str(finding.span.line),
            }
            mapped.append(
                records.replace(
                    finding,
                    path=template,
                    span=span,
                    extra=extra,
                    declared_at=self._declared_at(finding, template),
                )
            )
        return sorted(mapped, key=lambda f: f.sort_key)

    def _declared_at(self, finding: Finding, template: str) -> tuple[Declaration, ...]:
        """The values keys that declared a finding's image: the key the finding's rule concerns
        (the tag's for a tag finding)."""
        from imglint import rules

        rule = rules.lookup(finding.code)
        return self.declared_at(finding.image, template, rule.concerns if rule else None)

    def declared_at(
        self, image: str | None, template: str, concerns: str | None = None
    ) -> tuple[Declaration, ...]:
        """The values keys that declared an image rendered in `template`: the key of the part
        `concerns` names, else the image's own key. Only for a chart folder named by
        --stdin-filename."""
        if self._root is None or image is None:
            return ()
        images = self.values_images()
        return tuple(
            declaration_of(found, concerns) for found in declarations_for(image, template, images)
        )

    def sites(self, sites: Sequence[ImageSite]) -> list[ImageSite]:
        """Image sites moved to their templates, resorted (`--list-images`, like findings)."""
        mapped: list[ImageSite] = []
        for site in sites:
            place = self._move(site.path, site.span)
            mapped.append(
                site if place is None else records.replace(site, path=place[0], span=place[1])
            )
        return sorted(mapped, key=lambda s: (s.path, s.span.line, s.span.column))

    def suppressions(self, unused: Sequence[UnusedSuppression]) -> list[UnusedSuppression]:
        """Unused suppression comments moved to their templates, like findings."""
        mapped: list[UnusedSuppression] = []
        for item in unused:
            place = self.locate(item.path, item.line)
            if place is None:
                mapped.append(item)
            else:
                mapped.append(records.replace(item, path=place[0], line=item.line - place[1]))
        return sorted(mapped, key=lambda u: (u.path, u.line, u.column or 0))


def _in_chart(root: str, template: str) -> str:
    """`shop/templates/x.yaml` placed in the chart folder `charts/shop` (whatever its name)."""
    _chart, _, rest = template.partition("/")
    return os.path.join(root, rest) if rest else template


def _origin(text: str, line: int) -> tuple[str, int] | None:
    """The `# Source:` template of the document holding 1-based `line`, and the comment's line."""
    for comment_line, template in reversed(_markers(text)):
        if comment_line < line:
            return (template, comment_line) if template else None
    return None


@lru_cache(maxsize=8)
def _markers(text: str) -> tuple[tuple[int, str], ...]:
    """Per document separator and `# Source:` comment, in order: (1-based line, template or "")."""
    markers: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line):
            markers.append((number, ""))  # a new document: no template until a comment says so
            continue
        match = _SOURCE.match(line)
        if match:
            markers.append((number, match.group(1)))
    return tuple(markers)


# -- rendered images traced back to the values keys that declare them ---------------------------


def chart_values_images(
    chart_dir: str, values_files: Sequence[str]
) -> tuple[list[ValuesImage], list[InputError]]:
    """The images the chart's values declare once `values_files` are applied over its
    values.yaml (in order, the last wins, as `helm template -f`), and what could not be read.

    A subchart's own default that no values file overrides is included under its key.
    """
    from imglint.helm_values import Layer, find_images
    from imglint.helm_values_chart import VALUES_FILE, ChartReader

    reader = ChartReader()
    facts, problems = reader.chart(chart_dir)
    errors = list(problems)
    own = os.path.join(chart_dir, VALUES_FILE)
    for path in values_files:
        if not os.path.isfile(path):
            errors.append(InputError(path, "--values: no such file"))
    files = ([own] if os.path.isfile(own) else []) + [p for p in values_files if os.path.isfile(p)]
    layers: list[Layer] = []
    by_field: dict[str, ValuesImage] = {}
    for path in files:
        root = reader.values(path, errors)
        if root is None:
            continue
        layered = records.replace(facts, defaults=list(layers))
        for image in find_images(path, root, layered):
            by_field[image.field] = image  # a later file's declaration replaces an earlier one
        layers.append(Layer(path, root))
    for key, sub_values in facts.subchart_values.items():
        sub_facts = facts.subcharts[key]
        for image in find_images(sub_values.file, sub_values.root, sub_facts):
            field_name = f"{key}.{image.field}"
            if field_name not in by_field:
                by_field[field_name] = image
    return list(by_field.values()), errors


def declarations_for(
    image_text: str | None, template: str, images: Sequence[ValuesImage]
) -> list[ValuesImage]:
    """The values images that render `image_text`: same repository, tag and digest (or, when
    none has all three, same repository and tag). Several when the values declare the same
    image twice; a template under `charts/KEY/` prefers the declarations under `KEY.`."""
    if not image_text:
        return []
    wanted = _key(image_text)
    if wanted is None:
        return []
    exact = [i for i in images if i.reference and _key(i.reference) == wanted]
    found = exact or [
        i for i in images if i.reference and (_key(i.reference) or ())[:2] == wanted[:2]
    ]
    if len(found) > 1:
        subchart = re.search(r"(?:^|/)charts/([^/]+)/templates/", template)
        if subchart:
            prefix = subchart.group(1) + "."
            narrowed = [
                i
                for i in found
                if i.field.startswith(prefix)
                or i.file.endswith(f"charts/{subchart.group(1)}/values.yaml")
            ]
            found = narrowed or found
        else:
            found = [i for i in found if "/charts/" not in i.file.replace(os.sep, "/")] or found
    return found


def declaration_of(image: ValuesImage, component: str | None) -> Declaration:
    """The values key a finding about `component` (registry, repository, tag, digest) points at."""
    part = {
        "registry": image.registry or image.repository,
        "repository": image.repository,
        "tag": image.tag if image.tag is not None and not image.tag_dropped else None,
        "digest": image.digest,
    }.get(component or "")
    if part is not None:
        return Declaration(part.file, part.span.line, part.span.column, part.field)
    return Declaration(image.file, image.span.line, image.span.column, image.field)


def _key(text: str) -> tuple[str, str | None, str | None] | None:
    try:
        reference = parse(text)
    except InvalidReference:
        return None
    return reference.name, reference.tag, reference.digest
