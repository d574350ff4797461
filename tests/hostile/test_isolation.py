"""Defence in depth: an object that got past admission stops nobody but itself.

Each poison object is written straight into the store, as a bug or an older server might
have let it in. The component that trips over it records one FailedSync warning on it and
backs off, while bob's Pod in another namespace is scheduled, started and made Ready.
"""

import copy

import pytest

from tests.controlplane.conftest import without_share
from tests.controlplane.test_workloads import deployment
from tests.hostile.conftest import bobs_pod_ready, corrupt, order_bobs_pod, smuggle

BASE_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "poison", "namespace": "alice"},
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1.27"}],
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
    },
    "status": {"phase": "Pending"},
}


def _pod(requests: dict) -> dict:
    pod = copy.deepcopy(BASE_POD)
    pod["spec"]["containers"][0]["resources"] = {"requests": requests}
    return pod


def _deployment(**spec: object) -> dict:
    body = deployment("poison")
    body["metadata"]["namespace"] = "alice"
    body["spec"].update(spec)
    return body


def _job(**spec: object) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "poison",
            "namespace": "alice",
            "uid": "0b7e1b2c-0000-4000-8000-00000000b0b0",
        },
        "spec": {
            "completions": 1,
            "backoffLimit": 6,
            "selector": {
                "matchLabels": {
                    "batch.kubernetes.io/controller-uid": "0b7e1b2c-0000-4000-8000-00000000b0b0"
                }
            },
            "template": {
                "metadata": {
                    "labels": {
                        "batch.kubernetes.io/controller-uid": "0b7e1b2c-0000-4000-8000-00000000b0b0"
                    }
                },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "pi", "image": "busybox:1.36", "command": ["true"]}],
                },
            },
            **spec,
        },
    }


POISON = {
    "pod-asking-for-lots-of-cpu": (("", "v1", "pods"), _pod({"cpu": "lots"}), "Pod"),
    "pod-asking-for-1-GB": (("", "v1", "pods"), _pod({"memory": "1 GB"}), "Pod"),
    "deployment-with-null-replicas": (
        ("apps", "v1", "deployments"),
        _deployment(replicas=None),
        "Deployment",
    ),
    "deployment-with-a-bad-surge": (
        ("apps", "v1", "deployments"),
        _deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "x%"}}),
        "Deployment",
    ),
    "job-with-null-parallelism": (("batch", "v1", "jobs"), _job(parallelism=None), "Job"),
}


def _failed_syncs(cluster, kind: str) -> list[dict]:
    return [
        e
        for e in cluster.event_objects("poison")
        if e["reason"] == "FailedSync" and e["involvedObject"]["kind"] == kind
    ]


@pytest.mark.parametrize("case", list(POISON))
def test_a_poison_object_stops_nobody_but_itself(cluster, bob, case):
    without_share()  # a quota would refuse the poison Pods too, admission or not
    (group, version, plural), body, kind = POISON[case]
    smuggle(group, version, plural, body)
    order_bobs_pod(bob)

    cluster.settle()
    cluster.step(1.0, times=6)

    assert bobs_pod_ready(bob)
    warnings = _failed_syncs(cluster, kind)
    assert warnings, cluster.events("poison")
    assert all(e["type"] == "Warning" for e in warnings)
    assert all(e["message"].startswith(f"Error syncing {kind} alice/poison: ") for e in warnings)
    first = sum(e["count"] for e in warnings)

    cluster.step(1.0, times=30)

    # Retried with a growing delay (1 s, 2 s, 4 s, ...), and never recorded again.
    assert sum(e["count"] for e in _failed_syncs(cluster, kind)) == first
    retries = [
        failure
        for component in _components(cluster)
        for failure in component.retries.failures.values()
    ]
    assert retries
    assert max(f.count for f in retries) >= 4


def _components(cluster):
    plane = cluster.plane
    return [*plane.controllers.controllers, plane.scheduler, *plane.kubelets]


def test_a_learners_own_pods_elsewhere_keep_being_delivered(cluster, bob):
    """alice's poison stops neither bob nor alice's other, valid, orders."""
    without_share()
    smuggle("", "v1", "pods", _pod({"cpu": "lots"}))
    smuggle("apps", "v1", "deployments", _deployment(replicas=None))
    cluster.api("POST", "/apis/apps/v1/namespaces/alice/deployments", deployment("fine", 2))
    order_bobs_pod(bob)

    cluster.settle()
    cluster.step(1.0, times=6)

    assert bobs_pod_ready(bob)
    fine = cluster.pods("app=fine")
    assert len(fine) == 2
    assert all(p["status"]["phase"] == "Running" for p in fine)


def test_a_kubelet_does_not_keep_an_address_that_is_none(cluster, bob):
    manifest = copy.deepcopy(BASE_POD)
    manifest["metadata"]["labels"] = {"app": "poison"}
    manifest["spec"]["nodeName"] = "node-1"
    del manifest["status"]
    cluster.api("POST", "/api/v1/namespaces/alice/pods", manifest)

    def lie(pod: dict) -> dict:
        pod["status"] |= {"podIP": "not.an.ip", "podIPs": [{"ip": "not.an.ip"}]}
        return pod

    corrupt("", "v1", "pods", "alice", "poison", lie)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front"},
        "spec": {"selector": {"app": "poison"}, "ports": [{"port": 80}]},
    }
    cluster.api("POST", "/api/v1/namespaces/alice/services", service)
    order_bobs_pod(bob)

    cluster.settle()
    cluster.step(1.0, times=6)

    assert bobs_pod_ready(bob)
    status = cluster.pod("poison")["status"]
    assert status["phase"] == "Running"
    assert status["podIP"].startswith("10.244.1.")
    assert status["podIPs"] == [{"ip": status["podIP"]}]
