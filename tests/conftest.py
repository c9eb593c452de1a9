"""Shared pytest configuration. Registry server fixtures live in tests/regserver/."""

pytest_plugins = ["tests.regserver.fixtures"]
