"""Discovery documents, generated from the catalog: what kubectl reads before anything else.

kubectl 1.32 asks for the aggregated form (`apidiscovery.k8s.io/v2`, one document per
`/api` and `/apis`); older clients and the Python client read the per-group documents.
"""

import base64
import copy
import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import kubernetes.client as k8s

from apiserver import errors
from apiserver.endpoints import patching
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import kinds, schema
from catalog.paths import api_prefix

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

GIT_VERSION = "v1.32.0-warehouse"


def version() -> dict[str, Any]:
    return {
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-25T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def wants_aggregated(accept: str) -> str | None:
    """The aggregated discovery version the client asked for first, if any."""
    for part in accept.split(","):
        params = {
            key.strip(): value.strip()
            for key, _, value in (item.partition("=") for item in part.split(";")[1:])
        }
        if (
            params.get("g") == "apidiscovery.k8s.io"
            and params.get("as") == "APIGroupDiscoveryList"
            and params.get("v") in ("v2", "v2beta1")
        ):
            return params["v"]
    return None


def _storage_hash(kind: kinds.Kind) -> str:
    digest = hashlib.sha256(f"{kind.group}/{kind.version}/{kind.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _kinds_at(group: str, version: str) -> list[kinds.Kind]:
    return [k for k in kinds.index().kinds if k.group == group and k.version == version]


def _scale_kind() -> dict[str, str]:
    return {"group": "autoscaling", "version": "v1", "kind": "Scale"}


def _subresource_verbs(subresource: str) -> list[str]:
    return ["create"] if subresource == "binding" else ["get", "patch", "update"]


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }


def _group_entry(group: str, versions: list[str], preferred: str) -> dict[str, Any]:
    def gv(version: str) -> dict[str, str]:
        return {"groupVersion": f"{group}/{version}", "version": version}

    return {"name": group, "versions": [gv(v) for v in versions], "preferredVersion": gv(preferred)}


def api_group_list() -> dict[str, Any]:
    groups = [_group_entry(g, vs, p) for g, vs, p in kinds.index().groups if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    for name, versions, preferred in kinds.index().groups:
        if name == group and group:
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                **_group_entry(name, versions, preferred),
            }
    return None


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """An APIResourceList: one entry per resource, plus one per served subresource."""
    found = _kinds_at(group, version)
    if not found:
        return None
    resources = []
    for kind in found:
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": list(kind.verbs),
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        entry["storageVersionHash"] = _storage_hash(kind)
        resources.append(entry)
        for sub in kind.served_subresources:
            sub_entry: dict[str, Any] = {
                "name": f"{kind.plural}/{sub}",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": _subresource_verbs(sub),
            }
            if sub == "scale":
                sub_entry.update({"group": "autoscaling", "version": "v1", "kind": "Scale"})
            elif sub == "binding":
                sub_entry["kind"] = "Binding"
            resources.append(sub_entry)
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def _discovery_resource(kind: kinds.Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": kind.plural,
        "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    subresources = []
    for sub in kind.served_subresources:
        response = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        if sub == "scale":
            response = _scale_kind()
        elif sub == "binding":
            response = {**response, "kind": "Binding"}
        subresources.append(
            {"subresource": sub, "responseKind": response, "verbs": _subresource_verbs(sub)}
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(core: bool, version: str = "v2") -> dict[str, Any]:
    """`APIGroupDiscoveryList` for `/api` (core) or `/apis` (every named group)."""
    items = []
    for group, versions, _ in kinds.index().groups:
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": v,
                        "resources": [_discovery_resource(k) for k in _kinds_at(group, v)],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


def openapi_hash() -> str:
    """Changes when a kind comes or goes, or a CRD's schema changes: kubectl then re-reads."""
    names = ",".join(f"{k.group}/{k.version}/{k.plural}" for k in kinds.index().kinds)
    schemas = json.dumps([k.schema for k in kinds.index().kinds if k.is_custom], sort_keys=True)
    return hashlib.sha256((names + schemas).encode()).hexdigest()[:32].upper()


def openapi_root() -> dict[str, Any]:
    """`/openapi/v3`: where each group/version's document lives."""
    digest = openapi_hash()
    paths = {}
    for group, versions, _ in kinds.index().groups:
        for version in versions:
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}


def _operation(kind: kinds.Kind, action: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{action}{kind.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": kind.group,
            "version": kind.version,
            "kind": kind.kind,
        },
        "parameters": [
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": "OK"}},
    }
    if action in ("post", "put", "patch"):
        # kubectl sends ?fieldValidation=Strict only to servers that declare it here,
        # and then leaves validation to the server instead of downloading schemas.
        operation["parameters"].append(
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
        )
    return operation


_MODEL_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")
_SCALARS = {
    "str": {"type": "string"},
    "time": {"type": "string", "format": "date-time"},
    "int": {"type": "integer", "format": "int64"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "any": {"type": "object"},
}


def schema_name(model: type) -> str:
    """`io.k8s.warehouse.V1Pod.Pod`: unique, and kubectl explain shows the last part."""
    return f"io.k8s.warehouse.{model.__name__}.{_MODEL_PREFIX.sub('', model.__name__)}"


def _v3_ref(model: type) -> tuple[str, dict[str, Any]]:
    name = schema_name(model)
    return name, {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}


# How a schema names and points at a model: OpenAPI v3 wraps a $ref in allOf, v2 does not.
Referrer = Callable[[type], tuple[str, dict[str, Any]]]


def _node_schema(node: schema.Node, found: dict[str, Any], refer: Referrer) -> dict[str, Any]:
    if node.tag == "model":
        add_model(node.model, found, refer)
        return dict(refer(node.model)[1])
    if node.tag == "list":
        return {"type": "array", "items": _node_schema(node.child, found, refer)}
    if node.tag == "map":
        return {"type": "object", "additionalProperties": _node_schema(node.child, found, refer)}
    if node.tag == "union":
        return {"x-kubernetes-int-or-string": True}
    return dict(_SCALARS.get(node.tag, {"type": "object"}))


def _patch_extensions(json_name: str, node: schema.Node) -> dict[str, str]:
    """How a strategic merge patch treats this list: merged by a key, or as a set.

    kubectl apply reads these from the OpenAPI document to build its patch; the keys are
    the ones the server's own strategic merge patch uses, so both sides agree.
    """
    if node.tag != "list":
        return {}
    if json_name in patching.MERGE_PRIMITIVE_LISTS:
        return {"x-kubernetes-patch-strategy": "merge"}
    if node.child.tag != "model":
        return {}
    item_fields = schema.model_schema(node.child.model).fields
    for key in patching.MERGE_KEYS.get(json_name, ()):
        if key in item_fields:
            return {"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": key}
    return {}


def add_model(model: type, found: dict[str, Any], refer: Referrer = _v3_ref) -> None:
    """Describe `model` (and every model it holds) into `found`, keyed by its schema name."""
    name = refer(model)[0]
    if name in found:
        return
    entry: dict[str, Any] = {"type": "object"}
    found[name] = entry
    doc = inspect.getdoc(model) or ""
    entry["description"] = doc.split("\n\n")[0].replace("\n", " ").strip()
    properties, required = {}, []
    compiled = schema.model_schema(model)
    for json_name, (python_name, node, is_required) in compiled.fields.items():
        prop = _node_schema(node, found, refer)
        description = model.model_fields[python_name].description
        if not description and node.tag == "model":
            description = found[refer(node.model)[0]].get("description")
        if description:
            prop["description"] = description
        prop.update(_patch_extensions(json_name, node))
        properties[json_name] = prop
        if is_required:
            required.append(json_name)
    entry["properties"] = properties
    if required:
        entry["required"] = required


@functools.lru_cache(maxsize=64)
def _component_schemas(kinds_key: tuple[tuple[str, str, str, str], ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for group, version, kind_name, model_name in kinds_key:
        model = schema.model_for(model_name)
        if model is None:
            continue
        add_model(model, found)
        found[schema_name(model)]["x-kubernetes-group-version-kind"] = [
            {"group": group, "version": version, "kind": kind_name}
        ]
    return found


def openapi_group_version(group: str, version: str) -> dict[str, Any] | None:
    """The document for one group/version: paths, operations, and schemas for explain."""
    found = _kinds_at(group, version)
    if not found:
        return None
    prefix = api_prefix(group, version)
    paths: dict[str, Any] = {}
    for kind in found:
        scope = f"{prefix}/namespaces/{{namespace}}" if kind.namespaced else prefix
        collection = f"{scope}/{kind.plural}"
        item = f"{collection}/{{name}}"
        paths[collection] = {"get": _operation(kind, "list"), "post": _operation(kind, "post")}
        paths[item] = {
            "get": _operation(kind, "get"),
            "put": _operation(kind, "put"),
            "patch": _operation(kind, "patch"),
            "delete": _operation(kind, "delete"),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {
            "schemas": {
                **_component_schemas(
                    tuple(
                        (k.group, k.version, k.kind, k.model_name) for k in found if not k.is_custom
                    )
                ),
                **_custom_schemas([k for k in found if k.is_custom]),
            }
        },
    }


def _custom_schemas(custom: list[kinds.Kind]) -> dict[str, Any]:
    """A CRD kind's openAPIV3Schema, named like kube-apiserver names it (com.example.v1.Kind).

    With it, `kubectl explain` describes the new product like a built-in one.
    """
    found: dict[str, Any] = {}
    if not custom:
        return found
    add_model(k8s.V1ObjectMeta, found)
    meta_ref = {"allOf": [{"$ref": f"#/components/schemas/{schema_name(k8s.V1ObjectMeta)}"}]}
    for kind in custom:
        body = copy.deepcopy(kind.schema) or {"type": "object"}
        properties = body.setdefault("properties", {})
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties["metadata"] = meta_ref
        body["x-kubernetes-group-version-kind"] = [
            {"group": kind.group, "version": kind.version, "kind": kind.kind}
        ]
        reversed_group = ".".join(reversed(kind.group.split(".")))
        found[f"{reversed_group}.{kind.version}.{kind.kind}"] = body
    return found


def serve(request: ApiRequest, target: Route) -> ApiResponse:
    """Answer a discovery or OpenAPI path: the catalog of what this API serves."""
    accept = request.headers.get("accept", "")
    if target.document == "version":
        return ApiResponse(200, version())
    if target.document in ("api", "apis"):
        flavour = wants_aggregated(accept)
        if flavour:
            content_type = AGGREGATED_CONTENT_TYPE if flavour == "v2" else AGGREGATED_V2BETA1
            return ApiResponse(
                200,
                aggregated(target.document == "api", flavour),
                {"content-type": content_type},
            )
        body = api_versions() if target.document == "api" else api_group_list()
        return ApiResponse(200, body)
    if target.document == "group":
        group = api_group(target.name)
        if group is None:
            raise errors.page_not_found()
        return ApiResponse(200, group)
    if target.document == "openapi":
        return ApiResponse(200, openapi_root())
    if target.document == "openapi-gv":
        document = openapi_group_version(target.namespace or "", target.name)
        if document is None:
            raise errors.page_not_found()
        return ApiResponse(200, document)
    if target.document == "resources":
        resources = resource_list(target.namespace or "", target.name)
        if resources is None:
            raise errors.page_not_found()
        return ApiResponse(200, resources)
    raise errors.page_not_found()
