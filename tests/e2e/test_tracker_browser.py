"""The delivery tracker and the analogy map in real Chromium.

One `manage.py serve` for the module, with quick deliveries (a second per kubelet step):
a Pod whose image cannot be pulled shows the problem and the command that fixes it, a
Deployment's tracker moves on down its watch stream while the page stays loaded and
draws its ReplicaSet and Pods, and the store front draws the analogy, also at 390 px.
"""

import json
import os
import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from support.livecluster import REPO, LiveCluster, running_cluster
from tests.e2e.learner import live_shot, sign_in

pytestmark = pytest.mark.e2e

SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")
PHONE = {"width": 390, "height": 844}
AXE = next((REPO / "static" / "vendor" / "axe-core").glob("*/axe.min.js"))
# Serious and critical problems inside one figure, in the light and the dark scheme.
RUN_AXE = """async (selector) => {
  const result = await axe.run(selector, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + ": " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
}"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[LiveCluster]:
    with running_cluster(
        tmp_path_factory.mktemp("tracker-cluster"),
        extra_env={"WAREHOUSE_DELIVERY_SECONDS": "1", "WAREHOUSE_EXPECTED_LEARNERS": "1"},
    ) as cluster:
        yield cluster


def order(page: Page, base: str, path: str, manifest: dict) -> None:
    """Place an order through the shop's form, then open its tracking page."""
    page.goto(f"{base}/order/{path}/")
    page.locator("#id_manifest").fill(json.dumps(manifest, indent=2))
    page.get_by_role("button", name="Place order").click()
    page.get_by_role("link", name="Track this order").click()


def fits_the_screen(page: Page, selector: str) -> bool:
    """Nothing in `selector` reaches past the right edge of the viewport."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' *')].every(
             (e) => e.getBoundingClientRect().right <= window.innerWidth + 1)""",
        selector,
    )


def accessible(page: Page, selector: str) -> list[str]:
    """What axe-core finds wrong in `selector`, in both colour schemes."""
    page.add_script_tag(path=str(AXE))
    found = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found += [f"{scheme}: {problem}" for problem in page.evaluate(RUN_AXE, selector)]
    page.emulate_media(color_scheme="light")
    return found


def test_a_pod_that_cannot_be_pulled_shows_the_problem_and_the_fix(cluster, page):
    base, name = cluster.web_url, f"parcel-{secrets.token_hex(3)}"
    sign_in(page, base, name)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "lost"},
        "spec": {"containers": [{"name": "main", "image": "nginx:does-not-exist"}]},
    }

    order(page, base, "core/v1/pods", pod)

    tracker = page.locator("#tracker")
    expect(tracker).to_have_attribute("data-problem", "image", timeout=20_000)
    expect(tracker).to_have_attribute("data-stop", "out")
    here = tracker.locator("[aria-current=step]")
    expect(here).to_contain_text("Out for delivery")
    expect(here).to_contain_text("problem")
    expect(tracker.locator(".tracker__stop--done")).to_have_count(4)
    problem = page.get_by_role("region", name="Delivery problem: Supplier problem")
    expect(problem).to_contain_text(re.compile("ErrImagePull|ImagePullBackOff"))
    expect(problem.get_by_role("heading", name="What to do next")).to_be_visible()
    expect(problem).to_contain_text(f"kubectl set image pod/lost main=IMAGE -n {name}")
    expect(problem).to_contain_text("nginx:does-not-exist")
    live_shot(page.locator("#live-order"), f"{SCREENSHOT}/warehouse-tracker-problem.png")

    page.set_viewport_size(PHONE)
    expect(tracker).to_be_visible()
    timeline = page.locator("#timeline").bounding_box()
    box = tracker.bounding_box()
    assert box is not None and timeline is not None
    assert timeline["y"] >= box["y"] + box["height"] - 1, "at 390 px the timeline goes below"
    assert fits_the_screen(page, "#tracker")
    assert fits_the_screen(page, "#tracker-problem")
    assert accessible(page, "#live-order") == []
    live_shot(tracker, f"{SCREENSHOT}/warehouse-tracker-problem-390.png")


def test_a_deployments_tracker_moves_on_without_a_reload_and_draws_its_family(cluster, page):
    base, name = cluster.web_url, f"fleet-{secrets.token_hex(3)}"
    sign_in(page, base, name)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "shop"}},
            "template": {
                "metadata": {"labels": {"app": "shop"}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }

    order(page, base, "apps/v1/deployments", deployment)

    tracker = page.locator("#tracker")
    first = tracker.get_attribute("data-stop")
    assert first != "delivered", "the page opened after the delivery; nothing left to watch"
    page.evaluate("window.stillTheSamePage = true")
    tracking_url = page.url

    expect(tracker).to_have_attribute("data-stop", "delivered", timeout=30_000)
    expect(tracker.locator("[aria-current=step]")).to_contain_text("Delivered")
    expect(tracker.locator(".tracker__stop--done")).to_have_count(6)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url == tracking_url

    family = tracker.get_by_role("list", name="What it made")
    expect(family.locator("[data-kind=Deployment]")).to_contain_text("2/2 available")
    (replicaset,) = family.locator("[data-kind=ReplicaSet]").all()
    link = replicaset.get_by_role("link", name=re.compile(r"^shop-[a-z0-9]+$"))
    expect(link).to_have_attribute("href", re.compile(r"/apps/v1/replicasets/shop-\w+/track/$"))
    expect(replicaset).to_contain_text("2/2 ready")
    pods = replicaset.locator("[data-kind=Pod]")
    expect(pods).to_have_count(2)
    for index in range(2):
        expect(pods.nth(index)).to_contain_text("Running")
        expect(pods.nth(index)).to_contain_text(re.compile(r"on node-\d"))
    live_shot(page.locator("#live-order"), f"{SCREENSHOT}/warehouse-tracker-deployment.png")
    assert accessible(page, "#tracker") == []


def test_the_store_front_and_lesson_one_draw_the_analogy(cluster, page):
    page.goto(cluster.web_url + "/")

    figure = page.get_by_role("figure", name="The analogy, drawn")
    pairs = figure.locator(".analogy-map__pair")
    expect(pairs).to_have_count(6)
    third_party = pairs.filter(has_text="Third-party sellers")
    expect(third_party).to_contain_text("CustomResourceDefinitions")
    expect(third_party).to_contain_text("Where it breaks:")
    expect(pairs.filter(has_text="Tracking your order")).to_contain_text("Watching an object")
    shop_box = pairs.first.locator(".analogy-map__end--shop").bounding_box()
    kube_box = pairs.first.locator(".analogy-map__end--kube").bounding_box()
    assert shop_box and kube_box and kube_box["x"] > shop_box["x"] + shop_box["width"]
    figure.screenshot(path=f"{SCREENSHOT}/warehouse-analogy-map.png")

    page.set_viewport_size(PHONE)
    shop_box = pairs.first.locator(".analogy-map__end--shop").bounding_box()
    kube_box = pairs.first.locator(".analogy-map__end--kube").bounding_box()
    assert shop_box and kube_box and kube_box["y"] > shop_box["y"] + shop_box["height"]
    expect(pairs.first.locator(".analogy-map__side").first).to_be_visible()
    assert fits_the_screen(page, ".analogy-map")
    assert accessible(page, ".analogy-map") == []
    figure.screenshot(path=f"{SCREENSHOT}/warehouse-analogy-map-390.png")

    page.goto(cluster.web_url + "/learn/lessons/front-door/")
    expect(page.get_by_role("figure", name="The analogy, drawn")).to_be_visible()
