"""PATCH in all four formats, and `kubectl apply` done twice changing nothing."""

import json

import pytest

from apiserver.endpoints import patching
from tests.apiserver.conftest import deployment, pod

DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@pytest.fixture
def shop(api, alice):
    body = deployment("shop")
    containers = body["spec"]["template"]["spec"]["containers"]
    containers[0]["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    containers.append({"name": "side", "image": "busybox:1.36"})
    return api.post(DEPLOYMENTS, alice, body).json_body


def _containers(obj):
    return obj["spec"]["template"]["spec"]["containers"]


def test_merge_patch_replaces_lists_and_null_deletes(api, alice, shop):
    patch = {
        "metadata": {"labels": {"tier": "web"}},
        "spec": {"replicas": 3, "revisionHistoryLimit": None},
    }
    response = api.patch(f"{DEPLOYMENTS}/shop", alice, patch, MERGE)
    assert response.status_code == 200
    body = response.json_body
    assert body["metadata"]["labels"] == {"tier": "web"}
    assert body["spec"]["replicas"] == 3
    # revisionHistoryLimit was removed, then defaulted again by admission.
    assert body["spec"]["revisionHistoryLimit"] == 10


def test_json_patch_operations(api, alice, shop):
    operations = [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}},
        {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/c"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ]
    response = api.patch(f"{DEPLOYMENTS}/shop", alice, operations, JSON_PATCH)
    assert response.status_code == 200
    body = response.json_body
    assert body["spec"]["replicas"] == 4
    assert body["metadata"]["labels"] == {"a": "b", "c": "b"}
    assert [c["name"] for c in _containers(body)] == ["web"]


def test_failed_json_patch_test_changes_nothing(api, alice, shop):
    operations = [
        {"op": "replace", "path": "/spec/replicas", "value": 7},
        {"op": "test", "path": "/spec/replicas", "value": 99},
    ]
    response = api.patch(f"{DEPLOYMENTS}/shop", alice, operations, JSON_PATCH)
    assert response.status_code == 422
    assert api.get(f"{DEPLOYMENTS}/shop", alice).json_body["spec"]["replicas"] == 2


def test_strategic_merge_patch_merges_containers_by_name(api, alice, shop):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.28", "env": [{"name": "B", "value": "3"}]}
                    ]
                }
            }
        }
    }
    body = api.patch(f"{DEPLOYMENTS}/shop", alice, patch, STRATEGIC).json_body
    web, side = _containers(body)
    assert (web["name"], web["image"]) == ("web", "nginx:1.28")
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    assert side["image"] == "busybox:1.36"


def test_strategic_merge_patch_delete_and_replace_directives(api, alice, shop):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "side", "$patch": "delete"},
                        {
                            "name": "web",
                            "env": [{"$patch": "replace"}, {"name": "C", "value": "9"}],
                        },
                    ]
                }
            }
        }
    }
    body = api.patch(f"{DEPLOYMENTS}/shop", alice, patch, STRATEGIC).json_body
    assert [c["name"] for c in _containers(body)] == ["web"]
    assert _containers(body)[0]["env"] == [{"name": "C", "value": "9"}]


def test_strategic_merge_patch_ports_by_number_and_set_element_order(api, alice):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shop"},
        "spec": {"ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]},
    }
    path = "/api/v1/namespaces/alice/services"
    api.post(path, alice, service)
    patch = {
        "spec": {
            "$setElementOrder/ports": [{"port": 443}, {"port": 80}],
            "ports": [{"port": 443, "targetPort": 8443}],
        }
    }
    body = api.patch(f"{path}/shop", alice, patch, STRATEGIC).json_body
    assert [(p["port"], p["targetPort"]) for p in body["spec"]["ports"]] == [(443, 8443), (80, 80)]


def _apply_patch(current: dict, applied: dict) -> dict:
    """What kubectl apply sends: the new config plus its last-applied annotation."""
    patch = json.loads(json.dumps(applied))
    patch.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = json.dumps(
        applied, sort_keys=True
    )
    return patch


def test_apply_twice_is_a_no_op_the_second_time(api, alice, shop):
    applied = deployment("shop", replicas=3)
    first = api.patch(f"{DEPLOYMENTS}/shop", alice, _apply_patch(shop, applied), STRATEGIC)
    assert first.status_code == 200
    version = first.json_body["metadata"]["resourceVersion"]
    assert first.json_body["metadata"]["annotations"][LAST_APPLIED]
    second = api.patch(f"{DEPLOYMENTS}/shop", alice, _apply_patch(shop, applied), STRATEGIC)
    assert second.status_code == 200
    assert second.json_body["metadata"]["resourceVersion"] == version
    assert second.json_body == first.json_body


def test_server_side_apply_creates_then_merges(api, alice):
    path = f"{DEPLOYMENTS}/web"
    body = deployment("web", replicas=1)
    created = api.patch(path, alice, body, APPLY, fieldManager="kubectl")
    assert created.status_code == 201
    body["spec"]["replicas"] = 3
    updated = api.patch(path, alice, body, APPLY, fieldManager="kubectl", force="true")
    assert updated.status_code == 200
    assert updated.json_body["spec"]["replicas"] == 3


def test_server_side_apply_needs_a_field_manager(api, alice):
    response = api.patch(f"{DEPLOYMENTS}/web", alice, deployment("web"), APPLY)
    assert response.status_code == 422
    assert response.json_body["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )


def test_patch_with_an_unknown_content_type_is_415(api, alice, shop):
    response = api.patch(f"{DEPLOYMENTS}/shop", alice, {"spec": {}}, "text/plain")
    assert response.status_code == 415
    assert response.json_body["reason"] == "UnsupportedMediaType"


def test_patch_that_breaks_validation_is_422_and_stores_nothing(api, alice, shop):
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": None}]}}}}
    response = api.patch(f"{DEPLOYMENTS}/shop", alice, patch, STRATEGIC)
    assert response.status_code == 422
    stored = api.get(f"{DEPLOYMENTS}/shop", alice).json_body
    assert stored["metadata"]["resourceVersion"] == shop["metadata"]["resourceVersion"]


def test_patch_of_a_missing_object_is_404(api, alice):
    response = api.patch("/api/v1/namespaces/alice/pods/ghost", alice, {"a": 1}, MERGE)
    assert response.status_code == 404


def test_patch_with_a_stale_resource_version_conflicts(api, alice):
    created = api.post("/api/v1/namespaces/alice/pods", alice, pod("web")).json_body
    api.patch(
        "/api/v1/namespaces/alice/pods/web", alice, {"metadata": {"labels": {"a": "b"}}}, MERGE
    )
    stale = {
        "metadata": {
            "resourceVersion": created["metadata"]["resourceVersion"],
            "labels": {"a": "c"},
        }
    }
    response = api.patch("/api/v1/namespaces/alice/pods/web", alice, stale, MERGE)
    assert response.status_code == 409


def test_merge_patch_rfc7386_examples():
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    patch = {"a": "z", "c": {"f": None}}
    assert patching.merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}}
    assert patching.merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}
    assert patching.merge_patch({"a": "b"}, ["c"]) == ["c"]


def test_json_patch_move_and_errors():
    doc = {"a": {"b": 1}, "list": [1, 2]}
    moved = patching.json_patch(doc, [{"op": "move", "from": "/a/b", "path": "/c"}])
    assert moved == {"a": {}, "list": [1, 2], "c": 1}
    appended = patching.json_patch(doc, [{"op": "add", "path": "/list/-", "value": 3}])
    assert appended["list"] == [1, 2, 3]
    assert doc == {"a": {"b": 1}, "list": [1, 2]}
    with pytest.raises(Exception) as missing:
        patching.json_patch(doc, [{"op": "remove", "path": "/nope"}])
    assert missing.value.code == 422
    with pytest.raises(Exception) as malformed:
        patching.json_patch(doc, [{"op": "jump", "path": "/a"}])
    assert malformed.value.code == 400


def test_strategic_merge_of_finalizers_is_a_set_union():
    merged = patching.strategic_merge_patch(
        {"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": ["b", "a"]}}
    )
    assert merged == {"metadata": {"finalizers": ["a", "b"]}}
    removed = patching.strategic_merge_patch(
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
    )
    assert removed == {"metadata": {"finalizers": ["b"]}}
