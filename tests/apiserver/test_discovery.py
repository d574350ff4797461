"""Discovery: what kubectl reads first, generated from the catalog."""

import json
import re

from apiserver.endpoints import openapiv2, protobuf
from apiserver.endpoints.discovery import AGGREGATED_CONTENT_TYPE
from catalog.models import ResourceKind

AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


def test_version_is_public_and_says_1_32(api, db):
    response = api.get("/version", None)
    assert response.status_code == 200
    assert response.json_body["major"] == "1"
    assert response.json_body["minor"] == "32"
    assert response.json_body["gitVersion"].startswith("v1.32")


def test_health_endpoints_are_public(api, db):
    for path in ("/healthz", "/livez", "/readyz"):
        response = api.get(path, None)
        assert response.status_code == 200
        assert response.content == b"ok"


def test_core_api_versions(api, alice):
    body = api.get("/api", alice).json_body
    assert body["kind"] == "APIVersions"
    assert body["versions"] == ["v1"]


def test_group_list_names_every_catalog_group_with_its_preferred_version(api, alice):
    body = api.get("/apis", alice).json_body
    assert body["kind"] == "APIGroupList"
    names = {group["name"] for group in body["groups"]}
    assert {"apps", "batch", "networking.k8s.io"} <= names
    assert "" not in names
    apps = next(g for g in body["groups"] if g["name"] == "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}


def test_core_resource_list_has_short_names_verbs_and_subresources(api, alice):
    body = api.get("/api/v1", alice).json_body
    assert body["kind"] == "APIResourceList"
    assert body["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in body["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"]
    assert by_name["pods"]["namespaced"] is True
    assert by_name["pods"]["kind"] == "Pod"
    assert "watch" in by_name["pods"]["verbs"]
    assert by_name["namespaces"]["namespaced"] is False
    assert by_name["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert "pods/binding" in by_name


def test_group_version_resource_list_offers_scale(api, alice):
    body = api.get("/apis/apps/v1", alice).json_body
    by_name = {r["name"]: r for r in body["resources"]}
    assert by_name["deployments"]["shortNames"] == ["deploy"]
    assert by_name["deployments/scale"]["kind"] == "Scale"
    assert by_name["deployments/scale"]["group"] == "autoscaling"


def test_single_group_document(api, alice):
    body = api.get("/apis/batch", alice).json_body
    assert body["kind"] == "APIGroup"
    assert body["name"] == "batch"


def test_aggregated_discovery_when_kubectl_asks_for_it(api, alice):
    response = api.get("/apis", alice, accept=AGGREGATED_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == AGGREGATED_CONTENT_TYPE
    body = response.json_body
    assert body["kind"] == "APIGroupDiscoveryList"
    assert body["apiVersion"] == "apidiscovery.k8s.io/v2"
    apps = next(item for item in body["items"] if item["metadata"]["name"] == "apps")
    resources = {r["resource"]: r for r in apps["versions"][0]["resources"]}
    deployments = resources["deployments"]
    assert deployments["scope"] == "Namespaced"
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert deployments["shortNames"] == ["deploy"]
    assert {s["subresource"] for s in deployments["subresources"]} == {"scale", "status"}


def test_aggregated_core_group_is_the_unnamed_group(api, alice):
    body = api.get("/api", alice, accept=AGGREGATED_ACCEPT).json_body
    assert [item["metadata"]["name"] for item in body["items"]] == [""]


def test_aggregated_discovery_lists_exactly_the_catalog_kinds_and_the_audit_log(api, alice):
    served = set()
    for path in ("/api", "/apis"):
        for item in api.get(path, alice, accept=AGGREGATED_ACCEPT).json_body["items"]:
            for version in item["versions"]:
                for resource in version["resources"]:
                    group = item["metadata"]["name"]
                    served.add((group, version["version"], resource["resource"]))
    catalog = set(
        ResourceKind.objects.values_list(
            "api_version__group__name", "api_version__version", "plural"
        )
    )
    assert served == catalog | {("audit.warehouse.dev", "v1", "auditevents")}
    assert len(served) == 73


def test_openapi_v3_declares_field_validation_so_kubectl_validates_on_the_server(api, alice):
    root = api.get("/openapi/v3", alice).json_body
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    document = api.get(url.split("?")[0], alice).json_body
    item = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    patch = item["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    # No requestBody: kubectl apply then computes its patch from its built-in types.
    assert "requestBody" not in patch


def test_openapi_v3_schemas_serve_kubectl_explain(api, alice):
    document = api.get("/openapi/v3/api/v1", alice).json_body
    schemas = document["components"]["schemas"]
    pod = next(
        s
        for s in schemas.values()
        if {"group": "", "version": "v1", "kind": "Pod"}
        in s.get("x-kubernetes-group-version-kind", [])
    )
    assert pod["description"].startswith("Pod is a collection of containers")
    spec_ref = pod["properties"]["spec"]["allOf"][0]["$ref"]
    pod_spec = schemas[spec_ref.removeprefix("#/components/schemas/")]
    assert "containers" in pod_spec["required"]
    assert pod_spec["properties"]["containers"]["type"] == "array"


def test_openapi_v2_names_definitions_like_kubernetes_for_old_kubectl(api, alice):
    response = api.get("/openapi/v2", alice)
    assert response.status_code == 200
    document = response.json_body
    assert document["swagger"] == "2.0"
    definitions = document["definitions"]
    pod = definitions["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "version": "v1", "kind": "Pod"}]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"
    assert pod["properties"]["metadata"]["$ref"] == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    containers = definitions["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    ports = definitions["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    service_ports = definitions["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"]
    assert service_ports["x-kubernetes-patch-merge-key"] == "port"
    deployment = definitions["io.k8s.api.apps.v1.Deployment"]
    assert deployment["properties"]["spec"]["$ref"].endswith("io.k8s.api.apps.v1.DeploymentSpec")
    template = definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["template"]
    assert template["$ref"] == "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"
    refs = re.findall(r'"\$ref": "#/definitions/([^"]+)"', json.dumps(document))
    assert set(refs) <= set(definitions)
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert {"dryRun", "fieldManager", "fieldValidation"} <= {p["name"] for p in patch["parameters"]}


def test_openapi_v2_protobuf_is_gnostics_document_message(api, alice):
    response = api.get("/openapi/v2", alice, accept=openapiv2.PROTOBUF)
    assert response.status_code == 200
    assert response["Content-Type"] == openapiv2.PROTOBUF_SERVED
    fields = {number: value for number, _, value in protobuf._fields(response.content)}
    assert fields[1] == b"2.0"  # swagger
    definitions = protobuf._fields(fields[9])
    names = {protobuf._fields(entry)[0][2] for _, _, entry in definitions}
    assert b"io.k8s.api.apps.v1.Deployment" in names
    paths = protobuf._fields(fields[8])
    assert any(
        protobuf._fields(entry)[0][2] == b"/api/v1/namespaces/{namespace}/pods/{name}"
        for _, _, entry in paths
    )


def _conditional_get(api, user, etag: str):
    headers = {"authorization": f"Bearer {user.token}", "if-none-match": etag}
    return api.client.get("/openapi/v2", headers=headers)


def test_openapi_v2_answers_304_to_a_current_copy_and_changes_with_a_crd(api, alice, carol):
    first = api.get("/openapi/v2", alice)
    etag = first["ETag"]
    again = _conditional_get(api, alice, etag)
    assert again.status_code == 304
    assert again.content == b""
    protobuf_copy = api.get("/openapi/v2", alice, accept=openapiv2.PROTOBUF)
    assert protobuf_copy["ETag"] != etag

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "toasters.kitchen.example.com"},
        "spec": {
            "group": "kitchen.example.com",
            "scope": "Namespaced",
            "names": {"plural": "toasters", "singular": "toaster", "kind": "Toaster"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "slots": {"type": "integer", "nullable": True},
                                        "extras": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                            "properties": {"a": {"type": "string"}},
                                        },
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    created = api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", carol, crd)
    assert created.status_code == 201, created.json_body

    changed = _conditional_get(api, alice, etag)
    assert changed.status_code == 200
    toaster = json.loads(changed.content)["definitions"]["com.example.kitchen.v1.Toaster"]
    assert toaster["x-kubernetes-group-version-kind"] == [
        {"group": "kitchen.example.com", "version": "v1", "kind": "Toaster"}
    ]
    spec = toaster["properties"]["spec"]["properties"]
    assert spec["slots"] == {"type": "integer"}
    assert spec["extras"] == {"x-kubernetes-preserve-unknown-fields": True}


def test_unknown_paths_are_status_404(api, alice):
    for path in ("/openapi/v1", "/apis/nope.example.com/v1", "/api/v1/widgets", "/apis/apps/v9"):
        response = api.get(path, alice)
        assert response.status_code == 404, path
        assert response.json_body["kind"] == "Status"
        assert response.json_body["reason"] == "NotFound"
