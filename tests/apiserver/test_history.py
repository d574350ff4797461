"""An object's history: every revision, who wrote it and through which audited request."""

from apiserver.registry import store
from tests.apiserver.conftest import configmap, pod

SHELF = "/api/v1/namespaces/alice/configmaps/shelf"
MERGE = "application/merge-patch+json"


def _history(api, user, path=SHELF, **query):
    return api.get(f"{path}/history", user, **query)


def test_each_revision_names_its_writer_and_the_request_that_wrote_it(api, alice, carol):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf", size="small"))
    api.patch(SHELF, alice, {"data": {"size": "large"}}, content_type=MERGE)
    api.patch(SHELF, carol, {"metadata": {"labels": {"checked": "yes"}}}, content_type=MERGE)

    answer = _history(api, alice)

    assert answer.status_code == 200
    body = answer.json_body
    assert body["kind"] == "ObjectHistory"
    assert body["apiVersion"] == "history.warehouse.dev/v1"
    current = api.get(SHELF, alice).json_body
    assert body["object"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "shelf",
        "namespace": "alice",
        "uid": current["metadata"]["uid"],
    }
    items = body["items"]
    assert [i["type"] for i in items] == ["ADDED", "MODIFIED", "MODIFIED"]
    assert [i["writer"]["username"] for i in items] == ["alice", "alice", "carol"]
    assert {i["writer"]["client"] for i in items} == {"kubectl"}
    assert [i["object"]["data"]["size"] for i in items] == ["small", "large", "large"]
    assert items[-1]["object"] == current
    versions = [int(i["resourceVersion"]) for i in items]
    assert versions == sorted(versions)
    assert versions[-1] == int(current["metadata"]["resourceVersion"])
    assert [i["request"]["verb"] for i in items] == ["create", "patch", "patch"]
    assert [i["request"]["code"] for i in items] == [201, 200, 200]
    assert items[2]["request"]["user"] == "carol"
    assert body["compacted"]["earlierRevisionsRemoved"] is False


def test_the_audit_event_of_a_write_names_the_revision_it_made(api, alice):
    made = api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf")).json_body
    events = api.get("/apis/audit.warehouse.dev/v1/namespaces/alice/auditevents", alice)
    create = [e for e in events.json_body["items"] if e["verb"] == "create"][-1]
    written = create["metadata"]["annotations"]["audit.warehouse.dev/resource-version"]
    assert written == made["metadata"]["resourceVersion"]
    [first] = _history(api, alice).json_body["items"]
    assert first["request"]["auditID"] == create["auditID"]


def test_a_refused_write_leaves_no_revision_and_names_none(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    again = api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    assert again.status_code == 409
    assert len(_history(api, alice).json_body["items"]) == 1
    events = api.get("/apis/audit.warehouse.dev/v1/namespaces/alice/auditevents", alice)
    refused = [e for e in events.json_body["items"] if e["responseStatus"]["code"] == 409][-1]
    assert "audit.warehouse.dev/resource-version" not in refused["metadata"]["annotations"]


def test_the_scheduler_is_named_as_the_writer_of_the_binding(api, alice, scheduler):
    api.post("/api/v1/namespaces/alice/pods", alice, pod("parcel"))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "parcel"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
    }
    bound = api.post("/api/v1/namespaces/alice/pods/parcel/binding", scheduler, binding)
    assert bound.status_code == 201

    items = _history(api, alice, "/api/v1/namespaces/alice/pods/parcel").json_body["items"]

    wrote_node = [i for i in items if i["object"]["spec"].get("nodeName") == "node-1"][0]
    assert wrote_node["writer"]["username"] == "system:scheduler"
    assert "nodeName" not in items[0]["object"]["spec"]


def test_a_deleted_object_keeps_its_history_and_a_new_one_of_that_name_starts_afresh(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    api.delete(SHELF, alice)
    gone = _history(api, alice).json_body["items"]
    assert [i["type"] for i in gone] == ["ADDED", "DELETED"]

    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    fresh = _history(api, alice).json_body
    assert [i["type"] for i in fresh["items"]] == ["ADDED"]
    assert fresh["object"]["uid"] != gone[0]["object"]["metadata"]["uid"]


def test_history_is_read_with_the_right_to_read_the_object(api, alice, bob):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    refused = _history(api, bob)
    assert refused.status_code == 403
    assert "configmaps/history" in refused.json_body["message"]
    missing = _history(api, alice, "/api/v1/namespaces/alice/configmaps/nothing")
    assert missing.status_code == 404
    assert missing.json_body["reason"] == "NotFound"


def test_history_is_read_only_and_its_limit_is_checked(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    for size in ("1", "2", "3"):
        api.patch(SHELF, alice, {"data": {"size": size}}, content_type=MERGE)
    newest_two = _history(api, alice, limit="2").json_body
    assert [i["object"]["data"]["size"] for i in newest_two["items"]] == ["2", "3"]
    assert newest_two["metadata"]["remainingItemCount"] == 2
    assert _history(api, alice, limit="none").status_code == 400
    assert _history(api, alice, limit="0").status_code == 400
    assert api.put(f"{SHELF}/history", alice, configmap("shelf")).status_code == 405
    assert api.delete(f"{SHELF}/history", alice).status_code == 405
    assert _history(api, alice, watch="true").status_code == 405
    audit = api.get("/apis/audit.warehouse.dev/v1/namespaces/alice/auditevents/1/history", alice)
    assert audit.status_code == 404


def test_what_compaction_removed_is_said_not_hidden(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("shelf"))
    for size in ("1", "2"):
        api.patch(SHELF, alice, {"data": {"size": size}}, content_type=MERGE)
    store.compact(keep=1)

    body = _history(api, alice).json_body

    assert [i["object"]["data"]["size"] for i in body["items"]] == ["2"]
    compacted = body["compacted"]
    assert compacted["earlierRevisionsRemoved"] is True
    assert compacted["oldestResourceVersion"] == body["items"][0]["resourceVersion"]
