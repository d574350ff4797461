"""A second learner beside alice, and ways to put objects where admission never looked.

The `cluster` fixture (a control plane on a FakeClock, alice in namespace alice) is the
control plane tests' own. bob orders in namespace bob; his Pod is the one that must keep
being delivered whatever alice sends.
"""

import json

import pytest

from apiserver import accounts
from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, ApiResponse, handle
from apiserver.registry import kinds, store
from tests.controlplane.conftest import Cluster, cluster, pod_manifest

__all__ = ["Cluster", "cluster", "pod_manifest"]

BOB_PODS = "/api/v1/namespaces/bob/pods"


@pytest.fixture
def bob(cluster) -> ClusterUser:
    user = ClusterUser.objects.create(name="bob", namespace="bob")
    accounts.open_learner(user)
    return user


def call_as(
    user: ClusterUser, method: str, path: str, body: dict | None = None, **query: str
) -> ApiResponse:
    """A request as the user's kubectl would send it."""
    headers = {"accept": "application/json"}
    if body is not None:
        headers["content-type"] = "application/json"
    return handle(
        ApiRequest(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            client="kubectl",
            user=user,
        )
    )


def order_bobs_pod(bob: ClusterUser, name: str = "steady") -> None:
    response = call_as(bob, "POST", BOB_PODS, pod_manifest(name))
    assert response.status == 201, response.body


def bobs_pod_ready(bob: ClusterUser, name: str = "steady") -> bool:
    pod = call_as(bob, "GET", f"{BOB_PODS}/{name}").body
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def smuggle(group: str, version: str, plural: str, obj: dict) -> dict:
    """Store an object exactly as given, as if admission had let it through."""
    kind = kinds.lookup(group, version, plural)
    assert kind is not None
    return store.create(kind, json.loads(json.dumps(obj)))


def corrupt(group: str, version: str, plural: str, namespace: str, name: str, change) -> dict:
    """Change a stored object in place, behind admission's back."""
    kind = kinds.lookup(group, version, plural)
    assert kind is not None
    obj, _ = store.update(kind, namespace, name, change)
    return obj
