"""delete and deletecollection: remove objects, or mark them Terminating for their grace period."""

from typing import Any

from apiserver import errors
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import common
from apiserver.endpoints.handlers.list import select
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store, strategies


def _delete_options(request: ApiRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.body.strip():
        parsed = parse_body(request)
        if isinstance(parsed, dict):
            options = parsed
    return options


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource:
        raise errors.method_not_allowed()
    options = _delete_options(request)
    preconditions = options.get("preconditions") or {}
    dry_run = common.dry_run(request.query) or options.get("dryRun") == ["All"]
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
    objects, _ = store.list_objects(kind, target.namespace)
    dry_run = common.dry_run(request.query)
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
