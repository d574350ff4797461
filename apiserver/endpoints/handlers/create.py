"""create: a new object, through admission into the store."""

from apiserver import errors
from apiserver.admission import admit
from apiserver.endpoints import fieldmanager, identity
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import binding, common, connect, tokenrequest
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import conversion, store, strategies


def handle(request: ApiRequest, target: Route, applied: bool = False) -> ApiResponse:
    """`applied`: the body comes from a server-side apply and already names its owner."""
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
    for owned in ("uid", "resourceVersion", "creationTimestamp", "generation", "deletionTimestamp"):
        meta.pop(owned, None)
    if not applied:
        meta.pop("managedFields", None)
    if common.has_status(kind) and not strategies.for_kind(kind).status_on_create:
        obj.pop("status", None)
    warnings = admit(kind, obj, common.field_validation(request.query), user=request.user)
    if not applied:
        fieldmanager.record_create(
            obj,
            fieldmanager.manager_of(request),
            kind.api_version,
            common.has_status(kind),
            kind.is_custom,
            store.clock_now(),
        )
    obj = conversion.to_storage(kind, obj)
    created = store.create(kind, obj, dry_run=common.dry_run(request.query))
    return ApiResponse(201, common.served(kind, created), common.warning_header(warnings))
