"""create: a new object, through admission into the store."""

from apiserver import errors
from apiserver.admission import admit
from apiserver.endpoints import identity
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import binding, common, connect, tokenrequest
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import conversion, store, strategies


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource == "binding":
        return binding.handle(request, target)
    if target.subresource == "token":
        return tokenrequest.handle(request, target)
    if target.subresource in connect.SUBRESOURCES:
        return connect.handle(request, target)
    if target.subresource:
        raise errors.method_not_allowed()
    common.check_field_manager(request)
    body = parse_body(request)
    obj = identity.check_identity(kind, body, target.namespace or "")
    meta = obj["metadata"]
    for owned in (
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "managedFields",
    ):
        meta.pop(owned, None)
    if common.has_status(kind) and not strategies.for_kind(kind).status_on_create:
        obj.pop("status", None)
    warnings = admit(kind, obj, common.field_validation(request.query), user=request.user)
    obj = conversion.to_storage(kind, obj)
    created = store.create(kind, obj, dry_run=common.dry_run(request.query))
    return ApiResponse(201, common.served(kind, created), common.warning_header(warnings))
