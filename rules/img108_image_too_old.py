"""The image was built longer ago than `max-image-age` allows.

## What it does
With the registry check (`--resolve`) and a `max-image-age` in the configuration (`36h`,
`180d`, `26w`), reports images whose config says they were built (`created`) longer ago than
that, naming the age and the build date. It reports nothing until `max-image-age` is set.

For a single-platform image it reads the image's config blob (the platform check, IMG106,
reads the same blob: one GET serves both). For a multi-platform image it reads the image
index, then the manifest and config of its image for each configured platform (`platforms` or
`--platform`, default `linux/amd64`), and the oldest of them is the image's age: a cluster with
arm64 nodes runs the arm64 image, however fresh the amd64 one is. The message names that
platform (`its linux/arm64 image`). A platform the index lacks (IMG106 reports it), or whose
build time says nothing, is left out while another platform's is known. Each manifest and
config is read once per digest and run, however many tags or files name it, and the build time
of a digest is cached for good: content behind a digest never changes, so a warm run sends no
GET.

Some build tools write a fixed `created` so that builds are reproducible: the Unix epoch
(`1970-01-01T00:00:00Z`: ko, Jib, Bazel's rules_oci, BuildKit with `SOURCE_DATE_EPOCH=0`),
`1970-01-01T00:00:01Z` (Nix's dockerTools) and `1980-01-01T00:00:01Z` (Cloud Native
Buildpacks). Such a time, a missing `created`, or a config that could not be read says nothing
about the image's age: it is never counted as old. The run says on stderr how many build times
were unknown; `-v` names the images and why.

## Why is this bad?
An image that has not been rebuilt for months carries every vulnerability fixed in its base
image and packages since: scanners report them, and a patched base does nothing until the image
is rebuilt. An old build is also often a sign of an abandoned image or a pin nobody updates.

## Example
```yaml
# .imglint.yaml: max-image-age: 180d
containers:
  - name: app
    image: ghcr.io/acme/app:1.4   # built 2023-02-01: 500 days ago
```

## Use instead
Rebuild images on a schedule (a weekly CI job rebuilding from the updated base image), let a
bot such as Renovate or Dependabot move tags and digests to fresh builds, and drop images whose
project is abandoned.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    limit = ctx.settings_for(site).max_image_age
    if limit is None:
        return
    result = ctx.answer_for(site)
    if result is None or result.status != "ok" or result.created is None:
        return  # unknown build times are counted in the run's note, never as old
    age = (datetime.now(timezone.utc) - result.created).total_seconds()
    if age <= limit.seconds:
        return
    built = result.created.strftime("%Y-%m-%d %H:%M UTC")
    if result.created_platform:  # a multi-platform image: its oldest configured platform's
        built += f", its {result.created_platform} image"
    yield (
        f'image "{site.image}" was built {_age_words(age)} ago ({built}), older than '
        f"max-image-age {limit.text}"
    )


def _age_words(seconds: float) -> str:
    """`500 days`, or `40 hours` under three days (a limit in hours wants hours)."""
    hours = int(seconds // 3600)
    if hours < 72:
        return f"{hours} hour" + ("" if hours == 1 else "s")
    days = int(seconds // 86400)
    return f"{days} days"
