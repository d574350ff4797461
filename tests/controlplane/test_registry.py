"""The controllers' registry: one table decides what is watched, and who runs in a step."""

import pytest

from controlplane import runner
from controlplane.controllers import REGISTRY, WATCHED
from controlplane.controllers.deployment import DeploymentController
from tests.controlplane.test_workloads import DEPLOYMENTS, JOBS, deployment


def test_the_informer_watches_every_kind_a_registered_controller_watches(cluster):
    cluster.settle()
    informer = cluster.plane.informer

    assert set(runner.WATCHED) == {"nodes", "pods", *WATCHED}
    assert {"statefulsets", "daemonsets", "cronjobs"} <= set(WATCHED)
    assert set(informer.objects) == set(runner.WATCHED) == set(informer.watches)
    world = informer.world()
    for entry in REGISTRY:
        for resource in entry.watches:
            assert isinstance(getattr(world, resource), list)


PI_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi"},
    "spec": {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "pi", "image": "busybox:1.36", "command": ["true"]}],
            }
        }
    },
}


def test_a_controller_that_breaks_does_not_stop_the_others(cluster, monkeypatch):
    def broken(self, world, now):
        raise RuntimeError("a bug in the deployment controller")

    monkeypatch.setattr(DeploymentController, "sync", broken)
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=1))
    cluster.api("POST", JOBS, PI_JOB)

    with pytest.raises(RuntimeError, match="a bug in the deployment controller"):
        cluster.driver.tick()

    assert [p["metadata"]["ownerReferences"][0]["name"] for p in cluster.pods()] == ["pi"]
    assert cluster.driver.pending  # the failed step is retried on the next tick


def test_an_object_that_breaks_its_sync_backs_off_alone(cluster, monkeypatch):
    """Like a work queue: the step completes, the object gets one FailedSync event."""

    def broken(self, deploy, world, now):
        raise RuntimeError("a bug in the deployment controller")

    monkeypatch.setattr(DeploymentController, "_sync_deployment", broken)
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=1))
    cluster.api("POST", JOBS, PI_JOB)

    cluster.settle()
    cluster.step(1.0, times=4)

    assert [p["metadata"]["ownerReferences"][0]["name"] for p in cluster.pods()] == ["pi"]
    warnings = [e for e in cluster.event_objects("web") if e["reason"] == "FailedSync"]
    assert len(warnings) == 1
    assert warnings[0]["type"] == "Warning"
    assert "a bug in the deployment controller" in warnings[0]["message"]
    assert warnings[0]["count"] == 1
    controller = cluster.plane.controllers.controllers[0]
    (failure,) = controller.retries.failures.values()
    assert failure.count == 3  # tried at 0 s, 1 s and 3 s; the next try waits 4 s
