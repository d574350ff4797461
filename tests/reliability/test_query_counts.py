"""Each request type costs a small, fixed number of queries, whatever the store holds.

The scenario state and the RBAC policy are read at most once a second per process, so
both are primed first; rate limits run in memory; the learner is already authenticated
(as the web pages call).
"""

import pytest

from apiserver.rbac import authorizer
from learning import faults
from tests.apiserver.conftest import configmap

CM = "/api/v1/namespaces/alice/configmaps"


@pytest.fixture
def policy_warm(monkeypatch):
    """The RBAC policy read, and kept for a minute (a slow machine must not make a test
    cross the one-second re-check)."""
    monkeypatch.setattr(authorizer, "RECHECK_SECONDS", 60.0)
    authorizer.policy()


@pytest.fixture
def primed(limits, alice, call, monkeypatch, policy_warm):
    """Ten objects in the namespace, and the scenario cache warm (for a minute here, so a
    slow machine cannot make a test cross the one-second refresh)."""
    monkeypatch.setattr(faults, "CACHE_SECONDS", 60.0)
    for index in range(10):
        assert call("POST", CM, alice, configmap(f"c{index}", k="v")).status == 201
    faults.active_scenario()


def test_a_get_costs_two_queries(primed, alice, call, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the object, the audit row
        assert call("GET", f"{CM}/c1", alice).status == 200


def test_a_list_costs_three_queries(primed, alice, call, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the revision, the objects, the audit row
        assert call("GET", CM, alice).status == 200


def test_a_create_costs_a_fixed_number_of_queries(
    primed, alice, call, django_assert_max_num_queries
):
    # Four are alice's ResourceQuota: its locked look-up, one count of her objects, and its
    # new status.used (row and revision; the counter is shared with the create's).
    with django_assert_max_num_queries(12):
        assert call("POST", CM, alice, configmap("new", k="v")).status == 201


def test_an_update_costs_a_fixed_number_of_queries(
    primed, alice, call, django_assert_max_num_queries
):
    current = call("GET", f"{CM}/c1", alice).body
    current["data"] = {"k": "changed"}
    with django_assert_max_num_queries(7):
        assert call("PUT", f"{CM}/c1", alice, current).status == 200


def test_a_delete_costs_a_fixed_number_of_queries(
    primed, alice, call, django_assert_max_num_queries
):
    # Four are alice's ResourceQuota, as for a create, to show the room it gave back.
    with django_assert_max_num_queries(11):
        assert call("DELETE", f"{CM}/c2", alice).status == 200


def test_a_refused_request_costs_only_its_audit_row(
    primed, settings, mallory, call, django_assert_max_num_queries
):
    settings.WAREHOUSE_LEARNER_BURST = 1
    settings.WAREHOUSE_LEARNER_QPS = 0.01
    call("GET", "/api/v1/namespaces/mallory/pods", mallory)
    with django_assert_max_num_queries(1):
        assert call("GET", "/api/v1/namespaces/mallory/pods", mallory).status == 429


def test_a_bearer_token_adds_one_query(primed, alice, api, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the user, the object, the audit row
        assert api.get(f"{CM}/c1", alice).status_code == 200


def test_the_scenario_is_read_once_per_refresh(
    limits, alice, call, policy_warm, django_assert_num_queries
):
    faults._forget_cache()
    with django_assert_num_queries(1 + 10 * 2):  # one scenario read, then two per get
        for _ in range(10):
            assert call("GET", f"{CM}/missing", alice).status == 404


def test_an_unchanged_conditional_list_costs_two_queries(
    primed, alice, django_assert_max_num_queries
):
    from apiserver.pipeline import ApiRequest, handle

    first = handle(ApiRequest("GET", CM, {}, {"if-none-match": 'W/""'}, user=alice))
    headers = {"if-none-match": first.headers["etag"]}
    with django_assert_max_num_queries(2):  # the namespace's newest revision, the audit row
        assert handle(ApiRequest("GET", CM, {}, headers, user=alice)).status == 304
