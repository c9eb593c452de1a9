"""Helm values inside GitOps objects (imglint.helm_values_gitops): Flux HelmRelease, Argo CD
Application, kustomize helmCharts. The chart's templates are not at hand there, so every image
says what was assumed."""

from __future__ import annotations

import os

import yaml
from yaml.nodes import MappingNode

from imglint.helm_values import ChartFacts, ValuesImage, find_images
from imglint.helm_values_gitops import (
    EmbeddedValues,
    argo_application,
    flux_helm_release,
    kustomize_helm_charts,
)

GITOPS = os.path.join(os.path.dirname(__file__), "fixtures", "charts", "gitops")


def _load(name: str) -> tuple[str, MappingNode]:
    with open(os.path.join(GITOPS, name), encoding="utf-8") as handle:
        text = handle.read()
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    assert isinstance(node, MappingNode)
    return text, node


def _images(embedded: EmbeddedValues) -> list[ValuesImage]:
    return find_images("f.yaml", embedded.root, ChartFacts(context=embedded.context))


def test_flux_helm_release_values_real_example() -> None:
    _text, node = _load("flux-podinfo-release.yaml")
    [embedded] = flux_helm_release(node, "podinfo")
    assert embedded.field_prefix == "spec.values"
    [redis] = _images(embedded)
    # podinfo's `redis: {repository, tag}`: no image-like key, but an image name with a tag.
    assert (redis.field, redis.reference, redis.span.line) == (
        "redis",
        "public.ecr.aws/docker/library/redis:8.6.2",
        24,
    )
    assert redis.assumptions == [
        "Flux HelmRelease podinfo (chart podinfo): assumed the chart renders repository:tag"
    ]
    assert redis.tag is not None and redis.tag.span.line == 27


def test_argo_application_values_string_sits_at_its_place_in_the_file() -> None:
    text, node = _load("argo-nginx-application.yaml")
    found = argo_application(node, "nginx", text)
    assert [(e.field_prefix, e.problem is None) for e in found] == [
        ("spec.sources[0].helm.valuesObject", True),
        ("spec.sources[0].helm.values", True),
        ("spec.sources[1].helm.values", False),
    ]
    [metrics] = _images(found[0])
    assert metrics.reference == "docker.io/bitnami/nginx-exporter:1.4.2-debian-12-r9"
    [image] = _images(found[1])
    assert image.reference == "docker.io/bitnami/nginx:latest"
    assert image.tag is not None
    assert text[image.tag.span.start : image.tag.span.end] == "latest"
    assert image.tag.span.line == 22 and image.span.line == 19
    # A values string that is not a literal block is said, not read.
    assert found[2].problem is not None and "literal block" in found[2].problem


def test_kustomize_helm_charts_values_inline() -> None:
    _text, node = _load("kustomization.yaml")
    [embedded] = kustomize_helm_charts(node)
    assert embedded.field_prefix == "helmCharts[0].valuesInline"
    images = _images(embedded)
    assert [(i.field, i.reference) for i in images] == [
        ("image", "ghcr.io/stefanprodan/podinfo:6.14.1"),
        ("redis", "docker.io/redis:latest"),
    ]
    assert images[0].assumptions == [
        "kustomize helmCharts (chart podinfo): assumed the chart renders repository:tag"
    ]
