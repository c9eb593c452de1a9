"""Pytest fixtures for real local registries (see the tests.regserver package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from tests.regserver.seed import Seeded, seed
from tests.regserver.server import RegistryServer, RegistryServerError


def start_or_fail(**kwargs: Any) -> RegistryServer:
    try:
        return RegistryServer(**kwargs).start()
    except RegistryServerError as error:
        # fail, never skip: a missing registry must not turn the registry tests green
        pytest.fail(str(error), pytrace=False)


def serve(**kwargs: Any) -> Iterator[RegistryServer]:
    server = start_or_fail(**kwargs)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def registry_ca() -> trustme.CA:
    """The test CA every TLS registry's certificate comes from (its PEM: `<server>.ca_pem`)."""
    return trustme.CA()


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryServer]:
    """Anonymous registry over plain HTTP."""
    yield from serve()


@pytest.fixture(scope="session")
def basic_registry() -> Iterator[RegistryServer]:
    """htpasswd (Basic) registry over plain HTTP; `.username`/`.password` are accepted."""
    yield from serve(auth="htpasswd")


@pytest.fixture(scope="session")
def tls_registry(registry_ca: trustme.CA) -> Iterator[RegistryServer]:
    """Anonymous registry over HTTPS, certificate for 127.0.0.1 and localhost; `.ca_pem`."""
    yield from serve(tls="valid", ca=registry_ca)


@pytest.fixture(scope="session")
def tls_wrong_name_registry(registry_ca: trustme.CA) -> Iterator[RegistryServer]:
    """Anonymous HTTPS registry whose certificate (from the same CA) names another host."""
    yield from serve(tls="wrong-name", ca=registry_ca)


@pytest.fixture(scope="session")
def token_registry_session() -> Iterator[RegistryServer]:
    yield from serve(auth="token")


@pytest.fixture
def token_registry(token_registry_session: RegistryServer) -> RegistryServer:
    """Token-auth registry over plain HTTP; `.token_service` reset (knobs, request log) per test."""
    assert token_registry_session.token_service is not None
    token_registry_session.token_service.reset()
    return token_registry_session


@pytest.fixture(scope="session")
def tls_token_registry_session(registry_ca: trustme.CA) -> Iterator[RegistryServer]:
    yield from serve(auth="token", tls="valid", ca=registry_ca)


@pytest.fixture
def tls_token_registry(tls_token_registry_session: RegistryServer) -> RegistryServer:
    """Token-auth registry over HTTPS with an https realm, both trusted via `.ca_pem`."""
    assert tls_token_registry_session.token_service is not None
    tls_token_registry_session.token_service.reset()
    return tls_token_registry_session


@pytest.fixture
def registry_factory() -> Iterator[Callable[..., RegistryServer]]:
    """`registry_factory(auth=..., tls=..., ...)` starts a fresh private registry (any
    RegistryServer keyword), stopped after the test. For tests that need an empty registry."""
    started: list[RegistryServer] = []

    def start(**kwargs: Any) -> RegistryServer:
        server = start_or_fail(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def seeded_session(registry: RegistryServer) -> Seeded:
    return seed(registry)


@pytest.fixture
def seeded(seeded_session: Seeded) -> Seeded:
    """The standard data set in the anonymous `registry`, checked per test (a few HEADs) and
    pushed again if an earlier test changed it."""
    if seeded_session.intact():
        return seeded_session
    return seed(seeded_session.registry)
