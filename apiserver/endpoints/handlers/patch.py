"""patch: merge, JSON, strategic merge and server-side apply patches."""

import copy

from apiserver import errors
from apiserver.endpoints import patching
from apiserver.endpoints.bodies import APPLY_PATCH, parse_body
from apiserver.endpoints.handlers import common, create
from apiserver.endpoints.request import JSON, ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    accepted = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)
    if not kind.is_custom:
        accepted = (*accepted, STRATEGIC_PATCH)
    if content_type not in accepted:
        raise errors.unsupported_media_type(content_type, accepted)
    patch = parse_body(request)
    if content_type == JSON_PATCH:
        return common.write(
            request, target, lambda current: common.as_object(patching.json_patch(current, patch))
        )
    if not isinstance(patch, dict):
        raise errors.bad_request("the patch must be a JSON object")
    if content_type == APPLY_PATCH:
        return _server_side_apply(request, target, patch)
    if content_type == STRATEGIC_PATCH:
        return common.write(
            request, target, lambda current: patching.strategic_merge_patch(current, patch)
        )
    return common.write(
        request, target, lambda current: common.as_object(patching.merge_patch(current, patch))
    )


def _server_side_apply(request: ApiRequest, target: Route, patch: dict) -> ApiResponse:
    """Apply (`kubectl apply --server-side`): create if missing, else merge the intent in."""
    if not request.query.get("fieldManager"):
        raise errors.bad_request("PATCH with apply requires a fieldManager to be set")
    kind = target.kind
    try:
        store.get(kind, target.namespace or "", target.name)
    except errors.ApiError as error:
        if error.code != 404 or target.subresource:
            raise
        body = copy.deepcopy(patch)
        body.setdefault("metadata", {})
        if isinstance(body["metadata"], dict):
            body["metadata"].setdefault("name", target.name)
        created = create.handle(
            ApiRequest(
                "POST",
                request.path,
                request.query,
                {**request.headers, "content-type": JSON},
                store.dumps(body).encode(),
                request.client,
                request.user,
            ),
            Route(kind=kind, namespace=target.namespace),
        )
        return created
    return common.write(
        request,
        target,
        lambda current: (
            patching.strategic_merge_patch(current, patch)
            if not kind.is_custom
            else common.as_object(patching.merge_patch(current, patch))
        ),
    )
