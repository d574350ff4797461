"""Actors for the shop's user stories: alice and bob, each in their own browser.

The catalog comes from the shared session-wide seeding in tests/conftest.py (discovered
once per run); each browser signs in through the real learner page.
"""

import pytest
from django.test import Client

from apiserver.models import ClusterUser
from apiserver.registry import kinds

SERVER = "https://127.0.0.1:6443"


@pytest.fixture(autouse=True)
def _shop_ready(catalog, settings, tmp_path_factory):
    """A seeded catalog, a fresh kind index, and a throwaway place for the cluster's CA."""
    kinds.invalidate()
    settings.STATE_DIR = tmp_path_factory.getbasetemp() / "shop-state"
    settings.WAREHOUSE_API_HOSTS = []
    settings.WAREHOUSE_API_URL = SERVER
    yield
    kinds.invalidate()


def signed_in(name: str, display_name: str = "") -> Client:
    """A new browser that picked the learner name `name`."""
    client = Client()
    response = client.post("/learner/", {"name": name, "display_name": display_name})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def alice() -> Client:
    """Alice's browser, signed in as learner alice (namespace alice)."""
    return signed_in("alice", "Alice")


@pytest.fixture
def bob() -> Client:
    """Bob's browser, signed in as learner bob (namespace bob)."""
    return signed_in("bob", "Bob")


def learner(name: str) -> ClusterUser:
    return ClusterUser.objects.get(name=name)
