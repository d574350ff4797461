"""`/openapi/v2`: the single Swagger 2.0 document that kubectl up to 1.28 and helm read.

Those clients validate manifests, build `apply`'s strategic merge patch, check that a kind
takes `?dryRun` and answer `explain` from this document, and ask for it as gnostic's
`openapi_v2.Document` protobuf message. It is built from the same schema data as the
v3 documents, once per schema state (a CRD's change makes a new one), and served with an
ETag so a client holding the current copy gets a 304.
"""

import copy
import hashlib
import json
import re
import struct
import threading
from dataclasses import dataclass
from typing import Any

import kubernetes.client as k8s

from apiserver import errors
from apiserver.endpoints import discovery
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.registry import kinds, schema
from catalog.paths import api_prefix

PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
# What the protobuf answer is labelled: the same name without the `@`, which is not allowed
# in a media type and would make a client's content-type parser fail.
PROTOBUF_SERVED = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
JSON = "application/json"

# Types that live in apimachinery's meta/v1 package, whatever group first uses them.
_META_TYPES = {
    "ObjectMeta",
    "ListMeta",
    "LabelSelector",
    "LabelSelectorRequirement",
    "OwnerReference",
    "ManagedFieldsEntry",
    "Condition",
    "Status",
    "StatusDetails",
    "StatusCause",
    "DeleteOptions",
    "Preconditions",
}
_VERSIONED = re.compile(r"^(?:[A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)(?=[A-Z])")


def _package(group: str) -> str:
    """Where Kubernetes keeps a group's Go types, the prefix of its definition names."""
    if group == "":
        return "io.k8s.api.core"
    if group == "apiextensions.k8s.io":
        return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions"
    if group == "apiregistration.k8s.io":
        return "io.k8s.kube-aggregator.pkg.apis.apiregistration"
    if group.endswith(".k8s.io") or "." not in group:
        return f"io.k8s.api.{group.split('.')[0]}"
    return ".".join(reversed(group.split(".")))


def _models_in(model: type) -> list[type]:
    """The models one model's fields hold, directly or through lists, maps and unions."""
    held: list[type] = []

    def visit(node: schema.Node) -> None:
        if node.tag == "model":
            held.append(node.model)
        for child in (node.child, *node.options):
            if child is not None:
                visit(child)

    for _, node, _ in schema.model_schema(model).fields.values():
        visit(node)
    return held


def definition_names(served: list[tuple[str, type]]) -> dict[type, str]:
    """Kubernetes' definition name for every model reachable from the served kinds.

    A model belongs to the group of the first kind that reaches it, core kinds first, so
    PodSpec is `io.k8s.api.core.v1.PodSpec` even though Deployments hold one too.
    """
    owner: dict[type, str] = {}
    for group, root in sorted(served, key=lambda pair: pair[0] != ""):
        pending = [root]
        while pending:
            model = pending.pop()
            if model in owner:
                continue
            owner[model] = group
            pending.extend(_models_in(model))
    names: dict[type, str] = {}
    taken: set[str] = set()
    for model, group in owner.items():
        match = _VERSIONED.match(model.__name__)
        short = model.__name__[match.end() :] if match else model.__name__
        version = match.group(1).lower() if match else "v1"
        if short in _META_TYPES:
            name = f"io.k8s.apimachinery.pkg.apis.meta.{version}.{short}"
        else:
            name = f"{_package(group)}.{version}.{short}"
        if name in taken:
            name = discovery.schema_name(model)
        taken.add(name)
        names[model] = name
    return names


def _gvk(kind: kinds.Kind) -> dict[str, str]:
    return {"group": kind.group, "version": kind.version, "kind": kind.kind}


def _operation(kind: kinds.Kind, action: str) -> dict[str, Any]:
    """One operation, tagged as kubectl looks it up (by action and group/version/kind)."""
    names = ["dryRun", "fieldManager", "pretty"]
    if action in ("post", "put", "patch"):
        names.append("fieldValidation")
    return {
        "operationId": f"{action}{kind.kind}",
        "consumes": ["*/*"],
        "produces": [JSON, "application/yaml", "application/vnd.kubernetes.protobuf"],
        "parameters": [
            {"name": n, "in": "query", "type": "string", "uniqueItems": True} for n in names
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(kind),
    }


def _v2_custom_schema(node: Any) -> Any:
    """A CRD's openAPIV3Schema made into Swagger 2.0, as kube-apiserver publishes it.

    v2 has no nullable, oneOf, anyOf or not; an int-or-string field loses its type, and a
    field that keeps unknown fields loses its properties so old clients do not reject them.
    """
    if not isinstance(node, dict):
        return node
    out = {
        key: value
        for key, value in node.items()
        if key not in ("nullable", "oneOf", "anyOf", "not", "x-kubernetes-validations")
    }
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("type", None)
        out.pop("properties", None)
        out.pop("required", None)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _v2_custom_schema(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _v2_custom_schema(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _v2_custom_schema(out["additionalProperties"])
    return out


def document() -> dict[str, Any]:
    """The whole API in one Swagger 2.0 document: paths for every kind, and definitions."""
    served = kinds.index().kinds
    built_in = [
        (kind, model)
        for kind in served
        if not kind.is_custom and (model := schema.model_for(kind.model_name)) is not None
    ]
    custom = [kind for kind in served if kind.is_custom]
    names = definition_names(
        [(kind.group, model) for kind, model in built_in] + [("", k8s.V1ObjectMeta)]
    )

    def refer(model: type) -> tuple[str, dict[str, Any]]:
        return names[model], {"$ref": f"#/definitions/{names[model]}"}

    definitions: dict[str, Any] = {}
    for kind, model in built_in:
        discovery.add_model(model, definitions, refer)
        tags = definitions[names[model]].setdefault("x-kubernetes-group-version-kind", [])
        if _gvk(kind) not in tags:
            tags.append(_gvk(kind))
    discovery.add_model(k8s.V1ObjectMeta, definitions, refer)
    for kind in custom:
        body = _v2_custom_schema(copy.deepcopy(kind.schema)) or {"type": "object"}
        properties = body.setdefault("properties", {})
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties["metadata"] = refer(k8s.V1ObjectMeta)[1]
        body["x-kubernetes-group-version-kind"] = [_gvk(kind)]
        definitions[f"{_package(kind.group)}.{kind.version}.{kind.kind}"] = body
    paths: dict[str, Any] = {}
    for kind in served:
        prefix = api_prefix(kind.group, kind.version)
        scope = f"{prefix}/namespaces/{{namespace}}" if kind.namespaced else prefix
        collection = f"{scope}/{kind.plural}"
        paths[collection] = {"get": _operation(kind, "list"), "post": _operation(kind, "post")}
        paths[f"{collection}/{{name}}"] = {
            "get": _operation(kind, "get"),
            "put": _operation(kind, "put"),
            "patch": _operation(kind, "patch"),
            "delete": _operation(kind, "delete"),
        }
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": discovery.GIT_VERSION},
        "paths": paths,
        "definitions": definitions,
    }


# The protobuf form: gnostic's openapi_v2 messages, written field by field. Field numbers
# are those of gnostic's OpenAPIv2.proto.


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _message(number: int, payload: bytes) -> bytes:
    return _tag(number, 2) + _varint(len(payload)) + payload


def _string(number: int, value: str) -> bytes:
    return _message(number, value.encode()) if value else b""


def _bool(number: int, value: bool, always: bool = False) -> bytes:
    return _tag(number, 0) + (b"\x01" if value else b"\x00") if value or always else b""


def _int(number: int, value: int) -> bytes:
    return _tag(number, 0) + _varint(int(value)) if value else b""


def _double(number: int, value: float) -> bytes:
    return _tag(number, 1) + struct.pack("<d", float(value))


def _any(value: Any) -> bytes:
    """gnostic's Any: the value as YAML text (JSON is YAML), which is what clients read."""
    return _string(2, json.dumps(value))


def _named_any(number: int, name: str, value: Any) -> bytes:
    return _message(number, _string(1, name) + _message(2, _any(value)))


def _extensions(number: int, body: dict[str, Any]) -> bytes:
    return b"".join(
        _named_any(number, key, value) for key, value in body.items() if key.startswith("x-")
    )


def _schema(body: dict[str, Any]) -> bytes:
    """openapi_v2.Schema."""
    out = bytearray()
    out += _string(1, body.get("$ref", ""))
    out += _string(2, body.get("format", ""))
    out += _string(3, body.get("title", ""))
    out += _string(4, body.get("description", ""))
    if "default" in body:
        out += _message(5, _any(body["default"]))
    for number, key in ((6, "multipleOf"), (7, "maximum"), (9, "minimum")):
        if key in body:
            out += _double(number, body[key])
    out += _bool(8, body.get("exclusiveMaximum", False))
    out += _bool(10, body.get("exclusiveMinimum", False))
    for number, key in (
        (11, "maxLength"),
        (12, "minLength"),
        (14, "maxItems"),
        (15, "minItems"),
        (17, "maxProperties"),
        (18, "minProperties"),
    ):
        out += _int(number, body.get(key, 0))
    out += _string(13, body.get("pattern", ""))
    out += _bool(16, body.get("uniqueItems", False))
    out += b"".join(_string(19, name) for name in body.get("required", []))
    out += b"".join(_message(20, _any(value)) for value in body.get("enum", []))
    extra = body.get("additionalProperties")
    if isinstance(extra, dict):
        out += _message(21, _message(1, _schema(extra)))
    elif isinstance(extra, bool):
        out += _message(21, _bool(2, extra, always=True))
    kind = body.get("type")
    if kind:
        out += _message(
            22, b"".join(_string(1, t) for t in ([kind] if isinstance(kind, str) else kind))
        )
    items = body.get("items")
    if isinstance(items, dict):
        out += _message(23, _message(1, _schema(items)))
    out += b"".join(_message(24, _schema(part)) for part in body.get("allOf", []))
    properties = body.get("properties")
    if isinstance(properties, dict):
        named = b"".join(
            _message(1, _string(1, name) + _message(2, _schema(value)))
            for name, value in properties.items()
        )
        out += _message(25, named)
    out += _bool(27, body.get("readOnly", False))
    if "example" in body:
        out += _message(30, _any(body["example"]))
    out += _extensions(31, body)
    return bytes(out)


def _parameter(body: dict[str, Any]) -> bytes:
    """openapi_v2.ParametersItem holding a query or path parameter."""
    where = body.get("in", "query")
    # gnostic numbers the path and query sub-schemas' fields differently.
    type_field, unique_field, slot = (5, 19, 4) if where == "path" else (6, 20, 3)
    sub = (
        _bool(1, body.get("required", False))
        + _string(2, where)
        + _string(3, body.get("description", ""))
        + _string(4, body["name"])
        + _string(type_field, body.get("type", ""))
        + _bool(unique_field, body.get("uniqueItems", False))
    )
    non_body = _message(slot, sub)
    return _message(1, _message(2, non_body))


def _operation_pb(body: dict[str, Any]) -> bytes:
    """openapi_v2.Operation."""
    out = bytearray()
    out += _string(3, body.get("description", ""))
    out += _string(5, body.get("operationId", ""))
    out += b"".join(_string(6, media) for media in body.get("produces", []))
    out += b"".join(_string(7, media) for media in body.get("consumes", []))
    out += b"".join(_message(8, _parameter(p)) for p in body.get("parameters", []))
    responses = b"".join(
        _message(1, _string(1, code) + _message(2, _message(1, _string(1, r["description"]))))
        for code, r in body.get("responses", {}).items()
    )
    out += _message(9, responses)
    out += _extensions(13, body)
    return bytes(out)


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}


def encode(doc: dict[str, Any]) -> bytes:
    """openapi_v2.Document, the message kubectl's `application/...protobuf` Accept asks for."""
    info = _string(1, doc["info"]["title"]) + _string(2, doc["info"]["version"])
    paths = b"".join(
        _message(
            2,
            _string(1, path)
            + _message(
                2,
                b"".join(
                    _message(_METHODS[method], _operation_pb(op))
                    for method, op in item.items()
                    if method in _METHODS
                ),
            ),
        )
        for path, item in doc["paths"].items()
    )
    definitions = b"".join(
        _message(1, _string(1, name) + _message(2, _schema(body)))
        for name, body in doc["definitions"].items()
    )
    return (
        _string(1, doc["swagger"])
        + _message(2, info)
        + _message(8, paths)
        + _message(9, definitions)
    )


@dataclass(frozen=True)
class Built:
    """One schema state's document in both forms, with the ETag of each."""

    state: str
    json_bytes: bytes
    json_etag: str
    proto_bytes: bytes
    proto_etag: str


_built: Built | None = None
_built_from: kinds.Index | None = None  # the catalog index _built was last checked against
_lock = threading.Lock()


def _etag(content: bytes) -> str:
    return f'"{hashlib.sha512(content).hexdigest()[:64].upper()}"'


def built() -> Built:
    """The document for the current schema state, built once per state."""
    global _built, _built_from
    index = kinds.index()
    current = _built
    if current is not None and _built_from is index:
        return current  # the hot path: the same catalog index, no hashing
    state = discovery.openapi_hash()
    if current is not None and current.state == state:
        _built_from = index
        return current
    with _lock:
        if _built is None or _built.state != state:
            doc = document()
            as_json = json.dumps(doc, separators=(",", ":")).encode()
            as_proto = encode(doc)
            _built = Built(state, as_json, _etag(as_json), as_proto, _etag(as_proto))
        _built_from = index
        return _built


def wants_protobuf(accept: str) -> bool:
    """Old kubectl asks `spec.v2@v1.0+protobuf`; newer client-go spells it `spec.v2.v1.0`."""
    return any(
        part.split(";")[0].strip().startswith("application/com.github.proto-openapi.spec.v2")
        for part in accept.split(",")
    )


def _matches(condition: str, etag: str) -> bool:
    return any(tag.strip().removeprefix("W/") in (etag, "*") for tag in condition.split(","))


def serve(request: ApiRequest) -> ApiResponse:
    """The v2 document in the form asked for; 304 when the client's copy is current."""
    accept = request.headers.get("accept", "")
    current = built()
    if wants_protobuf(accept):
        content, etag, media = current.proto_bytes, current.proto_etag, PROTOBUF_SERVED
    elif not accept or any(
        part.split(";")[0].strip() in (JSON, "application/*", "*/*") for part in accept.split(",")
    ):
        content, etag, media = current.json_bytes, current.json_etag, JSON
    else:
        raise errors.not_acceptable()
    headers = {"content-type": media, "etag": etag, "vary": "Accept"}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return ApiResponse(304, None, headers, raw=b"")
    return ApiResponse(200, None, headers, raw=content)
