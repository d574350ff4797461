"""The shop's only way into the cluster: requests through the API server's pipeline.

Pages never touch the store. They build the same `ApiRequest` kubectl's HTTP call would
become, pass it to `pipeline.handle()` (authentication, authorization, admission, store,
audit, watchers), and keep both halves so the page can show them to the learner.
"""

import json
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, ApiResponse, handle

USER_AGENT = "warehouse-web"
CLIENT = "browser"


def group_slug(group: str) -> str:
    """How a group appears in the shop's URLs: "core" stands for the unnamed group."""
    return group or "core"


def group_name(slug: str) -> str:
    """The API group behind a URL slug."""
    return "" if slug == "core" else slug


def api_prefix(group: str, version: str) -> str:
    """The core group lives under /api, every named group under /apis/<group>."""
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def collection_path(group: str, version: str, plural: str, namespace: str = "") -> str:
    """Where a list of this kind lives, e.g. /api/v1/namespaces/alice/pods."""
    if namespace:
        return f"{api_prefix(group, version)}/namespaces/{namespace}/{plural}"
    return f"{api_prefix(group, version)}/{plural}"


def object_path(group: str, version: str, plural: str, namespace: str, name: str) -> str:
    """Where one object lives, e.g. /api/v1/namespaces/alice/pods/web."""
    return f"{collection_path(group, version, plural, namespace)}/{name}"


@dataclass
class Exchange:
    """One request through the front door and its answer, ready to show on a page."""

    request: ApiRequest
    response: ApiResponse
    secret: bool = False

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def ok(self) -> bool:
        return 200 <= self.response.status < 300

    @property
    def body(self) -> dict[str, Any]:
        return self.response.body or {}

    @property
    def is_status(self) -> bool:
        return self.body.get("kind") == "Status"

    @property
    def reason(self) -> str:
        """Kubernetes' one-word reason (NotFound, Invalid, ...) or the HTTP phrase."""
        if self.is_status and self.body.get("reason"):
            return str(self.body["reason"])
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if self.is_status else ""

    @property
    def causes(self) -> list[dict[str, str]]:
        """The per-field complaints of a 422 Invalid answer."""
        details = self.body.get("details") or {}
        causes = details.get("causes") if isinstance(details, dict) else None
        return [c for c in causes or [] if isinstance(c, dict)]

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) and not self.is_status else {}

    @property
    def http_request(self) -> str:
        """The raw HTTP text of the request, body pretty-printed for reading."""
        request = self.request
        if request.body:
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = None
            if parsed is not None:
                if self.secret:
                    parsed = redact_secret(parsed)
                request = replace(request, body=json.dumps(parsed, indent=2).encode())
        return request.as_http()

    @property
    def http_response(self) -> str:
        """The raw HTTP text of the response; Secret values are hidden."""
        response = self.response
        if self.secret and isinstance(response.body, dict):
            response = replace(response, body=redact_secret(response.body))
        return response.as_http()


def call(
    user: ClusterUser,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    secret: bool = False,
    headers: dict[str, str] | None = None,
) -> Exchange:
    """Send one request through the pipeline as `user`, the way a browser order travels.

    `secret` hides Secret values when the exchange is shown on a page; `headers` adds
    request headers (lower case), e.g. a conditional list's if-none-match.
    """
    headers = {"accept": "application/json", "user-agent": USER_AGENT, **(headers or {})}
    data = b""
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body, allow_nan=False).encode()
    request = ApiRequest(
        method=method,
        path=path,
        query=dict(query or {}),
        headers=headers,
        body=data,
        client=CLIENT,
        user=user,
    )
    return Exchange(request=request, response=handle(request), secret=secret)


def redact_secret(obj: Any) -> Any:
    """A copy of a Secret (or list of them) with its values replaced, names kept."""
    if not isinstance(obj, dict):
        return obj
    copy = dict(obj)
    if isinstance(copy.get("items"), list):
        copy["items"] = [redact_secret(item) for item in copy["items"]]
    for key in ("data", "stringData"):
        if isinstance(copy.get(key), dict):
            copy[key] = dict.fromkeys(copy[key], "(hidden)")
    return copy
