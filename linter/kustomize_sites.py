"""Settle kustomize entry sites against their bases, once every file of the run is read.

The extractor (imglint.extract.kustomize) makes one site per `images:` entry. What an entry
does depends on the images of the bases it builds on, which are other files; this pass models
the builds of the linted set (imglint.kustomize_tree) and then, per entry of a kustomization
file:

- an entry whose reference takes the base's tag becomes one site per reference it writes there
  (`newName: mirror/nginx` over a base's `nginx:1.25` lints `mirror/nginx:1.25`, at the entry);
- an entry that matches no image of bases that are all known is marked unmatched (IMG015),
  with the names the bases do write when one looks like what was meant;
- an entry whose bases are not all known (remote, outside the linted set, built by plugins)
  is left as it is, and the run's details (`-v`) say why;
- a `helmCharts[].valuesInline` image that an entry of its own kustomization rewrites is listed
  as the reference deployed and linted at that entry, not as written (see
  `_settle_chart_values`); an entry that matches one is used;
- an image of a base that an entry matches keeps its name under `--fix`: renaming it
  (`nginx` to `docker.io/library/nginx`) would silently unhook the entry, so the fixer leaves it
  and says which entry matches it.

Flux and Argo CD entries build on what their controller fetches (a GitRepository, a repoURL):
never opened, so they are not settled, and `-v` says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from imglint import kustomize, records
from imglint.documents import node_span
from imglint.extract.kustomize import is_kustomization_path
from imglint.findings import Span
from imglint.kustomize_tree import NEEDS_BASE, KustomizationLinks, Match, Tree, path_key
from imglint.reference import InvalidReference, parse
from imglint.sites import CannotRewrite, ImageSite, Rewrite, ValueChange, parse_image
from imglint.sources import Source

UNMATCHED = "matches no image of its bases"
_SETTLED_ORIGINS = frozenset({"kustomize", "helm-values"})


def kustomization_groups(
    sources: Sequence[Source], known: Mapping[str, KustomizationLinks] | None = None
) -> dict[str, str]:
    """Every kustomization file of `sources`, and every file and folder one names, by path
    key, to its group (see `_groups`): the files of the set that settling may open. `known`:
    the links of kustomization files the reader read already, by path key
    (`Manifests.kustomization_links`); the others are composed for them."""
    kustomizations = [s for s in sources if s.file_path and is_kustomization_path(s.path)]
    tree: Tree | None = None

    def references(real: str) -> Sequence[str]:
        nonlocal tree
        found = known.get(real) if known is not None else None
        if found is not None:
            return found.references
        if tree is None:
            tree = Tree(kustomizations)
        return tree.references(real)

    return _groups(references, kustomizations)


def settle(
    sites: list[ImageSite],
    sources: Sequence[Source],
    groups: dict[str, str] | None = None,
    known: Mapping[str, KustomizationLinks] | None = None,
) -> tuple[list[ImageSite], list[str]]:
    """The sites with kustomize entries settled against the linted set, and the details
    (`-v`) about entries that could not be. `groups`: `kustomization_groups(sources, known)`,
    when the caller has it already; `known`: the links of kustomization files the reader read
    (`Manifests.kustomization_links`).

    The model of the set's builds (composed bases, built folders) is held for one group of
    kustomizations at a time: those that build on one another (see `_groups`). Once every
    entry and chart value of the groups met so far is settled, it is dropped, as no later site
    builds on their files: a run's memory follows its largest group, not the input's size."""
    # Entries, and the chart values they may rewrite: the only sites settled (most of a
    # run's are neither).
    settled = [s for s in sites if s.origin in _SETTLED_ORIGINS]
    if not any(s.origin == "kustomize" for s in settled):
        return sites, []
    details: list[str] = []
    cwd = os.getcwd()
    group_of = kustomization_groups(sources, known) if groups is None else groups
    # A build opens only kustomization files and the files they name: the model indexes those
    # alone (an index of every source of a large run grows with it).
    tree = Tree(
        (s for s in sources if s.file_path is not None and path_key(s.file_path, cwd) in group_of),
        links=known,
    )
    # The sites each group settles (entries, and the chart values its entries may rewrite).
    settled_by: dict[str, list[ImageSite]] = {}
    for site in settled:
        group = _group_of_site(site, group_of, cwd)
        if group is not None:
            settled_by.setdefault(group, []).append(site)
    group_at = {id(site): group for group, members in settled_by.items() for site in members}
    last = {id(members[-1]) for members in settled_by.values()}
    open_groups: set[str] = set()
    replaced: dict[int, list[ImageSite]] = {}
    guards: dict[tuple[str, int], list[str]] = {}
    for site in settled:
        if site.origin == "kustomize":
            _settle_entry(site, tree, details, replaced, guards)
        group = group_at.get(id(site))
        if group is None:
            continue
        open_groups.add(group)
        if id(site) in last:
            # Chart values after every entry of their group (the entries rewrite them); no
            # other group's entry builds on its files, so its model is complete here.
            _settle_chart_values(settled_by[group], tree)
            open_groups.discard(group)
            if not open_groups:
                tree.forget_builds()
    result: list[ImageSite] = []
    for site in sites:
        instead = replaced.get(id(site))
        if instead is None:
            result.append(site)
        else:
            result.extend(instead)
    if guards:
        _guard_bases(result, guards)
    return result, details


def _settle_entry(
    site: ImageSite,
    tree: Tree,
    details: list[str],
    replaced: dict[int, list[ImageSite]],
    guards: dict[tuple[str, int], list[str]],
) -> None:
    """One kustomize entry site against the builds that run it."""
    source = site.source
    if source is None or source.file_path is None or not is_kustomization_path(source.path):
        where = f"{site.path}:{site.span.line}"
        details.append(
            f"{where}: {site.label}: not checked against its bases, which are in the "
            "source its controller fetches (never opened)"
        )
        return
    real = path_key(source.file_path)
    kustomization = tree.kustomization(real)
    if kustomization is None:
        return
    entry = next(
        (e for e in kustomization.entries if node_span(e.node).start == site.span.start), None
    )
    if entry is None:
        return
    outcome = tree.outcome(real, entry.index)
    for match in outcome.matches:
        # (A chart's value is pinned only at a digest key, never renamed: nothing to guard.)
        if match.real_path and not match.chart_value:
            where = f"{site.path}:{site.span.line}"
            guards.setdefault((match.real_path, match.span.start), []).append(
                f"{where} ({site.label})"
            )
    if outcome.matches:
        if site.placeholder == NEEDS_BASE:
            replaced[id(site)] = _per_reference(site, outcome.matches)
        return
    if outcome.unknown:
        reasons = "; ".join(outcome.unknown)
        details.append(
            f"{site.path}:{site.span.line}: {site.label}: not checked against its bases: {reasons}"
        )
        return
    site.unmatched = _unmatched_message(entry.override.name, outcome.seen)
    # It writes nothing, so there is nothing else to lint or pin: IMG015 alone speaks.
    site.placeholder = UNMATCHED
    site.reference = site.error = None


def _groups(
    references: Callable[[str], Sequence[str]], sources: Sequence[Source]
) -> dict[str, str]:
    """Each kustomization file of the set (and each file and folder it names), by path key, to
    its group: kustomizations that name one another's folders or files, directly or through
    others, are one group; a build of one opens only files of its group."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        root = parent.setdefault(key, key)
        while root != parent[root]:
            root = parent[root]
        while key != root:  # path halving: the next lookups are short
            parent[key], key = root, parent[key]
        return root

    def union(one: str, other: str) -> None:
        first, second = find(one), find(other)
        if first != second:
            parent[second] = first

    cwd = os.getcwd()
    for source in sources:
        if source.file_path is None or not is_kustomization_path(source.path):
            continue
        real = path_key(source.file_path, cwd)
        union(real, os.path.dirname(real))  # a build of its folder reads it
        for named in references(real):
            union(real, named)
    return {key: find(key) for key in parent}


def _group_of_site(site: ImageSite, group_of: dict[str, str], cwd: str) -> str | None:
    """The group whose builds settle a site: a kustomize entry, or a chart value that entries
    may rewrite, of a kustomization file of the set (None for every other site)."""
    if site.origin != "kustomize" and (
        site.origin != "helm-values" or site.placeholder is not None
    ):
        return None
    source = site.source
    if source is None or source.file_path is None or not is_kustomization_path(source.path):
        return None
    return group_of.get(path_key(source.file_path, cwd))


def _settle_chart_values(sites: list[ImageSite], tree: Tree) -> None:
    """A `helmCharts[].valuesInline` image that its own kustomization's entries rewrite is
    never deployed as written: every build of that kustomization runs its entries over what
    the chart renders. The site lists the reference deployed and is linted at the entry that
    wrote it last (whose site lints exactly that reference), so nothing the entries fix is
    reported at the value.

    Left as written (and linted so): a value an overlay's entry rewrites (the kustomization can
    be built on its own, as any base), and one a component's entry rewrites last (the entry is
    in another file, where the value's listing cannot point)."""
    cwd = os.getcwd()
    for site in sites:
        source = site.source
        if (
            site.origin != "helm-values"
            or site.placeholder is not None
            or source is None
            or source.file_path is None
            or not is_kustomization_path(source.path)
        ):
            continue
        real = path_key(source.file_path, cwd)
        rewritten = tree.chart_values_rewritten(real).get(site.span.start)
        kustomization = tree.kustomization(real)
        if rewritten is None or kustomization is None:
            continue
        deployed, writers = rewritten
        last_path, last_index = writers[-1]
        if last_path != real:
            continue  # a component's entry wrote it last: linted as written (said in the docs)
        last = kustomization.entries[last_index]
        site.image = deployed
        site.placeholder = f'rewritten by images entry "{last.override.name}"'
        site.value_checked_at = node_span(last.node)
        site.reference = site.error = None


def _per_reference(site: ImageSite, matches: list[Match]) -> list[ImageSite]:
    """One site per distinct reference the entry writes over its bases' images."""
    written = list(dict.fromkeys(m.after for m in matches))
    settled = []
    for image in written:
        copy = records.replace(site, image=image, placeholder=None, reference=None, error=None)
        if len(written) > 1:
            copy.rewrite = _one_entry_many_references(written)
        tag = _tag_written_beside(site, [m for m in matches if m.after == image])
        if tag is not None:
            copy.components = {**site.components, "tag": tag}
        parse_image(copy)
        settled.append(copy)
    return settled


def _tag_written_beside(site: ImageSite, matches: list[Match]) -> Span | None:
    """Where the tag an entry keeps is written, when that is the same file as the entry: the
    `tag:` of a `helmCharts[].valuesInline` image of the same kustomization (a finding about
    the tag, `tag: latest`, belongs there, not on the entry that only renames)."""
    source = site.source
    if "tag" in site.components or source is None or source.file_path is None:
        return None
    real = path_key(source.file_path)
    tags = {m.tag for m in matches if m.chart_value and m.real_path == real}
    if len(tags) != 1 or len(matches) != 1:
        return None
    return tags.pop()


def _one_entry_many_references(written: list[str]) -> Rewrite:
    """An entry that keeps the base's tag over images with different tags cannot be pinned or
    renamed for one of them without changing what it writes for the others."""

    def rewrite(site: ImageSite, value: str) -> list[ValueChange]:
        shown = ", ".join(written)
        raise CannotRewrite(f"the entry writes {len(written)} references over its bases ({shown})")

    return rewrite


def _unmatched_message(name: str, seen: Sequence[str]) -> str:
    hint = _near_miss(name, [kustomize.split(value)[0] for value in seen])
    base = f'images entry "{name}" matches no image of the resources it builds on, so it changes '
    base += "nothing"
    if hint:
        return f'{base}: they write "{hint}" (kustomize compares names as written)'
    if not kustomize.is_literal_name(name) and kustomize.name_pattern(name) is None:
        return f"{base}: the name is no valid regular expression (kustomize up to v5.8 crashes)"
    return base


def _near_miss(name: str, written: Sequence[str]) -> str | None:
    """A name the bases write that the runtime reads as the same repository as `name`."""
    try:
        wanted = parse(kustomize.split(name)[0]).name
    except InvalidReference:
        return None
    for candidate in written:
        try:
            if parse(candidate).name == wanted:
                return candidate
        except InvalidReference:
            continue
    return None


def _guard_bases(sites: list[ImageSite], guards: dict[tuple[str, int], list[str]]) -> None:
    """Keep --fix from renaming a base image that an overlay entry matches by name."""
    cwd = os.getcwd()
    keys: dict[int, str] = {}
    for site in sites:
        source = site.source
        if site.origin == "kustomize" or source is None or source.file_path is None:
            continue
        key = keys.get(id(source))
        if key is None:
            key = keys[id(source)] = path_key(source.file_path, cwd)
        entries = guards.get((key, site.span.start))
        if entries:
            site.rewrite = _keep_name(entries)


def _keep_name(entries: list[str]) -> Rewrite:
    def rewrite(site: ImageSite, value: str) -> list[ValueChange]:
        if kustomize.split(value)[0] != kustomize.split(site.image)[0]:
            raise CannotRewrite(
                "renaming it would unhook what matches it by this name, "
                + ", ".join(dict.fromkeys(entries))
                + ": rename both together"
            )
        return [ValueChange(site.span, value)]

    return rewrite
