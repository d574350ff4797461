"""The real kubectl with HorizontalPodAutoscalers: `kubectl autoscale`, the table kubectl
prints, and the same object read, written and watched as autoscaling/v1 and v2.
The learner (ivy) is this file's own."""

import json
import queue
import re
import subprocess
import threading
from pathlib import Path

import pytest

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e

# kubectl 1.29+ drops the version from a short name (`hpa.v1.autoscaling` asks for the
# preferred v2), as it does against any cluster; the full resource name keeps it.
HPA_V1 = "horizontalpodautoscalers.v1.autoscaling"
# kubectl autoscale writes autoscaling/v1 up to 1.32 and autoscaling/v2 from 1.33.
KUBECTL_1_33 = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")


@pytest.fixture(scope="module")
def ivy(live_cluster, tmp_path_factory) -> Kubectl:
    """Ivy, with a Deployment `web` to autoscale (no replicas: no pods to wait for)."""
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("ivy-home")
    ivy = Kubectl(live_cluster, live_cluster.kubeconfig("ivy"), home)
    ivy.ok("create", "deployment", "web", "--image=nginx:1.27", "--replicas=0")
    ivy.ok("autoscale", "deployment", "web", "--cpu-percent=80", "--min=1", "--max=3")
    return ivy


def test_autoscale_makes_an_autoscaler_kubectl_prints_as_it_does(ivy):
    """kubectl 1.32 sends autoscaling/v1; the object reads back as v2 all the same."""
    hpa = json.loads(ivy.ok("get", "hpa", "web", "-o", "json"))
    lines = ivy.ok("get", "hpa").splitlines()

    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
    }
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        }
    ]
    assert lines[0].split() == [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert re.fullmatch(
        r"web\s+Deployment/web\s+cpu: <unknown>/80%\s+1\s+3\s+0\s+\d+s", rows["web"]
    )


def test_the_same_object_reads_and_writes_as_autoscaling_v1(ivy):
    ivy.ok(
        "autoscale", "deployment", "web", "--name=shelf", "--cpu-percent=80", "--min=1", "--max=3"
    )
    as_v1 = json.loads(ivy.ok("get", HPA_V1, "shelf", "-o", "json"))
    assert as_v1["apiVersion"] == "autoscaling/v1"
    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 80
    assert (as_v1["spec"]["minReplicas"], as_v1["spec"]["maxReplicas"]) == (1, 3)

    ivy.ok(
        "patch",
        HPA_V1,
        "shelf",
        "--type=merge",
        "-p",
        '{"spec":{"targetCPUUtilizationPercentage":60}}',
    )

    as_v2 = json.loads(ivy.ok("get", "hpa", "shelf", "-o", "json"))
    assert as_v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    assert int(as_v2["metadata"]["resourceVersion"]) > int(as_v1["metadata"]["resourceVersion"])
    assert "cpu: <unknown>/60%" in ivy.ok("get", HPA_V1, "shelf")
    assert "cpu: <unknown>/60%" in ivy.ok("get", "hpa.v1.autoscaling", "shelf")
    ivy.ok("delete", "hpa", "shelf")


def test_a_v1_watch_sees_a_change_made_through_v2_in_its_own_shape(ivy):
    ivy.ok("autoscale", "deployment", "web", "--name=till", "--cpu-percent=50", "--max=2")
    template = "{.apiVersion} {.spec.targetCPUUtilizationPercentage} {.spec.maxReplicas}{'\\n'}"
    watcher = ivy.popen("get", HPA_V1, "till", "--watch-only", "-o", f"jsonpath={template}")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True
    ).start()
    try:
        # The watch opens after its own GET; patch until an event shows the change.
        for max_replicas in (4, 5, 6):
            ivy.ok(
                "patch",
                "hpa",
                "till",
                "--type=merge",
                "-p",
                f'{{"spec":{{"maxReplicas":{max_replicas}}}}}',
            )
            try:
                line = lines.get(timeout=3)
                break
            except queue.Empty:
                continue
        else:
            pytest.fail("the v1 watch saw no change")
    finally:
        watcher.kill()
        watcher.wait()
        ivy.ok("delete", "hpa", "till")

    version, target, _ = line.split()
    assert (version, target) == ("autoscaling/v1", "50")


def test_kubectl_1_33_autoscales_through_v2_and_v1_reads_it(ivy):
    if not KUBECTL_1_33.exists():
        pytest.skip(f"{KUBECTL_1_33} not found")
    result = subprocess.run(
        [str(KUBECTL_1_33), "autoscale", "deployment", "web", "--name=shop", "--max=2", "-v=6"],
        env=ivy.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "/apis/autoscaling/v2/namespaces/ivy/horizontalpodautoscalers" in result.stderr

    as_v1 = json.loads(ivy.ok("get", HPA_V1, "shop", "-o", "json"))
    ivy.ok("delete", "hpa", "shop")

    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 80
    assert as_v1["spec"]["maxReplicas"] == 2
