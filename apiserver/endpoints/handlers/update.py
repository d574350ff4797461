"""update (PUT): replace an object, its status or its scale."""

import copy

from apiserver import errors
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    body = parse_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    if target.subresource == "scale":
        return common.write(request, target, lambda scale: body)
    return common.write(request, target, lambda current: copy.deepcopy(body))
