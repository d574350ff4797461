"""The pure parts: the pretend runtime's rules, quantities, scheduling and hashing."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from apiserver.labels import selector_matches
from controlplane import runtime
from controlplane.clock import FakeClock
from controlplane.controllers.common import safe_encode, template_hash
from controlplane.controllers.replicaset import plan_replicaset
from controlplane.kubelet import ContainerRun, Timing, advance
from controlplane.nodes import node_manifest
from controlplane.resources import parse_quantity, pod_requests
from controlplane.scheduler import (
    UNSCHEDULABLE_TAINT,
    node_matches,
    pick_node,
    unschedulable_message,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("image", "exists"),
    [
        ("nginx", True),
        ("nginx:1.27", True),
        ("docker.io/library/busybox:1.36", True),
        ("registry.k8s.io/pause:3.10", True),
        ("nginx:does-not-exist", False),
        ("notfound/app", False),
        ("example.com/team/app:1.0", False),
        ("ngnix", False),
    ],
)
def test_the_pretend_registry_knows_a_small_list_of_images(image, exists):
    assert runtime.image_exists(image) is exists


@pytest.mark.parametrize(
    ("container", "seconds", "code"),
    [
        ({"image": "nginx"}, None, 0),
        ({"image": "busybox"}, 0.0, 0),
        ({"image": "busybox", "command": ["false"]}, 0.0, 1),
        ({"image": "busybox", "command": ["sh", "-c", "sleep 5; exit 3"]}, 5.0, 3),
        ({"image": "busybox", "args": ["sleep", "3600"]}, 3600.0, 0),
        ({"image": "busybox", "command": ["sleep", "infinity"]}, None, 0),
        ({"image": "busybox", "command": ["sh", "-c", "while true; do date; done"]}, None, 0),
        ({"image": "busybox", "command": ["sh", "-c", "echo hi && exit"]}, 0.0, 0),
    ],
)
def test_a_containers_command_decides_how_long_it_runs_and_its_exit_code(container, seconds, code):
    assert runtime.program(container) == runtime.Program(seconds, code)


def test_quantities_and_requests():
    assert parse_quantity("500m") == parse_quantity("0.5")
    assert parse_quantity("1Gi") == 1024**3
    assert parse_quantity("1e3") == 1000
    pod = {
        "spec": {
            "containers": [
                {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                {"resources": {"limits": {"cpu": "1"}}},
            ]
        }
    }
    assert pod_requests(pod) == {"cpu": parse_quantity("1.25"), "memory": 64 * 1024**2}


def test_unschedulable_message_lists_reasons_like_kube_scheduler():
    reasons = Counter({"Insufficient cpu": 2, "Insufficient memory": 1})
    assert unschedulable_message(3, reasons) == (
        "0/3 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."
    )


def test_the_least_allocated_node_wins():
    nodes = [node_manifest(i, NOW, "2", "4Gi", 110) for i in (1, 2)]
    busy = {
        "metadata": {"uid": "a"},
        "spec": {"nodeName": "node-1", "containers": [{"resources": {"requests": {"cpu": "1"}}}]},
        "status": {"phase": "Running"},
    }
    pod = {
        "metadata": {"uid": "b"},
        "spec": {"containers": [{"resources": {"requests": {"cpu": "500m"}}}]},
    }
    assert pick_node(pod, nodes, [busy]).node == "node-2"


def test_pod_template_hash_is_stable_and_uses_the_safe_alphabet():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}
    first = template_hash(template)
    assert first == template_hash({**template})
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert template_hash(template, collisions=1) != first
    assert safe_encode("0123456789") == "456789bcdf"


def test_selectors():
    assert selector_matches({"app": "web"}, {"app": "web", "tier": "front"})
    assert not selector_matches({}, {"app": "web"})
    assert selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
        {"tier": "front"},
    )


def test_surplus_pods_go_unscheduled_first():
    rs = {"metadata": {"uid": "rs"}, "spec": {"replicas": 1}}
    owner = [{"uid": "rs", "controller": True}]

    def pod(name: str, node: str | None) -> dict:
        spec = {"nodeName": node} if node else {}
        return {
            "metadata": {
                "name": name,
                "uid": name,
                "ownerReferences": owner,
                "creationTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": spec,
            "status": {"phase": "Running" if node else "Pending"},
        }

    _, doomed = plan_replicaset(rs, [pod("a", "node-1"), pod("b", None)])
    assert [p["metadata"]["name"] for p in doomed] == ["b"]


def test_image_pull_back_off_doubles_up_to_five_minutes():
    timing = Timing(step=1, backoff=10, max_backoff=300)
    assert [timing.backoff_after(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]
    run = ContainerRun(name="c", image="nope:1", due=NOW)
    pod = {"metadata": {"uid": "u", "name": "p", "namespace": "n"}, "spec": {}}
    clock = FakeClock(NOW)
    reasons = []
    for _ in range(4):
        reasons += [n.reason for n in advance(run, {}, pod, clock.now(), timing, set())]
        clock.advance(1)
    assert reasons == ["Pulling", "Failed", "Failed", "BackOff", "Failed"]
    assert run.due == NOW + timedelta(seconds=12)


def test_required_node_affinity_and_tolerations_filter_nodes():
    nodes = [node_manifest(i, NOW, "2", "4Gi", 110) for i in (1, 2, 3)]
    nodes[1]["metadata"]["labels"]["disk"] = "ssd"
    nodes[2]["spec"] = {"unschedulable": True}

    def pod(*terms: dict, tolerations: list | None = None) -> dict:
        affinity = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        spec = {"containers": [], "affinity": {"nodeAffinity": affinity}}
        if tolerations:
            spec["tolerations"] = tolerations
        return {"metadata": {"uid": "p"}, "spec": spec}

    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-3"]}]}
    refused = pick_node(pod(by_name), nodes, [])
    assert refused.node is None
    assert refused.message == (
        "0/3 nodes are available: 1 node(s) were unschedulable, "
        "2 node(s) didn't match Pod's node affinity/selector."
    )
    cordon = {"key": UNSCHEDULABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}
    assert pick_node(pod(by_name, tolerations=[cordon]), nodes, []).node == "node-3"
    ssd = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
    assert pick_node(pod(ssd), nodes, []).node == "node-2"
    not_ssd = {"matchExpressions": [{"key": "disk", "operator": "DoesNotExist"}]}
    assert pick_node(pod(not_ssd), nodes, []).node == "node-1"
    assert pick_node(pod({}), nodes, []).node is None  # an empty term matches no node
    assert node_matches(pod(ssd, not_ssd), nodes[0])  # terms are ORed
    both = {**ssd, **by_name}
    assert not node_matches(pod(both), nodes[1])  # inside a term, everything must hold
