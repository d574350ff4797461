"""Each request type costs a small, fixed number of queries, whatever the store holds.

The scenario state and the RBAC policy are read at most once a second per process, so
both are primed first; rate limits run in memory; the learner is already authenticated
(as the web pages call).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apiserver.models import AuditRecord, Counter, Revision
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
    # The room's scenario and the learners' practice runs, each read once per refresh,
    # then two per get.
    with django_assert_num_queries(2 + 10 * 2):
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


@pytest.mark.parametrize("write", ["create", "update", "delete"])
def test_a_write_holding_the_revision_counter_makes_one_more_round_trip_on_postgresql(
    primed, alice, call, write
):
    """Every writer in the cluster queues on the counter's row lock, so on PostgreSQL a
    write sends all it still has to do in one round trip once it holds it (then commits)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs in process: no round trips to save")
    requests = {
        "create": ("POST", CM, configmap("held", k="v")),
        "update": ("PUT", f"{CM}/c1", None),
        "delete": ("DELETE", f"{CM}/c2", None),
    }
    method, path, body = requests[write]
    if write == "update":
        body = call("GET", path, alice).body
        body["data"] = {"k": "changed"}
    with CaptureQueriesContext(connection) as captured:
        assert call(method, path, alice, body).status in (200, 201)
    statements = [query["sql"] for query in captured.captured_queries]
    counter = Counter._meta.db_table
    taken = next(i for i, sql in enumerate(statements) if sql.startswith(f"UPDATE {counter}"))
    # The test's own transaction makes the commit a savepoint's release.
    while_held = [
        sql
        for sql in statements[taken + 1 :]
        if AuditRecord._meta.db_table not in sql and "SAVEPOINT" not in sql
    ]
    assert len(while_held) == 1, while_held
    assert Revision._meta.db_table in while_held[0]
