"""Rendered `helm template` output traced back to the values keys that declared each image
(imglint.helm: chart_values_images, declarations_for, declaration_of)."""

from __future__ import annotations

import os

from imglint.helm import chart_values_images, declaration_of, declarations_for

CHARTS = os.path.join(os.path.dirname(__file__), "fixtures", "charts")
PODINFO = os.path.join(CHARTS, "podinfo")
PROD = os.path.join(CHARTS, "podinfo-prod-values.yaml")


def test_values_files_apply_in_order_the_last_wins() -> None:
    images, problems = chart_values_images(PODINFO, [PROD])
    assert problems == []
    by_field = {i.field: i for i in images}
    assert by_field["image"].reference == "ghcr.io/stefanprodan/podinfo:6.13.0"
    assert by_field["redis"].reference == "docker.io/redis:latest"
    tag = declaration_of(by_field["redis"], "tag")
    assert (tag.path, tag.line, tag.field) == (PROD, 6, "redis.tag")
    registry = declaration_of(by_field["redis"], "registry")
    assert (registry.path, registry.line, registry.field) == (
        os.path.join(PODINFO, "values.yaml"),
        173,
        "redis.repository",
    )
    # Without the environment's file, the chart's own values.
    images, _ = chart_values_images(PODINFO, [])
    assert {i.field: i.reference for i in images}["image"] == "ghcr.io/stefanprodan/podinfo:6.14.1"


def test_a_rendered_image_names_its_declaration() -> None:
    images, _ = chart_values_images(PODINFO, [PROD])
    [redis] = declarations_for("docker.io/redis:latest", "podinfo/templates/redis/x.yaml", images)
    assert redis.field == "redis"
    # The rendered text may spell the same reference differently.
    [same] = declarations_for("redis:latest", "podinfo/templates/redis/x.yaml", images)
    assert same is redis
    assert declarations_for("busybox:1.36", "podinfo/templates/x.yaml", images) == []


def test_an_image_declared_twice_names_every_candidate_unless_the_template_tells() -> None:
    images, _ = chart_values_images(os.path.join(CHARTS, "argo-cd"), [])
    redis = "ecr-public.aws.com/docker/library/redis:8.2.3-alpine"
    both = declarations_for(redis, "argo-cd/templates/redis/deployment.yaml", images)
    assert sorted(i.field for i in both) == ["redis-ha.image", "redis.image"]
    [subchart] = declarations_for(
        redis, "argo-cd/charts/redis-ha/templates/redis-ha-statefulset.yaml", images
    )
    assert subchart.field == "redis-ha.image"
    # A subchart default nobody overrides is found under its key, from the subchart's file.
    [shellcheck] = declarations_for(
        "koalaman/shellcheck:v0.11.0", "argo-cd/charts/redis-ha/templates/tests/x.yaml", images
    )
    assert shellcheck.file.endswith(os.path.join("charts", "redis-ha", "values.yaml"))
