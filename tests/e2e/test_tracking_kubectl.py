"""The real `kubectl get pods -w` sees a Pod ordered on the web page go Pending, then Running.

The learner signs in and orders through the shop's HTML forms (session cookie and CSRF
token, as a browser would); kubectl watches with a kubeconfig for the same learner. Both
doors lead to the same pipeline, so the terminal and the tracking page tell one story.
"""

import http.cookiejar
import os
import queue
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest

from support.livecluster import LiveCluster
from tests.e2e.test_kubectl import KUBECTL

pytestmark = pytest.mark.e2e

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: parcel
spec:
  containers:
    - name: main
      image: nginx:1.27
"""


class Browser:
    """Just enough of a browser for Django forms: a cookie jar and the CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def submit(self, path: str, fields: dict[str, str]) -> str:
        """GET the form for its CSRF token, POST it, follow the redirect; the final URL."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path))
        assert token, f"no CSRF token on {path}"
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields})
        with self.opener.open(self.base + path, data=data.encode(), timeout=30) as response:
            return response.geturl()


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _wait_for(lines: queue.Queue, wanted: Callable[[str], bool], timeout: float) -> list[str]:
    """Every line read until one is `wanted` (included); empty if time ran out first."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if wanted(line):
            return seen
    return []


def _watch_opened(cluster: LiveCluster, namespace: str, timeout: float = 30) -> bool:
    """kubectl prints nothing for an empty list, so wait for its watch in the server log."""
    wanted = f"/api/v1/namespaces/{namespace}/pods?"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = cluster.log_file.read_text(errors="replace")
        if any(wanted in line and "watch=true" in line for line in text.splitlines()):
            return True
        time.sleep(0.1)
    return False


def _status(line: str) -> str:
    """The STATUS column of a `kubectl get pods` line for our Pod, else ""."""
    parts = line.split()
    return parts[2] if len(parts) >= 3 and parts[0] == "parcel" else ""


def test_kubectl_watch_sees_a_web_order_go_pending_then_running(
    live_cluster: LiveCluster, tmp_path
):
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    name = f"watcher-{secrets.token_hex(3)}"
    browser = Browser(live_cluster.web_url)
    assert browser.submit("/learner/", {"name": name}).endswith("/learner/")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "KUBECACHEDIR": str(tmp_path / "cache"),
        "KUBECONFIG": str(live_cluster.kubeconfig(name)),
        "LANG": "C.UTF-8",
    }
    errors = tmp_path / "kubectl.stderr"
    watch = subprocess.Popen(
        [KUBECTL, "get", "pods", "-w"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors.open("w"),
        text=True,
    )
    out: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(watch.stdout, out), daemon=True).start()
    try:
        assert _watch_opened(live_cluster, name), errors.read_text() + live_cluster.log_tail(30)

        landed = browser.submit("/order/core/v1/pods/", {"manifest": POD})
        assert landed.endswith(f"/orders/{name}/core/v1/pods/parcel/")

        pending = _wait_for(out, lambda line: _status(line) == "Pending", timeout=20)
        assert pending, f"kubectl never showed the Pod as Pending: {errors.read_text()}"
        running = _wait_for(out, lambda line: _status(line) == "Running", timeout=40)
        assert running, f"the Pod never showed Running:\n{live_cluster.log_tail(30)}"
        assert running[-1].split()[1] == "1/1"
        assert watch.poll() is None
    finally:
        watch.kill()
        watch.wait(timeout=10)

    page = browser.get(f"/orders/{name}/core/v1/pods/parcel/track/")
    assert "Running and Ready" in page
    assert "Successfully assigned" in page
