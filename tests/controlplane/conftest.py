"""A cluster on a hand-wound clock: alice orders through the API, the control plane delivers.

The catalog is seeded once per session by the shared `tests/conftest.py` override of
`django_db_setup`; here each test gets a fresh control plane, a FakeClock that moves only
when the test says so, and a fixed random seed, so every timeline is deterministic.
"""

import json
import random
from dataclasses import dataclass

import pytest

from apiserver import accounts
from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, handle
from apiserver.registry import kinds
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver

STEP = 1.0
BACKOFF = 10.0


@dataclass
class Cluster:
    """The control plane, its clock, and alice: a learner working in namespace alice."""

    plane: ControlPlane
    clock: FakeClock
    alice: ClusterUser
    driver: Driver

    def api(self, method: str, path: str, body: dict | None = None, **query: str) -> dict:
        """A request as alice's kubectl would send it; fails the test on an error status."""
        response = self.call(method, path, body, **query)
        assert response.status < 400, (response.status, response.body)
        return response.body

    def call(self, method: str, path: str, body: dict | None = None, **query: str):
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = (
                "application/merge-patch+json" if method == "PATCH" else "application/json"
            )
        return handle(
            ApiRequest(
                method=method,
                path=path,
                query=query,
                headers=headers,
                body=json.dumps(body).encode() if body is not None else b"",
                client="kubectl",
                user=self.alice,
            )
        )

    def step(self, seconds: float = 0.0, times: int = 1) -> None:
        """Move the clock on, then let the control plane reconcile (as the loop would)."""
        for _ in range(times):
            self.clock.advance(seconds)
            self.settle()

    def settle(self) -> None:
        """Let the loop's driver step until it finds nothing left to do, as `run` would."""
        for _ in range(10):
            if not self.driver.tick():
                return
        raise AssertionError("the control plane kept writing: a reconcile loop does not settle")

    def pod(self, name: str) -> dict:
        return self.api("GET", f"/api/v1/namespaces/alice/pods/{name}")

    def pods(self, selector: str = "") -> list[dict]:
        query = {"labelSelector": selector} if selector else {}
        return self.api("GET", "/api/v1/namespaces/alice/pods", **query)["items"]

    def events(self, name: str, kind: str = "") -> list[tuple[str, str, str]]:
        """(type, reason, message) of the events about `name`, oldest first, as describe shows."""
        selector = f"involvedObject.name={name}"
        if kind:
            selector += f",involvedObject.kind={kind}"
        items = self.api("GET", "/api/v1/namespaces/alice/events", fieldSelector=selector)["items"]
        items.sort(key=lambda e: int(e["metadata"]["name"].rsplit(".", 1)[1], 16))
        return [(e["type"], e["reason"], e["message"]) for e in items]

    def event_objects(self, name: str) -> list[dict]:
        return self.api(
            "GET",
            "/api/v1/namespaces/alice/events",
            fieldSelector=f"involvedObject.name={name}",
        )["items"]


@pytest.fixture
def cluster(catalog) -> Cluster:
    kinds.invalidate()
    alice = ClusterUser.objects.create(name="alice", namespace="alice")
    accounts.open_learner(alice)
    clock = FakeClock()
    config = Config(
        nodes=3,
        node_cpu="4",
        node_memory="8Gi",
        node_pods=110,
        timing=Timing(step=STEP, backoff=BACKOFF),
    )
    plane = ControlPlane(clock=clock, config=config, rng=random.Random(7))
    plane.start()
    yield Cluster(plane=plane, clock=clock, alice=alice, driver=Driver(plane))
    kinds.invalidate()


def pod_manifest(name: str, image: str = "nginx:1.27", **spec: object) -> dict:
    container = {"name": spec.pop("container", "web"), "image": image}
    for key in ("command", "args", "resources"):
        if key in spec:
            container[key] = spec.pop(key)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": spec.pop("labels", {"app": name})},
        "spec": {"containers": [container], **spec},
    }


def without_share(namespace: str = "alice") -> None:
    """Take the namespace's ResourceQuota and LimitRange away (as an instructor's namespace
    has none), for tests about Pods bigger than any learner's share."""
    from apiserver.registry import store

    for plural, name in (
        ("resourcequotas", accounts.QUOTA_NAME),
        ("limitranges", accounts.LIMIT_RANGE_NAME),
    ):
        store.delete(kinds.lookup("", "v1", plural), namespace, name)
