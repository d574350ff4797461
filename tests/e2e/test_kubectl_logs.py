"""The real kubectl reads the logs the simulated containers write: plain, tailed, with
timestamps, followed as they are written, from the run before a crash, through a
Deployment, and the kubelet's refusal while an image cannot be pulled.

The learner (gina) is this file's own, so the shared live server's other users are
untouched.
"""

import contextlib
import json
import queue
import socket
import subprocess
import threading
import time

import pytest

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e

TICKER = "echo hello from $(hostname); while true; do echo tick; sleep 1; done"


@pytest.fixture(scope="module")
def gina(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("gina-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("gina"), home)


def _wait_for(gina: Kubectl, name: str, test, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        pod = json.loads(gina.ok("get", "pod", name, "-o", "json"))
        if test(pod):
            return pod
        assert time.monotonic() < deadline, json.dumps(pod.get("status"), indent=1)
        time.sleep(0.3)


def _statuses(pod: dict) -> list[dict]:
    return pod.get("status", {}).get("containerStatuses") or []


def _running(pod: dict) -> bool:
    return pod.get("status", {}).get("phase") == "Running"


def test_logs_of_a_running_container(gina):
    gina.ok("run", "ticker", "--image=busybox:1.36", "--", "sh", "-c", TICKER)
    _wait_for(gina, "ticker", _running)
    time.sleep(2.2)

    lines = gina.ok("logs", "ticker").splitlines()
    assert lines[0] == "hello from ticker"
    assert lines.count("tick") >= 2
    assert gina.ok("logs", "ticker", "--tail=1").splitlines() == ["tick"]
    stamped = gina.ok("logs", "ticker", "--timestamps", "--tail=1").strip()
    assert stamped.endswith("Z tick") and stamped[:4].isdigit()


def test_following_a_log_shows_lines_as_they_are_written_and_ends_with_the_pod(gina):
    gina.ok("run", "follower", "--image=busybox:1.36", "--", "sh", "-c", TICKER)
    _wait_for(gina, "follower", _running)
    following = gina.popen("logs", "-f", "follower")
    arrived: queue.Queue = queue.Queue()
    threading.Thread(
        target=lambda: [arrived.put((time.monotonic(), line)) for line in following.stdout],
        daemon=True,
    ).start()
    try:
        first = arrived.get(timeout=10)
        assert first[1].strip() == "hello from follower"
        # Ticks already written come at once; after them, each one as it is written,
        # a second apart: the log is sent as it grows, not at the end.
        ticks = [arrived.get(timeout=10)[0] for _ in range(6)]
        gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
        assert sum(gap > 0.5 for gap in gaps) >= 2, gaps
        gina.ok("delete", "pod", "follower", "--wait=false")
        assert following.wait(timeout=30) == 0
    finally:
        following.kill()


def test_the_previous_run_tells_why_it_crashed(gina):
    script = "echo loading settings; echo settings file missing; exit 1"
    gina.ok("run", "crasher", "--image=busybox:1.36", "--", "sh", "-c", script)
    _wait_for(gina, "crasher", lambda pod: any(s["restartCount"] >= 1 for s in _statuses(pod)))
    previous = gina.ok("logs", "crasher", "--previous").splitlines()
    assert previous == ["loading settings", "settings file missing"]


def test_a_deployments_log_and_a_pull_that_fails(gina):
    gina.ok("create", "deployment", "shop", "--image=nginx:1.27")
    deadline = time.monotonic() + 60
    while "nginx/1.27" not in (logs := gina.run("logs", "deploy/shop")).stdout:
        assert time.monotonic() < deadline, logs.stderr
        time.sleep(0.5)
    assert "start worker processes" in logs.stdout

    gina.ok("run", "nowhere", "--image=nginx:does-not-exist")
    pulling = ("ErrImagePull", "ImagePullBackOff")
    _wait_for(
        gina,
        "nowhere",
        lambda pod: any(
            s["state"].get("waiting", {}).get("reason") in pulling for s in _statuses(pod)
        ),
    )
    refused = gina.fails("logs", "nowhere")
    assert refused.startswith('Error from server (BadRequest): container "nowhere" in pod')
    assert "is waiting to start:" in refused


def test_port_forward_says_the_cluster_has_no_network(gina):
    gina.ok("run", "counter", "--image=busybox:1.36", "--", "sleep", "3600")
    _wait_for(gina, "counter", _running)

    forwarding = gina.popen("port-forward", "pod/counter", "18080:80")
    try:
        _, stderr = forwarding.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        # It listens until the first connection; that connection meets the refusal.
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", 18080), timeout=5).close()
        forwarding.kill()
        _, stderr = forwarding.communicate(timeout=10)
    assert 'cannot forward a port to pod "counter": this cluster has no real network' in stderr
