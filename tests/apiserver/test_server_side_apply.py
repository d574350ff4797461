"""Server-side apply over HTTP: owners, conflicts, forcing, and what writes record."""

from tests.apiserver.conftest import configmap, deployment

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
CONFIGMAPS = "/api/v1/namespaces/alice/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"


def _owners(obj):
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def test_two_appliers_of_a_configmap_conflict_and_force_moves_ownership(api, alice):
    path = f"{CONFIGMAPS}/prices"
    assert (
        api.patch(path, alice, configmap("prices", tea="1"), APPLY, fieldManager="a").status_code
        == 201
    )
    refused = api.patch(path, alice, configmap("prices", tea="2"), APPLY, fieldManager="b")
    assert refused.status_code == 409
    assert refused.json_body["reason"] == "Conflict"
    assert refused.json_body["message"] == (
        'Apply failed with 1 conflict: conflict with "a": .data.tea'
    )
    assert refused.json_body["details"]["causes"] == [
        {"type": "FieldManagerConflict", "message": 'conflict with "a"', "field": ".data.tea"}
    ]
    forced = api.patch(
        path, alice, configmap("prices", tea="2"), APPLY, fieldManager="b", force="true"
    )
    assert forced.status_code == 200
    assert forced.json_body["data"] == {"tea": "2"}
    owners = _owners(forced.json_body)
    assert set(owners) == {("b", "Apply")}
    assert owners["b", "Apply"]["fieldsV1"] == {"f:data": {"f:tea": {}}}
    assert owners["b", "Apply"]["fieldsType"] == "FieldsV1"
    assert owners["b", "Apply"]["apiVersion"] == "v1"


def test_the_same_value_is_shared_and_a_dropped_field_goes_only_when_nobody_holds_it(api, alice):
    path = f"{CONFIGMAPS}/shelf"
    api.patch(path, alice, configmap("shelf", tea="1", jam="2"), APPLY, fieldManager="a")
    shared = api.patch(path, alice, configmap("shelf", tea="1"), APPLY, fieldManager="b")
    assert shared.status_code == 200
    dropped = api.patch(path, alice, configmap("shelf", milk="3"), APPLY, fieldManager="a")
    assert dropped.status_code == 200
    assert dropped.json_body["data"] == {"tea": "1", "milk": "3"}
    owners = _owners(dropped.json_body)
    assert owners["a", "Apply"]["fieldsV1"] == {"f:data": {"f:milk": {}}}
    assert owners["b", "Apply"]["fieldsV1"] == {"f:data": {"f:tea": {}}}


def test_a_deployment_conflict_names_the_updater_and_its_version(api, alice):
    path = f"{DEPLOYMENTS}/web"
    created = api.post(DEPLOYMENTS, alice, deployment("web", replicas=2), fieldManager="deployer")
    owners = _owners(created.json_body)
    assert list(owners) == [("deployer", "Update")]
    fields = owners["deployer", "Update"]["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container["."] == {} and container["f:image"] == {}
    refused = api.patch(path, alice, deployment("web", replicas=5), APPLY, fieldManager="ops")
    assert refused.status_code == 409
    assert refused.json_body["message"] == (
        'Apply failed with 1 conflict: conflict with "deployer" using apps/v1: .spec.replicas'
    )


def test_an_update_after_apply_takes_the_field_and_user_agent_names_the_writer(api, alice):
    path = f"{DEPLOYMENTS}/shop"
    api.patch(path, alice, deployment("shop", replicas=2), APPLY, fieldManager="ops")
    patched = api.patch(path, alice, {"spec": {"replicas": 4}}, MERGE)
    owners = _owners(patched.json_body)
    assert owners["kubectl", "Update"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners["ops", "Apply"]["fieldsV1"]["f:spec"]
    again = api.patch(path, alice, deployment("shop", replicas=2), APPLY, fieldManager="ops")
    assert again.status_code == 409
    assert 'conflict with "kubectl" using apps/v1: .spec.replicas' in again.json_body["message"]


def test_status_writes_record_the_subresource_and_empty_entry_clears(api, alice, scheduler):
    path = f"{DEPLOYMENTS}/store"
    created = api.post(DEPLOYMENTS, alice, deployment("store"), fieldManager="maker").json_body
    created["status"] = {"observedGeneration": 1, "replicas": 0}
    status = api.put(f"{path}/status", scheduler, created, fieldManager="counter")
    assert status.status_code == 200
    entry = _owners(status.json_body)["counter", "Update"]
    assert entry["subresource"] == "status"
    assert set(entry["fieldsV1"]) == {"f:status"}
    cleared = api.patch(path, alice, {"metadata": {"managedFields": [{}]}}, MERGE)
    assert "managedFields" not in cleared.json_body["metadata"]


def test_force_belongs_to_apply_only(api, alice):
    api.post(CONFIGMAPS, alice, configmap("x", a="1"))
    response = api.patch(f"{CONFIGMAPS}/x", alice, {"data": {}}, MERGE, force="true")
    assert response.status_code == 422
    assert response.json_body["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
        "may not be specified for non-apply patch"
    )


def test_an_apply_to_status_owns_only_the_status(api, alice, scheduler):
    path = f"{DEPLOYMENTS}/depot"
    api.post(DEPLOYMENTS, alice, deployment("depot"), fieldManager="maker")
    config = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "depot"},
        "status": {"observedGeneration": 1},
    }
    applied = api.patch(f"{path}/status", scheduler, config, APPLY, fieldManager="counter")
    assert applied.status_code == 200
    assert applied.json_body["status"]["observedGeneration"] == 1
    entry = _owners(applied.json_body)["counter", "Apply"]
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:observedGeneration": {}}}
    assert ("maker", "Update") in _owners(applied.json_body)
