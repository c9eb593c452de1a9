"""Fixtures for the local registry server (being written)."""
