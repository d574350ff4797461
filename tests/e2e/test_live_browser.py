"""A learner's open pages watch: a Pod made with kubectl shows up without a reload.

Real Chromium against `manage.py serve` (uvicorn, the control plane inside). The learner
opens "Your orders" and the tracking page in the browser; the Pod is created and changed
with real kubectl and the learner's own kubeconfig, and each page must show it within
two seconds, pushed down its watch stream (Server-Sent Events), not polled.
"""

import os
import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.learner import COUNT_SSE, KUBECTL, kubectl, sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (set KUBECTL)"),
]

WITHIN = 2_000  # milliseconds
SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")


def test_a_pod_made_with_kubectl_appears_on_the_open_pages(live_cluster, page, tmp_path):
    base = live_cluster.web_url
    name = f"watcher-{secrets.token_hex(3)}"
    page.add_init_script(COUNT_SSE)
    sign_in(page, base, name)
    kubeconfig = live_cluster.kubeconfig(name)

    page.goto(f"{base}/orders/")
    expect(page.locator("#orders")).to_contain_text("No orders yet")
    page.wait_for_function("window.sseMessages > 0")  # the watch is open and has listed
    page.evaluate("window.stillTheSamePage = true")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    created = kubectl(kubeconfig, tmp_path, "run", "from-the-api", "--image=nginx:1.27")

    expect(page.get_by_role("link", name="from-the-api", exact=True)).to_be_visible(timeout=WITHIN)
    version = created["metadata"]["resourceVersion"]
    expect(page.locator("#watch-log-lines")).to_contain_text(
        re.compile(rf"ADDED\s+Pod/from-the-api\s+resourceVersion\s+{version}")
    )
    assert page.evaluate("window.stillTheSamePage") is True
    assert requests == [], "the list was polled rather than pushed"
    page.screenshot(path=f"{SCREENSHOT}/warehouse-orders-live.png", full_page=True)

    page.get_by_role("link", name="Track Pod from-the-api").click()
    expect(page).to_have_url(re.compile(rf"/orders/{name}/core/v1/pods/from-the-api/track/$"))
    expect(
        page.get_by_text(f"kubectl get pods from-the-api -n {name} --watch").first
    ).to_be_visible()
    page.wait_for_function("window.sseMessages > 0")
    page.evaluate("window.stillTheSamePage = true")

    kubectl(kubeconfig, tmp_path, "label", "pod", "from-the-api", "seen=yes")
    # kubectl label prints the object as it read it; the server's newest is what a get shows.
    patched = kubectl(kubeconfig, tmp_path, "get", "pod", "from-the-api")

    version = patched["metadata"]["resourceVersion"]
    expect(page.locator("#watch-log-lines")).to_contain_text(
        re.compile(rf"MODIFIED\s+Pod/from-the-api\s+resourceVersion\s+{version}"), timeout=WITHIN
    )
    expect(page.locator("#object-yaml")).to_contain_text("seen: 'yes'", timeout=WITHIN)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.evaluate("window.sseOpened") == 1  # one stream, never reopened
    page.screenshot(path=f"{SCREENSHOT}/warehouse-tracking-live.png", full_page=True)


def test_grand_central_shows_a_request_made_with_kubectl_without_a_reload(
    live_cluster, page, tmp_path
):
    base = live_cluster.web_url
    name = f"station-{secrets.token_hex(3)}"
    page.add_init_script(COUNT_SSE)
    sign_in(page, base, name)
    kubeconfig = live_cluster.kubeconfig(name)

    page.goto(f"{base}/learn/grand-central/")
    expect(page.locator("#traffic")).to_contain_text(f"your namespace {name}")
    page.wait_for_function("window.sseMessages > 0")  # the watch is open and has drawn
    page.evaluate("window.stillTheSamePage = true")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    kubectl(kubeconfig, tmp_path, "create", "configmap", "shelf", "--from-literal=a=b")

    expect(page.locator("#traffic")).to_contain_text(
        f"POST /api/v1/namespaces/{name}/configmaps", timeout=WITHIN
    )
    assert page.evaluate("window.stillTheSamePage") is True
    assert requests == [], "the traffic was polled rather than pushed"
    page.screenshot(path=f"{SCREENSHOT}/warehouse-grand-central-live.png", full_page=True)
