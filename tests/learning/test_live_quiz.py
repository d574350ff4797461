"""The room's live quiz: the instructor puts a question to the room through the API, every
joined learner watches it arrive and answers with a ConfigMap of their own, and the big
screen counts the answers.

carol runs the workshop, dave is another instructor, Ann and Ben join it; alice picked a
learner name but never joined. Everything is checked through the front door as well:
who may read the question and the answers is RBAC's answer, not the page's.
"""

import asyncio
import json
import re
import secrets
import time
from datetime import timedelta

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client

from apiserver.models import ClusterUser
from learning import livequiz
from learning.models import Participant, Question, Workshop
from learning.workshops import instructor_identity
from shop import live
from support.livecluster import running_cluster
from tests.learning.conftest import api
from tests.shop.test_live import _open

pytestmark = pytest.mark.usefixtures("quizzes")

LIVE = "/learn/live/"
ANSWER = "/learn/live/answer/"


@pytest.fixture
def workshop(carol) -> Workshop:
    response = carol.post("/learn/workshops/", {"title": "Quiz night"})
    assert response.status_code == 302
    return Workshop.objects.get(title="Quiz night")


def joined(workshop: Workshop, name: str) -> Client:
    """A new browser that joined `workshop` on its join page as `name`."""
    browser = Client()
    response = browser.post("/join/", {"code": workshop.code, "display_name": name})
    assert response.status_code == 302, response.content.decode()[:500]
    return browser


def who(name: str) -> ClusterUser:
    return ClusterUser.objects.get(display_name=name)


def a_question() -> Question:
    """A multiple-choice question from the bank with three or more options."""
    return next(q for q in livequiz.live_questions() if len(q.data["choices"]) >= 3)


def start(carol, workshop: Workshop, question: Question, seconds: int = 20):
    return carol.post(
        f"/learn/workshops/{workshop.code}/live/start/",
        {"question": question.pk, "seconds": seconds},
    )


def positions(workshop: Workshop, question: Question, round_number: int) -> tuple[int, int]:
    """Where the room sees the right answer, and one wrong one, in this round."""
    order = livequiz.shown_order(workshop, round_number, question)
    choices = question.data["choices"]
    right = next(p for p, i in enumerate(order) if choices[i].get("correct"))
    wrong = next(p for p, i in enumerate(order) if not choices[i].get("correct"))
    return right, wrong


def question_object(workshop: Workshop) -> dict:
    identity = instructor_identity(workshop.instructor)
    path = f"/api/v1/namespaces/{livequiz.room(workshop)}/configmaps/{livequiz.QUESTION}"
    response = api(identity, "GET", path)
    assert response.status == 200
    return response.body


def test_only_the_workshops_instructor_starts_a_question(carol, dave, alice, workshop):
    question = a_question()
    assert start(alice, workshop, question)["Location"].startswith("/admin/login/")
    assert start(dave, workshop, question).status_code == 403
    room = f"/api/v1/namespaces/{livequiz.room(workshop)}/configmaps/{livequiz.QUESTION}"
    assert api(instructor_identity(workshop.instructor), "GET", room).status == 404

    response = start(carol, workshop, question)
    assert response.status_code == 302
    stored = question_object(workshop)["data"]
    assert stored["round"] == "1" and stored["question"] == str(question.pk)
    assert stored["state"] == "open" and stored["seconds"] == "20"
    # The room sees the options, never which one is right, until the reveal.
    shown = json.loads(stored["options"])
    assert sorted(shown) == sorted(c["text"] for c in question.data["choices"])
    assert "correct" not in stored


def test_a_bad_start_is_refused_with_a_message_not_an_error(carol, workshop):
    for form in ({}, {"question": "x", "seconds": "20"}, {"question": "99999", "seconds": "20"}):
        response = carol.post(f"/learn/workshops/{workshop.code}/live/start/", form, follow=True)
        assert response.status_code == 200
        assert "Choose a question and a timer first." in response.content.decode()
    response = start(carol, workshop, a_question(), seconds=7)
    assert response.status_code == 302
    page = carol.get(response["Location"]).content.decode()
    assert "Choose one of the timers offered." in page


def test_a_joined_learner_sees_the_question_and_answers_once(carol, workshop):
    ann = joined(workshop, "Ann")
    assert "No question yet" in ann.get(LIVE).content.decode()
    question = a_question()
    start(carol, workshop, question)

    page = ann.get(LIVE).content.decode()
    assert question.prompt.split("`")[0][:30] in page
    assert 'sse-connect="/learn/live/events/"' in page
    assert 'name="round" value="1"' in page
    assert page.count('name="choice"') == len(question.data["choices"])

    first = ann.post(ANSWER, {"round": "1", "choice": "0"})
    assert first.status_code == 302
    again = ann.post(ANSWER, {"round": "1", "choice": "1"})
    assert again.status_code == 409
    assert "409 AlreadyExists" in again.content.decode()
    # The answer is an object in Ann's own namespace, created by Ann.
    name = livequiz.answer_name(workshop, 1)
    learner = who("Ann")
    stored = api(learner, "GET", f"/api/v1/namespaces/{learner.namespace}/configmaps/{name}")
    assert stored.status == 200 and stored.body["data"]["choice"] == "0"
    # The second try changed nothing.
    assert "Your answer, <strong>A</strong>, is in." in ann.get(LIVE).content.decode()


def test_an_htmx_answer_returns_the_question_fragment(carol, workshop):
    ann = joined(workshop, "Ann")
    start(carol, workshop, a_question())
    answered = ann.post(ANSWER, {"round": "1", "choice": "1"}, headers={"HX-Request": "true"})
    fragment = answered.content.decode()
    assert answered.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<section id="live-question"')
    assert "201 Created" in fragment
    twice = ann.post(ANSWER, {"round": "1", "choice": "1"}, headers={"HX-Request": "true"})
    assert twice.status_code == 200 and "409 AlreadyExists" in twice.content.decode()


def test_a_learner_who_did_not_join_can_neither_see_nor_answer(carol, workshop, alice):
    start(carol, workshop, a_question())
    page = alice.get(LIVE).content.decode()
    assert "Join one" in page and 'name="choice"' not in page
    assert alice.post(ANSWER, {"round": "1", "choice": "0"}).status_code == 403
    # RBAC refuses her at the front door too: no binding in the room.
    path = f"/api/v1/namespaces/{livequiz.room(workshop)}/configmaps/{livequiz.QUESTION}"
    assert api(ClusterUser.objects.get(name="alice"), "GET", path).status == 403
    # The stream is refused as well.
    assert alice.get("/learn/live/events/").status_code == 403


def test_a_learner_of_another_workshop_is_refused_by_rbac(carol, dave, workshop):
    dave.post("/learn/workshops/", {"title": "Other room"})
    other = Workshop.objects.get(title="Other room")
    ben = joined(other, "Ben")
    start(carol, workshop, a_question())
    path = f"/api/v1/namespaces/{livequiz.room(workshop)}/configmaps/{livequiz.QUESTION}"
    refused = api(who("Ben"), "GET", path)
    assert refused.status == 403
    assert 'cannot get resource "configmaps"' in refused.body["message"]
    assert "No question yet" in ben.get(LIVE).content.decode()


def test_learners_cannot_read_each_others_answers(carol, workshop):
    ann, _ = joined(workshop, "Ann"), joined(workshop, "Ben")
    start(carol, workshop, a_question())
    ann.post(ANSWER, {"round": "1", "choice": "0"})
    ann_ns = who("Ann").namespace
    name = livequiz.answer_name(workshop, 1)
    assert api(who("Ben"), "GET", f"/api/v1/namespaces/{ann_ns}/configmaps/{name}").status == 403
    listed = api(who("Ben"), "GET", "/api/v1/configmaps")
    assert listed.status == 403


def test_late_answers_are_refused_and_never_counted(carol, workshop, monkeypatch):
    ann, ben = joined(workshop, "Ann"), joined(workshop, "Ben")
    question = a_question()
    start(carol, workshop, question, seconds=10)
    ann.post(ANSWER, {"round": "1", "choice": "0"})
    deadline = livequiz.Live.read(question_object(workshop)).deadline
    monkeypatch.setattr(livequiz, "now", lambda: deadline + timedelta(seconds=1))
    late = ben.post(ANSWER, {"round": "1", "choice": "0"})
    assert late.status_code == 409
    assert "Time is up" in late.content.decode()
    assert "Time is up for this question." in ben.get(LIVE).content.decode()
    identity = instructor_identity(workshop.instructor)
    live_now = livequiz.Live.read(question_object(workshop))
    assert [g.namespace for g in livequiz.answers(identity, workshop, live_now)] == [
        who("Ann").namespace
    ]


def test_an_answer_for_an_old_round_or_a_choice_not_offered_is_refused(carol, workshop):
    ann = joined(workshop, "Ann")
    start(carol, workshop, a_question())
    start(carol, workshop, a_question())
    old = ann.post(ANSWER, {"round": "1", "choice": "0"})
    assert old.status_code == 409 and "moved on" in old.content.decode()
    for bad in ({"round": "2", "choice": "9"}, {"round": "2", "choice": "x"}, {"round": "2"}):
        response = ann.post(ANSWER, bad)
        assert response.status_code == 400
        assert "Pick one of the answers first." in response.content.decode()
    assert ann.post(ANSWER, {"round": "zz", "choice": "0"}).status_code == 409


def test_an_answer_made_with_kubectl_before_the_question_is_not_counted(carol, workshop):
    ann = joined(workshop, "Ann")
    learner = who("Ann")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": livequiz.answer_name(workshop, 1),
            "labels": {livequiz.LABEL_WORKSHOP: workshop.code, livequiz.LABEL_ROUND: "1"},
        },
        "data": {"choice": "0"},
    }
    path = f"/api/v1/namespaces/{learner.namespace}/configmaps"
    assert api(learner, "POST", path, body).status == 201
    time.sleep(1.1)  # the server stamps whole seconds: start in a later one
    start(carol, workshop, a_question(), seconds=10)
    live_now = livequiz.Live.read(question_object(workshop))
    identity = instructor_identity(workshop.instructor)
    assert livequiz.answers(identity, workshop, live_now) == []
    # Through the page, the name is taken: the early guess is all she gets.
    assert ann.post(ANSWER, {"round": "1", "choice": "0"}).status_code == 409


def test_an_answer_made_with_kubectl_after_the_deadline_is_not_counted(carol, workshop):
    joined(workshop, "Ann")
    start(carol, workshop, a_question(), seconds=10)
    live_now = livequiz.Live.read(question_object(workshop))
    learner = who("Ann")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": livequiz.answer_name(workshop, 1),
            "labels": {livequiz.LABEL_WORKSHOP: workshop.code, livequiz.LABEL_ROUND: "1"},
        },
        "data": {"choice": "0"},
    }
    path = f"/api/v1/namespaces/{learner.namespace}/configmaps"
    assert api(learner, "POST", path, body).status == 201
    identity = instructor_identity(workshop.instructor)
    assert len(livequiz.answers(identity, workshop, live_now)) == 1
    early = livequiz.Live(**{**live_now.__dict__, "deadline": live_now.started - timedelta(1)})
    assert livequiz.answers(identity, workshop, early) == []


def test_the_reveal_marks_the_right_answer_and_scores_the_room(carol, workshop):
    ann, ben, cat = (joined(workshop, n) for n in ("Ann", "Ben", "Cat"))
    question = a_question()
    start(carol, workshop, question)
    right, wrong = positions(workshop, question, 1)
    ann.post(ANSWER, {"round": "1", "choice": str(right)})
    ben.post(ANSWER, {"round": "1", "choice": str(wrong)})

    screen = carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    assert '<strong id="live-answered">2</strong> of 3 joined learners answered so far' in screen
    assert "the right answer" not in screen

    assert carol.post(f"/learn/workshops/{workshop.code}/live/reveal/").status_code == 302
    revealed = livequiz.Live.read(question_object(workshop))
    assert revealed.revealed and revealed.correct == right
    assert revealed.counts[right] == 1 and revealed.counts[wrong] == 1 and sum(revealed.counts) == 2

    screen = carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    assert "✓ the right answer" in screen
    leaders = re.findall(r'live-leaders__name">([^<]+)</span>: <strong>(\d+)</strong>', screen)
    assert [name for name, _ in leaders] == ["Ann", "Ben"]
    assert 500 <= int(leaders[0][1]) <= 1000 and leaders[1][1] == "0"

    assert "the right answer" in ann.get(LIVE).content.decode()
    cat_page = cat.get(LIVE).content.decode()
    assert "You did not answer this one." in cat_page
    late = cat.post(ANSWER, {"round": "1", "choice": str(right)})
    assert late.status_code == 409 and "Time is up" in late.content.decode()
    # A second reveal adds nothing.
    carol.post(f"/learn/workshops/{workshop.code}/live/reveal/")
    again = carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    assert re.findall(r'live-leaders__name">([^<]+)</span>: <strong>(\d+)</strong>', again) == (
        leaders
    )


def test_points_are_full_at_once_and_half_at_the_buzzer():
    moment = livequiz.now()
    live_q = livequiz.Live(1, 1, "q", ["a", "b"], moment, moment, 20, "open")
    assert livequiz.points_for(live_q, 0) == 1000
    assert livequiz.points_for(live_q, 10) == 750
    assert livequiz.points_for(live_q, 20) == 500
    assert livequiz.points_for(live_q, 99) == 500


def test_the_room_order_of_options_hides_where_the_right_answer_is(workshop):
    """Over many rounds the right answer lands in every position, not always the first."""
    question = a_question()
    count = len(question.data["choices"])
    seen = {positions(workshop, question, n)[0] for n in range(1, 60)}
    assert seen == set(range(count))


def test_the_dashboard_has_the_controls_and_the_big_screen_its_stream(carol, workshop):
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert 'id="live-quiz"' in page and "Start the question" in page
    assert "Reveal the answer" not in page
    start(carol, workshop, a_question())
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert "Reveal the answer" in page and "Take the question down" in page
    screen = carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    assert f'sse-connect="/learn/workshops/{workshop.code}/big-screen/events/"' in screen
    assert '<table class="live-histogram__table">' in screen
    carol.post(f"/learn/workshops/{workshop.code}/live/end/")
    assert "No question is live." in (
        carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    )


def test_another_instructor_cannot_watch_or_reveal(carol, dave, workshop):
    start(carol, workshop, a_question())
    assert dave.get(f"/learn/workshops/{workshop.code}/big-screen/events/").status_code == 403
    assert dave.post(f"/learn/workshops/{workshop.code}/live/reveal/").status_code == 403
    assert dave.post(f"/learn/workshops/{workshop.code}/live/end/").status_code == 403
    assert livequiz.Live.read(question_object(workshop)).state == "open"


def test_a_learners_stream_shows_a_new_question_without_a_reload(carol, workshop):
    ann = joined(workshop, "Ann")
    question = a_question()

    @async_to_sync
    async def run():
        response, reader = await _open(ann, "/learn/live/events/")
        first = await reader.event()
        await sync_to_async(start)(carol, workshop, question)
        arrived = await reader.event()
        await reader.close()
        return response, first, arrived

    response, first, arrived = run()
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    assert first["event"] == live.SYNC and "No question yet" in first["data"]
    assert arrived["event"] in ("ADDED", "MODIFIED")
    assert 'name="round" value="1"' in arrived["data"]
    assert arrived["data"].lstrip().startswith('<section id="live-question"')


def test_a_resumed_stream_draws_the_live_question_whatever_changed_in_the_room(carol, workshop):
    ann = joined(workshop, "Ann")
    start(carol, workshop, a_question())
    resume = question_object(workshop)["metadata"]["resourceVersion"]
    identity = instructor_identity(workshop.instructor)
    note = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "house-rules"}}
    path = f"/api/v1/namespaces/{livequiz.room(workshop)}/configmaps"

    @async_to_sync
    async def run():
        _, reader = await _open(ann, "/learn/live/events/", **{"Last-Event-ID": resume})
        await sync_to_async(api)(identity, "POST", path, note)
        drawn = await reader.event()
        await reader.close()
        return drawn

    drawn = run()
    assert drawn["event"] == "ADDED"
    assert 'name="round" value="1"' in drawn["data"]


def test_the_big_screen_stream_redraws_for_each_answer(carol, workshop):
    ann = joined(workshop, "Ann")
    question = a_question()
    start(carol, workshop, question)

    @async_to_sync
    async def run():
        path = f"/learn/workshops/{workshop.code}/big-screen/events/"
        response, reader = await _open(carol, path)
        first = await reader.event()
        await sync_to_async(ann.post)(ANSWER, {"round": "1", "choice": "0"})
        arrived = await reader.event()
        await reader.close()
        return response, first, arrived

    response, first, arrived = run()
    assert response.status_code == 200
    assert '<strong id="live-answered">0</strong>' in first["data"]
    assert '<strong id="live-answered">1</strong>' in arrived["data"]


def test_the_big_screen_stream_opens_before_anyone_joined_and_shows_the_first_question(
    carol, workshop
):
    question = a_question()

    @async_to_sync
    async def run():
        path = f"/learn/workshops/{workshop.code}/big-screen/events/"
        response, reader = await _open(carol, path)
        first = await reader.event()
        await sync_to_async(joined)(workshop, "Ann")
        await sync_to_async(start)(carol, workshop, question)
        shown = await reader.event()
        while "live-histogram" not in shown["data"]:
            shown = await reader.event()
        await reader.close()
        return response, first, shown

    response, first, shown = run()
    assert response.status_code == 200
    assert "No question is live." in first["data"]
    assert '<strong id="live-answered">0</strong> of 1 joined learner answered' in shown["data"]


def test_the_training_centre_links_a_joined_learner_to_the_live_quiz(workshop, alice):
    ann = joined(workshop, "Ann")
    assert 'href="/learn/live/">Play the room' in ann.get("/learn/").content.decode()
    assert 'href="/learn/live/">Play the room' not in alice.get("/learn/").content.decode()


def test_joining_binds_the_learner_in_the_room(workshop):
    joined(workshop, "Ann")
    learner = who("Ann")
    identity = instructor_identity(workshop.instructor)
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{livequiz.room(workshop)}/rolebindings"
    bindings = api(identity, "GET", path).body["items"]
    assert [b["subjects"][0]["name"] for b in bindings] == [learner.username]
    assert bindings[0]["roleRef"]["name"] == livequiz.ROLE
    assert Participant.objects.filter(workshop=workshop, learner=learner).exists()


# A room of 200 against the real server -------------------------------------------------

ROOM = 200


class Visitor:
    """One browser's worth of cookies against the real server, speaking plain HTTP."""

    def __init__(self, base: str) -> None:
        # A fresh connection per request: the server closes idle keep-alive ones after 5 s.
        self.http = httpx.AsyncClient(
            base_url=base, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        )

    async def csrf(self) -> str:
        if "csrftoken" not in self.http.cookies:
            await self.http.get("/join/")
        return self.http.cookies["csrftoken"]

    async def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return await self.http.post(path, data=form, headers={"X-CSRFToken": await self.csrf()})

    async def join(self, code: str, name: str) -> None:
        response = await self.post("/join/", {"code": code, "display_name": name})
        assert response.status_code == 302, response.text[:500]

    async def close(self) -> None:
        await self.http.aclose()


class Instructor(Visitor):
    async def log_in(self, username: str, password: str) -> None:
        await self.http.get("/admin/login/")
        form = {"username": username, "password": password, "next": "/learn/workshops/"}
        response = await self.post("/admin/login/?next=/learn/workshops/", form)
        assert response.status_code == 302, response.text[:500]

    async def new_workshop(self, title: str) -> str:
        response = await self.post("/learn/workshops/", {"title": title})
        assert response.status_code == 302, response.text[:500]
        return response.headers["location"].rstrip("/").rsplit("/", 1)[-1]


def make_instructor(cluster) -> tuple[str, str]:
    username, password = f"carol-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    cluster.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({username!r}, password={password!r}, is_staff=True)",
    )
    return username, password


def choice_question_id(cluster) -> int:
    """A multiple-choice question of the server's bank, by asking its own database."""
    out = cluster.manage(
        "shell",
        "-c",
        "from learning.livequiz import live_questions; "
        "print(next(q.pk for q in live_questions() if len(q.data['choices']) >= 3))",
    )
    return int(out.strip().splitlines()[-1])


class Stream:
    """One learner's open live-quiz stream, read message by message."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.data: list[str] = []

    async def until(self, needle: str) -> float:
        """Read until a message carrying `needle` arrives; the moment it did."""
        event_data: list[str] = []
        async for line in self.lines:
            if line.startswith("data: "):
                event_data.append(line[6:])
            elif line == "":
                message = "\n".join(event_data)
                event_data = []
                if needle in message:
                    return time.perf_counter()
        raise AssertionError("the stream ended")


@pytest.fixture(scope="module")
def real_room(tmp_path_factory):
    """A real server (uvicorn, its own database), an instructor logged in, and a workshop."""
    limits = {
        "WAREHOUSE_JOIN_LIMIT": "1000",
        "WAREHOUSE_NEW_LEARNERS_LIMIT": "1000",
        "WAREHOUSE_EXPECTED_LEARNERS": str(ROOM),
        # On PostgreSQL, connections pooled as in production: otherwise each of the room's
        # requests in flight opens its own, past the server's max_connections.
        "DB_POOL": "true",
    }
    with running_cluster(tmp_path_factory.mktemp("live-quiz"), extra_env=limits) as cluster:
        yield cluster


@pytest.mark.django_db(transaction=True)
def test_a_room_of_200_sees_the_question_within_a_second_and_each_answer_counts_once(
    real_room,
):
    base = real_room.web_url
    username, password = make_instructor(real_room)
    question_id = choice_question_id(real_room)

    async def scenario():
        carol = Instructor(base)
        await carol.log_in(username, password)
        code = await carol.new_workshop("Room of 200")
        room = [Visitor(base) for _ in range(ROOM)]
        gate = asyncio.Semaphore(20)

        async def join(i: int, visitor: Visitor) -> None:
            async with gate:
                await visitor.join(code, f"Learner {i}")

        await asyncio.gather(*(join(i, v) for i, v in enumerate(room)))

        async def open_stream(visitor: Visitor) -> Stream:
            request = visitor.http.build_request("GET", "/learn/live/events/")
            response = await visitor.http.send(request, stream=True)
            assert response.status_code == 200
            stream = Stream(response)
            await stream.until("No question yet")
            return stream

        streams = await asyncio.gather(*(open_stream(v) for v in room))
        waiting = [asyncio.ensure_future(s.until('name="round" value="1"')) for s in streams]
        started = time.perf_counter()
        response = await carol.post(
            f"/learn/workshops/{code}/live/start/", {"question": str(question_id), "seconds": "60"}
        )
        assert response.status_code == 302
        arrived = await asyncio.wait_for(asyncio.gather(*waiting), 30)
        for stream in streams:
            await stream.response.aclose()

        # Everyone answers at once, and sends the same answer a second time at once.
        picks = [i % 3 for i in range(ROOM)]

        async def answer(visitor: Visitor, pick: int) -> list[int]:
            form = {"round": "1", "choice": str(pick)}
            both = await asyncio.gather(
                visitor.post("/learn/live/answer/", form), visitor.post("/learn/live/answer/", form)
            )
            return sorted(r.status_code for r in both)

        statuses = await asyncio.gather(*(answer(v, p) for v, p in zip(room, picks, strict=True)))
        screen = (await carol.http.get(f"/learn/workshops/{code}/big-screen/")).text
        revealed = await carol.post(f"/learn/workshops/{code}/live/reveal/", {})
        assert revealed.status_code == 302
        after = (await carol.http.get(f"/learn/workshops/{code}/big-screen/")).text
        late = await room[0].post("/learn/live/answer/", {"round": "1", "choice": "0"})
        for visitor in [carol, *room]:
            await visitor.close()
        return started, arrived, picks, statuses, screen, after, late

    started, arrived, picks, statuses, screen, after, late = asyncio.run(scenario())

    slowest = max(arrived) - started
    print(f"{ROOM} streams: first {min(arrived) - started:.3f} s, last {slowest:.3f} s")
    assert slowest < 1.0, f"the last of {ROOM} streams saw the question after {slowest:.3f} s"
    # Each learner: one answer stored (302 after 201 Created), the other refused with 409.
    assert statuses == [[302, 409]] * ROOM
    assert f'<strong id="live-answered">{ROOM}</strong> of {ROOM} joined learners' in screen
    counts = [int(c) for c in re.findall(r'live-histogram__count">(\d+)<', after)]
    assert counts[:3] == [picks.count(p) for p in range(3)]
    assert sum(counts) == ROOM
    assert late.status_code == 409 and "Time is up" in late.text
