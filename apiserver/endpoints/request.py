"""What travels through the pipeline: one request in, one response out.

However a request arrives (HTTPS from kubectl, a web page, the control plane's loopback
client), it becomes an `ApiRequest`; every stage answers with an `ApiResponse`.
"""

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from apiserver.models import ClusterUser
from apiserver.registry.store import dumps

if TYPE_CHECKING:
    from apiserver.flow import Trail

JSON = "application/json"


@dataclass
class ApiRequest:
    """One call to the API, however it arrived (HTTP, a web page, the control plane)."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    client: str = ""
    user: ClusterUser | None = None
    # The peer's address as the connection gives it (never X-Forwarded-For, which anyone
    # may write): the catch-all lane keeps one bucket per address.
    remote_addr: str = ""
    # An exec's command, one word per `command` parameter (the query keeps them joined).
    command: list[str] = field(default_factory=list)

    def as_http(self) -> str:
        """The request as raw HTTP text, for the page showing 'the request behind this click'."""
        target = self.path + (f"?{urlencode(self.query)}" if self.query else "")
        lines = [f"{self.method} {target} HTTP/1.1"]
        for name, value in self.headers.items():
            if name.lower() == "authorization" and value.lower().startswith("bearer "):
                value = "Bearer <token>"
            lines.append(f"{_header_case(name)}: {value}")
        if self.user is not None and "authorization" not in self.headers:
            lines.append("Authorization: Bearer <token>")
        text = "\r\n".join(lines) + "\r\n\r\n"
        if self.body:
            text += self.body.decode("utf-8", errors="replace")
        return text


@dataclass
class ApiResponse:
    """What the pipeline answers: a status code, a JSON-able body and headers."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a body that is not JSON (a container's log)
    # What follows the body, for as long as it lasts (`kubectl logs -f`): served as a stream.
    more: Callable[[], AsyncIterator[bytes]] | None = None
    # The request's way through the pipeline's stages, for pages; never sent over HTTP.
    trail: "Trail | None" = field(default=None, repr=False, compare=False)

    def content(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else dumps(self.body).encode()

    def as_http(self, indent: bool = True) -> str:
        """The response as raw HTTP text (pretty-printed JSON by default, for reading)."""
        reason = (
            HTTPStatus(self.status).phrase if self.status in HTTPStatus._value2member_map_ else ""
        )
        lines = [f"HTTP/1.1 {self.status} {reason}".rstrip()]
        headers = {"content-type": JSON, **self.headers}
        lines.extend(f"{_header_case(k)}: {v}" for k, v in headers.items())
        text = "\r\n".join(lines) + "\r\n\r\n"
        if self.raw is not None:
            text += self.raw.decode("utf-8", "replace")
        elif self.body is not None:
            text += json.dumps(self.body, indent=2 if indent else None, ensure_ascii=False)
        return text


def _header_case(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
