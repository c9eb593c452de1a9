"""imglint's exception hierarchy. Only these cross module boundaries; the CLI turns each into a
one-line message and exit code 2, so no traceback reaches a user."""

from __future__ import annotations


class ImglintError(Exception):
    """Base of every error imglint raises on purpose."""


class UsageError(ImglintError):
    """Bad command-line arguments."""


class ConfigError(ImglintError):
    """Bad configuration file or value."""
