"""Every page on a phone, in light and dark: nothing scrolls sideways and axe-core finds no
serious or critical accessibility problem.

One real server (`manage.py serve`, the run's shared `live_cluster`) and one Chromium. A
visitor, a learner with one order, an instructor with one workshop and a learner who joined
it are set up once; their cookies are kept and each page is then visited once per colour
scheme at 390 x 844, as its own visitor sees it. A live question, which closes by itself
within a minute, is checked in a test of its own. axe-core (vendored under
static/vendor/axe-core/) is injected by the test, never served to the pages' users.

Left out on purpose: what is not an HTML page (the API, JSON such as class.json, the
kubeconfig download, the Server-Sent Events streams), POST-only actions, htmx fragments,
and the admin's model pages, which only a superuser sees.
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
# Pages that answer with an error status on purpose; every other page answers 200.
ERROR_PAGES = {"not-found": 404, "history-missing": 404, "not-your-workshop": 403}

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
    # The question on who bound the Pod answered, so that page shows both kinds; later
    # requests bind nothing, so it stays on the page. The scheduler may still be at work.
    binder = page.locator("article[id^='traffic-binder-']")
    for _ in range(30):
        page.goto(f"{base}/learn/your-requests-quiz/")
        if binder.count():
            break
        page.wait_for_timeout(500)
    binder.get_by_role("radio").first.check()
    binder.get_by_role("button", name="Check answer").click()
    expect(binder.get_by_role("alert")).to_be_visible()
    return {
        "learner": "/learner/",
        "order-form": "/order/core/v1/pods/",
        "orders": "/orders/",
        "receipt": receipt,
        "tracking": f"{receipt}track/",
        "history": f"{receipt}history/",
        "history-missing": f"/orders/{name}/core/v1/pods/never-ordered/history/",
        "learner-lessons": "/learn/",
        "learner-lesson": "/learn/lessons/front-door/",
        "quizzes": "/learn/quizzes/",
        "quiz": quiz,
        "quiz-results": f"{quiz}results/",
        "requests-quiz": "/learn/your-requests-quiz/",
        "learner-grand-central": "/learn/grand-central/",
        "own-requests": "/learn/grand-central/?mine=1",
        "live-quiz-unjoined": "/learn/live/",
    }


def _log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/learn/workshops/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _create_workshop(page: Page, base: str, title: str) -> str:
    """A new workshop from the instructor's list; its join code."""
    page.goto(f"{base}/learn/workshops/")
    page.get_by_label("Workshop title").fill(title)
    page.get_by_role("button", name="Create and get a join code").click()
    return page.locator("#join-code").inner_text().strip()


def _sign_in_instructor(
    page: Page, base: str, username: str, password: str, stranger: str
) -> dict[str, str]:
    """An instructor with one workshop; `stranger` is the code of someone else's."""
    _log_in(page, base, username, password)
    code = _create_workshop(page, base, "Cluster basics")
    return {
        "workshops": "/learn/workshops/",
        "dashboard": f"/learn/workshops/{code}/",
        # Without htmx the scenario panel's address lands on the dashboard, at the panel.
        "scenario": f"/learn/workshops/{code}/scenario/",
        "big-screen": f"/learn/workshops/{code}/big-screen/",
        "grand-central": "/learn/grand-central/",
        "not-your-workshop": f"/learn/workshops/{stranger}/",
        "admin": "/admin/",
        "admin-password": "/admin/password_change/",
    }


def _join(page: Page, base: str, code: str, name: str) -> None:
    page.goto(f"{base}/join/")
    page.get_by_label("Workshop code").fill(code)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text(f"{name}! Your namespace is")).to_be_visible()


def _join_workshop(page: Page, base: str, code: str, name: str) -> dict[str, str]:
    """A learner in the instructor's workshop, with no live question yet."""
    _join(page, base, code, name)
    return {"joined-lessons": "/learn/", "live-quiz": "/learn/live/"}


@pytest.fixture(scope="module")
def visitors(live_cluster, browser: Browser) -> dict[str, Any]:
    """Each role's cookies and the pages it visits, made once for the module."""
    base = live_cluster.web_url
    username, password = f"teacher-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    # A second instructor's workshop, which the first may not open.
    stranger = live_cluster.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "from learning.models import Workshop; "
        f"User.objects.create_user({username!r}, password={password!r}, is_staff=True); "
        f"other = User.objects.create_user('other-' + {username!r}, is_staff=True); "
        "print(Workshop.objects.create(title='Someone else', instructor=other).code)",
    ).split()[-1]
    roles: dict[str, Any] = {
        "visitor": {
            "state": None,
            "pages": {
                "store-front": "/",
                "product": "/catalog/apps/v1/deployments/",
                "not-found": "/catalog/core/v1/pod/",
                "lessons": "/learn/",
                "lesson": "/learn/lessons/front-door/",
                "visitor-grand-central": "/learn/grand-central/",
                "join": "/join/",
                "instructor-login": "/admin/login/?next=/learn/workshops/",
            },
        }
    }

    def joined(page: Page) -> dict[str, str]:
        code = roles["instructor"]["pages"]["dashboard"].split("/")[-2]
        return _join_workshop(page, base, code, f"Joiner {secrets.token_hex(2)}")

    for role, sign_in in (
        ("learner", lambda p: _sign_in_learner(p, base, f"phone-{secrets.token_hex(3)}")),
        ("instructor", lambda p: _sign_in_instructor(p, base, username, password, stranger)),
        ("participant", joined),
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
                assert response is not None, (name, path)
                assert response.status == ERROR_PAGES.get(name, 200), (name, path, response)
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


def test_a_live_question_fits_a_phone_and_passes_axe_before_and_after_the_answer(
    visitors, browser: Browser
):
    """The open question (its options and countdown) and the answered one, on the learner's
    phone, with the instructor's dashboard beside it; in a workshop of its own, so the
    pages above keep their quiet room."""
    base = visitors["base"]
    instructor = browser.new_context(
        viewport=PHONE, storage_state=visitors["roles"]["instructor"]["state"]
    )
    learner = browser.new_context(viewport=PHONE)
    dashboard, phone = instructor.new_page(), learner.new_page()
    problems: list[str] = []
    try:
        for page in (dashboard, phone):
            page.set_default_timeout(15_000)
        code = _create_workshop(dashboard, base, "Quiz night")
        _join(phone, base, code, f"Player {secrets.token_hex(2)}")
        dashboard.goto(f"{base}/learn/workshops/{code}/")
        dashboard.get_by_label("Time to answer").select_option("60")
        dashboard.get_by_role("button", name="Start the question").click()
        expect(dashboard.get_by_text("Question 1 is live for 60 s.")).to_be_visible()

        # The page's stream redraws the question once it has listed the room: checked after.
        phone.add_init_script("addEventListener('htmx:sseMessage', () => { window.drawn = 1; })")
        phone.goto(f"{base}/learn/live/")
        phone.wait_for_function("window.drawn === 1")
        expect(phone.locator("input[name=choice]").first).to_be_visible()
        phone.evaluate("document.getElementById('live-question').scrollIntoView()")
        for state, page in (("live-question", phone), ("dashboard-live", dashboard)):
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                problems += _problems_on(page, f"{state}, {scheme}", page.url)
                page.screenshot(path=str(SCREENSHOT / f"warehouse-390-{scheme}-{state}.png"))

        phone.locator("label.live-option").first.click()
        phone.get_by_role("button", name="Send my answer").click()
        expect(phone.locator("#live-question [role=status]")).to_contain_text("Answer received")
        phone.goto(f"{base}/learn/live/")
        phone.wait_for_function("window.drawn === 1")
        expect(phone.get_by_text("is in. The right answer shows here")).to_be_visible()
        phone.evaluate("document.getElementById('live-question').scrollIntoView()")
        for scheme in SCHEMES:
            phone.emulate_media(color_scheme=scheme)
            problems += _problems_on(phone, f"live-answered, {scheme}", phone.url)
            phone.screenshot(path=str(SCREENSHOT / f"warehouse-390-{scheme}-live-answered.png"))
    finally:
        instructor.close()
        learner.close()
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


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
