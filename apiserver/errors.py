"""Failures as Kubernetes reports them: a `Status` object with a reason and a code.

kubectl prints `Error from server (<reason>): <message>` from these, so the message
wording follows kube-apiserver's.
"""

from typing import Any


class ApiError(Exception):
    """Raised anywhere in the pipeline; turned into a Status response at the edge."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A failed `Status`, shaped like kube-apiserver's."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        body["details"] = details
    body["code"] = code
    return body


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}}
    body["status"] = "Success"
    if details:
        body["details"] = details
    return body


def _details(plural: str, name: str, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{_qualified(plural, group)} "{name}" not found',
        _details(plural, name, group),
    )


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(plural, group)} "{name}" already exists',
        _details(plural, name, group),
    )


def conflict(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": the object '
        "has been modified; please apply your changes to the latest version and try again",
        _details(plural, name, group),
    )


def invalid(kind: str, name: str, causes: list[dict[str, str]], group: str = "") -> ApiError:
    """422 with one cause per bad field; kubectl prints `The Pod "x" is invalid: ...`."""
    summary = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    joined = summary[0] if len(summary) == 1 else "[" + ", ".join(summary) + "]"
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = causes
    return ApiError(
        422,
        "Invalid",
        f'{kind}.{group} "{name}" is invalid: {joined}'
        if group
        else f'{kind} "{name}" is invalid: {joined}',
        details,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str, plural: str = "", name: str = "", group: str = "") -> ApiError:
    details = _details(plural, name, group) if plural else None
    return ApiError(403, "Forbidden", message, details)


def method_not_allowed(verb: str = "") -> ApiError:
    message = "the server does not allow this method on the requested resource"
    return ApiError(405, "MethodNotAllowed", message)


def too_large(limit: int) -> ApiError:
    return ApiError(
        413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit} bytes"
    )


BODY_MEDIA_TYPES = ("application/json", "application/yaml")


def unsupported_media_type(
    content_type: str, accepted: tuple[str, ...] = BODY_MEDIA_TYPES
) -> ApiError:
    """415, worded as kube-apiserver words it, naming what came instead."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        f'{", ".join(accepted)}; got "{content_type}"',
    )


def not_acceptable() -> ApiError:
    return ApiError(
        406,
        "NotAcceptable",
        "only the following media types are accepted: application/json, application/yaml",
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def page_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def storage_busy() -> ApiError:
    """503 when the cluster store cannot be reached in time: try again, nothing was written."""
    return ApiError(
        503,
        "ServiceUnavailable",
        "the server is currently unable to handle the request: the cluster store is busy",
        {"retryAfterSeconds": 1},
        {"Retry-After": "1"},
    )


def internal(
    message: str = "an error on the server prevented the request from succeeding",
) -> ApiError:
    return ApiError(500, "InternalError", message)


class NotReadable(Exception):
    """A container log that cannot be read (not started, no earlier run): the message is
    the kubelet's, and the API server answers it as a 400."""
