"""get and list of AuditEvents: read from the audit log, never from the object store.

Writes never get here: the kind serves get, list and watch only, so the pipeline answers
any other verb 405 MethodNotAllowed before a handler runs.
"""

from typing import Any

from apiserver import errors
from apiserver.endpoints import tables
from apiserver.endpoints.handlers import common
from apiserver.endpoints.handlers.list import select
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import auditevents


def _limit(value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) > 0:
        return min(int(value), auditevents.LIMIT_MAX)
    return auditevents.LIST_DEFAULT


def handle(request: ApiRequest, target: Route, verb: str) -> ApiResponse:
    kind = target.kind
    include = request.query.get("includeObject", "Metadata")
    if verb == "get":
        obj = auditevents.get(target.namespace or "", target.name)
        if obj is None:
            raise errors.not_found(kind.plural, target.name, kind.group)
        if common.wants_table(request):
            meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
            return ApiResponse(200, tables.table(kind, [obj], include, meta))
        return ApiResponse(200, obj)
    objects, newest = auditevents.recent(target.namespace, _limit(request.query.get("limit", "")))
    objects = select(kind, objects, request.query)
    meta: dict[str, Any] = {"resourceVersion": str(newest)}
    if common.wants_table(request):
        return ApiResponse(200, tables.table(kind, objects, include, meta))
    body = {"kind": "AuditEventList", "apiVersion": kind.api_version, "metadata": meta}
    return ApiResponse(200, {**body, "items": objects})
