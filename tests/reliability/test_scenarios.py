"""The instructor's DoS/HA exercises: outage, slowdown and overload, each ending cleanly."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from apiserver.filters import faults as fault_hook
from apiserver.models import AuditRecord
from learning import faults
from learning.models import Scenario

PODS = "/api/v1/namespaces/alice/pods"


def test_an_outage_stops_learners_and_the_control_plane_but_not_instructors(
    alice, carol, scheduler, call, api
):
    started = faults.start_scenario("outage", 60, carol)
    assert started.name == "outage"
    assert started.started_by == "carol"
    assert 55 <= started.seconds_left <= 60

    response = api.get(PODS, alice)
    assert response.status_code == 503
    assert response.json_body["reason"] == "ServiceUnavailable"
    assert response.json_body["code"] == 503
    assert call("GET", "/api/v1/nodes", scheduler).status == 503
    assert call("GET", PODS, carol).status == 200
    assert api.get("/version", None).status_code == 503
    assert AuditRecord.objects.filter(user="alice", status_code=503).exists()


def test_stopping_a_scenario_recovers_at_once(alice, carol, call):
    faults.start_scenario("outage", 60, carol)
    assert call("GET", PODS, alice).status == 503

    assert faults.stop_scenario() is True
    assert faults.active_scenario() is None
    assert call("GET", PODS, alice).status == 200
    assert faults.stop_scenario() is False


def test_a_scenario_ends_by_itself(alice, carol, call):
    faults.start_scenario("outage", 1, carol)
    assert call("GET", PODS, alice).status == 503
    time.sleep(1.1)
    assert faults.active_scenario() is None
    assert call("GET", PODS, alice).status == 200


def test_a_scenario_started_elsewhere_applies_within_a_second(alice, call):
    assert call("GET", PODS, alice).status == 200  # caches "no scenario"
    now = datetime.now(UTC)
    # Another server process would write just this row.
    Scenario.objects.create(
        name="outage", started=now, ends=now + timedelta(seconds=30), started_by="dana"
    )
    time.sleep(faults.CACHE_SECONDS + 0.05)
    assert call("GET", PODS, alice).status == 503


def test_a_slowdown_delays_learners_only(alice, carol, scheduler, call):
    faults.start_scenario("slowdown", 60, "carol", delay_ms=300)

    def timed(user, path: str) -> float:
        started = time.perf_counter()
        assert call("GET", path, user).status == 200
        return time.perf_counter() - started

    assert timed(alice, PODS) >= 0.3
    assert timed(carol, PODS) < 0.3
    assert timed(scheduler, "/api/v1/nodes") < 0.3


def test_an_overload_shrinks_the_learner_lane_but_spares_the_control_plane(
    limits, alice, scheduler, call
):
    faults.start_scenario("overload", 60, "carol", capacity=0.1, flood=False)
    codes = [call("GET", PODS, alice).status for _ in range(6)]
    assert codes[:4] == [200] * 4  # a tenth of the burst of 40
    assert 429 in codes
    assert {call("GET", "/api/v1/nodes", scheduler).status for _ in range(50)} == {200}

    faults.stop_scenario()
    assert {call("GET", PODS, alice).status for _ in range(10)} == {200}


def test_the_noisy_neighbour_flood_is_bounded_and_mostly_refused(limits, alice, call):
    scenario = faults.start_scenario("overload", 60, "carol", flood=False)
    sent = faults.flood(scenario.ends, limit=30, per_second=1000)

    assert sent == 30
    noisy = AuditRecord.objects.filter(user=faults.NOISY_USER)
    assert noisy.count() == 30
    assert noisy.filter(status_code=429).count() >= 20
    assert call("GET", PODS, alice).status == 200


def test_the_flood_comes_through_the_front_door_as_a_learner(limits, alice):
    scenario = faults.start_scenario("overload", 60, "carol", flood=False)
    faults.flood(scenario.ends, limit=1, per_second=1000)

    sent = AuditRecord.objects.get(user=faults.NOISY_USER)
    assert (sent.client, sent.lane, sent.verb) == ("flood", "learner", "list")
    assert sent.path == f"/api/v1/namespaces/{faults.NOISY_USER}/pods"


def test_the_api_server_meets_scenarios_only_through_its_fault_hook(alice, carol, call):
    faults.start_scenario("outage", 60, carol)
    fault_hook.unregister(faults.apply)
    try:
        assert call("GET", PODS, alice).status == 200
    finally:
        fault_hook.register(faults.apply, quiet=faults.quiet)
    assert call("GET", PODS, alice).status == 503


def test_the_flood_stops_when_the_scenario_does(limits):
    assert faults.flood(datetime.now(UTC) + timedelta(seconds=30), limit=100) == 0


@pytest.mark.parametrize(
    ("name", "seconds", "options"),
    [
        ("meltdown", 10, {}),
        ("outage", 0, {}),
        ("outage", 999_999, {}),
        ("overload", 10, {"capacity": 0}),
    ],
)
def test_bad_scenarios_are_refused(db, name, seconds, options):
    with pytest.raises(ValueError):
        faults.start_scenario(name, seconds, "carol", **options)
    assert not Scenario.objects.exists()


def test_a_new_scenario_replaces_the_old_one(carol):
    faults.start_scenario("outage", 60, carol)
    faults.start_scenario("slowdown", 60, carol, delay_ms=10)
    assert Scenario.objects.count() == 1
    assert faults.active_scenario().name == "slowdown"
