"""Self-paced: alice practises an outage, a slowdown, an overload and a custom kind alone,
and only her own requests feel it; bob, the control plane and the room carry on."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from apiserver.accounts import system_user
from apiserver.filters import fairness
from apiserver.models import AuditRecord
from learning import faults, scenarios
from learning.models import ScenarioRun, StepProgress
from tests.learning.conftest import api, learner

HTMX = {"HTTP_HX_REQUEST": "true"}
PODS = "/api/v1/namespaces/alice/pods"
BOB_PODS = "/api/v1/namespaces/bob/pods"


@pytest.fixture(autouse=True)
def _no_practice_left() -> Iterator[None]:
    """Practice runs are cached per process: no test may leave one behind."""
    faults._forget_cache()
    yield
    faults._forget_cache()
    fairness.reset()


@pytest.fixture(autouse=True)
def _no_flood(monkeypatch) -> list:
    """The practice flood runs in a thread; the tests note that it would, and send it
    themselves when they need it."""
    started: list = []
    monkeypatch.setattr(faults, "_start_practice_flood", lambda *args: started.append(args))
    return started


@pytest.fixture
def limits(settings) -> None:
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    settings.WAREHOUSE_LEARNER_QPS = 20
    settings.WAREHOUSE_LEARNER_BURST = 40
    fairness.reset()


def practice(client, lesson: str, step: str, **form) -> tuple[int, str]:
    url = f"/learn/lessons/{lesson}/{step}/practice/"
    response = client.post(url, form, **HTMX)
    return response.status_code, response.content.decode()


def check(client, lesson: str, step: str) -> str:
    return client.post(f"/learn/lessons/{lesson}/{step}/check/", **HTMX).content.decode()


def test_the_lesson_offers_alice_her_own_outage(alice):
    page = alice.get("/learn/lessons/always-open/").content.decode()
    assert 'action="/learn/lessons/always-open/outage/practice/"' in page
    assert "Start my practice outage</button>" in page
    assert '<label for="practice-seconds-outage">For</label>' in page
    assert "No instructor needed" in page


def test_a_practice_outage_shuts_the_door_to_alice_only_and_passes_her_step(alice, bob):
    assert "No outage has run yet" in check(alice, "always-open", "outage")
    status, fragment = practice(alice, "always-open", "outage", action="start", seconds="30")
    assert status == 200 and "<html" not in fragment
    assert "Your practice outage runs for 30 seconds." in fragment
    assert "End it now</button>" in fragment

    shut = api(learner("alice"), "GET", PODS)
    assert shut.status == 503 and "your own practice outage" in shut.body["message"]
    assert api(learner("bob"), "GET", BOB_PODS).status == 200
    system = system_user("kube-scheduler")
    assert api(system, "GET", PODS, client="scheduler").status == 200
    assert faults.active_scenario() is None

    during = check(alice, "always-open", "outage")
    assert "Not yet." in during and "Now try again once it reopens." in during
    assert "No outage has run yet" in check(bob, "always-open", "outage")

    status, fragment = practice(alice, "always-open", "outage", action="stop")
    assert "Your practice run ended." in fragment and "Start my practice outage" in fragment
    assert api(learner("alice"), "GET", PODS).status == 200
    assert "Yes!" in check(alice, "always-open", "outage")
    assert StepProgress.objects.get(learner__name="alice", step="outage").passed


def test_a_practice_run_ends_by_itself(alice):
    faults.start_practice("outage", 30, learner("alice"))
    ScenarioRun.objects.filter(name="practice-outage").update(
        ends=datetime.now(UTC) - timedelta(seconds=1)
    )
    faults._forget_cache()
    assert api(learner("alice"), "GET", PODS).status == 200


def test_a_practice_slowdown_drags_alices_requests_and_the_step_sees_the_difference(alice, bob):
    practice(alice, "always-open", "slow-door", action="start", seconds="30")
    slow = api(learner("alice"), "GET", PODS)
    assert slow.status == 200
    assert api(learner("bob"), "GET", BOB_PODS).status == 200
    record = AuditRecord.objects.filter(user="alice", path=PODS).latest("id")
    assert record.latency_ms >= 1000
    assert AuditRecord.objects.filter(user="bob").latest("id").latency_ms < 1000

    during = check(alice, "always-open", "slow-door")
    assert "Not yet." in during and "Now time one again once the slowdown is over." in during
    practice(alice, "always-open", "slow-door", action="stop")
    api(learner("alice"), "GET", PODS)
    passed = check(alice, "always-open", "slow-door")
    assert "Yes!" in passed and " s; GET " in passed


def test_a_practice_overload_squeezes_alices_share_only(alice, bob, limits, _no_flood):
    practice(alice, "overload", "overload-scenario", action="start", seconds="60")
    assert len(_no_flood) == 1 and _no_flood[0][0].name == "alice"
    codes = [api(learner("alice"), "GET", PODS).status for _ in range(8)]
    assert 429 in codes
    assert all(api(learner("bob"), "GET", BOB_PODS).status == 200 for _ in range(8))
    fragment = check(alice, "overload", "overload-scenario")
    assert "Yes!" in fragment and "wait your turn" in fragment


def test_the_practice_flood_is_sent_as_alice_and_does_not_pass_for_her(alice, limits):
    faults.start_practice("overload", 60, learner("alice"), flood=False)
    until = datetime.now(UTC) + timedelta(seconds=30)
    run = faults.practice_for("alice")
    assert faults.practice_flood(learner("alice"), run.started, until, limit=3) == 3
    flood = AuditRecord.objects.filter(user="alice", client="flood")
    assert flood.count() == 3
    fragment = check(alice, "overload", "overload-scenario")
    assert "Not yet." in fragment and "Found 0 of the 3" in fragment


def test_bobs_practice_does_not_count_for_alice(alice, bob):
    faults.start_practice("outage", 30, learner("bob"))
    assert api(learner("alice"), "GET", PODS).status == 200
    assert "No outage has run yet" in check(alice, "always-open", "outage")


def test_an_instructors_scenario_leaves_a_learners_practice_alone(alice, carol):
    faults.start_practice("outage", 60, learner("alice"))
    carol.post("/learn/workshops/", {"title": "Room"})
    from learning.models import Workshop

    workshop = Workshop.objects.get(title="Room")
    carol.post(
        f"/learn/workshops/{workshop.code}/scenario/start/", {"name": "slowdown", "seconds": 30}
    )
    assert faults.practice_for("alice") is not None
    assert ScenarioRun.objects.get(name="practice-outage").ends > datetime.now(UTC)


@pytest.mark.parametrize(
    "form",
    [{"action": "start", "seconds": "3600"}, {"action": "start"}, {"action": "explode"}, {}],
)
def test_only_the_offered_practice_runs_start(alice, form):
    status, fragment = practice(alice, "always-open", "outage", **form)
    assert status == 400 and "Choose one of the actions and durations offered." in fragment
    assert faults.practice_for("alice") is None
    response = alice.post("/learn/lessons/always-open/outage/practice/", form)
    assert response.status_code == 302
    assert response["Location"] == "/learn/lessons/always-open/#step-outage"


def test_practice_needs_a_learner_and_a_step_that_offers_it(alice, shopper):
    response = shopper.post("/learn/lessons/always-open/outage/practice/", {"action": "start"})
    assert response.status_code == 302 and response["Location"].startswith("/learner/")
    assert practice(alice, "front-door", "order-web", action="start")[0] == 404
    assert practice(alice, "always-open", "nope", action="start")[0] == 404
    assert alice.get("/learn/lessons/always-open/outage/practice/").status_code == 405


def test_every_instructor_step_has_a_practice_version():
    from learning import lessons

    for slug, step in [
        ("third-party-sellers", "custom-kind-served"),
        ("always-open", "outage"),
        ("always-open", "slow-door"),
        ("overload", "overload-scenario"),
    ]:
        found = lessons.get(slug).step(step)
        assert found.practice in lessons.PRACTICES, (slug, step)


# The practice seller -----------------------------------------------------------------


def test_alice_invites_the_practice_seller_and_passes_the_custom_kind_step_alone(alice):
    fragment = check(alice, "third-party-sellers", "custom-kind-served")
    assert "No third-party seller has registered yet." in fragment
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert api(learner("alice"), "POST", crds, scenarios.PRACTICE_CRD).status == 403

    status, fragment = practice(alice, "third-party-sellers", "custom-kind-served", action="start")
    assert status == 200
    assert "The practice seller registered Trinket" in fragment
    assert "is in the catalog" in fragment and "Invite the practice seller" not in fragment
    made = AuditRecord.objects.get(path=crds, verb="create", status_code=201)
    assert made.user == "system:warehouse-seller"

    trinkets = "/apis/practice.warehouse.dev/v1/namespaces/alice/trinkets"
    assert api(learner("alice"), "GET", trinkets).status == 200
    trinket = {
        "apiVersion": "practice.warehouse.dev/v1",
        "kind": "Trinket",
        "metadata": {"name": "g1"},
        "spec": {"size": 3},
    }
    assert api(learner("alice"), "POST", trinkets, trinket).status == 201
    fragment = check(alice, "third-party-sellers", "custom-kind-served")
    assert "Yes!" in fragment and "You listed trinkets" in fragment

    again = practice(alice, "third-party-sellers", "custom-kind-served", action="start")[1]
    assert "already in the catalog" in again


def test_one_practice_run_at_a_time_and_a_flood_stops_with_its_run(alice, limits):
    practice(alice, "overload", "overload-scenario", action="start", seconds="60")
    status, fragment = practice(alice, "always-open", "outage", action="start", seconds="30")
    assert status == 400 and "already in force: end it first" in fragment
    assert faults.practice_for("alice").name == "overload"

    first = faults.practice_for("alice")
    practice(alice, "overload", "overload-scenario", action="stop")
    practice(alice, "overload", "overload-scenario", action="start", seconds="60")
    until = datetime.now(UTC) + timedelta(seconds=30)
    assert faults.practice_flood(learner("alice"), first.started, until, limit=5) == 0
    assert ScenarioRun.objects.filter(name="practice-overload").count() == 2
