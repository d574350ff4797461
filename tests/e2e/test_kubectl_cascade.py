"""The real kubectl deletes a Deployment three ways, as Kubernetes does each.

`--cascade=background` (the default) deletes the Deployment at once and its ReplicaSet
and Pods after; `--cascade=orphan` leaves them running, no longer owned; with
`--cascade=foreground` the Deployment stays (marked for deletion) until its ReplicaSet
and Pods are gone. The learner (hana) is this file's own.
"""

import json
import time

import pytest

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hana(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("hana-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("hana"), home)


def _items(hana: Kubectl, *args: str) -> list[dict]:
    return json.loads(hana.ok("get", *args, "-o", "json"))["items"]


def _until(test, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not (found := test()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.3)
    return found


def _deployment_with_pods(hana: Kubectl, name: str) -> None:
    hana.ok("create", "deployment", name, "--image=nginx:1.27", "--replicas=2")
    _until(lambda: len(_items(hana, "pods", "-l", f"app={name}")) == 2)


def test_orphan_leaves_the_replicaset_and_pods_unowned(hana):
    _deployment_with_pods(hana, "kept")
    hana.ok("delete", "deployment", "kept", "--cascade=orphan")

    assert hana.run("get", "deployment", "kept").returncode != 0
    time.sleep(2)  # a background cascade would have begun by now
    (replicaset,) = _items(hana, "replicasets", "-l", "app=kept")
    assert not replicaset["metadata"].get("ownerReferences")
    pods = _items(hana, "pods", "-l", "app=kept")
    assert len(pods) == 2
    assert not any(p["metadata"].get("deletionTimestamp") for p in pods)


def test_foreground_keeps_the_owner_until_its_dependents_are_gone(hana):
    _deployment_with_pods(hana, "front")
    hana.ok("delete", "deployment", "front", "--cascade=foreground", "--wait=false")

    marked = json.loads(hana.ok("get", "deployment", "front", "-o", "json"))
    assert marked["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]
    # Gone only after everything it owned: no Pod or ReplicaSet of it outlives it.
    _until(lambda: hana.run("get", "deployment", "front").returncode != 0, seconds=90)
    assert _items(hana, "replicasets", "-l", "app=front") == []
    assert all(
        p["metadata"].get("deletionTimestamp") for p in _items(hana, "pods", "-l", "app=front")
    )


def test_background_deletes_the_owner_at_once_and_the_rest_after(hana):
    _deployment_with_pods(hana, "back")
    hana.ok("delete", "deployment", "back", "--wait=false")

    assert hana.run("get", "deployment", "back").returncode != 0
    _until(lambda: _items(hana, "replicasets", "-l", "app=back") == [])
