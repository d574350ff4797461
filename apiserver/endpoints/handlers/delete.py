"""delete and deletecollection: remove objects, or mark them Terminating for their grace period."""

from typing import Any

from apiserver import errors
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import common
from apiserver.endpoints.handlers.list import select
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store, strategies
from apiserver.registry.validation import is_integer

INT64 = 2**63
PROPAGATION = ("Foreground", "Background", "Orphan")
# The finalizer each policy leaves on the owner, for the garbage collector to act on.
CASCADE_FINALIZERS = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}
# The owners whose dependents the control plane's garbage collector follows: workloads.
CASCADING_GROUPS = ("apps", "batch")
# DeleteOptions' fields as Go decodes them: JSON type, the Go type named when it is wrong.
OPTION_TYPES: dict[str, tuple[type, str]] = {
    "kind": (str, "string"),
    "apiVersion": (str, "string"),
    "gracePeriodSeconds": (int, "int64"),
    "preconditions": (dict, "v1.Preconditions"),
    "orphanDependents": (bool, "bool"),
    "propagationPolicy": (str, "v1.DeletionPropagation"),
    "dryRun": (list, "[]string"),
}
PRECONDITION_TYPES = {"uid": "types.UID", "resourceVersion": "string"}


def _decodes_as(value: Any, wanted: type) -> bool:
    if wanted is int:
        return is_integer(value) and -INT64 <= value < INT64
    return isinstance(value, wanted)


def _cannot_unmarshal(value: Any, field: str, go_type: str) -> errors.ApiError:
    return errors.bad_request(
        f"json: cannot unmarshal {common.json_type(value)} into Go struct field {field} "
        f"of type {go_type}"
    )


def _delete_options(request: ApiRequest) -> dict[str, Any]:
    """The DeleteOptions body, decoded as kube-apiserver decodes it: wrong types are a 400."""
    if not request.body.strip():
        return {}
    options = parse_body(request)
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise errors.bad_request(
            f"json: cannot unmarshal {common.json_type(options)} into Go value of type "
            "v1.DeleteOptions"
        )
    for field, (wanted, go_type) in OPTION_TYPES.items():
        value = options.get(field)
        if value is None:
            continue
        if not _decodes_as(value, wanted):
            raise _cannot_unmarshal(value, f"DeleteOptions.{field}", go_type)
    for field, go_type in PRECONDITION_TYPES.items():
        value = (options.get("preconditions") or {}).get(field)
        if value is not None and not isinstance(value, str):
            raise _cannot_unmarshal(value, f"Preconditions.{field}", go_type)
    for value in options.get("dryRun") or ():
        if not isinstance(value, str):
            raise _cannot_unmarshal(value, "DeleteOptions.dryRun", "string")
    if options.get("kind") not in (None, "", "DeleteOptions"):
        raise errors.bad_request("decoded object cannot be converted to DeleteOptions")
    return options


def _validate(options: dict[str, Any], query: dict[str, str]) -> None:
    """ValidateDeleteOptions: a propagation policy and dry-run values the server knows."""
    causes = []
    policy = options.get("propagationPolicy", query.get("propagationPolicy"))
    if policy not in (None, "") and policy not in PROPAGATION:
        supported = ", ".join(f'"{p}"' for p in PROPAGATION)
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "message": f'Unsupported value: "{policy}": supported values: {supported}',
                "field": "propagationPolicy",
            }
        )
    dry_run = options.get("dryRun") or []
    if any(value != "All" for value in dry_run):
        shown = "[" + " ".join(dry_run) + "]"
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "message": f'Unsupported value: {shown}: supported values: "All"',
                "field": "dryRun",
            }
        )
    if causes:
        raise errors.invalid("DeleteOptions", "", causes, "meta.k8s.io")


def _cascade_finalizer(group: str, options: dict[str, Any], query: dict[str, str]) -> str:
    """The finalizer a cascading policy asks for: `orphan` (dependents stay, their owner
    reference removed) or `foregroundDeletion` (the owner stays until its dependents are
    gone), both left for the garbage collector; "" for the default, Background."""
    policy = options.get("propagationPolicy") or query.get("propagationPolicy") or ""
    orphan = options.get("orphanDependents", query.get("orphanDependents"))
    if not policy and orphan in (True, "true"):
        policy = "Orphan"
    if group not in CASCADING_GROUPS:
        return ""
    return CASCADE_FINALIZERS.get(policy, "")


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource:
        raise errors.method_not_allowed()
    options = _delete_options(request)
    _validate(options, request.query)
    preconditions = options.get("preconditions") or {}
    dry_run = common.dry_run(request.query) or bool(options.get("dryRun"))
    grace = options.get("gracePeriodSeconds", request.query.get("gracePeriodSeconds"))
    try:
        grace_seconds = None if grace in (None, "") else int(grace)
    except (TypeError, ValueError):
        raise errors.bad_request(f'invalid gracePeriodSeconds "{grace}"') from None
    obj = store.delete(
        kind,
        target.namespace or "",
        target.name,
        precondition_version=preconditions.get("resourceVersion"),
        precondition_uid=preconditions.get("uid"),
        dry_run=dry_run,
        grace_seconds=grace_seconds,
        grace=strategies.for_kind(kind).grace_seconds,
        finalizer=_cascade_finalizer(kind.group, options, request.query),
    )
    if strategies.for_kind(kind).delete_returns_object or obj["metadata"].get("deletionTimestamp"):
        return ApiResponse(200, common.served(kind, obj))
    details = {"name": target.name, "kind": kind.plural, "uid": obj["metadata"].get("uid")}
    if kind.group:
        details = {
            "name": target.name,
            "group": kind.group,
            "kind": kind.plural,
            "uid": obj["metadata"].get("uid"),
        }
    return ApiResponse(200, errors.success_status(details))


def handle_collection(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    options = _delete_options(request)
    _validate(options, request.query)
    objects, _ = store.list_objects(kind, target.namespace)
    dry_run = common.dry_run(request.query) or bool(options.get("dryRun"))
    for obj in select(kind, objects, request.query):
        meta = obj["metadata"]
        try:
            store.delete(
                kind,
                meta.get("namespace", ""),
                meta["name"],
                dry_run=dry_run,
                grace=strategies.for_kind(kind).grace_seconds,
            )
        except errors.ApiError as error:
            if error.code != 404:
                raise
    return ApiResponse(200, errors.success_status())
