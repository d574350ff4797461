"""One handler per verb: what the API server does once a request has passed every gate.

`get`, `list`, `create`, `update`, `patch`, `delete` and `deletecollection` answer at
once; `watch` opens a stream. Subresources ride on their verb (a Pod's binding and a
ServiceAccount's token are creates, status and scale are get, update and patch).
"""

from collections.abc import Callable

from apiserver.endpoints.handlers import create, delete, get, list, patch, update
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route

HANDLERS: dict[str, Callable[[ApiRequest, Route], ApiResponse]] = {
    "get": get.handle,
    "list": list.handle,
    "create": create.handle,
    "update": update.handle,
    "patch": patch.handle,
    "delete": delete.handle,
    "deletecollection": delete.handle_collection,
}
