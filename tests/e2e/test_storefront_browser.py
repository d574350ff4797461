"""A shopper uses the store front in a real browser, with htmx doing the searching."""

import os
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")


def test_searching_updates_results_in_place_and_leads_to_the_product(
    live_server, live_catalog, page
):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="The store front")).to_be_visible()
    expect(page.locator("#results .product-card")).to_have_count(72)
    # Anything set on window is lost if the browser loads a new page.
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Search products").press_sequentially("deploy", delay=30)

    expect(page.locator("#results .count")).to_contain_text("match “deploy”")
    expect(page.locator("#results .product-card")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page).to_have_url(re.compile(r"\?q=deploy"))

    page.get_by_role("link", name="Deployment apps/v1").first.click()

    expect(page).to_have_url(re.compile(r"/catalog/apps/v1/deployments/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Deployment")
    expect(page.get_by_text("apiVersion: apps/v1", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="The analogy", exact=True)).to_be_visible()
    expect(
        page.get_by_role("table", name=re.compile(r"^Shop word ↔ Kubernetes word"))
    ).to_be_visible()
    page.screenshot(path=f"{SCREENSHOT}/warehouse-deployment.png", full_page=False)


def test_scope_filter_narrows_results_without_a_reload(live_server, live_catalog, page):
    page.goto(live_server.url + "/?q=name")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Cluster-wide (one per cluster)").check()

    expect(page).to_have_url(re.compile(r"scope=cluster"))
    expect(page.locator("#results .badge--ns")).to_have_count(0)
    expect(page.get_by_role("link", name="Namespace", exact=True)).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=f"{SCREENSHOT}/warehouse-storefront.png", full_page=False)
