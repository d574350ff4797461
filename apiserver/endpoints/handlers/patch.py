"""patch: merge, JSON, strategic merge and server-side apply patches."""

from apiserver import errors
from apiserver.endpoints import fieldmanager, patching
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
    _check_options(request, content_type)
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


def _check_options(request: ApiRequest, content_type: str) -> None:
    """PatchOptions validation, before the object is looked up, as kube-apiserver does."""
    if content_type == APPLY_PATCH and not request.query.get("fieldManager"):
        cause = "fieldManager", "FieldValueRequired", "Required value: is required for apply patch"
    elif content_type != APPLY_PATCH and "force" in request.query:
        cause = (
            "force",
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
        )
    else:
        return
    field, reason, message = cause
    causes = [{"reason": reason, "message": message, "field": field}]
    raise errors.invalid("PatchOptions", "", causes, "meta.k8s.io")


def _server_side_apply(request: ApiRequest, target: Route, patch: dict) -> ApiResponse:
    """Apply (`kubectl apply --server-side`): create if missing, else merge under ownership."""
    kind = target.kind
    force = request.query.get("force", "") == "true"

    def applied(live: dict) -> dict:
        return fieldmanager.apply(
            live,
            patch,
            request.query["fieldManager"],
            kind.api_version,
            target.subresource,
            common.has_status(kind),
            kind.is_custom,
            force,
            store.clock_now(),
        )

    try:
        store.get(kind, target.namespace or "", target.name)
    except errors.ApiError as error:
        if error.code != 404 or target.subresource:
            raise
        body = applied({"metadata": {}})
        if isinstance(body.get("metadata"), dict):
            body["metadata"].setdefault("name", target.name)
        return create.handle(
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
            applied=True,
        )
    return common.write(request, target, applied, operation=fieldmanager.APPLY)
