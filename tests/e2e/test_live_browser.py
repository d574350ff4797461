"""A learner's open pages watch: a Pod made through the API shows up without a reload.

Real Chromium against `manage.py serve` (uvicorn, the control plane inside). The learner
opens "Your orders" and the tracking page in the browser; the Pod is created and changed
with the learner's own token over HTTPS, as kubectl would, and each page must show it
within two seconds, pushed down its watch stream (Server-Sent Events), not polled.
"""

import json
import os
import re
import secrets
import ssl
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

WITHIN = 2_000  # milliseconds
SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")
COUNT_SSE = """
window.sseOpened = 0; window.sseMessages = 0;
document.addEventListener('htmx:sseOpen', () => { window.sseOpened += 1; });
document.addEventListener('htmx:sseMessage', () => { window.sseMessages += 1; });
"""


def _api(cluster, token: str, method: str, path: str, body: dict) -> dict:
    """One request to the API server over HTTPS with the learner's bearer token."""
    request = urllib.request.Request(
        cluster.api_url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/merge-patch+json"
            if method == "PATCH"
            else "application/json",
            "accept": "application/json",
        },
    )
    context: ssl.SSLContext = cluster.ssl_context()
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return json.loads(response.read())


def test_a_pod_made_through_the_api_appears_on_the_open_pages(live_cluster, page):
    base = live_cluster.web_url
    name = f"watcher-{secrets.token_hex(3)}"
    pods = f"/api/v1/namespaces/{name}/pods"
    page.add_init_script(COUNT_SSE)
    page.goto(f"{base}/learner/")
    page.get_by_role("textbox", name="Learner name").fill(name)
    page.get_by_role("button", name="Start shopping").click()
    expect(page.locator(".shop-learner")).to_contain_text(name)
    token = live_cluster.token(name)

    page.goto(f"{base}/orders/")
    expect(page.locator("#orders")).to_contain_text("No orders yet")
    page.wait_for_function("window.sseMessages > 0")  # the watch is open and has listed
    page.evaluate("window.stillTheSamePage = true")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    created = _api(live_cluster, token, "POST", pods, _pod("from-the-api"))

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

    patched = _api(
        live_cluster,
        token,
        "PATCH",
        f"{pods}/from-the-api",
        {"metadata": {"labels": {"seen": "yes"}}},
    )

    version = patched["metadata"]["resourceVersion"]
    expect(page.locator("#watch-log-lines")).to_contain_text(
        re.compile(rf"MODIFIED\s+Pod/from-the-api\s+resourceVersion\s+{version}"), timeout=WITHIN
    )
    expect(page.locator("#object-yaml")).to_contain_text("seen: 'yes'", timeout=WITHIN)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.evaluate("window.sseOpened") == 1  # one stream, never reopened
    page.screenshot(path=f"{SCREENSHOT}/warehouse-tracking-live.png", full_page=True)


def _pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }


def test_grand_central_shows_a_request_made_with_the_api_without_a_reload(live_cluster, page):
    base = live_cluster.web_url
    name = f"station-{secrets.token_hex(3)}"
    page.add_init_script(COUNT_SSE)
    page.goto(f"{base}/learner/")
    page.get_by_role("textbox", name="Learner name").fill(name)
    page.get_by_role("button", name="Start shopping").click()
    expect(page.locator(".shop-learner")).to_contain_text(name)
    token = live_cluster.token(name)

    page.goto(f"{base}/learn/grand-central/")
    expect(page.locator("#traffic")).to_contain_text(f"your namespace {name}")
    page.wait_for_function("window.sseMessages > 0")  # the watch is open and has drawn
    page.evaluate("window.stillTheSamePage = true")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    _api(live_cluster, token, "POST", f"/api/v1/namespaces/{name}/configmaps", _shelf())

    expect(page.locator("#traffic")).to_contain_text(
        f"POST /api/v1/namespaces/{name}/configmaps", timeout=WITHIN
    )
    assert page.evaluate("window.stillTheSamePage") is True
    assert requests == [], "the traffic was polled rather than pushed"
    page.screenshot(path=f"{SCREENSHOT}/warehouse-grand-central-live.png", full_page=True)


def _shelf() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shelf"}}
