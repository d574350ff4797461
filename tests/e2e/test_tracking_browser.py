"""A learner orders a Pod in real Chromium and watches its tracking page reach Delivered.

The server is `manage.py serve` with its control plane inside, started for this module
with slower deliveries (two seconds per kubelet step), so the page surely opens while the
order is still on its way and every later step has to arrive down the page's watch stream.
"""

import os
import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from support.livecluster import LiveCluster, running_cluster

pytestmark = pytest.mark.e2e

SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")


@pytest.fixture(scope="module")
def slow_cluster(tmp_path_factory) -> Iterator[LiveCluster]:
    with running_cluster(
        tmp_path_factory.mktemp("tracking-cluster"),
        extra_env={"WAREHOUSE_DELIVERY_SECONDS": "2"},
    ) as cluster:
        yield cluster


def test_the_tracking_page_follows_a_pod_to_delivered_without_reloading(slow_cluster, page):
    base = slow_cluster.web_url
    name = f"tracker-{secrets.token_hex(3)}"
    page.goto(f"{base}/learner/")
    page.get_by_role("textbox", name="Learner name").fill(name)
    page.get_by_role("button", name="Start shopping").click()
    expect(page.locator(".shop-learner")).to_contain_text(name)

    page.goto(f"{base}/order/core/v1/pods/")
    page.get_by_role("button", name="Place order").click()
    page.get_by_role("link", name="Track this order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{name}/core/v1/pods/web/track/$"))
    timeline = page.locator("#timeline")
    expect(timeline).to_have_attribute("data-final", "false")
    page.evaluate(
        "window.stillTheSamePage = true; window.swaps = 0;"
        "document.body.addEventListener('htmx:afterSwap', () => { window.swaps += 1; });"
    )

    now = page.locator("#current-step")
    expect(now).to_contain_text("Delivered", timeout=40_000)
    expect(now).to_contain_text("Running and Ready")
    expect(timeline).to_have_attribute("data-final", "true")
    expect(
        page.get_by_role("row", name=re.compile(r"^Delivered Running and Ready"))
    ).to_contain_text("Done")
    expect(page.locator(".track-events")).to_contain_text("Started container main")
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.evaluate("window.swaps") > 0

    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url))
    page.wait_for_timeout(2500)
    assert polls == [], "the page kept polling after the order was final"
    page.screenshot(path=f"{SCREENSHOT}/warehouse-tracking.png", full_page=True)
