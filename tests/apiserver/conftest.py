"""Actors and helpers for the API server's tests.

alice and bob are learners with a namespace each, carol is an instructor, and the
scheduler is a system user. `api` sends a request through the real HTTP views (as kubectl
would); `call` goes straight to `pipeline.handle()` (as the web pages do).
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apiserver import accounts
from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, ApiResponse, handle
from apiserver.registry import kinds
from tests.conftest import ensure_seeded

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
KUBECTL_AGENT = "kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd"


@pytest.fixture(autouse=True)
def _no_static_scan(settings, tmp_path_factory):
    """WhiteNoise scans STATIC_ROOT per test client; an empty one keeps API tests apart
    from a collectstatic running elsewhere."""
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")


@pytest.fixture(autouse=True)
def _fresh_kind_index(db):
    """Each test sees the catalog as it is now (the index caches across requests).

    A transactional test elsewhere may have emptied the database, so re-seed if needed.
    """
    ensure_seeded()
    kinds.invalidate()
    yield
    kinds.invalidate()


def _user(name: str, role: str = "learner", namespace: str = "") -> ClusterUser:
    user = ClusterUser.objects.create(
        name=name, role=role, namespace=namespace, token=f"{name}-token-0123456789"
    )
    if namespace:
        accounts.open_learner(user)
    return user


@pytest.fixture
def alice(db) -> ClusterUser:
    """A learner who shops in her own namespace, `alice`."""
    return _user("alice", namespace="alice")


@pytest.fixture
def bob(db) -> ClusterUser:
    """Another learner, with the namespace `bob`: alice's things are not his."""
    return _user("bob", namespace="bob")


@pytest.fixture
def carol(db) -> ClusterUser:
    """An instructor: may act anywhere."""
    return _user("carol", role="instructor")


@pytest.fixture
def scheduler(db) -> ClusterUser:
    return _user("scheduler", role="system")


class Api:
    """A tiny kubectl: JSON requests over Django's test client with a bearer token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        user: ClusterUser | None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        raw: bytes | None = None,
        **query: str,
    ) -> Any:
        headers = {"accept": accept, "user-agent": KUBECTL_AGENT}
        if user is not None:
            headers["authorization"] = f"Bearer {user.token}"
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        if query:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(query)}"
        response = self.client.generic(
            method, path, data=data, content_type=content_type, headers=headers
        )
        is_json = response.get("Content-Type", "").startswith("application/json")
        response.json_body = json.loads(response.content) if is_json else None
        return response

    def get(self, path: str, user: ClusterUser | None, **kwargs: Any) -> Any:
        return self.request("GET", path, user, **kwargs)

    def post(self, path: str, user: ClusterUser | None, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, user, body, **kwargs)

    def put(self, path: str, user: ClusterUser | None, body: Any, **kwargs: Any) -> Any:
        return self.request("PUT", path, user, body, **kwargs)

    def patch(
        self, path: str, user: ClusterUser | None, body: Any, content_type: str, **kwargs: Any
    ) -> Any:
        return self.request("PATCH", path, user, body, content_type=content_type, **kwargs)

    def delete(self, path: str, user: ClusterUser | None, body: Any = None, **kwargs: Any) -> Any:
        return self.request("DELETE", path, user, body, **kwargs)


@pytest.fixture
def api() -> Api:
    return Api(Client())


@pytest.fixture
def call() -> Callable[..., ApiResponse]:
    """`pipeline.handle()` directly, the way the shop's pages call it."""

    def _call(
        method: str, path: str, user: ClusterUser, body: Any = None, **query: str
    ) -> ApiResponse:
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if body is not None else {}
        return handle(
            ApiRequest(
                method, path, query=query, headers=headers, body=raw, user=user, client="browser"
            )
        )

    return _call


def pod(name: str, image: str = "nginx:1.27", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"containers": [{"name": "main", "image": image}]},
    }


def deployment(name: str, replicas: int = 2, image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def service(name: str, port: int = 80) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": port}]},
    }


def set_hard(namespace: str, hard: dict[str, str]) -> dict:
    """Change the hard limits of a learner's ResourceQuota, as a cluster admin would."""
    from apiserver.registry import store

    kind = kinds.lookup("", "v1", "resourcequotas")

    def change(quota: dict) -> dict:
        quota["spec"]["hard"].update(hard)
        return quota

    quota, _ = store.update(kind, namespace, accounts.QUOTA_NAME, change)
    return quota


def drop_quota(namespace: str) -> None:
    """Take a learner's ResourceQuota away, for tests about the revision log: its status
    is written after every create, so the newest revision would always be the quota's."""
    from apiserver.registry import store

    store.delete(kinds.lookup("", "v1", "resourcequotas"), namespace, accounts.QUOTA_NAME)
