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


def test_a_controller_that_breaks_does_not_stop_the_others(cluster, monkeypatch):
    def broken(self, deploy, world, now):
        raise RuntimeError("a bug in the deployment controller")

    monkeypatch.setattr(DeploymentController, "_sync_deployment", broken)
    job = {
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
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=1))
    cluster.api("POST", JOBS, job)

    with pytest.raises(RuntimeError, match="a bug in the deployment controller"):
        cluster.driver.tick()

    assert [p["metadata"]["ownerReferences"][0]["name"] for p in cluster.pods()] == ["pi"]
    assert cluster.driver.pending  # the failed step is retried on the next tick
