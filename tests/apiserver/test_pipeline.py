"""`pipeline.handle()` as the web pages use it, the audit log, and the cost per request."""

import json

import pytest
from django.db import OperationalError

from apiserver.filters import audit
from apiserver.models import AuditRecord
from apiserver.pipeline import ApiRequest, ApiResponse, guess_client, handle
from apiserver.registry import kinds, store
from tests.apiserver.conftest import TABLE_ACCEPT, deployment, drop_quota, pod

PODS = "/api/v1/namespaces/alice/pods"


def test_web_page_orders_a_pod_through_handle(alice):
    request = ApiRequest(
        method="POST",
        path=PODS,
        headers={"content-type": "application/json"},
        body=json.dumps(pod("web")).encode(),
        client="browser",
        user=alice,
    )
    response = handle(request)
    assert isinstance(response, ApiResponse)
    assert response.status == 201
    assert response.body["metadata"]["name"] == "web"


def test_as_http_shows_the_request_behind_the_click(alice):
    request = ApiRequest(
        "POST",
        PODS,
        query={"fieldValidation": "Strict"},
        headers={"content-type": "application/json", "authorization": "Bearer secret-token"},
        body=b'{"kind": "Pod"}',
    )
    text = request.as_http()
    assert text.startswith("POST /api/v1/namespaces/alice/pods?fieldValidation=Strict HTTP/1.1\r\n")
    assert "Content-Type: application/json\r\n" in text
    assert "Authorization: Bearer <token>" in text
    assert "secret-token" not in text
    assert text.endswith('\r\n\r\n{"kind": "Pod"}')


def test_response_as_http(alice):
    response = handle(ApiRequest("GET", f"{PODS}/ghost", user=alice))
    text = response.as_http()
    assert text.startswith("HTTP/1.1 404 Not Found\r\n")
    assert "Content-Type: application/json" in text
    assert '"reason": "NotFound"' in text


def test_unexpected_errors_become_a_500_status(alice, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("apiserver.registry.store.list_texts", explode)
    response = handle(ApiRequest("GET", PODS, user=alice))
    assert response.status == 500
    assert response.body["reason"] == "InternalError"
    assert "boom" not in response.body["message"]


@pytest.mark.parametrize(
    ("agent", "client"),
    [
        ("kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd", "kubectl"),
        ("OpenAPI-Generator/37.0.2/python", "python-client"),
        ("Mozilla/5.0 (X11; Linux x86_64)", "browser"),
        ("kube-scheduler/v1.32", "scheduler"),
        ("curl/8.0", "other"),
    ],
)
def test_client_is_guessed_from_the_user_agent(agent, client):
    assert guess_client(agent) == client


def test_every_request_writes_one_audit_record(api, alice, bob):
    api.post(PODS, alice, pod("web"))
    api.get(f"{PODS}/web", bob)
    created, refused = AuditRecord.objects.filter(user__in=("alice", "bob")).order_by("id")
    assert (created.user, created.client, created.verb) == ("alice", "kubectl", "create")
    assert (created.resource, created.namespace, created.status_code) == ("pods", "alice", 201)
    assert created.latency_ms >= 0
    assert (refused.user, refused.verb, refused.name, refused.status_code) == (
        "bob",
        "get",
        "web",
        403,
    )


def test_audit_records_anonymous_and_pipeline_callers(alice):
    handle(ApiRequest("GET", PODS))
    handle(ApiRequest("GET", PODS, user=alice, client="scheduler"))
    records = audit.recent(limit=2)
    assert [(r["user"], r["client"], r["status_code"]) for r in records] == [
        ("alice", "scheduler", 200),
        ("", "other", 401),
    ]


def test_recent_audit_records_can_follow_on(alice):
    handle(ApiRequest("GET", PODS, user=alice))
    (first,) = audit.recent(limit=1)
    handle(ApiRequest("GET", f"{PODS}/x", user=alice))
    newer = audit.recent(since_id=first["id"])
    assert [r["path"] for r in newer] == [f"{PODS}/x"]


def _warm(alice):
    kinds.index()
    handle(ApiRequest("GET", PODS, user=alice))


def test_a_get_costs_few_queries(alice, django_assert_max_num_queries):
    handle(ApiRequest("POST", PODS, body=json.dumps(pod("web")).encode(), user=alice))
    _warm(alice)
    with django_assert_max_num_queries(3):  # object, audit insert (+ savepoint slack)
        assert handle(ApiRequest("GET", f"{PODS}/web", user=alice)).status == 200


def test_a_token_request_adds_one_query(alice, django_assert_max_num_queries):
    _warm(alice)
    headers = {"authorization": f"Bearer {alice.token}", "accept": TABLE_ACCEPT}
    # user, counter, list, audit; +2 for the savepoint the test's outer transaction adds
    with django_assert_max_num_queries(6):
        assert handle(ApiRequest("GET", PODS, headers=headers)).status == 200


def _create_deployment(alice, django_assert_max_num_queries, queries: int) -> None:
    _warm(alice)
    body = json.dumps(deployment("shop")).encode()
    with django_assert_max_num_queries(queries):
        response = handle(
            ApiRequest("POST", "/apis/apps/v1/namespaces/alice/deployments", body=body, user=alice)
        )
        assert response.status == 201


def test_a_create_costs_a_bounded_number_of_queries(alice, django_assert_max_num_queries):
    # A namespace with no quota pays one look-up for it.
    drop_quota("alice")
    _create_deployment(alice, django_assert_max_num_queries, 10)


def test_a_quota_adds_its_measure_and_its_status_to_a_create(alice, django_assert_max_num_queries):
    # The locked look-up, one count of the namespace's objects, and the quota's new
    # status.used (its row and its revision, under the create's own trip to the counter).
    _create_deployment(alice, django_assert_max_num_queries, 13)


def test_a_patch_costs_a_bounded_number_of_queries(alice, django_assert_max_num_queries):
    handle(ApiRequest("POST", PODS, body=json.dumps(pod("web")).encode(), user=alice))
    _warm(alice)
    with django_assert_max_num_queries(8):
        response = handle(
            ApiRequest(
                "PATCH",
                f"{PODS}/web",
                headers={"content-type": "application/merge-patch+json"},
                body=b'{"metadata": {"labels": {"a": "b"}}}',
                user=alice,
            )
        )
        assert response.status == 200


def _conditional_list(user, tag: str, namespace: str = "alice") -> ApiResponse:
    headers = {"if-none-match": f'W/"{tag}"'}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    return handle(ApiRequest("GET", path, {}, headers, user=user))


def test_a_conditional_list_is_304_until_its_namespace_changes(alice, bob, call):
    first = _conditional_list(alice, "")
    assert first.status == 200
    tag = first.headers["etag"].removeprefix('W/"').rstrip('"')

    call("POST", "/api/v1/namespaces/bob/configmaps", bob, {"metadata": {"name": "b"}})
    unchanged = _conditional_list(alice, tag)
    assert (unchanged.status, unchanged.body) == (304, None)
    assert unchanged.headers["etag"] == first.headers["etag"]

    call("POST", PODS, alice, pod("web"))  # another kind, same namespace
    changed = _conditional_list(alice, tag)
    assert changed.status == 200
    assert changed.headers["etag"] != first.headers["etag"]


def test_a_conditional_list_is_still_authorized_and_audited(alice, bob):
    before = AuditRecord.objects.count()
    response = _conditional_list(bob, "0", namespace="alice")
    assert response.status == 403
    assert AuditRecord.objects.count() == before + 1


def test_plain_lists_carry_no_etag_and_cost_no_extra_query(alice, call):
    response = call("GET", PODS, alice)
    assert response.status == 200
    assert "etag" not in response.headers


def test_namespace_revision_is_the_newest_change_in_that_namespace(alice, bob, call):
    from apiserver.registry import store

    opened = store.namespace_revision("alice")  # its RoleBinding, ResourceQuota, LimitRange
    created = call("POST", PODS, alice, pod("web")).body
    call("POST", "/api/v1/namespaces/bob/configmaps", bob, {"metadata": {"name": "b"}})
    quota = call("GET", "/api/v1/namespaces/alice/resourcequotas/warehouse-quota", alice).body
    # The quota's usage is the newest change, written with the Pod (bob's is not alice's).
    assert opened < int(created["metadata"]["resourceVersion"])
    assert store.namespace_revision("alice") == int(quota["metadata"]["resourceVersion"])
    assert (
        int(quota["metadata"]["resourceVersion"]) == int(created["metadata"]["resourceVersion"]) + 1
    )
    deleted = call("DELETE", f"{PODS}/web", alice).body
    assert store.namespace_revision("alice") > int(created["metadata"]["resourceVersion"])
    assert deleted["metadata"]["name"] == "web"


def test_a_busy_store_answers_503_with_retry_after_and_writes_nothing(alice, call, monkeypatch):
    before = store.current_revision()

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(store, "create", locked)
    response = call("POST", PODS, alice, pod("web"))

    assert response.status == 503
    assert response.body["reason"] == "ServiceUnavailable"
    assert response.headers["Retry-After"] == "1"
    assert store.current_revision() == before
    assert AuditRecord.objects.filter(path=PODS, status_code=503).exists()
    monkeypatch.undo()
    assert call("POST", PODS, alice, pod("web")).status == 201


def test_losing_an_audit_record_never_loses_the_answer(alice, call, monkeypatch):
    monkeypatch.setattr(audit, "_insert_sql", lambda: "INSERT INTO no_such_audit_table VALUES (1)")
    response = call("GET", PODS, alice)

    assert response.status == 200
    assert response.body["kind"] == "PodList"
