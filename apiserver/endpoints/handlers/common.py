"""What the verb handlers share: reading query options, shaping answers, the write loop."""

import copy
from typing import Any

from apiserver import errors
from apiserver.admission import admit
from apiserver.endpoints import identity
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store
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


def warning_header(warnings: list[str]) -> dict[str, str]:
    if not warnings:
        return {}
    quoted = ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)
    return {"warning": quoted}


def wants_table(request: ApiRequest) -> bool:
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return TABLE_MEDIA in first and "g=meta.k8s.io" in first


def served(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    """Objects are stored once per resource; serve them in the requested version."""
    if obj.get("apiVersion") != kind.api_version:
        obj["apiVersion"] = kind.api_version
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
        return merged
    if has_status(kind):
        if "status" in current:
            desired["status"] = current["status"]
        else:
            desired.pop("status", None)
    return desired


def write(
    request: ApiRequest,
    target: Route,
    transform: Any,
) -> ApiResponse:
    """Shared by PUT and PATCH: transform the current object, admit it, store it."""
    kind = target.kind
    namespace = target.namespace or ""
    validation = field_validation(request.query)
    warnings: list[str] = []

    def change(current: dict[str, Any]) -> dict[str, Any]:
        if target.subresource == "scale":
            scale = transform(scale_of(current))
            replicas = (
                (scale.get("spec") or {}).get("replicas") if isinstance(scale, dict) else None
            )
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise errors.invalid(
                    "Scale",
                    target.name,
                    [
                        {
                            "reason": "FieldValueInvalid",
                            "field": "spec.replicas",
                            "message": f"Invalid value: {replicas}: "
                            "must be greater than or equal to 0",
                        }
                    ],
                    "autoscaling",
                )
            desired = copy.deepcopy(current)
            desired["spec"]["replicas"] = replicas
            wanted = (scale.get("metadata") or {}).get("resourceVersion")
            desired["metadata"]["resourceVersion"] = wanted
            return desired
        desired = transform(copy.deepcopy(current))
        # Like kube-apiserver, a stale resourceVersion is a conflict before it is anything else.
        metadata = desired.get("metadata") if isinstance(desired, dict) else None
        wanted = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
        if wanted and str(wanted) != str(current["metadata"].get("resourceVersion")):
            raise errors.conflict(kind.plural, target.name, kind.group)
        desired = identity.check_identity(kind, desired, namespace, target.name)
        desired = _merge_for_subresource(kind, target.subresource, current, desired)
        warnings.extend(admit(kind, desired, validation, old=current, user=request.user))
        return desired

    obj, _ = store.update(kind, namespace, target.name, change, dry_run=dry_run(request.query))
    obj = served(kind, obj)
    if target.subresource == "scale":
        obj = scale_of(obj)
    return ApiResponse(200, obj, warning_header(warnings))
