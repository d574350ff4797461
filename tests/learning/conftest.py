"""Actors for the training centre's stories.

alice and bob are learners in their own browsers (each signed in through the shop's real
learner page, so each has a namespace); carol is an instructor (a Django staff user) who
runs workshops; dave is another instructor, who must not see carol's dashboard. The catalog
comes from the session-wide seeding in tests/conftest.py.
"""

import json
import random
from typing import Any

import pytest
from django.test import Client

from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, ApiResponse, handle
from apiserver.registry import kinds
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane
from learning import quizdata
from learning.models import Question, Quiz
from tests.shop.conftest import alice, bob, learner, signed_in  # noqa: F401  (shared actors)

SERVER = "https://127.0.0.1:6443"


@pytest.fixture(autouse=True)
def _learning_ready(catalog, settings, tmp_path_factory):
    """A seeded catalog, a fresh kind index and a throwaway place for the cluster's CA."""
    kinds.invalidate()
    settings.STATE_DIR = tmp_path_factory.getbasetemp() / "learning-state"
    settings.WAREHOUSE_API_HOSTS = []
    settings.WAREHOUSE_API_URL = SERVER
    yield
    kinds.invalidate()


@pytest.fixture
def quizzes(db) -> None:
    """The quiz fixture, as the data migration loads it (again, if a flush removed it)."""
    if not Question.objects.exists():
        quizdata.load(Quiz, Question)


@pytest.fixture
def carol(db, django_user_model) -> Client:
    """Carol, an instructor: a staff user logged in to the admin."""
    user = django_user_model.objects.create_user("carol", "carol@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def dave(db, django_user_model) -> Client:
    """Dave, another instructor, with workshops of his own."""
    user = django_user_model.objects.create_user("dave", "dave@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def api(
    user: ClusterUser,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    client: str = "kubectl",
    **query: str,
) -> ApiResponse:
    """One request through the front door as `user`, labelled as coming from `client`."""
    headers = {"accept": "application/json", "user-agent": f"{client}/test"}
    if body is not None:
        headers["content-type"] = "application/json"
    return handle(
        ApiRequest(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=json.dumps(body).encode() if body is not None else b"",
            client=client,
            user=user,
        )
    )


def pod(name: str, image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": image}]},
    }


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }


class Plane:
    """The simulated control plane on a hand-wound clock, so Pods really change phase."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        config = Config(
            nodes=2, node_cpu="4", node_memory="8Gi", node_pods=110, timing=Timing(step=1.0)
        )
        self.plane = ControlPlane(clock=self.clock, config=config, rng=random.Random(7))
        self.plane.start()

    def step(self, seconds: float = 1.0, times: int = 1) -> None:
        for _ in range(times):
            self.clock.advance(seconds)
            for _ in range(10):
                self.plane.run_once()


@pytest.fixture
def control_plane(catalog) -> Plane:
    return Plane()
