"""create selfsubjectaccessreviews / selfsubjectreviews: `kubectl auth can-i` and `whoami`.

Answered from the same rules the authorization filter applies, and never stored."""

from apiserver import admission, errors
from apiserver.endpoints import identity
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.authorization import authorize
from apiserver.filters.requestinfo import Route
from apiserver.models import ClusterUser
from apiserver.registry import kinds


def handle(request: ApiRequest, target: Route, user: ClusterUser) -> ApiResponse:
    """`kubectl auth can-i` and `kubectl auth whoami`: answered from the same rules."""
    kind = target.kind
    review = parse_body(request)
    if not isinstance(review, dict):
        raise errors.bad_request("the request body must be a JSON object")
    review = identity.check_identity(kind, review, "")
    warnings = admission.decode(kind, review, common.field_validation(request.query))
    review["metadata"] = {"creationTimestamp": None}
    if kind.plural == "selfsubjectreviews":
        groups = ["system:authenticated"]
        if user.role != ClusterUser.Role.LEARNER:
            groups.insert(0, f"warehouse:{user.role}s")
        review["status"] = {"userInfo": {"username": user.username, "groups": groups}}
        return ApiResponse(201, review, common.warning_header(warnings))
    attributes = (review.get("spec") or {}).get("resourceAttributes") or {}
    allowed, reason = True, ""
    asked = kinds.index().by_resource.get(
        f"{attributes.get('group', '')}/{attributes.get('resource', '')}"
    )
    if asked is not None:
        namespace = attributes.get("namespace") or None
        question = Route(
            kind=asked,
            namespace=namespace if asked.namespaced else None,
            name=attributes.get("name", ""),
            subresource=attributes.get("subresource", ""),
        )
        try:
            authorize(user, attributes.get("verb", ""), question)
        except errors.ApiError as error:
            allowed, reason = False, error.message
    elif user.role == ClusterUser.Role.LEARNER and attributes:
        allowed, reason = False, "no such resource in this cluster"
    review["status"] = {"allowed": allowed} | ({"reason": reason} if reason else {})
    return ApiResponse(201, review, common.warning_header(warnings))
