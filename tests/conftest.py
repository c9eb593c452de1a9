"""Shared pytest configuration. Registry server fixtures live in tests/regserver/."""

from pathlib import Path

import pytest

pytest_plugins = ["tests.regserver.fixtures"]


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials or cache of the person running the tests: tmp_path is HOME and holds the
    Docker configuration and the cache."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return tmp_path
