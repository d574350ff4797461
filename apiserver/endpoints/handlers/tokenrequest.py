"""create serviceaccounts/NAME/token: a signed token for the account (`kubectl create token`)."""

from datetime import UTC, datetime
from typing import Any

from apiserver import errors, serviceaccounts
from apiserver.endpoints.bodies import parse_body
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store


def _invalid(name: str, field: str, value: Any, message: str) -> errors.ApiError:
    cause = {"reason": "FieldValueInvalid", "message": f"Invalid value: {value!r}: {message}"}
    return errors.invalid("TokenRequest", name, [{**cause, "field": field}])


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    """POST serviceaccounts/x/token: a TokenRequest in, the same with its token out (201).

    Nothing is stored; the account must exist (404 otherwise), and the token lasts
    `spec.expirationSeconds` (an hour unless asked, at least ten minutes, at most 48 h).
    """
    body = parse_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a TokenRequest object")
    if body.get("kind", "TokenRequest") != "TokenRequest":
        raise errors.bad_request(f"a TokenRequest was expected, not {body.get('kind')!r}")
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise _invalid(target.name, "spec", spec, "must be an object")
    seconds = spec.get("expirationSeconds", serviceaccounts.DEFAULT_SECONDS)
    if seconds is None:
        seconds = serviceaccounts.DEFAULT_SECONDS
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise _invalid(target.name, "spec.expirationSeconds", seconds, "must be an integer")
    if seconds < serviceaccounts.MIN_SECONDS:
        raise _invalid(
            target.name,
            "spec.expirationSeconds",
            seconds,
            "may not specify a duration less than 10 minutes",
        )
    seconds = min(seconds, serviceaccounts.MAX_SECONDS)
    audiences = spec.get("audiences") or [serviceaccounts.API_AUDIENCE]
    if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
        raise _invalid(target.name, "spec.audiences", audiences, "must be a list of names")
    account = store.get(target.kind, target.namespace or "", target.name)
    token, expires = serviceaccounts.issue(account, seconds, audiences)
    meta = account["metadata"]
    answer = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "creationTimestamp": None,
        },
        "spec": {
            "audiences": audiences,
            "expirationSeconds": seconds,
            "boundObjectRef": spec.get("boundObjectRef"),
        },
        "status": {
            "token": token,
            "expirationTimestamp": datetime.fromtimestamp(expires, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        },
    }
    return ApiResponse(201, answer)
