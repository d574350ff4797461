"""Every page on a phone, in light and dark: nothing scrolls sideways and axe-core finds no
serious or critical accessibility problem.

One real server (`manage.py serve`, the run's shared `live_cluster`) and one Chromium. A
visitor, a learner with one order and an instructor with one workshop are set up once; their
cookies are kept and each page is then visited once per colour scheme at 390 x 844, as its
own visitor sees it. axe-core (vendored under static/vendor/axe-core/) is injected by the
test, never served to the pages' users.
"""

import os
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from support.livecluster import REPO

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(os.environ.get("E2E_SCREENSHOT_DIR", "/tmp"))
AXE = next((REPO / "static" / "vendor" / "axe-core").glob("*/axe.min.js"))
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
SCHEMES = ("light", "dark")

# Serious and critical violations only, each with a few of its elements, so a failure says
# what to fix and where.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " | " + n.failureSummary),
    }));
}"""


def _sign_in_learner(page: Page, base: str, name: str) -> dict[str, str]:
    """A learner with one Pod ordered; the pages only a learner reaches, by name."""
    page.goto(f"{base}/learner/")
    page.get_by_role("textbox", name="Learner name").fill(name)
    page.get_by_role("button", name="Start shopping").click()
    expect(page.locator(".shop-learner")).to_contain_text(name)
    page.goto(f"{base}/order/core/v1/pods/")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("link", name="Track this order")).to_be_visible()
    receipt = f"/orders/{name}/core/v1/pods/web/"
    page.goto(f"{base}/learn/quizzes/")
    quiz = page.locator("main a[href^='/learn/quizzes/']").first.get_attribute("href")
    assert quiz, "the quiz list links to no quiz"
    return {
        "learner": "/learner/",
        "order-form": "/order/core/v1/pods/",
        "orders": "/orders/",
        "receipt": receipt,
        "tracking": f"{receipt}track/",
        "quizzes": "/learn/quizzes/",
        "quiz": quiz,
        "quiz-results": f"{quiz}results/",
    }


def _sign_in_instructor(page: Page, base: str, username: str, password: str) -> dict[str, str]:
    page.goto(f"{base}/learn/workshops/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Workshop title").fill("Cluster basics")
    page.get_by_role("button", name="Create and get a join code").click()
    code = page.locator("#join-code").inner_text().strip()
    return {
        "workshops": "/learn/workshops/",
        "dashboard": f"/learn/workshops/{code}/",
        "big-screen": f"/learn/workshops/{code}/big-screen/",
        "grand-central": "/learn/grand-central/",
    }


@pytest.fixture(scope="module")
def visitors(live_cluster, browser: Browser) -> dict[str, Any]:
    """Each role's cookies and the pages it visits, made once for the module."""
    base = live_cluster.web_url
    username, password = f"teacher-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    live_cluster.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({username!r}, password={password!r}, is_staff=True)",
    )
    roles: dict[str, Any] = {
        "visitor": {
            "state": None,
            "pages": {
                "store-front": "/",
                "product": "/catalog/apps/v1/deployments/",
                "lessons": "/learn/",
                "lesson": "/learn/lessons/front-door/",
                "join": "/join/",
            },
        }
    }
    for role, sign_in in (
        ("learner", lambda p: _sign_in_learner(p, base, f"phone-{secrets.token_hex(3)}")),
        ("instructor", lambda p: _sign_in_instructor(p, base, username, password)),
    ):
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.set_default_timeout(15_000)
        pages = sign_in(page)
        roles[role] = {"state": context.storage_state(), "pages": pages}
        context.close()
    return {"base": base, "roles": roles}


def _problems_on(page: Page, name: str, url: str) -> list[str]:
    """What is wrong with the page now open: sideways scrolling, then axe's findings."""
    problems = []
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " [...document.querySelectorAll('body *')].filter((e) => {"
        "   const r = e.getBoundingClientRect();"
        "   return r.right > window.innerWidth + 1 && getComputedStyle(e).position !== 'fixed';"
        " }).slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
        "   + (e.className && typeof e.className === 'string' ? '.' + e.className.trim()"
        "   .split(/\\s+/).join('.') : ''))]"
    )
    scroll_width, inner_width, wide = widths
    if scroll_width > inner_width:
        problems.append(
            f"{name} ({url}): scrolls sideways, {scroll_width}px wide in a {inner_width}px "
            f"window; sticking out: {wide}"
        )
    page.add_script_tag(path=str(AXE))
    for violation in page.evaluate(RUN_AXE):
        nodes = "\n      ".join(violation["nodes"])
        problems.append(
            f"{name} ({url}): axe {violation['impact']} {violation['id']}: "
            f"{violation['help']}\n      {nodes}"
        )
    return problems


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_page_fits_a_phone_and_passes_axe(visitors, browser: Browser, scheme: str):
    base = visitors["base"]
    problems: list[str] = []
    visited = 0
    for role, setup in visitors["roles"].items():
        context = browser.new_context(
            viewport=PHONE, color_scheme=scheme, storage_state=setup["state"]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            for name, path in setup["pages"].items():
                response = page.goto(base + path)
                assert response is not None and response.ok, (name, path, response)
                expect(page.locator("main")).to_be_visible()
                assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is (
                    scheme == "dark"
                )
                problems += _problems_on(page, f"{role}/{name}", path)
                page.screenshot(path=str(SCREENSHOT / f"warehouse-390-{scheme}-{name}.png"))
                visited += 1
                if name == "big-screen":
                    page.set_viewport_size(PROJECTOR)
                    page.screenshot(path=str(SCREENSHOT / f"warehouse-big-screen-{scheme}.png"))
                    page.set_viewport_size(PHONE)
        finally:
            context.close()
    assert visited == sum(len(setup["pages"]) for setup in visitors["roles"].values())
    assert not problems, f"{len(problems)} problem(s) in the {scheme} scheme:\n" + "\n".join(
        problems
    )


def test_on_a_phone_the_analogy_is_one_tap_from_the_top(visitors, browser: Browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(visitors["base"] + "/learn/lessons/front-door/")
        analogy = page.get_by_role("complementary", name="The analogy")
        expect(analogy).not_to_be_in_viewport()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="The analogy").click()
        expect(page).to_have_url(re.compile(r"#analogy$"))
        expect(analogy).to_be_in_viewport()
        expect(analogy).to_be_focused()
    finally:
        context.close()


def test_a_command_is_copied_with_one_press_and_the_copy_is_announced(visitors, browser: Browser):
    learner = visitors["roles"]["learner"]
    context = browser.new_context(viewport=PHONE, storage_state=learner["state"])
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(visitors["base"] + learner["pages"]["receipt"])
        command = page.locator("pre.shop-pre--command").first
        expect(command).to_contain_text("kubectl")
        wanted = command.inner_text().strip()
        copy = page.locator(".copyable").first.get_by_role("button", name=re.compile("^Copy"))
        copy.click()
        expect(copy).to_have_text("Copied")
        expect(page.get_by_role("status").filter(has_text="Copied")).to_have_count(1)
        assert page.evaluate("navigator.clipboard.readText()").strip() == wanted
    finally:
        context.close()
