"""Generated names that depend on their owner alone: a Deployment and a Service deleted and
made again in a clean namespace get the same Pods, EndpointSlice, phases and events as the
first time, whatever else happened in the room; another namespace or name gets others."""

from typing import Any

import pytest

from apiserver import accounts
from apiserver.client import Client
from apiserver.models import ClusterUser
from controlplane import replay
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.controllers.common import SAFE_ALPHABET, Names
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver
from tests.apiserver.conftest import deployment, pod, service

SEED = 11


class Room:
    """A seeded control plane on a hand-wound clock, and learners who order through it."""

    def __init__(self, seed: int = SEED) -> None:
        self.clock = FakeClock()
        config = Config(nodes=2, timing=Timing(step=1.0), seed=seed)
        self.driver = Driver(ControlPlane(clock=self.clock, config=config))
        self.clients: dict[str, Client] = {}

    def learner(self, name: str) -> Client:
        user = ClusterUser.objects.create(name=name, namespace=name)
        accounts.open_learner(user)
        self.clients[name] = Client(user, "kubectl")
        return self.clients[name]

    def later(self, seconds: int) -> None:
        for _ in range(seconds * 2):
            self.clock.advance(0.5)
            for _ in range(20):
                if not self.driver.tick():
                    break

    def names(self, namespace: str, resource: str) -> list[str]:
        items = self.clients[namespace].list(resource, namespace)["items"]
        return sorted(item["metadata"]["name"] for item in items)


def shop(name: str = "shop") -> dict[str, Any]:
    """Two replicas whose image is pulled every time, so a node that kept it from the first
    run says "Pulling" again rather than "already present on machine"."""
    made = deployment(name, 2)
    made["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    return made


def mark(namespace: str) -> int:
    rows = replay.histories([namespace])
    return int(rows[-1]["resourceVersion"]) if rows else 0


def since(namespace: str, after: int) -> list[dict[str, Any]]:
    """What happened in the namespace after `after`: each revision's kind, name, writer,
    phase, node and event reason and message, in order. An Event goes by the name of the
    object it is about, since its own name ends in the time it was made."""
    said = []
    for row in replay.histories([namespace]):
        if int(row["resourceVersion"]) <= after:
            continue
        row = {k: v for k, v in row.items() if k != "resourceVersion"}
        row["resource"] = row["resource"].rsplit("/", 1)[1]  # "/pods", "apps/replicasets"
        if row["resource"] == "events":
            row["name"] = row["name"].rsplit(".", 1)[0]
        said.append(row)
    return said


def order(room: Room, namespace: str, name: str = "shop") -> list[dict[str, Any]]:
    client = room.clients[namespace]
    before = mark(namespace)
    client.create("deployments", shop(name), namespace)
    client.create("services", service(name), namespace)
    room.later(8)
    return since(namespace, before)


def cancel(room: Room, namespace: str, name: str = "shop") -> None:
    client = room.clients[namespace]
    client.delete("deployments", name, namespace)
    client.delete("services", name, namespace)
    room.later(8)
    for resource in ("deployments", "replicasets", "pods", "services", "endpointslices"):
        assert room.names(namespace, resource) == [], resource


@pytest.fixture
def room(catalog) -> Room:
    room = Room()
    room.learner("alice")
    room.learner("bob")
    room.later(1)
    return room


def test_made_again_in_a_clean_namespace_it_comes_out_the_same(room):
    first = order(room, "alice")
    pods = room.names("alice", "pods")
    slices = room.names("alice", "endpointslices")
    assert len(pods) == 2 and len(slices) == 1
    phases = [row.get("phase") for row in first if row["resource"] == "pods"]
    assert "Running" in phases
    reasons = [row["reason"] for row in first if row["resource"] == "events"]
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Pulling", "Started"} <= set(
        reasons
    )

    cancel(room, "alice")
    # The rest of the room orders and cancels meanwhile, drawing names of its own.
    room.clients["bob"].create("pods", pod("parcel"), "bob")
    room.later(4)
    room.clients["bob"].delete("pods", "parcel", "bob")
    order(room, "bob")
    cancel(room, "bob")

    again = order(room, "alice")
    assert room.names("alice", "pods") == pods
    assert room.names("alice", "endpointslices") == slices
    assert again == first  # nodes too: alone, the cluster's load is what it was


def test_in_a_shared_room_only_the_nodes_may_differ(room):
    def outline(rows: list[dict[str, Any]]) -> dict[str, list[tuple]]:
        """Each object's phases and event reasons in order, without its node: the kubelets
        take their turns by node, so how two Pods' stories interleave follows the nodes."""
        told: dict[str, list[tuple]] = {}
        for row in rows:
            said = (row["resource"], row["type"], row.get("phase"), row.get("reason"))
            told.setdefault(row["name"], []).append(said)
        return told

    def placed(rows: list[dict[str, Any]]) -> dict[str, str]:
        return {row["name"]: row["node"] for row in rows if row.get("node")}

    first = order(room, "alice")
    cancel(room, "alice")
    room.clients["bob"].create("pods", pod("parcel"), "bob")  # it stays, taking room
    room.later(4)

    again = order(room, "alice")
    assert outline(again) == outline(first)
    assert placed(again) != placed(first)


def test_another_namespace_or_name_draws_other_names(room):
    order(room, "alice")
    order(room, "bob")
    order(room, "alice", "stall")

    def suffixes(namespace: str, resource: str, prefix: str) -> set[str]:
        found = room.names(namespace, resource)
        return {n.rsplit("-", 1)[1] for n in found if n.startswith(prefix)}

    alice, bob = suffixes("alice", "pods", "shop-"), suffixes("bob", "pods", "shop-")
    stall = suffixes("alice", "pods", "stall-")
    assert len(alice) == len(bob) == len(stall) == 2
    assert not alice & bob and not alice & stall
    # The ReplicaSet's name is the template's hash, so it alone is the same everywhere.
    assert room.names("alice", "replicasets")[0] == room.names("bob", "replicasets")[0]
    slice_alice = suffixes("alice", "endpointslices", "shop-")
    assert slice_alice != suffixes("bob", "endpointslices", "shop-")


def owner(namespace: str, name: str, uid: str, kind: str = "ReplicaSet") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"namespace": namespace, "name": name, "uid": uid}}


def test_an_owners_names_ignore_what_other_owners_asked_for():
    web = owner("alice", "web-5d8f", "uid-1")
    quiet, busy = Names(SEED), Names(SEED)
    for count in range(7):
        busy.suffix(owner("bob", f"other-{count}", f"uid-o{count}"))
    drawn = [quiet.suffix(web) for _ in range(3)]
    assert drawn == [busy.suffix(web) for _ in range(3)]
    assert len(set(drawn)) == 3
    assert all(len(s) == 5 and set(s) <= set(SAFE_ALPHABET) for s in drawn)
    # Made again (a new uid), the owner counts from its first name again.
    assert Names(SEED).suffix(owner("alice", "web-5d8f", "uid-2")) == drawn[0]
    # The same in every process: a hash of its parts, not Python's salted hash().
    assert drawn[0] == "gcnv6"


def test_the_seed_the_kind_and_the_namespace_each_change_the_names():
    first = Names(SEED).suffix(owner("alice", "web", "u"))
    assert Names(SEED + 1).suffix(owner("alice", "web", "u")) != first
    assert Names(SEED).suffix(owner("bob", "web", "u")) != first
    assert Names(SEED).suffix(owner("alice", "web", "u", kind="Job")) != first
