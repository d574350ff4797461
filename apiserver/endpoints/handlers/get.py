"""get: one object, or its scale, or a Table row for kubectl get NAME; a Pod's log; an
object's history."""

from apiserver.endpoints import tables
from apiserver.endpoints.handlers import common, history, podlog
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource == "log":
        return podlog.handle(request, target)
    if target.subresource == history.SUBRESOURCE:
        return history.handle(request, target)
    obj = common.served(kind, store.get(kind, target.namespace or "", target.name))
    if target.subresource == "scale":
        return ApiResponse(200, common.scale_of(obj))
    if common.wants_table(request):
        include = request.query.get("includeObject", "Metadata")
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        return ApiResponse(200, tables.table(kind, [obj], include, meta))
    return ApiResponse(200, obj)
