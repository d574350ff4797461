"""Scenarios: carol breaks the front door from her dashboard, and the lessons notice.

An outage, a slowdown or an overload applies to the whole cluster, so only the workshop's
instructor (or a superuser) may start or end one. The steps always-open/outage and
overload/overload-scenario then check, from the audit log, what each learner lived through.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from apiserver.filters import fairness
from apiserver.models import AuditRecord
from learning import faults
from learning.models import ScenarioRun, StepProgress, Workshop
from tests.learning.conftest import api, learner

HTMX = {"HTTP_HX_REQUEST": "true"}
PODS = "/api/v1/namespaces/alice/pods"


@pytest.fixture(autouse=True)
def _no_scenario_left() -> Iterator[None]:
    """The scenario in force is cached per process: no test may leave one behind."""
    faults._forget_cache()
    yield
    faults._forget_cache()
    fairness.reset()


@pytest.fixture(autouse=True)
def _no_flood(monkeypatch) -> list:
    """The overload's noisy neighbour runs in a thread; the tests only note that it would."""
    started: list = []
    monkeypatch.setattr(faults, "_start_flood", started.append)
    return started


@pytest.fixture
def limits(settings) -> None:
    """Rate limiting on (the test settings turn it off), at the defaults, from a clean slate."""
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    settings.WAREHOUSE_LEARNER_QPS = 20
    settings.WAREHOUSE_LEARNER_BURST = 40
    fairness.reset()


@pytest.fixture
def workshop(carol) -> Workshop:
    response = carol.post("/learn/workshops/", {"title": "Front door drills"})
    assert response.status_code == 302
    return Workshop.objects.get(title="Front door drills")


def url(workshop: Workshop, action: str = "") -> str:
    return f"/learn/workshops/{workshop.code}/scenario/{action + '/' if action else ''}"


def start(client: Client, workshop: Workshop, name: str, seconds: int = 60, **headers):
    return client.post(url(workshop, "start"), {"name": name, "seconds": seconds}, **headers)


def check(client: Client, lesson: str, step: str) -> str:
    return client.post(f"/learn/lessons/{lesson}/{step}/check/", **HTMX).content.decode()


# The dashboard panel ------------------------------------------------------------------


def test_the_dashboard_offers_each_scenario_with_a_duration_and_says_what_it_teaches(
    carol, workshop
):
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert "<html" in page and 'id="scenarios"' in page
    for name in ("outage", "slowdown", "overload"):
        assert f'<input type="hidden" name="name" value="{name}">' in page
        assert f"Start {name}</button>" in page
        assert f'<select name="seconds" id="scenario-seconds-{name}">' in page
    assert page.count(f'<form method="post" action="{url(workshop, "start")}"') == 3
    assert page.count(f'hx-post="{url(workshop, "start")}" hx-target="#scenarios"') == 3
    for seconds in (30, 60, 120):
        assert f'<option value="{seconds}"' in page
    assert "503 Service Unavailable" in page and "catch up by themselves" in page
    assert "Every learner request waits about 1.5 s" in page
    assert "429 Too Many Requests" in page and "keeps working" in page
    assert "No scenario is running" in page
    assert f'sse-connect="{url(workshop, "events")}"' in page
    assert "hx-trigger" not in page


def test_the_board_fragment_does_not_rebuild_the_panel(carol, workshop):
    fragment = carol.get(f"/learn/workshops/{workshop.code}/", **HTMX).content.decode()
    assert "<html" not in fragment and 'id="board"' in fragment
    assert 'id="scenarios"' not in fragment


def test_carol_starts_an_outage_without_javascript_and_sees_it_running(carol, workshop):
    response = start(carol, workshop, "outage", 120)
    assert response.status_code == 302
    assert response["Location"] == f"/learn/workshops/{workshop.code}/#scenarios"
    active = faults.active_scenario()
    assert active.name == "outage" and 115 <= active.seconds_left <= 120
    assert active.started_by == f"instructor-{carol.user.pk}"
    run = ScenarioRun.objects.get()
    assert (run.name, run.workshop, run.started_by) == ("outage", workshop, "carol")
    assert run.ends == active.ends

    page = carol.get(response["Location"]).content.decode()
    assert "Outage started for 120 seconds." in page
    left = re.search(r'<strong id="scenario-left">(\d+)</strong> seconds left', page)
    assert left and 115 <= int(left.group(1)) <= 120
    assert re.search(r"started by carol at \d\d:\d\d:\d\d UTC", page)
    assert f'<form method="post" action="{url(workshop, "stop")}"' in page
    assert "End now</button>" in page


def test_with_htmx_starting_a_scenario_swaps_the_panel(carol, workshop):
    response = start(carol, workshop, "slowdown", 30, **HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="scenarios"')
    assert "Slowdown started for 30 seconds." in fragment
    assert "<strong>Slowdown</strong> is running" in fragment
    assert faults.active_scenario().delay_ms == faults.DEFAULT_DELAY_MS


def test_the_status_fragment_shows_the_time_left(carol, workshop):
    assert "No scenario is running" in carol.get(url(workshop), **HTMX).content.decode()
    start(carol, workshop, "overload", 60)
    fragment = carol.get(url(workshop), **HTMX).content.decode()
    assert "<html" not in fragment and 'id="scenario-status"' in fragment
    assert "<strong>Overload</strong> is running" in fragment
    assert 'id="scenario-left">' in fragment
    plain = carol.get(url(workshop))
    assert plain.status_code == 302
    assert plain["Location"] == f"/learn/workshops/{workshop.code}/#scenarios"


def test_an_overload_sends_the_noisy_neighbour(carol, workshop, _no_flood):
    start(carol, workshop, "overload", 30)
    assert faults.active_scenario().capacity == faults.DEFAULT_CAPACITY
    assert len(_no_flood) == 1


def test_end_now_reopens_the_door_and_closes_the_record(carol, workshop):
    alice_user = learner_in(workshop)
    start(carol, workshop, "outage", 120)
    assert api(alice_user, "GET", f"/api/v1/namespaces/{alice_user.namespace}/pods").status == 503

    response = carol.post(url(workshop, "stop"), **HTMX)
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "Scenario ended: the door is open again." in fragment
    assert "No scenario is running" in fragment
    assert faults.active_scenario() is None
    assert api(alice_user, "GET", f"/api/v1/namespaces/{alice_user.namespace}/pods").status == 200
    assert ScenarioRun.objects.get().ends <= datetime.now(UTC)

    again = carol.post(url(workshop, "stop"))
    assert again.status_code == 302
    assert "No scenario was running." in carol.get(again["Location"]).content.decode()


def test_a_new_scenario_replaces_the_one_in_force(carol, workshop):
    start(carol, workshop, "outage", 120)
    start(carol, workshop, "slowdown", 60)
    assert faults.active_scenario().name == "slowdown"
    outage, slowdown = ScenarioRun.objects.order_by("started")
    assert outage.ends <= slowdown.started + timedelta(seconds=1)


@pytest.mark.parametrize(
    "form",
    [
        {"name": "meltdown", "seconds": "60"},
        {"name": "outage", "seconds": "3600"},
        {"name": "outage", "seconds": "soon"},
        {"name": "outage"},
    ],
)
def test_only_the_offered_scenarios_and_durations_start(carol, workshop, form):
    fragment = carol.post(url(workshop, "start"), form, **HTMX).content.decode()
    assert "Choose one of the scenarios and durations offered." in fragment
    response = carol.post(url(workshop, "start"), form)
    assert response.status_code == 302
    assert "Choose one of the scenarios" in carol.get(response["Location"]).content.decode()
    assert faults.active_scenario() is None and not ScenarioRun.objects.exists()


def test_only_the_workshops_instructor_or_a_superuser_may_run_scenarios(
    carol, dave, alice, shopper, store_manager, workshop
):
    for client in (dave, alice, shopper):
        assert start(client, workshop, "outage").status_code in (302, 403)
        assert client.post(url(workshop, "stop")).status_code in (302, 403)
        assert client.get(url(workshop), **HTMX).status_code in (302, 403)
    assert start(dave, workshop, "outage").status_code == 403
    assert dave.get(url(workshop), **HTMX).status_code == 403
    assert start(alice, workshop, "outage")["Location"].startswith("/admin/login/")
    assert start(shopper, workshop, "outage")["Location"].startswith("/admin/login/")
    assert faults.active_scenario() is None

    assert start(store_manager, workshop, "outage").status_code == 302
    assert faults.active_scenario().name == "outage"
    assert dave.post(url(workshop, "stop")).status_code == 403
    assert faults.active_scenario() is not None
    assert carol.get(url(workshop, "start")).status_code == 405
    assert carol.post("/learn/workshops/NOPE42/scenario/stop/").status_code == 404


def test_the_forms_carry_a_csrf_token_and_posts_without_one_are_refused(carol, workshop):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(carol.user)
    page = browser.get(f"/learn/workshops/{workshop.code}/").content.decode()
    panel = page[page.index('id="scenarios"') :]
    panel = panel[: panel.index("</section>")]
    assert panel.count('name="csrfmiddlewaretoken"') == 3
    assert start(browser, workshop, "outage").status_code == 403
    assert faults.active_scenario() is None
    token = browser.cookies["csrftoken"].value
    assert start(browser, workshop, "outage", HTTP_X_CSRFTOKEN=token).status_code == 302
    assert faults.active_scenario().name == "outage"


def learner_in(workshop: Workshop, name: str = "Ann"):
    Client().post("/join/", {"code": workshop.code, "display_name": name})
    return workshop.participants.get(learner__display_name=name).learner


# The outage step ----------------------------------------------------------------------


def test_alice_passes_the_outage_step_by_meeting_the_shut_door_and_coming_back(
    alice, carol, workshop
):
    assert "No outage has run yet" in check(alice, "always-open", "outage")
    start(carol, workshop, "outage", 60)
    assert api(learner("alice"), "GET", PODS).status == 503

    during = check(alice, "always-open", "outage")
    assert "Not yet." in during and "You met the shut door (GET " in during
    assert "Now try again once it reopens." in during

    carol.post(url(workshop, "stop"))
    assert api(learner("alice"), "GET", PODS).status == 200
    after = check(alice, "always-open", "outage")
    assert "Yes!" in after and "→ 503" in after and "→ 200" in after
    assert StepProgress.objects.get(learner__name="alice", step="outage").passed


def test_sitting_out_the_outage_does_not_pass(alice, bob, carol, workshop):
    api(learner("bob"), "GET", "/api/v1/namespaces/bob/pods")
    start(carol, workshop, "outage", 60)
    api(learner("alice"), "GET", PODS)
    carol.post(url(workshop, "stop"))
    api(learner("bob"), "GET", "/api/v1/namespaces/bob/pods")
    fragment = check(bob, "always-open", "outage")
    assert "Not yet." in fragment and "None of your requests met the shut door" in fragment


def test_a_503_outside_any_outage_does_not_count(alice):
    earlier = datetime.now(UTC) - timedelta(hours=1)
    ScenarioRun.objects.create(
        name="outage", started=earlier, ends=earlier + timedelta(minutes=1), started_by="carol"
    )
    AuditRecord.objects.create(
        timestamp=datetime.now(UTC) - timedelta(minutes=5),
        user="alice",
        client="kubectl",
        verb="list",
        method="GET",
        path=PODS,
        status_code=503,
        latency_ms=1,
    )
    api(learner("alice"), "GET", PODS)
    assert "None of your requests met the shut door" in check(alice, "always-open", "outage")


def test_an_outage_started_outside_the_dashboard_is_recorded_once_seen(alice, carol, workshop):
    faults.start_scenario("outage", 60, "dana")
    assert api(learner("alice"), "GET", PODS).status == 503
    assert "You met the shut door" in check(alice, "always-open", "outage")
    status = carol.get(url(workshop), **HTMX).content.decode()
    assert "<strong>Outage</strong> is running" in status and "started by dana" in status
    run = ScenarioRun.objects.get()
    assert (run.name, run.started_by, run.workshop) == ("outage", "dana", None)
    faults.stop_scenario()
    api(learner("alice"), "GET", PODS)
    assert "Yes!" in check(alice, "always-open", "outage")


def test_after_afresh_only_an_outage_met_again_passes(alice, carol, workshop):
    start(carol, workshop, "outage", 60)
    assert api(learner("alice"), "GET", PODS).status == 503
    carol.post(url(workshop, "stop"))
    api(learner("alice"), "GET", PODS)
    assert "Yes!" in check(alice, "always-open", "outage")

    alice.post("/learn/lessons/always-open/afresh/", {"confirm": "yes"}, **HTMX)
    fragment = check(alice, "always-open", "outage")
    assert "Not yet." in fragment and "None of your requests met the shut door" in fragment

    start(carol, workshop, "outage", 60)
    assert api(learner("alice"), "GET", PODS).status == 503
    carol.post(url(workshop, "stop"))
    api(learner("alice"), "GET", PODS)
    assert "Yes!" in check(alice, "always-open", "outage")


# The overload step --------------------------------------------------------------------


def test_steady_requests_answered_during_the_flood_pass_the_overload_step(
    alice, carol, workshop, limits
):
    assert "No overload has run yet" in check(alice, "overload", "overload-scenario")
    for _ in range(5):
        api(learner("alice"), "GET", PODS)  # before the flood: these do not count
    start(carol, workshop, "overload", 60)
    for _ in range(2):
        assert api(learner("alice"), "GET", PODS).status == 200
    fragment = check(alice, "overload", "overload-scenario")
    assert "Not yet." in fragment and "Found 2 of the 3 answered requests" in fragment
    assert api(learner("alice"), "GET", PODS).status == 200
    fragment = check(alice, "overload", "overload-scenario")
    assert "Yes!" in fragment and "3 of your requests were answered during the flood" in fragment


def test_being_told_to_wait_during_the_flood_passes_the_overload_step(
    alice, carol, workshop, limits
):
    start(carol, workshop, "overload", 60)
    codes = [api(learner("alice"), "GET", PODS).status for _ in range(8)]
    assert 429 in codes
    fragment = check(alice, "overload", "overload-scenario")
    assert "Yes!" in fragment and "wait your turn" in fragment and "→ 429" in fragment


def test_only_requests_inside_an_overload_count(alice):
    now = datetime.now(UTC)
    ScenarioRun.objects.create(
        name="overload",
        started=now - timedelta(minutes=10),
        ends=now - timedelta(minutes=9),
        started_by="carol",
    )
    for minutes, status in [(12, 429), (8, 429), (9.5, 200), (9.6, 200)]:
        AuditRecord.objects.create(
            timestamp=now - timedelta(minutes=minutes),
            user="alice",
            client="kubectl",
            verb="list",
            method="GET",
            path=PODS,
            status_code=status,
            latency_ms=1,
        )
    fragment = check(alice, "overload", "overload-scenario")
    assert "Not yet." in fragment and "Found 2 of the 3" in fragment
