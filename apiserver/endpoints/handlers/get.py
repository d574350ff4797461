"""get: one object, or its scale, or a Table row for kubectl get NAME; a Pod's log; an
object's history."""

import json
from typing import Any

from apiserver.endpoints import tables
from apiserver.endpoints.handlers import common, history, podlog
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store
from apiserver.registry.kinds import Kind


class StoredOne(common.AsStored):
    """One object as stored: sent over HTTP in the version it is stored in, it goes out as
    it is."""

    def __init__(self, kind: Kind, text: str) -> None:
        self._kind, self._text = kind, text
        super().__init__(200)

    def parse(self) -> dict[str, Any]:
        return common.served(self._kind, json.loads(self._text))

    def content(self) -> bytes:
        if not self.parsed and self._text.startswith(common.stored_prefix(self._kind)):
            return self._text.encode()
        return super().content()


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource == "log":
        return podlog.handle(request, target)
    if target.subresource == history.SUBRESOURCE:
        return history.handle(request, target)
    if not target.subresource and not common.wants_table(request):
        return StoredOne(kind, store.get_text(kind, target.namespace or "", target.name))
    obj = common.served(kind, store.get(kind, target.namespace or "", target.name))
    if target.subresource == "scale":
        return ApiResponse(200, common.scale_of(obj))
    if common.wants_table(request):
        include = request.query.get("includeObject", "Metadata")
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        return ApiResponse(200, tables.table(kind, [obj], include, meta))
    return ApiResponse(200, obj)
