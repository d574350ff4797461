"""Each request's way through the stages: which it passed, which refused it, how long each took."""

import pytest

from apiserver import flow
from apiserver.filters import fairness
from apiserver.pipeline import ApiRequest, handle
from tests.apiserver.conftest import pod, set_hard

PODS = "/api/v1/namespaces/{}/pods"


def _states(response) -> dict[str, str]:
    return {item["key"]: item["state"] for item in response.trail.as_data()["stages"]}


def test_a_create_passes_every_stage_and_each_is_timed(alice, call):
    response = call("POST", PODS.format("alice"), alice, pod("web"))
    assert response.status == 201
    shown = response.trail.as_data()
    assert shown["refused"] == ""
    assert [item["key"] for item in shown["stages"]] == list(flow.KEYS)
    assert {item["state"] for item in shown["stages"]} == {flow.PASSED}
    timed = [item["ms"] for item in shown["stages"] if item["key"] != "watchers"]
    assert all(ms is not None and ms >= 0 for ms in timed)
    assert sum(timed) > 0


def test_a_read_is_not_admitted_and_tells_no_watcher(alice, call):
    response = call("GET", PODS.format("alice"), alice)
    assert response.status == 200
    states = _states(response)
    assert states["admission"] == flow.SKIPPED
    assert states["store"] == flow.PASSED
    assert states["watchers"] == flow.SKIPPED


def test_no_working_token_is_refused_by_authentication_with_401(alice):
    request = ApiRequest(
        "GET", PODS.format("alice"), headers={"authorization": "Bearer not-a-token"}
    )
    response = handle(request)
    assert response.status == 401
    assert response.trail.as_data()["refused"] == "authentication"
    states = _states(response)
    assert states["authorization"] == flow.UNREACHED
    assert states["store"] == flow.UNREACHED
    assert states["audit"] == flow.PASSED


def test_another_learners_namespace_is_refused_by_authorization_with_403(alice, bob, call):
    response = call("POST", PODS.format("bob"), alice, pod("intruder"))
    assert response.status == 403
    assert response.trail.as_data()["refused"] == "authorization"
    states = _states(response)
    assert states["authentication"] == states["fairness"] == flow.PASSED
    assert states["admission"] == flow.UNREACHED


def test_an_invalid_object_is_refused_by_admission_with_422(alice, call):
    empty = pod("hollow")
    empty["spec"]["containers"] = []
    response = call("POST", PODS.format("alice"), alice, empty)
    assert response.status == 422
    assert response.trail.as_data()["refused"] == "admission"
    states = _states(response)
    assert states["authorization"] == flow.PASSED
    assert states["store"] == flow.UNREACHED


def test_a_quota_refusal_is_admissions_403_not_authorizations(alice, call):
    set_hard("alice", {"pods": "0"})
    response = call("POST", PODS.format("alice"), alice, pod("one-too-many"))
    assert response.status == 403
    assert response.trail.as_data()["refused"] == "admission"
    assert _states(response)["authorization"] == flow.PASSED


def test_the_same_name_twice_is_refused_by_the_store_with_409(alice, call):
    assert call("POST", PODS.format("alice"), alice, pod("web")).status == 201
    response = call("POST", PODS.format("alice"), alice, pod("web"))
    assert response.status == 409
    assert response.trail.as_data()["refused"] == "store"
    states = _states(response)
    assert states["admission"] == flow.PASSED
    assert states["watchers"] == flow.UNREACHED


def test_an_unknown_resource_is_the_registrys_404_without_asking_authorization(alice, call):
    response = call("GET", "/api/v1/namespaces/alice/nonsense", alice)
    assert response.status == 404
    assert response.trail.as_data()["refused"] == "store"
    assert _states(response)["authorization"] == flow.SKIPPED


@pytest.fixture
def one_request_a_burst(settings):
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    settings.WAREHOUSE_LEARNER_QPS = 0.01
    settings.WAREHOUSE_LEARNER_BURST = 1
    fairness.reset()
    yield
    fairness.reset()


def test_going_past_your_share_is_refused_by_priority_and_fairness_with_429(
    one_request_a_burst, alice, call
):
    assert call("GET", PODS.format("alice"), alice).status == 200
    response = call("GET", PODS.format("alice"), alice)
    assert response.status == 429
    assert response.trail.as_data()["refused"] == "fairness"
    states = _states(response)
    assert states["authentication"] == flow.PASSED
    assert states["authorization"] == flow.UNREACHED


@pytest.mark.parametrize(
    ("status", "stage"),
    [
        (401, "authentication"),
        (429, "fairness"),
        (403, "authorization"),
        (422, "admission"),
        (409, "store"),
        (404, "store"),
        (201, "store"),
        (200, "store"),
    ],
)
def test_an_audit_rows_status_says_where_it_stopped(status, stage):
    assert flow.stage_for_status(status).key == stage


def test_every_refusing_code_of_a_stage_leads_back_to_a_stage_that_answers_it():
    for stage in flow.STAGES:
        for code in stage.codes:
            assert code in flow.stage_for_status(code).codes


def test_the_trail_is_not_part_of_what_is_sent(alice, call):
    response = call("GET", PODS.format("alice"), alice)
    assert b"trail" not in response.content()
    assert "authentication" not in response.as_http()
