"""The request-flow figure in real Chromium: a refused order's receipt, and Grand Central's
board during an overload.

`manage.py serve` runs for this module with rate limits on (the test settings turn them
off elsewhere), so fairness really answers 429 when the learner lane is squeezed.
"""

import os
import re
import secrets
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from apiserver import flow
from support.livecluster import LiveCluster, running_cluster
from tests.e2e.learner import COUNT_SSE, live_shot, sign_in

pytestmark = pytest.mark.e2e

SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def limited_cluster(tmp_path_factory) -> Iterator[LiveCluster]:
    with running_cluster(
        tmp_path_factory.mktemp("flow-cluster"),
        extra_env={"WAREHOUSE_RATE_LIMIT_BACKEND": "memory"},
    ) as cluster:
        yield cluster


def _fits(page, selector: str, width: int) -> None:
    """Nothing of the figure reaches past the screen's edge."""
    right = page.locator(selector).first.evaluate("e => e.getBoundingClientRect().right")
    assert right <= width, f"{selector} ends at {right}px on a {width}px screen"


def test_a_refused_orders_figure_marks_the_gate_its_status_code_names(limited_cluster, page):
    base = limited_cluster.web_url
    sign_in(page, base, f"twice-{secrets.token_hex(3)}")

    page.goto(f"{base}/order/core/v1/pods/")
    page.get_by_role("button", name="Place order").click()
    checkout = page.locator("#checkout-flow")
    expect(checkout.locator('[data-stage="store"]')).to_have_attribute("data-state", "passed")
    expect(checkout.locator('[data-watcher="live-pages"]')).to_have_attribute(
        "data-state", "passed"
    )

    page.goto(f"{base}/order/core/v1/pods/")
    page.get_by_role("button", name="Place order").click()
    refusal = page.locator("#refusal-flow")
    expect(refusal).to_be_visible()
    facts = page.locator('section[aria-labelledby="refusal-api"]')
    status = int(facts.locator("dt:text-is('Status code') + dd").inner_text())
    assert status == 409
    refused = refusal.locator('[data-state="refused"][data-stage]')
    expect(refused).to_have_count(1)
    assert refused.get_attribute("data-stage") == flow.stage_for_status(status).key == "store"
    expect(refused).to_contain_text(f"refused with {status}")
    for gate in ("authentication", "fairness", "authorization", "admission"):
        expect(refusal.locator(f'[data-stage="{gate}"]')).to_have_attribute("data-state", "passed")
    caption = refusal.locator("figcaption")
    expect(caption).to_contain_text(f"was refused by registry and storage with {status}")
    labelled = refusal.locator("svg").get_attribute("aria-labelledby").split()
    assert f"{refusal.get_attribute('id')}-text" in labelled
    page.screenshot(path=f"{SCREENSHOT}/warehouse-flow-refused.png", full_page=True)

    page.set_viewport_size(PHONE)
    _fits(page, "#refusal-flow svg", PHONE["width"])
    refusal.scroll_into_view_if_needed()
    refusal.screenshot(path=f"{SCREENSHOT}/warehouse-flow-refused-390.png")


def test_a_lesson_step_about_admission_shows_that_gate_picked_out(limited_cluster, page):
    page.goto(f"{limited_cluster.web_url}/learn/lessons/anatomy-of-a-create/")
    figure = page.locator("#step-invalid-flow")
    expect(figure.locator('[data-state="focus"]')).to_have_count(1)
    expect(figure.locator('[data-stage="admission"]')).to_have_attribute("data-state", "focus")
    expect(figure.locator("figcaption")).to_contain_text("This step is about admission")
    figure.screenshot(path=f"{SCREENSHOT}/warehouse-flow-lesson.png")


def _burst(cluster: LiveCluster, token: str, namespace: str, count: int) -> list[int]:
    """A script listing Pods as fast as it can, with the learner's token."""
    context: ssl.SSLContext = cluster.ssl_context()
    codes = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{cluster.api_url}/api/v1/namespaces/{namespace}/pods",
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": "OpenAPI-Generator/31.0.0/python",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                codes.append(answer.status)
        except urllib.error.HTTPError as refused:
            codes.append(refused.code)
    return codes


def test_grand_central_shows_an_overloads_429s_at_priority_and_fairness(limited_cluster, page):
    base = limited_cluster.web_url
    name = f"rush-{secrets.token_hex(3)}"
    page.add_init_script(COUNT_SSE)
    sign_in(page, base, name)
    token = limited_cluster.token(name)
    page.goto(f"{base}/learn/grand-central/")
    page.wait_for_function("window.sseMessages > 0")  # the board's watch is open and drawn

    # The instructor's overload, without its noisy learner: the scenario ends by itself.
    limited_cluster.manage(
        "shell",
        "-c",
        "from learning.faults import start_scenario; "
        "start_scenario('overload', 30, 'flow-test', flood=False)",
    )
    codes: list[int] = []
    while codes.count(429) < 5 and len(codes) < 200:
        codes += _burst(limited_cluster, token, name, 10)
    assert codes.count(429) >= 5, codes

    board = page.locator("#station-board")
    fairness = board.locator('[data-stage="fairness"]')
    expect(fairness).to_have_attribute("data-state", "refused", timeout=5_000)
    expect(fairness).to_contain_text(re.compile(r"refused \d+× 429"))
    expect(board.locator('[data-client="python-client"]')).to_contain_text(re.compile(r"\d+ sent"))
    expect(board.locator("figcaption")).to_contain_text(
        re.compile(r"refused by priority and fairness \(\d+ with 429\)")
    )
    expect(board.locator('[data-stage="store"]')).to_contain_text("answered")
    page.screenshot(path=f"{SCREENSHOT}/warehouse-flow-overload.png", full_page=True)

    page.set_viewport_size(PHONE)
    _fits(page, "#station-board svg", PHONE["width"])
    live_shot(board, f"{SCREENSHOT}/warehouse-flow-overload-390.png")
