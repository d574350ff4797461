"""create selfsubjectaccessreviews / selfsubjectrulesreviews / selfsubjectreviews:
`kubectl auth can-i`, `kubectl auth can-i --list` and `kubectl auth whoami`.

Answered by the same RBAC authorizer the authorization filter asks, and never stored.
"""

from typing import Any

from apiserver import admission, errors
from apiserver.endpoints import identity
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.models import ClusterUser
from apiserver.rbac import authorizer
from apiserver.rbac.rules import Request


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _access(spec: dict[str, Any], user: ClusterUser) -> dict[str, Any]:
    """Would RBAC allow what `spec` describes? (a resource, or a non-resource URL)"""
    resource = spec.get("resourceAttributes")
    if isinstance(resource, dict):
        request = Request(
            verb=_text(resource.get("verb")),
            group=_text(resource.get("group")),
            resource=_text(resource.get("resource")) or "*",
            subresource=_text(resource.get("subresource")),
            namespace=_text(resource.get("namespace")),
            name=_text(resource.get("name")),
        )
    else:
        path = spec.get("nonResourceAttributes")
        path = path if isinstance(path, dict) else {}
        request = Request(verb=_text(path.get("verb")), path=_text(path.get("path")))
    allowed, reason = authorizer.decide(user, request)
    return {"allowed": allowed} | ({"reason": reason} if reason else {})


def _rules(namespace: str, user: ClusterUser) -> dict[str, Any]:
    """Every rule the caller holds in `namespace`, split as `kubectl auth can-i --list` reads."""
    resource_rules, url_rules = [], []
    for rule in authorizer.rules_for(user, namespace):
        if rule.get("nonResourceURLs"):
            url_rules.append({"verbs": rule["verbs"], "nonResourceURLs": rule["nonResourceURLs"]})
        else:
            resource_rules.append(
                {
                    k: rule[k]
                    for k in ("verbs", "apiGroups", "resources", "resourceNames")
                    if rule.get(k)
                }
            )
    return {"resourceRules": resource_rules, "nonResourceRules": url_rules, "incomplete": False}


def handle(request: ApiRequest, target: Route, user: ClusterUser) -> ApiResponse:
    """Answer a question the caller asks about themselves."""
    kind = target.kind
    review = parse_body(request)
    if not isinstance(review, dict):
        raise errors.bad_request("the request body must be a JSON object")
    review = identity.check_identity(kind, review, "")
    warnings = admission.decode(kind, review, common.field_validation(request.query))
    review["metadata"] = {"creationTimestamp": None}
    spec = review.get("spec") if isinstance(review.get("spec"), dict) else {}
    if kind.plural == "selfsubjectreviews":
        username, groups = authorizer.user_info(user)
        review["status"] = {"userInfo": {"username": username, "groups": list(groups)}}
    elif kind.plural == "selfsubjectrulesreviews":
        review["status"] = _rules(_text(spec.get("namespace")), user)
    else:
        review["status"] = _access(spec, user)
    return ApiResponse(201, review, common.warning_header(warnings))
