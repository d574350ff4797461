"""The room's live quiz in real browsers, against the real server: 30 learners joined.

carol runs the workshop from her dashboard with the big screen open beside it; Ann, Ben
and Cat play in Chromium, and 27 more learners play over plain HTTP (their own cookies,
the same join page and answer form). The question reaches every browser down its event
stream without a reload, the big screen's histogram counts the answers as they arrive,
and the reveal marks the right answer and fills the leaderboard, live too.
"""

import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_pages_browser import _problems_on

pytestmark = pytest.mark.e2e

SCREENSHOT = Path(os.environ.get("E2E_SCREENSHOT_DIR", "/tmp"))
IN_BROWSERS = ("Ann", "Ben", "Cat")
OVER_HTTP = 27


def _instructor(cluster) -> tuple[str, str]:
    username, password = f"carol-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    cluster.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({username!r}, password={password!r}, is_staff=True)",
    )
    return username, password


def _join(page: Page, base: str, code: str, name: str) -> None:
    page.goto(f"{base}/join/")
    page.get_by_label("Workshop code").fill(code)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text(f"Welcome to Quiz night, {name}!")).to_be_visible()


class HttpLearner:
    """A learner without a browser: cookies, the join form and the answer form."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def _csrf(self) -> dict[str, str]:
        if "csrftoken" not in self.http.cookies:
            self.http.get("/join/")
        return {"X-CSRFToken": self.http.cookies["csrftoken"]}

    def join(self, code: str, name: str) -> None:
        form = {"code": code, "display_name": name}
        response = self.http.post("/join/", data=form, headers=self._csrf())
        assert response.status_code == 302, response.text[:300]

    def answer(self, choice: int) -> int:
        form = {"round": "1", "choice": str(choice)}
        return self.http.post("/learn/live/answer/", data=form, headers=self._csrf()).status_code


@pytest.fixture
def people(browser):
    """carol's dashboard and big screen (one login), and one browser per playing learner."""
    carol = browser.new_context(viewport={"width": 1280, "height": 900})
    learners = [browser.new_context(viewport={"width": 390, "height": 844}) for _ in IN_BROWSERS]
    pages = [carol.new_page(), carol.new_page(), *(c.new_page() for c in learners)]
    for page in pages:
        page.set_default_timeout(15_000)
    yield pages
    for context in (carol, *learners):
        context.close()


def test_thirty_learners_play_a_live_question_and_the_big_screen_follows(live_cluster, people):
    base = live_cluster.web_url
    dashboard, screen, *players = people
    username, password = _instructor(live_cluster)

    dashboard.goto(f"{base}/learn/workshops/")
    dashboard.get_by_label("Username").fill(username)
    dashboard.get_by_label("Password").fill(password)
    dashboard.get_by_role("button", name="Log in").click()
    dashboard.get_by_label("Workshop title").fill("Quiz night")
    dashboard.get_by_role("button", name="Create and get a join code").click()
    code = dashboard.locator("#join-code").inner_text().strip()

    for page, name in zip(players, IN_BROWSERS, strict=True):
        _join(page, base, code, name)
        page.get_by_role("link", name="Play the room's live quiz").click()
        expect(page.get_by_role("heading", name="No question yet")).to_be_visible()
        page.evaluate("window.stillTheSamePage = true")
    others = [HttpLearner(base) for _ in range(OVER_HTTP)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: others[i].join(code, f"Learner {i}"), range(OVER_HTTP)))

    screen.goto(f"{base}/learn/workshops/{code}/big-screen/")
    expect(screen.locator("#live-board")).to_contain_text("No question is live.")
    screen.evaluate("window.stillTheSamePage = true")

    dashboard.goto(f"{base}/learn/workshops/{code}/")
    picker = dashboard.get_by_label("Question", exact=True)
    question = picker.locator("option").first.inner_text()
    dashboard.get_by_label("Time to answer").select_option("60")
    dashboard.get_by_role("button", name="Start the question").click()
    expect(dashboard.get_by_text("Question 1 is live for 60 s.")).to_be_visible()

    # Every browser shows the question without a reload, options and countdown included.
    for page in players:
        expect(page.locator("#live-question .hint").first).to_have_text("Question 1")
        expect(page.locator("input[name=choice]").first).to_be_visible()
        assert page.evaluate("window.stillTheSamePage") is True
    options = players[0].locator("input[name=choice]").count()
    assert options >= 2
    assert question.rstrip("…")[:20] in players[0].locator("#live-prompt").inner_text()
    expect(screen.locator("#live-answered")).to_have_text("0")

    for index, page in enumerate(players):
        page.locator("label.live-option").nth(index % options).click()
        page.get_by_role("button", name="Send my answer").click()
        expect(page.locator("#live-question [role=status]")).to_contain_text("Answer received")
    with ThreadPoolExecutor(9) as pool:
        statuses = list(pool.map(lambda i: others[i].answer(i % options), range(OVER_HTTP)))
    assert statuses == [302] * OVER_HTTP
    assert others[0].answer(1) == 409  # a second answer is refused

    expect(screen.locator("#live-answered")).to_have_text("30")
    counts = [int(c) for c in screen.locator(".live-histogram__count").all_inner_texts()]
    picks = [i % options for i in range(len(players))] + [i % options for i in range(OVER_HTTP)]
    assert counts == [picks.count(p) for p in range(options)]
    assert screen.evaluate("window.stillTheSamePage") is True
    screen.screenshot(path=str(SCREENSHOT / "warehouse-live-quiz-answers.png"), full_page=True)

    dashboard.get_by_role("button", name="Reveal the answer").click()
    expect(screen.locator(".live-histogram__row--right")).to_have_count(1)
    # Everyone who answered is ranked, the fastest right answers first; ten are shown.
    expect(screen.locator(".live-leaders li")).to_have_count(10)
    right = screen.locator(".live-histogram__row--right").get_attribute("data-letter")
    assert picks.count("ABCDEFGH".index(right)) > 0
    expect(screen.locator(".live-leaders li").first).to_contain_text(
        re.compile(r": [1-9]\d* points \(1 right\)")
    )
    for page in players:
        expect(page.get_by_text("the right answer")).to_be_visible()
        assert page.evaluate("window.stillTheSamePage") is True
    assert screen.evaluate("window.stillTheSamePage") is True

    screen.screenshot(path=str(SCREENSHOT / "warehouse-live-quiz-revealed.png"), full_page=True)
    players[0].screenshot(path=str(SCREENSHOT / "warehouse-live-quiz-phone.png"), full_page=True)
    problems = []
    for scheme in ("light", "dark"):
        for name, page in (("big screen", screen), ("live quiz", players[0])):
            page.emulate_media(color_scheme=scheme)
            problems += _problems_on(page, f"{name}, {scheme}", page.url)
    players[0].screenshot(
        path=str(SCREENSHOT / "warehouse-live-quiz-phone-dark.png"), full_page=True
    )
    assert not problems, "\n".join(problems)
    for learner in others:
        learner.http.close()
