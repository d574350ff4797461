"""Learners order the third-party product: served like a built-in, checked by its schema."""

import json

import pytest
from asgiref.sync import async_to_sync

from apiserver.endpoints import watch
from apiserver.registry import crds, kinds
from tests.apiserver.conftest import TABLE_ACCEPT
from tests.crds.conftest import CRDS, WIDGET_CRD, WIDGETS, widget, widget_crd

MERGE = "application/merge-patch+json"


def _causes(response) -> dict[str, str]:
    return {c["field"]: c["message"] for c in response.body["details"]["causes"]}


def test_learner_orders_a_widget_in_her_namespace(registered, alice, call):
    response = call("POST", WIDGETS, alice, widget("first", size=4))

    assert response.status == 201, response.body
    body = response.body
    assert body["apiVersion"] == "shop.example.com/v1"
    assert body["metadata"]["namespace"] == "alice"
    assert body["metadata"]["generation"] == 1
    assert body["spec"] == {"size": 4, "color": "red"}  # the schema's default is filled in


def test_unknown_fields_are_pruned_with_a_warning(registered, alice, call):
    response = call("POST", WIDGETS, alice, widget("pruned", gift=True, extras={"note": "hi"}))

    assert response.status == 201
    assert "gift" not in response.body["spec"]
    assert response.body["spec"]["extras"] == {"note": "hi"}  # preserve-unknown-fields keeps it
    assert 'unknown field \\"spec.gift\\"' in response.headers["warning"]


def test_strict_field_validation_refuses_unknown_fields(registered, alice, call):
    response = call("POST", WIDGETS, alice, widget("strict", gift=True), fieldValidation="Strict")

    assert response.status == 400
    assert 'unknown field "spec.gift"' in response.body["message"]


def test_invalid_widget_is_refused_with_every_field_cause(registered, alice, call):
    body = widget("bad", size="large", color="green", code="ABC", parts=[{}])
    response = call("POST", WIDGETS, alice, body)

    assert response.status == 422
    assert response.body["reason"] == "Invalid"
    assert response.body["details"]["kind"] == "Widget"
    assert response.body["details"]["group"] == "shop.example.com"
    causes = _causes(response)
    assert causes["spec.size"] == (
        'Invalid value: "string": spec.size in body must be of type integer: "string"'
    )
    assert causes["spec.color"] == 'Unsupported value: "green": supported values: "red", "blue"'
    assert "should match '^[a-z]+$'" in causes["spec.code"]
    assert causes["spec.parts[0].name"] == "Required value"


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (0, "spec.size in body should be greater than or equal to 1"),
        (11, "spec.size in body should be less than or equal to 10"),
        (None, "Required value"),
    ],
)
def test_size_must_be_within_bounds(registered, alice, call, size, message):
    body = widget("sized")
    if size is None:
        del body["spec"]["size"]
    else:
        body["spec"]["size"] = size

    response = call("POST", WIDGETS, alice, body)

    assert response.status == 422
    assert message in _causes(response)["spec.size"]


def test_learner_cannot_order_in_someone_elses_namespace(registered, bob, call):
    response = call("POST", WIDGETS, bob, widget("not-mine"))

    assert response.status == 403
    assert (
        'cannot create resource "widgets" in API group "shop.example.com"'
        in (response.body["message"])
    )


def test_list_and_get_serve_the_widgets(registered, alice, call):
    for name in ("a", "b"):
        call("POST", WIDGETS, alice, widget(name))

    listed = call("GET", WIDGETS, alice).body
    one = call("GET", f"{WIDGETS}/b", alice)

    assert listed["kind"] == "WidgetList"
    assert [w["metadata"]["name"] for w in listed["items"]] == ["a", "b"]
    assert one.status == 200
    assert one.body["kind"] == "Widget"
    assert call("GET", f"{WIDGETS}/c", alice).status == 404


def test_table_shows_the_sellers_printer_columns(registered, alice, api):
    api.post(WIDGETS, alice, widget("tabled", size=7, color="blue"))

    table = api.get(WIDGETS, alice, accept=TABLE_ACCEPT).json_body

    assert table["kind"] == "Table"
    columns = [(c["name"], c["type"]) for c in table["columnDefinitions"]]
    assert columns == [
        ("Name", "string"),
        ("Size", "integer"),
        ("Color", "string"),
        ("Age", "date"),
    ]
    name, size, color, age = table["rows"][0]["cells"]
    assert (name, size, color) == ("tabled", 7, "blue")
    assert age.endswith("s")


def test_table_without_printer_columns_shows_name_and_age(carol, alice, call, api):
    crd = widget_crd()
    del crd["spec"]["versions"][0]["additionalPrinterColumns"]
    call("POST", CRDS, carol, crd)
    api.post(WIDGETS, alice, widget("plain"))

    table = api.get(WIDGETS, alice, accept=TABLE_ACCEPT).json_body

    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"][0] == "plain"


def test_merge_and_json_patches_work_and_are_validated(registered, alice, api):
    api.post(WIDGETS, alice, widget("patched"))

    merged = api.patch(f"{WIDGETS}/patched", alice, {"spec": {"size": 5}}, MERGE)
    jsoned = api.patch(
        f"{WIDGETS}/patched",
        alice,
        [{"op": "replace", "path": "/spec/color", "value": "blue"}],
        "application/json-patch+json",
    )
    invalid = api.patch(f"{WIDGETS}/patched", alice, {"spec": {"size": 99}}, MERGE)

    assert merged.status_code == 200
    assert merged.json_body["metadata"]["generation"] == 2
    assert jsoned.json_body["spec"] == {"size": 5, "color": "blue"}
    assert invalid.status_code == 422


def test_strategic_merge_patch_is_refused_like_kubernetes_does(registered, alice, api):
    api.post(WIDGETS, alice, widget("smp"))

    response = api.patch(
        f"{WIDGETS}/smp", alice, {"spec": {"size": 2}}, "application/strategic-merge-patch+json"
    )

    assert response.status_code == 415


def test_status_is_written_only_through_its_subresource(registered, alice, api):
    created = api.post(WIDGETS, alice, {**widget("tracked"), "status": {"phase": "Made"}})
    assert "status" not in created.json_body

    patched = api.patch(f"{WIDGETS}/tracked/status", alice, {"status": {"phase": "Shipped"}}, MERGE)
    ignored = api.patch(f"{WIDGETS}/tracked", alice, {"status": {"phase": "Lost"}}, MERGE)

    assert patched.status_code == 200
    assert patched.json_body["status"] == {"phase": "Shipped"}
    assert ignored.json_body["status"] == {"phase": "Shipped"}


def test_watch_streams_widget_changes_and_the_sellers_departure(
    registered, carol, alice, call, api
):
    kind = kinds.lookup("shop.example.com", "v1", "widgets")
    start = call("GET", WIDGETS, alice).body["metadata"]["resourceVersion"]
    call("POST", WIDGETS, alice, widget("watched"))
    api.patch(f"{WIDGETS}/watched", alice, {"spec": {"size": 2}}, MERGE)
    call("DELETE", WIDGET_CRD, carol)

    @async_to_sync
    async def collect() -> list[dict]:
        stream = watch.events(kind, "alice", {"resourceVersion": start, "timeoutSeconds": "1"})
        found = []
        async for line in stream:
            event = json.loads(line)
            found.append(event)
            if event["type"] == "DELETED":
                break
        await stream.aclose()
        return found

    events = collect()
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[-1]["object"]["metadata"]["name"] == "watched"


def test_cluster_scoped_products_are_read_only_for_learners(carol, alice, call):
    crd = widget_crd(scope="Cluster")
    call("POST", CRDS, carol, crd)
    path = "/apis/shop.example.com/v1/widgets"

    assert call("POST", path, alice, widget("shared")).status == 403
    assert call("POST", path, carol, widget("shared")).status == 201
    assert [w["metadata"]["name"] for w in call("GET", path, alice).body["items"]] == ["shared"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.size", 3),
        ("{.spec.size}", 3),
        ('.status.conditions[?(@.type=="Ready")].status', "True"),
        (".status.conditions[0].type", "Placed"),
        (".status.conditions[-1].type", "Ready"),
        (".metadata.labels.app\\.kubernetes\\.io/name", "shop"),
        (".metadata.labels['app.kubernetes.io/name']", "shop"),
        (".spec.missing", None),
    ],
)
def test_simple_json_paths_find_values(path, expected):
    obj = {
        "metadata": {"labels": {"app.kubernetes.io/name": "shop"}},
        "spec": {"size": 3},
        "status": {
            "conditions": [
                {"type": "Placed", "status": "True"},
                {"type": "Ready", "status": "True"},
            ]
        },
    }

    assert crds.path_value(obj, path) == expected


@pytest.mark.parametrize("path", ["spec.size", ".spec[", "", ".spec..size["])
def test_paths_that_are_not_simple_are_refused(path):
    assert crds.parse_path(path) is None
