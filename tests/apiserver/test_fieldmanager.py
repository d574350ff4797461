"""The field-set encoding and the ownership rules, without a server."""

from datetime import UTC, datetime

import pytest

from apiserver import errors
from apiserver.endpoints import fieldmanager

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def _deployment(replicas=2, image="nginx:1.27", labels=None):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels or {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": image, "ports": [{"containerPort": 80}]}
                    ]
                }
            },
        },
    }


def test_an_applied_deployment_encodes_as_kubernetes_fieldsv1():
    fields = fieldmanager.fields_of(_deployment())
    container = 'k:{"name":"web"}'
    assert fieldmanager.encode(fields) == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:spec": {
                    "f:containers": {
                        container: {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":80,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                }
                            },
                        }
                    }
                }
            },
        },
    }
    assert fieldmanager.decode(fieldmanager.encode(fields)) == fields


def test_set_lists_list_values_and_other_lists_are_atomic():
    obj = {
        "metadata": {"finalizers": ["a/b"]},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["x", "y"]}]}}},
    }
    encoded = fieldmanager.encode(fieldmanager.fields_of(obj))
    assert encoded["f:metadata"] == {"f:finalizers": {'v:"a/b"': {}}}
    item = encoded["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert item["f:args"] == {}


def test_custom_resources_lists_are_atomic_even_with_a_familiar_name():
    fields = fieldmanager.fields_of({"spec": {"containers": [{"name": "a"}]}}, custom=True)
    assert fields == {("f:spec", "f:containers")}


def test_a_new_map_or_list_item_is_owned_itself_by_an_update():
    old = {"metadata": {"name": "a"}, "data": {"k": "1"}}
    new = {"metadata": {"name": "a", "labels": {"x": "y"}}, "data": {"k": "2"}}
    comparison = fieldmanager.compare(old, new)
    assert comparison.added == {("f:metadata", "f:labels"), ("f:metadata", "f:labels", "f:x")}
    assert comparison.modified == {("f:data", "f:k")}
    assert fieldmanager.encode(comparison.changed())["f:metadata"] == {
        "f:labels": {".": {}, "f:x": {}}
    }
    assert fieldmanager.compare(new, old).removed == comparison.added


def test_describe_prints_paths_as_kube_apiserver():
    path = ("f:spec", "f:containers", 'k:{"name":"web"}', "f:image")
    assert fieldmanager.describe(path) == '.spec.containers[name="web"].image'
    assert fieldmanager.describe(("f:metadata", "f:finalizers", 'v:"a"')) == (
        '.metadata.finalizers[="a"]'
    )


def _apply(live, config, manager, force=False):
    return fieldmanager.apply(live, config, manager, "apps/v1", "", True, False, force, NOW)


def _owners(obj):
    return {e["manager"]: e for e in obj["metadata"]["managedFields"]}


def test_two_appliers_conflict_then_force_moves_the_field():
    first = _apply({"metadata": {}}, _deployment(replicas=2), "alpha")
    with pytest.raises(errors.ApiError) as raised:
        _apply(first, _deployment(replicas=5), "beta")
    assert raised.value.code == 409
    assert raised.value.message == (
        'Apply failed with 1 conflict: conflict with "alpha": .spec.replicas'
    )
    assert raised.value.details["causes"] == [
        {
            "type": "FieldManagerConflict",
            "message": 'conflict with "alpha"',
            "field": ".spec.replicas",
        }
    ]
    forced = _apply(first, _deployment(replicas=5), "beta", force=True)
    assert forced["spec"]["replicas"] == 5
    owners = _owners(forced)
    assert "f:replicas" not in owners["alpha"]["fieldsV1"]["f:spec"]
    assert "f:replicas" in owners["beta"]["fieldsV1"]["f:spec"]


def test_an_applier_dropping_a_field_removes_it_unless_shared():
    first = _apply({"metadata": {}}, _deployment(labels={"app": "web", "tier": "a"}), "alpha")
    shared = _apply(first, _deployment(labels={"app": "web"}), "beta")
    dropped = _deployment(labels={"tier": "a"})
    result = _apply(shared, dropped, "alpha")
    assert result["metadata"]["labels"] == {"app": "web", "tier": "a"}
    again = _apply(result, {"metadata": {"name": "web"}, "spec": {"replicas": 2}}, "alpha")
    assert again["metadata"]["labels"] == {"app": "web"}


def test_an_update_takes_fields_silently_and_an_owner_of_nothing_leaves():
    applied = _apply({"metadata": {}}, {"metadata": {"name": "a"}, "spec": {"replicas": 1}}, "a")
    desired = {**applied, "spec": {"replicas": 4}}
    desired["metadata"] = dict(applied["metadata"])
    fieldmanager.record_update(applied, desired, "kubectl-edit", "apps/v1", "", True, False, NOW)
    entries = desired["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [("kubectl-edit", "Update")]
    assert entries[0]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert entries[0]["time"] == "2026-11-30T12:00:00Z"


def test_sending_one_empty_entry_clears_managed_fields():
    applied = _apply({"metadata": {}}, {"metadata": {"name": "a"}, "spec": {"replicas": 1}}, "a")
    desired = {**applied, "metadata": {**applied["metadata"], "managedFields": [{}]}}
    fieldmanager.record_update(applied, desired, "kubectl", "apps/v1", "", True, False, NOW)
    assert "managedFields" not in desired["metadata"]


def test_an_applied_configuration_may_not_carry_managed_fields():
    with pytest.raises(errors.ApiError) as raised:
        _apply({"metadata": {}}, {"metadata": {"name": "a", "managedFields": []}}, "a")
    assert raised.value.code == 400


def test_the_one_pass_create_records_what_a_general_update_from_nothing_would():
    for obj in (_deployment(), {"metadata": {"name": "c", "finalizers": ["x/y"]}, "data": {}}):
        created = {**obj, "metadata": dict(obj["metadata"])}
        fieldmanager.record_create(created, "kubectl", "apps/v1", True, False, NOW)
        updated = {**obj, "metadata": dict(obj["metadata"])}
        fieldmanager.record_update(None, updated, "kubectl", "apps/v1", "", True, False, NOW)
        assert created["metadata"]["managedFields"] == updated["metadata"]["managedFields"]
    labels = created["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]
    assert labels == {"f:finalizers": {".": {}, 'v:"x/y"': {}}}


def test_fieldsv1_lists_the_member_mark_first_then_elements_in_order():
    fields = {("f:b",), ("f:a", "f:z"), ("f:a", "f:y"), ("f:a",)}
    encoded = fieldmanager.encode(fields)
    assert list(encoded) == ["f:a", "f:b"]
    assert list(encoded["f:a"]) == [".", "f:y", "f:z"]


def test_an_empty_list_of_owners_keeps_the_stored_ones():
    applied = _apply({"metadata": {}}, {"metadata": {"name": "a"}, "spec": {"replicas": 1}}, "a")
    desired = {**applied, "metadata": {**applied["metadata"], "managedFields": []}}
    fieldmanager.record_update(applied, desired, "kubectl", "apps/v1", "", True, False, NOW)
    assert desired["metadata"]["managedFields"] == applied["metadata"]["managedFields"]
