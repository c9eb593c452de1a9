"""Which pull secrets a pod pulls with, for `--use-pull-secrets`. No network code (no httpx).

A pod's secrets are its own `imagePullSecrets`, else its ServiceAccount's (`default` when it
names none): the ServiceAccount admission plugin copies them in only when the pod lists none,
never merged. A pod whose secrets the manifest set does not fully show (a ServiceAccount or
Secret defined elsewhere, a Secret that could not be decoded) is left out: the user's own
credentials answer for it rather than a guess.

Pods using one image with different secrets get their own answers (`Answers.per_credentials`,
by reference and credential list): `imglint.resolve` gives each site the answer for its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from imglint.context import ObjectIndex, PullSecret
from imglint.registry.credentials import Credentials, pull_secret_credentials
from imglint.sites import ImageSite


def secret_names(site: ImageSite, objects: ObjectIndex) -> tuple[str, ...] | None:
    """The names of the pull secrets the pod uses; None when the manifest set does not say."""
    secrets = objects.pod_secrets(site)
    return secrets.names if secrets.known else None


def pod_pull_secrets(site: ImageSite, objects: ObjectIndex) -> list[PullSecret] | None:
    """The pod's pull Secrets, or None unless every one is in the manifest set and readable."""
    names = secret_names(site, objects)
    if names is None:
        return None
    secrets: list[PullSecret] = []
    for name in names:
        secret = objects.secret(site.obj.namespace, name)
        if secret is None or secret.error is not None:
            return None
        secrets.append(secret)
    return secrets


def pod_credentials(
    sites: Sequence[ImageSite], objects: ObjectIndex
) -> dict[str, list[list[Credentials] | None]]:
    """For each reference, the credential lists its pods would use (one per distinct set),
    each in the order the kubelet tries them; None for pods answered with the user's own
    credentials (their secrets are not all in the manifest set)."""
    found: dict[str, list[list[Credentials] | None]] = {}
    for site in sites:
        if site.reference is None:
            continue
        creds = site_credentials(site, objects)
        alternatives = found.setdefault(str(site.reference), [])
        if creds not in alternatives:
            alternatives.append(creds)
    return found


def site_credentials(site: ImageSite, objects: ObjectIndex) -> list[Credentials] | None:
    secrets = pod_pull_secrets(site, objects)
    if secrets is None or site.reference is None:
        return None
    return pull_secret_credentials(secrets, site.reference.name)
