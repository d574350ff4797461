"""The real kubectl against a live Warehouse: a StatefulSet, a DaemonSet and a CronJob.

The CronJob runs on the server's real clock with a schedule of every minute, so it is
created when this module starts and checked last: the wait for the next minute passes
while the other tests run.
"""

import json
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_kubectl import KUBECTL, NAMESPACE, Kubectl

pytestmark = pytest.mark.e2e

CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "nightly"},
    "spec": {
        "schedule": "* * * * *",
        "concurrencyPolicy": "Forbid",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [
                            {"name": "report", "image": "busybox:1.36", "command": ["sleep", "600"]}
                        ],
                    }
                }
            }
        },
    },
}


def _write(path: Path, obj: dict) -> str:
    path.write_text(yaml.safe_dump(obj))
    return str(path)


def _workload(kind: str, name: str, **spec) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
            **spec,
        },
    }


def _items(kubectl: Kubectl, *args: str) -> list[dict]:
    return json.loads(kubectl.ok("get", *args, "-o", "json"))["items"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def kubectl(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("kubectl-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig(NAMESPACE), home)


@pytest.fixture(scope="module", autouse=True)
def subscription(kubectl, tmp_path_factory):
    """The CronJob, ordered before anything else in this module and cancelled after it."""
    path = tmp_path_factory.mktemp("cronjob") / "cronjob.yaml"
    assert kubectl.ok("create", "-f", _write(path, CRONJOB)).strip() == (
        "cronjob.batch/nightly created"
    )
    yield
    kubectl.ok("delete", "cronjob", "nightly", "--wait=false")


def test_a_statefulset_of_three_becomes_ready_one_pod_after_another(kubectl, tmp_path):
    sts = _workload("StatefulSet", "ledger", replicas=3, serviceName="ledger")
    created = kubectl.ok("create", "-f", _write(tmp_path / "sts.yaml", sts)).strip()
    assert created == "statefulset.apps/ledger created"

    done = kubectl.ok("rollout", "status", "statefulset/ledger", "--timeout=90s")

    assert "partitioned roll out complete: 3 new pods have been updated" in done
    pods = {p["metadata"]["name"]: p for p in _items(kubectl, "pods", "-l", "app=ledger")}
    assert sorted(pods) == ["ledger-0", "ledger-1", "ledger-2"]
    for index in (1, 2):
        before = pods[f"ledger-{index - 1}"]
        ready = next(c for c in before["status"]["conditions"] if c["type"] == "Ready")
        created_at = _at(pods[f"ledger-{index}"]["metadata"]["creationTimestamp"])
        assert created_at >= _at(ready["lastTransitionTime"]), f"ledger-{index} came too early"
    events = kubectl.ok(
        "get", "events", "--field-selector", "involvedObject.name=ledger", "-o", "json"
    )
    messages = [e["message"] for e in json.loads(events)["items"]]
    assert "create Pod ledger-0 in StatefulSet ledger successful" in messages
    history = kubectl.ok("rollout", "history", "statefulset/ledger").splitlines()
    assert history[0] == "statefulset.apps/ledger "
    assert history[1].split() == ["REVISION", "CHANGE-CAUSE"]
    assert history[2].split() == ["1", "<none>"]


def test_a_daemonset_has_one_pod_on_every_node(kubectl, live_cluster, tmp_path):
    ds = _workload("DaemonSet", "courier")
    created = kubectl.ok("create", "-f", _write(tmp_path / "ds.yaml", ds)).strip()
    assert created == "daemonset.apps/courier created"

    done = kubectl.ok("rollout", "status", "daemonset/courier", "--timeout=90s")

    assert 'daemon set "courier" successfully rolled out' in done
    admin = Kubectl(live_cluster, live_cluster.kubeconfig("ops", instructor=True), tmp_path)
    nodes = sorted(admin.ok("get", "nodes", "-o", "name").split())
    pods = _items(kubectl, "pods", "-l", "app=courier")
    assert sorted(f"node/{p['spec']['nodeName']}" for p in pods) == nodes
    status = yaml.safe_load(kubectl.ok("get", "daemonset", "courier", "-o", "yaml"))["status"]
    assert status["desiredNumberScheduled"] == status["numberReady"] == len(nodes)


def test_a_cronjob_makes_a_job_at_its_schedule_time(kubectl):
    deadline = time.monotonic() + 90
    jobs: list[dict] = []
    while not jobs and time.monotonic() < deadline:
        jobs = [
            j
            for j in _items(kubectl, "jobs")
            if j["metadata"].get("ownerReferences", [{}])[0].get("name") == "nightly"
        ]
        time.sleep(1)
    assert jobs, "no Job within 90 seconds of an every-minute schedule"

    (job,) = jobs
    scheduled = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    minutes = int(_at(scheduled).timestamp()) // 60
    assert job["metadata"]["name"] == f"nightly-{minutes}"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    cronjob = json.loads(kubectl.ok("get", "cronjob", "nightly", "-o", "json"))
    assert cronjob["status"]["lastScheduleTime"] == scheduled
    assert [a["name"] for a in cronjob["status"]["active"]] == [job["metadata"]["name"]]
