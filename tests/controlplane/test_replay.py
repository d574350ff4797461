"""A class exported and replayed twice, each time on a fresh database in a process of its
own: the same seed gives the same history, revision for revision (names, order, writers,
phases, events); another seed may name things differently, but the class still happens."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from apiserver import accounts
from apiserver.client import Client
from apiserver.models import ClusterUser
from apiserver.registry import kinds
from controlplane import replay
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver
from support.databases import environment
from support.livecluster import REPO
from tests.apiserver.conftest import deployment, pod
from tests.conftest import ensure_seeded
from tests.processes import run_python

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _catalog_served():
    """The catalog and a fresh kind index (a transactional test before may have emptied
    the database)."""
    ensure_seeded()
    kinds.invalidate()
    yield
    kinds.invalidate()


def _class_taught() -> dict:
    """Alice orders a Deployment, scales it, orders a Pod and cancels it, while a control
    plane delivers; then the class is exported."""
    alice = ClusterUser.objects.create(name="alice", namespace="alice")
    accounts.open_learner(alice)
    clock = FakeClock()
    config = Config(nodes=2, timing=Timing(step=1.0))
    driver = Driver(ControlPlane(clock=clock, config=config, rng=random.Random(3)))
    api = Client(alice, "kubectl")

    def later(seconds: int) -> None:
        for _ in range(seconds * 2):
            clock.advance(0.5)
            for _ in range(10):
                if not driver.tick():
                    break

    later(1)
    api.request("POST", "/apis/apps/v1/namespaces/alice/deployments", deployment("shop", 2))
    later(5)
    scaled = api.request("GET", "/apis/apps/v1/namespaces/alice/deployments/shop")
    scaled["spec"]["replicas"] = 3
    api.request("PUT", "/apis/apps/v1/namespaces/alice/deployments/shop", scaled)
    later(5)
    api.request("POST", "/api/v1/namespaces/alice/pods", pod("parcel"))
    later(5)
    api.request("DELETE", "/api/v1/namespaces/alice/pods/parcel")
    later(5)
    return replay.export(["alice"], config)


def _replayed(tmp_path: Path, scenario: Path, seed: int, name: str) -> list[dict]:
    env = environment(f"sqlite:///{tmp_path / name}.sqlite3")
    run_python(env, "manage.py", "migrate", "--noinput", "-v0")
    run_python(env, "manage.py", "seed_catalog")
    out = tmp_path / f"{name}.json"
    command = ["manage.py", "replay_class", str(scenario), "--seed", str(seed)]
    said = run_python(env, *command, "--histories", str(out))
    assert "0 refused" in said, said
    return json.loads(out.read_text())


def test_a_class_replayed_twice_with_one_seed_has_one_history(tmp_path):
    scenario = _class_taught()
    assert [(s["method"], s["path"].rsplit("/", 1)[-1]) for s in scenario["steps"]] == [
        ("POST", "deployments"),
        ("PUT", "shop"),
        ("POST", "pods"),
        ("DELETE", "parcel"),
    ]
    assert all("status" not in s.get("body", {}) for s in scenario["steps"])
    assert "uid" not in scenario["steps"][0]["body"]["metadata"]
    saved = tmp_path / "class.json"
    saved.write_text(json.dumps(scenario))

    first = _replayed(tmp_path, saved, 7, "first")
    second = _replayed(tmp_path, saved, 7, "second")

    assert first == second
    writers = {row["writer"] for row in first}
    assert {"alice", "system:kube-scheduler", "system:kube-controller-manager"} <= writers
    assert any(w.startswith("system:node:") for w in writers)
    pods = {row["name"] for row in first if row["resource"] == "/pods"}
    assert "parcel" in pods and len([p for p in pods if p.startswith("shop-")]) == 3
    assert [r["type"] for r in first if r["name"] == "parcel"][-1] == "DELETED"
    assert any(r.get("phase") == "Running" for r in first if r["name"].startswith("shop-"))
    assert any(r.get("reason") == "Scheduled" for r in first)

    other = _replayed(tmp_path, saved, 8, "other")
    assert {r["name"] for r in other if r["resource"] == "/pods"} != pods
    assert len(other) == len(first)


def test_a_file_that_is_not_a_class_is_refused_clearly(tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": "something-else"}))
    env = environment(f"sqlite:///{tmp_path / 'db'}.sqlite3")
    run_python(env, "manage.py", "migrate", "--noinput", "-v0")
    done = subprocess.run(
        [sys.executable, "manage.py", "replay_class", str(wrong)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "not a class export" in done.stderr
