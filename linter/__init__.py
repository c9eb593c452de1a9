"""imglint: lint container image references in Kubernetes manifests before they are applied."""

__version__ = "0.1.0"
