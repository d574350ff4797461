"""AuditEvents: the request log served through the front door, read-only, under RBAC."""

import json

from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from apiserver.endpoints import watch
from apiserver.models import AuditRecord
from apiserver.registry import kinds
from tests.apiserver.conftest import TABLE_ACCEPT, configmap
from tests.apiserver.test_discovery import AGGREGATED_ACCEPT

GROUP = "/apis/audit.warehouse.dev/v1"
ALL = f"{GROUP}/auditevents"


def _in(namespace: str) -> str:
    return f"{GROUP}/namespaces/{namespace}/auditevents"


def _kind():
    return kinds.lookup("audit.warehouse.dev", "v1", "auditevents")


async def _next(stream) -> dict:
    return json.loads(await anext(stream))


def test_discovery_lists_the_audit_log_as_a_read_only_resource(api, alice):
    body = api.get("/apis", alice, accept=AGGREGATED_ACCEPT).json_body
    group = next(i for i in body["items"] if i["metadata"]["name"] == "audit.warehouse.dev")
    [resource] = group["versions"][0]["resources"]
    assert resource["resource"] == "auditevents"
    assert resource["responseKind"]["kind"] == "AuditEvent"
    assert resource["scope"] == "Namespaced"
    assert resource["verbs"] == ["get", "list", "watch"]
    listed = api.get(GROUP, alice).json_body
    assert [r["name"] for r in listed["resources"]] == ["auditevents"]


def test_a_learner_lists_the_requests_into_her_namespace_shaped_like_audit_events(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    body = api.get(_in("alice"), alice).json_body
    assert body["kind"] == "AuditEventList"
    assert body["apiVersion"] == "audit.warehouse.dev/v1"
    created = [e for e in body["items"] if e["verb"] == "create"][-1]
    assert created["user"] == {"username": "alice"}
    assert created["requestURI"] == "/api/v1/namespaces/alice/configmaps"
    assert created["objectRef"] == {"resource": "configmaps", "namespace": "alice"}
    assert created["responseStatus"] == {"code": 201}
    assert created["metadata"]["namespace"] == "alice"
    assert created["metadata"]["name"] == created["auditID"]
    assert created["metadata"]["resourceVersion"] == created["auditID"]
    assert created["metadata"]["annotations"]["audit.warehouse.dev/client"] == "kubectl"
    assert {e["metadata"]["namespace"] for e in body["items"]} == {"alice"}
    assert int(body["metadata"]["resourceVersion"]) >= int(created["auditID"])
    one = api.get(f"{_in('alice')}/{created['auditID']}", alice)
    assert one.status_code == 200
    assert one.json_body == created


def test_another_learners_namespace_and_the_whole_log_are_forbidden(api, alice, bob):
    assert api.get(_in("bob"), alice).status_code == 403
    assert api.get(ALL, alice).status_code == 403
    assert api.get(_in("bob"), alice, watch="true").status_code == 403


def test_an_instructor_sees_every_namespace(api, alice, bob, carol):
    api.get("/api/v1/namespaces/alice/pods", alice)
    api.get("/api/v1/namespaces/bob/pods", bob)
    body = api.get(ALL, carol).json_body
    users = {e["user"].get("username") for e in body["items"]}
    assert {"alice", "bob"} <= users


def test_writes_are_refused_with_method_not_allowed(api, alice, carol):
    event = {"apiVersion": "audit.warehouse.dev/v1", "kind": "AuditEvent"}
    event["metadata"] = {"name": "1"}
    for response in (
        api.post(_in("alice"), carol, event),
        api.put(f"{_in('alice')}/1", carol, event),
        api.delete(f"{_in('alice')}/1", carol),
        api.delete(_in("alice"), carol),
    ):
        assert response.status_code == 405
        assert response.json_body["reason"] == "MethodNotAllowed"


def test_kubectl_get_reads_a_table_and_selects_by_verb(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    table = api.get(_in("alice"), alice, accept=TABLE_ACCEPT).json_body
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:6] == ["Name", "Verb", "User", "Client", "Target", "Code"]
    picked = api.get(_in("alice"), alice, fieldSelector="verb=create").json_body["items"]
    assert picked and {e["verb"] for e in picked} == {"create"}
    assert (
        api.get(_in("alice"), alice, limit="1").json_body["items"][0]
        == (
            api.get(_in("alice"), alice).json_body["items"][-2]  # the list before this one
        )
    )


def test_a_watch_sees_each_new_request_and_resumes_without_gaps(api, alice):
    start = api.get(_in("alice"), alice).json_body["metadata"]["resourceVersion"]

    @async_to_sync
    async def run():
        query = {"resourceVersion": start, "timeoutSeconds": "10"}
        stream = watch.events(_kind(), "alice", query)
        seen = [await _next(stream)]  # the list that gave `start` came after it
        await sync_to_async(api.get)("/api/v1/namespaces/alice/pods", alice)
        seen.append(await _next(stream))
        await sync_to_async(api.post)(
            "/api/v1/namespaces/alice/configmaps", alice, configmap("shelf")
        )
        seen.append(await _next(stream))
        await stream.aclose()
        query = {"resourceVersion": seen[0]["object"]["auditID"], "timeoutSeconds": "5"}
        resumed = watch.events(_kind(), "alice", query)
        again = await _next(resumed)
        await resumed.aclose()
        return seen, again

    seen, again = run()
    assert [(e["type"], e["object"]["requestURI"]) for e in seen] == [
        ("ADDED", _in("alice")),
        ("ADDED", "/api/v1/namespaces/alice/pods"),
        ("ADDED", "/api/v1/namespaces/alice/configmaps"),
    ]
    assert [e["object"]["verb"] for e in seen] == ["list", "list", "create"]
    ids = [int(e["object"]["auditID"]) for e in seen]
    assert ids == sorted(set(ids))
    assert again == seen[1]


def test_a_watch_over_http_is_itself_audited_once_and_sends_no_rows_of_its_own(api, alice):
    start = api.get(_in("alice"), alice).json_body["metadata"]["resourceVersion"]

    @async_to_sync
    async def run():
        response = await AsyncClient().get(
            _in("alice"),
            {"watch": "true", "resourceVersion": start, "timeoutSeconds": "1"},
            headers={"authorization": f"Bearer {alice.token}"},
        )
        return response, b"".join([chunk async for chunk in response.streaming_content])

    response, content = run()
    assert response.status_code == 200
    events = [json.loads(line) for line in content.splitlines()]
    # The list that gave `start`, then the watch request itself: nothing per event sent.
    assert [e["object"]["verb"] for e in events] == ["list", "watch"]
    after = api.get(_in("alice"), alice, fieldSelector="verb=watch").json_body["items"]
    assert len(after) == 1


def test_a_pruned_resource_version_is_410_gone(api, alice):
    api.get("/api/v1/namespaces/alice/pods", alice)
    newest = int(api.get(_in("alice"), alice).json_body["metadata"]["resourceVersion"])
    AuditRecord.objects.filter(id__lt=newest).delete()  # what housekeeping's prune does

    @async_to_sync
    async def run():
        stream = watch.events(_kind(), "alice", {"resourceVersion": "1", "timeoutSeconds": "5"})
        event = await _next(stream)
        await stream.aclose()
        return event

    event = run()
    assert newest > 2
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410
