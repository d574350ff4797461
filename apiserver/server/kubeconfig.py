"""Kubeconfig files: what a learner hands to kubectl or the Python client.

One cluster (the API server's HTTPS address and the app's CA, so the client verifies
the server and sends its token only to it), one user (the bearer token) and one
context pointing at the learner's own namespace.
"""

import base64
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.conf import settings
from django.db import transaction

from apiserver import accounts
from apiserver.accounts import DNS_LABEL, ClusterUser
from apiserver.server import tls

CLUSTER_NAME = "warehouse"
DEFAULT_API_URL = "https://127.0.0.1:6443"


def _served_file() -> Path:
    return Path(settings.STATE_DIR) / "api-url"


def note_served_url(url: str) -> None:
    """`serve` says where it serves the API, for kubeconfigs made by other processes."""
    path = _served_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(url + "\n")


def api_url() -> str:
    """The API server's address for a kubeconfig: WAREHOUSE_API_URL when set, else where
    `serve` last served it (so `make run API_PORT=6543` hands out 6543), else the default."""
    if settings.WAREHOUSE_API_URL:
        return settings.WAREHOUSE_API_URL
    try:
        served = _served_file().read_text().strip()
    except OSError:
        served = ""
    return served or DEFAULT_API_URL


class KubeconfigError(ValueError):
    """A name or server address that cannot go into a kubeconfig; the message says why."""


def kubeconfig_for(user: ClusterUser, server: str) -> str:
    """The YAML kubeconfig that lets ``user`` reach the API server at ``server``."""
    server = check_server(server)
    namespace = user.namespace or "default"
    context = f"{user.name}@{CLUSTER_NAME}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(tls.ca_pem()).decode(),
                },
            }
        ],
        "users": [{"name": user.name, "user": {"token": user.token}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": CLUSTER_NAME, "user": user.name, "namespace": namespace},
            }
        ],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def check_server(server: str) -> str:
    """Refuse anything but an https URL: kubectl never sends a token over plain http."""
    server = server.strip().rstrip("/")
    parts = urlsplit(server)
    if parts.scheme != "https" or not parts.hostname:
        raise KubeconfigError(
            f"The server must be an https:// URL such as https://127.0.0.1:6443, not {server!r}: "
            "kubectl sends its token only over HTTPS."
        )
    return server


def check_name(name: str) -> str:
    """A learner's name becomes their namespace, so it must be a DNS label (RFC 1123)."""
    if not name or len(name) > 63 or not DNS_LABEL.match(name):
        raise KubeconfigError(
            f"{name!r} is not a valid learner name: use at most 63 lowercase letters, digits "
            "and '-', starting and ending with a letter or digit (e.g. alice or team-7)."
        )
    if accounts.is_reserved(name):
        raise KubeconfigError(
            f"{name!r} is reserved for the cluster and its own users; pick another learner name."
        )
    return name


def ensure_user(name: str, *, instructor: bool = False) -> tuple[ClusterUser, bool]:
    """Find or create the ClusterUser ``name`` and their Namespace; say whether it was new.

    A learner's namespace is named after them, so kubectl works from the first command.
    Asking for an instructor promotes an existing learner; not asking never demotes anyone.
    """
    check_name(name)
    role = ClusterUser.Role.INSTRUCTOR if instructor else ClusterUser.Role.LEARNER
    with transaction.atomic():
        user, created = ClusterUser.objects.select_for_update().get_or_create(
            name=name, defaults={"role": role, "namespace": name, "display_name": name.title()}
        )
        if not user.is_active:
            raise KubeconfigError(f"{name!r} has been deactivated; an instructor can reactivate.")
        if user.role == ClusterUser.Role.SYSTEM:
            raise KubeconfigError(f"{name!r} is a control-plane user, not a learner or instructor.")
        if instructor and user.role == ClusterUser.Role.LEARNER:
            user.role = role
            user.save(update_fields=["role"])
    if user.namespace:
        if user.role == ClusterUser.Role.LEARNER:
            accounts.open_learner(user)
        else:
            # Instructors are trusted with the room's own demonstrations: no share to stay in.
            accounts.ensure_namespace(user.namespace, share=False)
    return user, created
