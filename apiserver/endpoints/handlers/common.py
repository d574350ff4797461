"""What the verb handlers share: reading query options, shaping answers, the write loop."""

import copy
import functools
import json
from typing import Any

from apiserver import errors
from apiserver.admission import admit
from apiserver.endpoints import fieldmanager, identity
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import conversion, store
from apiserver.registry.kinds import Kind

TABLE_MEDIA = "as=Table"


def dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun", "")
    if value and value != "All":
        raise errors.bad_request(f'unsupported dry run value "{value}": only "All" is supported')
    return value == "All"


def field_validation(query: dict[str, str]) -> str:
    value = query.get("fieldValidation", "") or "Warn"
    if value not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f'invalid fieldValidation directive "{value}": must be Strict, Warn or Ignore'
        )
    return value


OPTIONS_KINDS = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}
FIELD_MANAGER_MAX_BYTES = 128


def check_field_manager(request: ApiRequest) -> None:
    """ValidateFieldManager: at most 128 bytes, every character printable; else 422."""
    value = request.query.get("fieldManager", "")
    causes = []
    if len(value.encode()) > FIELD_MANAGER_MAX_BYTES:
        causes.append(
            {
                "reason": "FieldValueTooLong",
                "message": f"Too long: may not be more than {FIELD_MANAGER_MAX_BYTES} bytes",
                "field": "fieldManager",
            }
        )
    if not value.isprintable():
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {json.dumps(value)}: must only contain printable "
                "characters",
                "field": "fieldManager",
            }
        )
    if causes:
        kind = OPTIONS_KINDS.get(request.method, "CreateOptions")
        raise errors.invalid(kind, "", causes, "meta.k8s.io")


def warning_header(warnings: list[str]) -> dict[str, str]:
    if not warnings:
        return {}
    quoted = ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)
    return {"warning": quoted}


def wants_table(request: ApiRequest) -> bool:
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return TABLE_MEDIA in first and "g=meta.k8s.io" in first


class AsStored(ApiResponse):
    """An answer whose objects stay the JSON text they are stored as until someone reads
    `body` (a page does; HTTP needs only `content()`), so nothing is parsed and encoded
    again on its way out. A subclass says how to parse them (`parse`)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._parsed: dict[str, Any] | None = None
        super().__init__(status, None, headers or {})

    def parse(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def body(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = self.parse()
        return self._parsed

    @body.setter
    def body(self, value: dict[str, Any] | None) -> None:
        if value is not None:
            self._parsed = value

    @property
    def parsed(self) -> bool:
        return self._parsed is not None


def stored_prefix(kind: Kind) -> str:
    """How an object stored in the version `kind` serves begins: such a text is sent as is."""
    return _prefix(kind.api_version)


@functools.cache
def _prefix(api_version: str) -> str:
    return '{"apiVersion":' + json.dumps(api_version) + ","


def served(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    """Objects are stored once per resource; serve them in the requested version."""
    if obj.get("apiVersion") != kind.api_version:
        obj = conversion.as_version(obj, kind.api_version)
    return obj


def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = selector.get("matchLabels") or {}
    scale_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if k in meta
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
        },
    }


def has_status(kind: Kind) -> bool:
    return "status" in kind.served_subresources


def as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.bad_request("the patched object must be a JSON object")
    return value


def _merge_for_subresource(
    kind: Kind, subresource: str, current: dict[str, Any], desired: dict[str, Any]
) -> dict[str, Any]:
    """Main writes keep the stored status; status writes change only the status."""
    if subresource == "status":
        merged = copy.deepcopy(current)
        merged["status"] = desired.get("status", current.get("status"))
        merged["metadata"]["resourceVersion"] = desired.get("metadata", {}).get(
            "resourceVersion", current["metadata"].get("resourceVersion")
        )
        owners = desired.get("metadata", {}).get("managedFields")
        if owners is not None:  # an apply to status has named its owners already
            merged["metadata"]["managedFields"] = owners
        return merged
    if has_status(kind):
        if "status" in current:
            desired["status"] = current["status"]
        else:
            desired.pop("status", None)
    return desired


def json_type(value: Any) -> str:
    """What Go's encoding/json calls a value's JSON type in its errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "value")


def _scale_part(scale: dict[str, Any], field: str, go_type: str) -> dict[str, Any]:
    """One of a Scale's objects, as Go decodes it: a wrong JSON type does not decode."""
    value = scale.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.bad_request(
            'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
            f"{json_type(value)} into Go struct field Scale.{field} of type {go_type}"
        )
    return value


def _scaled(current: dict[str, Any], scale: Any, name: str) -> dict[str, Any]:
    """The object with the replicas a written Scale asks for."""
    if not isinstance(scale, dict):
        raise errors.bad_request("the patched object must be a JSON object")
    replicas = _scale_part(scale, "spec", "v1.ScaleSpec").get("replicas")
    wanted = _scale_part(scale, "metadata", "v1.ObjectMeta").get("resourceVersion")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid(
            "Scale",
            name,
            [
                {
                    "reason": "FieldValueInvalid",
                    "field": "spec.replicas",
                    "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                }
            ],
            "autoscaling",
        )
    desired = copy.deepcopy(current)
    desired["spec"]["replicas"] = replicas
    desired["metadata"]["resourceVersion"] = wanted
    return desired


def _converted_back(
    kind: Kind,
    subresource: str,
    stored: dict[str, Any],
    written: dict[str, Any],
    desired: dict[str, Any],
) -> dict[str, Any]:
    """The written object in its stored version. The status is taken from the stored object
    on a main write, from the writer's own body on a status write, as kube-apiserver does
    after converting: the other version's view of it may not hold all of it."""
    result = conversion.to_storage(kind, desired)
    if subresource == "status":
        result["status"] = conversion.to_storage(kind, written).get("status", result.get("status"))
    elif "status" in stored:
        result["status"] = stored["status"]
    else:
        result.pop("status", None)
    return result


def write(
    request: ApiRequest,
    target: Route,
    transform: Any,
    operation: str = fieldmanager.UPDATE,
) -> ApiResponse:
    """Shared by PUT and PATCH: transform the current object, admit it, store it.

    An Update records its writer in managedFields here, after admission's defaults; an
    Apply's transform has already done so from what the applier sent.
    """
    kind = target.kind
    namespace = target.namespace or ""
    validation = field_validation(request.query)
    check_field_manager(request)
    manager = fieldmanager.manager_of(request)
    warnings: list[str] = []
    converted = conversion.converted(kind)

    def change(current: dict[str, Any]) -> dict[str, Any]:
        if target.subresource == "scale":
            return _scaled(current, transform(scale_of(current)), target.name)
        stored = current
        if converted:
            current = served(kind, current)
        desired = transform(copy.deepcopy(current))
        # Like kube-apiserver, a stale resourceVersion is a conflict before it is anything else.
        metadata = desired.get("metadata") if isinstance(desired, dict) else None
        wanted = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
        if wanted and str(wanted) != str(current["metadata"].get("resourceVersion")):
            raise errors.conflict(kind.plural, target.name, kind.group)
        desired = identity.check_identity(kind, desired, namespace, target.name)
        written = desired
        desired = _merge_for_subresource(kind, target.subresource, current, desired)
        warnings.extend(admit(kind, desired, validation, old=current, user=request.user))
        if operation == fieldmanager.UPDATE:
            fieldmanager.record_update(
                current,
                desired,
                manager,
                kind.api_version,
                target.subresource,
                has_status(kind),
                kind.is_custom,
                store.clock_now(),
            )
        if converted:
            return _converted_back(kind, target.subresource, stored, written, desired)
        return desired

    obj, _ = store.update(kind, namespace, target.name, change, dry_run=dry_run(request.query))
    obj = served(kind, obj)
    if target.subresource == "scale":
        obj = scale_of(obj)
    return ApiResponse(200, obj, warning_header(warnings))
