"""The image's tag is denied, or not allowed, by the configured tag policy.

## What it does
When `denied-tags` or `allowed-tags` is configured, reports an image whose tag matches a
`denied-tags` entry, or matches no `allowed-tags` entry that applies to it, and names the entry
(or entries) that decided. Entries are globs over the whole tag (`nightly`, `*-SNAPSHOT`) or,
after `re:`, regular expressions that must match the whole tag (`re:v?\\d+\\.\\d+\\.\\d+`); an
entry written as `{pattern: ..., registries: [ghcr.io/acme]}` applies only to those registries
or repositories (matched as `allowed-registries` entries are: by host and whole path
components). `allowed-tags` constrains only the images some entry applies to. A denied tag is
reported even when an allowed entry also matches it. A digest pins the image, so
`nginx:nightly@sha256:...` passes both lists, as with `latest-tag` (IMG002); an image without a
tag is `missing-tag`'s (IMG003).

## Why is this bad?
Tags such as `nightly`, `main`, `edge` or `1.2-SNAPSHOT` move like `latest` does: two nodes
can run different code under one manifest, and a rollback redeploys whatever the tag means
today. Teams that release only semantic versions want anything else caught in review, not at
`ErrImagePull` time or in production.

## Example
```yaml
# .imglint.yaml: denied-tags: [nightly, "*-SNAPSHOT"]
containers:
  - name: api
    image: ghcr.io/acme/api:nightly
```

## Use instead
A released version, or a digest:
```yaml
containers:
  - name: api
    image: ghcr.io/acme/api:2.4.1
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None or ref.tag is None or ref.digest is not None:
        return
    settings = ctx.settings_for(site)
    tag = ref.tag
    for pattern in settings.denied_tags:
        if pattern.applies_to(ref) and pattern.matches(tag):
            yield f'image "{site.image}" uses the tag "{tag}", denied by denied-tags entry ' + (
                pattern.describe()
            )
            return
    if settings.allowed_tags is None:
        return
    applying = [p for p in settings.allowed_tags if p.applies_to(ref)]
    if applying and not any(p.matches(tag) for p in applying):
        listed = ", ".join(p.describe() for p in applying)
        yield (
            f'image "{site.image}" uses the tag "{tag}", which matches no allowed-tags entry '
            f"for it ({listed})"
        )
