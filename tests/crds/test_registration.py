"""A third-party seller registers: the CRD is checked, accepted, and the catalog follows it."""

import time

import pytest
from django.urls import reverse

from apiserver.registry import crds, kinds
from catalog.models import ApiGroup, KindField, ResourceKind
from tests.apiserver.conftest import TABLE_ACCEPT
from tests.crds.conftest import CRDS, WIDGET_CRD, WIDGETS, widget, widget_crd

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _causes(response) -> dict[str, str]:
    return {c["field"]: c["message"] for c in response.body["details"]["causes"]}


def test_instructor_registers_a_seller_and_the_crd_is_established(registered):
    status = registered["status"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["NamesAccepted"]["status"] == "True"
    assert conditions["Established"]["status"] == "True"
    assert conditions["Established"]["reason"] == "InitialNamesAccepted"
    assert status["acceptedNames"]["kind"] == "Widget"
    assert status["acceptedNames"]["listKind"] == "WidgetList"
    assert status["storedVersions"] == ["v1"]
    assert registered["spec"]["conversion"] == {"strategy": "None"}


def test_learner_may_not_register_a_seller(alice, call):
    response = call("POST", CRDS, alice, widget_crd())

    assert response.status == 403
    assert response.body["reason"] == "Forbidden"
    assert 'cannot create resource "customresourcedefinitions"' in response.body["message"]
    assert not ApiGroup.objects.filter(name="shop.example.com").exists()


def test_kubectl_get_crd_shows_when_each_seller_registered(registered, api, alice):
    table = api.get(CRDS, alice, accept=TABLE_ACCEPT).json_body

    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["rows"][0]["cells"] == [
        "widgets.shop.example.com",
        registered["metadata"]["creationTimestamp"],
    ]


def test_learner_may_read_sellers(registered, alice, call):
    response = call("GET", CRDS, alice)

    assert response.status == 200
    assert [c["metadata"]["name"] for c in response.body["items"]] == ["widgets.shop.example.com"]


def test_new_kind_appears_in_every_discovery_document(registered, api, alice):
    groups = api.get("/apis", alice).json_body["groups"]
    assert {"groupVersion": "shop.example.com/v1", "version": "v1"} in next(
        g["versions"] for g in groups if g["name"] == "shop.example.com"
    )
    group = api.get("/apis/shop.example.com", alice).json_body
    assert group["preferredVersion"]["version"] == "v1"
    resources = api.get("/apis/shop.example.com/v1", alice).json_body["resources"]
    widgets = next(r for r in resources if r["name"] == "widgets")
    assert widgets["kind"] == "Widget"
    assert widgets["namespaced"] is True
    assert widgets["shortNames"] == ["wd"]
    assert widgets["categories"] == ["shop"]
    assert "watch" in widgets["verbs"]
    assert any(r["name"] == "widgets/status" for r in resources)
    aggregated = api.get("/apis", alice, accept=AGGREGATED).json_body
    item = next(i for i in aggregated["items"] if i["metadata"]["name"] == "shop.example.com")
    assert item["versions"][0]["resources"][0]["resource"] == "widgets"


def test_openapi_lists_the_sellers_group(registered, api, alice):
    root = api.get("/openapi/v3", alice).json_body
    assert "apis/shop.example.com/v1" in root["paths"]
    document = api.get("/openapi/v3/apis/shop.example.com/v1", alice).json_body
    assert "/apis/shop.example.com/v1/namespaces/{namespace}/widgets" in document["paths"]
    schemas = document["components"]["schemas"]
    widget_schema = next(
        s
        for s in schemas.values()
        if {"group": "shop.example.com", "version": "v1", "kind": "Widget"}
        in s.get("x-kubernetes-group-version-kind", [])
    )
    assert widget_schema["properties"]["spec"]["properties"]["size"]["type"] == "integer"


def test_catalog_lists_the_new_product_as_third_party(registered):
    group = ApiGroup.objects.get(name="shop.example.com")
    assert group.is_custom
    assert group.department == "Third-party seller: shop.example.com"
    assert group.preferred_version == "v1"
    product = ResourceKind.objects.get(api_version__group=group, plural="widgets")
    assert product.is_custom
    assert (product.kind, product.singular, product.namespaced) == ("Widget", "widget", True)
    assert product.short_names == ["wd"]
    assert product.subresources == ["status"]
    assert product.verbs == crds.ALL_VERBS
    assert product.schema["properties"]["spec"]["required"] == ["size"]
    assert "controller" in product.analogy_breaks
    assert "front door" in product.analogy_holds
    fields = {f.path: f for f in KindField.objects.filter(resource_kind=product)}
    assert fields["spec.size"].type_name == "integer"
    assert fields["spec.size"].required
    assert fields["spec.size"].description == "How big, from 1 to 10."
    assert not fields["spec.color"].required
    assert fields["spec.parts"].type_name == "[]Object"
    assert fields["spec.parts[].name"].depth == 1


def test_product_page_shows_the_third_party_product(registered, client):
    url = reverse(
        "catalog:product",
        kwargs={"group": "shop.example.com", "version": "v1", "plural": "widgets"},
    )
    response = client.get(url)

    assert response.status_code == 200
    assert "third-party seller" in response.content.decode()
    assert "size:" in response.content.decode()  # the example manifest fills required fields


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"group": "shop"}, "spec.group", "should be a domain with at least one dot"),
        (
            {"group": "shop.example.org"},
            "metadata.name",
            'must be spec.names.plural+"."+spec.group',
        ),
        ({"scope": "Everywhere"}, "spec.scope", 'Unsupported value: "Everywhere"'),
        (
            {"names": {"plural": "Widgets", "kind": "Widget"}},
            "spec.names.plural",
            "a DNS-1035 label",
        ),
        ({"names": {"plural": "widgets"}}, "spec.names.kind", "Required value"),
        (
            {"names": {"plural": "widgets", "kind": "Widget", "shortNames": ["w_d"]}},
            "spec.names.shortNames[0]",
            "a DNS-1035 label",
        ),
        (
            {"versions": [{"name": "v1", "served": True, "storage": False}]},
            "spec.versions",
            "must have exactly one version marked as storage version",
        ),
        (
            {"versions": [{"name": "v1", "served": True, "storage": True}]},
            "spec.versions[0].schema.openAPIV3Schema",
            "schemas are required",
        ),
    ],
)
def test_invalid_definitions_are_refused_with_field_causes(carol, call, change, field, message):
    response = call("POST", CRDS, carol, widget_crd(**change))

    assert response.status == 422, response.body
    assert response.body["reason"] == "Invalid"
    assert message in _causes(response)[field]
    assert not ResourceKind.objects.filter(is_custom=True).exists()


def test_printer_column_with_a_bad_type_or_path_is_refused(carol, call):
    crd = widget_crd()
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Size", "type": "float", "jsonPath": ".spec.size"},
        {"name": "Code", "type": "string", "jsonPath": "spec.code"},
    ]
    causes = _causes(call("POST", CRDS, carol, crd))

    assert (
        'Unsupported value: "float"' in causes["spec.versions[0].additionalPrinterColumns[0].type"]
    )
    assert "simple json path" in causes["spec.versions[0].additionalPrinterColumns[1].jsonPath"]


def test_protected_groups_need_the_approval_annotation(carol, call):
    crd = widget_crd(group="shop.k8s.io")
    crd["metadata"]["name"] = "widgets.shop.k8s.io"
    causes = _causes(call("POST", CRDS, carol, crd))

    assert "protected groups" in causes["metadata.annotations[api-approved.kubernetes.io]"]


def test_built_in_groups_stay_closed_to_sellers_even_with_approval(carol, call):
    crd = widget_crd(group="apps.k8s.io")
    crd["metadata"] = {
        "name": "widgets.apps.k8s.io",
        "annotations": {"api-approved.kubernetes.io": "https://example.com/approval"},
    }
    ApiGroup.objects.create(name="apps.k8s.io", department="Test aisle")

    causes = _causes(call("POST", CRDS, carol, crd))

    assert "is served by a built-in API group" in causes["spec.group"]


def test_group_scope_and_kind_cannot_change(registered, carol, call):
    changed = widget_crd(scope="Cluster")
    changed["metadata"]["resourceVersion"] = registered["metadata"]["resourceVersion"]
    response = call("PUT", WIDGET_CRD, carol, changed)

    assert response.status == 422
    assert "field is immutable" in _causes(response)["spec.scope"]


def test_updating_the_definition_updates_the_catalog(registered, carol, call):
    crd = widget_crd()
    crd["spec"]["names"]["shortNames"] = ["wd", "wdg"]
    extra = {**crd["spec"]["versions"][0], "name": "v2", "storage": False}
    crd["spec"]["versions"].append(extra)
    response = call("PUT", WIDGET_CRD, carol, crd)

    assert response.status == 200, response.body
    served = ResourceKind.objects.filter(plural="widgets", is_custom=True)
    assert sorted(k.api_version.version for k in served) == ["v1", "v2"]
    assert all(k.short_names == ["wd", "wdg"] for k in served)
    assert kinds.lookup("shop.example.com", "v2", "widgets") is not None
    assert ApiGroup.objects.get(name="shop.example.com").preferred_version == "v2"


def test_a_second_seller_cannot_take_a_kind_already_in_use(registered, carol, call):
    crd = widget_crd(names={"plural": "gadgets", "kind": "Widget"})
    crd["metadata"]["name"] = "gadgets.shop.example.com"
    response = call("POST", CRDS, carol, crd)

    assert response.status == 201
    conditions = {c["type"]: c for c in response.body["status"]["conditions"]}
    assert conditions["NamesAccepted"]["status"] == "False"
    assert conditions["NamesAccepted"]["message"] == '"Widget" is already in use'
    assert conditions["Established"]["status"] == "False"
    assert kinds.lookup("shop.example.com", "v1", "gadgets") is None


def test_a_refused_seller_is_accepted_once_the_clash_has_gone(registered, carol, call):
    crd = widget_crd(names={"plural": "gadgets", "kind": "Widget"})
    crd["metadata"]["name"] = "gadgets.shop.example.com"
    call("POST", CRDS, carol, crd)

    call("DELETE", WIDGET_CRD, carol)

    accepted = call("GET", f"{CRDS}/gadgets.shop.example.com", carol).body
    assert crds.established(accepted)
    assert kinds.lookup("shop.example.com", "v1", "gadgets").kind == "Widget"


def test_deleting_the_seller_removes_the_product_and_its_orders(registered, carol, alice, call):
    assert call("POST", WIDGETS, alice, widget("blue-one")).status == 201

    response = call("DELETE", WIDGET_CRD, carol)

    assert response.status == 200
    assert not ApiGroup.objects.filter(name="shop.example.com").exists()
    assert not ResourceKind.objects.filter(plural="widgets", is_custom=True).exists()
    assert call("GET", "/apis/shop.example.com/v1", alice).status == 404
    assert call("GET", WIDGETS, alice).status == 404
    # Registering again starts from an empty shelf: the old order went with the seller.
    call("POST", CRDS, carol, widget_crd())
    assert call("GET", WIDGETS, alice).body["items"] == []


def test_learner_may_not_delete_a_seller(registered, alice, call):
    assert call("DELETE", WIDGET_CRD, alice).status == 403
    assert ResourceKind.objects.filter(plural="widgets", is_custom=True).exists()


def test_dry_run_registration_changes_nothing(carol, call):
    response = call("POST", CRDS, carol, widget_crd(), dryRun="All")

    assert response.status == 201
    assert not ApiGroup.objects.filter(name="shop.example.com").exists()


def test_other_server_processes_see_a_new_seller_without_being_told(carol, call, monkeypatch):
    """Each process only re-reads one counter row; a bumped generation makes it rebuild."""
    now = time.monotonic()
    monkeypatch.setattr(kinds.time, "monotonic", lambda: now)
    kinds.index()
    # Register as another process would: the catalog and its generation change, but this
    # process's index is never told.
    monkeypatch.setattr(kinds, "invalidate", lambda: None)
    call("POST", CRDS, carol, widget_crd())
    assert kinds.lookup("shop.example.com", "v1", "widgets") is None

    later = now + kinds.CHECK_SECONDS
    monkeypatch.setattr(kinds.time, "monotonic", lambda: later)

    assert kinds.lookup("shop.example.com", "v1", "widgets") is not None
