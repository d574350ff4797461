"""The API's front door at the ASGI level: bytes in, the pipeline, bytes out.

kube-apiserver has no web framework between the socket and its handler chain, and the
API needs nothing a framework adds for pages (sessions, CSRF, templates, users). So an
API request (watches aside, which stream through `views`) never becomes a Django
request: its scope and body become an `ApiRequest` here, the pipeline runs on one of the
API's long-lived worker threads (or, for a plain read on SQLite, on the event loop itself:
`apiserver.onloop`), and its `ApiResponse` goes straight back as ASGI messages, with the
headers every page gets. On one core of a small machine that halves
what a GET costs around the pipeline (`bench/floor.py`).

What still applies is kept: the Host check (ALLOWED_HOSTS), the HTTPS redirect when it
is configured, and the security headers, computed once by Django's own middleware so they
cannot drift from the pages'. A request this lane would have to answer differently
(a host not allowed, a redirect) is left to Django's usual path, which answers it.
"""

import asyncio
import functools
from collections.abc import AsyncIterator
from email.header import Header
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware

from apiserver import errors, onloop, pipeline
from apiserver.filters import fairness, faults
from apiserver.pipeline import ApiRequest, ApiResponse
from apiserver.server import views

JSON = "application/json"
HOSTS_REMEMBERED = 64  # distinct Host headers whose verdict is kept


async def serve(scope: dict[str, Any], receive: Any, send: Any) -> bool:
    """Answer one API request; False, having read nothing, when Django's path must."""
    headers = _headers(scope)
    secure = _is_secure(scope, headers)
    if not _host_allowed(headers.get("host", ""), headers.get("x-forwarded-host", ""), scope):
        return False
    if settings.SECURE_SSL_REDIRECT and not secure:
        return False
    try:
        body = await _body(receive, headers)
    except errors.ApiError as error:
        refusal = ApiResponse(error.code, error.status(), error.headers)
        await _send(send, refusal, refusal.content(), secure, receive)
        return True
    if body is None:
        return True  # the client went before sending all of it
    client = scope.get("client")
    request = ApiRequest(
        method=scope["method"],
        path=scope["path"],
        query=_query(scope),
        headers=headers,
        body=body,
        remote_addr=client[0] if client else "",
    )
    answered = onloop.try_serve(_answer_here, request, _nothing_waits)
    if answered is None:
        loop = asyncio.get_running_loop()
        answered = await loop.run_in_executor(
            views.api_threads(), views.then_check_connections, _answer, request
        )
    response, content = answered
    await _send(send, response, content, secure, receive)
    return True


def _nothing_waits() -> bool:
    """No classroom fault may make a request sleep, and a learner seat is free now."""
    return faults.quiet() and fairness.seats_free()


def _answer_here(request: ApiRequest) -> tuple[ApiResponse, bytes]:
    """A plain read, answered on the event loop (`apiserver.onloop`)."""
    return views.then_check_connections(_answer, request)


def _answer(request: ApiRequest) -> tuple[ApiResponse, bytes]:
    """The pipeline's answer and its body's bytes, encoded on the worker thread too, so the
    event loop only moves bytes."""
    response = pipeline.handle(request)
    return response, response.content()


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    """Lower-case names; a header sent twice is joined with commas, as Django joins it."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _query(scope: dict[str, Any]) -> dict[str, str]:
    """One value per parameter, the last, as `views` reads them; `command` words joined."""
    text = scope.get("query_string", b"").decode("utf-8", "replace")
    pairs = parse_qsl(
        text, keep_blank_values=True, max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    )
    query = dict(pairs)
    if "command" in query:
        query["command"] = " ".join(value for key, value in pairs if key == "command")
    return query


def _is_secure(scope: dict[str, Any], headers: dict[str, str]) -> bool:
    """HTTPS as Django decides it, trusting SECURE_PROXY_SSL_HEADER when it is set."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name, secure_value = proxy
        forwarded = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if forwarded is not None:
            return forwarded.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _host_allowed(host: str, forwarded_host: str, scope: dict[str, Any]) -> bool:
    server = scope.get("server") or ("", 0)
    rules = (tuple(settings.ALLOWED_HOSTS), settings.DEBUG, settings.USE_X_FORWARDED_HOST)
    return _host_verdict(host, forwarded_host, server[0] or "", str(server[1] or ""), rules)


@functools.lru_cache(maxsize=HOSTS_REMEMBERED)
def _host_verdict(
    host: str, forwarded_host: str, server_name: str, server_port: str, rules: tuple
) -> bool:
    """Django's own Host check (ALLOWED_HOSTS, X-Forwarded-Host when trusted), run once per
    distinct Host and settings: a room sends the same one all day."""
    request = HttpRequest()
    request.META = {"SERVER_NAME": server_name, "SERVER_PORT": server_port}
    if host:
        request.META["HTTP_HOST"] = host
    if forwarded_host:
        request.META["HTTP_X_FORWARDED_HOST"] = forwarded_host
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


async def _body(receive: Any, headers: dict[str, str]) -> bytes | None:
    """The whole body, refused as too large past WAREHOUSE_MAX_BODY_BYTES; None when the
    client disconnected first."""
    limit = settings.WAREHOUSE_MAX_BODY_BYTES
    length = headers.get("content-length", "0")
    if length.isascii() and length.isdigit() and int(length) > limit:
        raise errors.too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise errors.too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Any, response: ApiResponse, first: bytes, secure: bool, receive: Any) -> None:
    headers = dict(response.headers)
    content_type = headers.pop("content-type", JSON)
    start = [(b"Content-Type", _latin1(content_type))]
    start.extend((name.encode("latin-1"), _latin1(value)) for name, value in headers.items())
    start.extend(_security_headers(secure, _security_settings()))
    if response.more is not None:
        start.append((b"Cache-Control", b"no-cache, private"))
        await send({"type": "http.response.start", "status": response.status, "headers": start})
        await _stream(send, receive, first, response.more())
        return
    start.append((b"Content-Length", str(len(first)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": start})
    await send({"type": "http.response.body", "body": first})


async def _stream(send: Any, receive: Any, first: bytes, rest: AsyncIterator[bytes]) -> None:
    """A body that goes on (a followed log) until it ends or the client leaves."""

    async def pump() -> None:
        if first:
            await send({"type": "http.response.body", "body": first, "more_body": True})
        async for chunk in rest:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def client_left() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(client_left())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await rest.aclose()


def _latin1(value: str) -> bytes:
    """A header value as Django encodes one: Latin-1, else MIME-encoded UTF-8."""
    value = value.replace("\r", " ").replace("\n", " ")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return Header(value, "utf-8").encode().encode("ascii")


def _security_settings() -> tuple:
    return (
        settings.SECURE_HSTS_SECONDS,
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
        settings.SECURE_HSTS_PRELOAD,
        settings.SECURE_CONTENT_TYPE_NOSNIFF,
        settings.SECURE_REFERRER_POLICY,
        settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        settings.X_FRAME_OPTIONS,
    )


@functools.lru_cache(maxsize=8)
def _security_headers(secure: bool, rules: tuple) -> tuple[tuple[bytes, bytes], ...]:
    """The headers Django's security and clickjacking middleware add to every answer, for
    these settings (the argument only keys the cache)."""

    class Probe(HttpRequest):
        def _get_scheme(self) -> str:
            return "https" if secure else "http"

    request, response = Probe(), HttpResponse()
    before = set(response.headers)
    SecurityMiddleware(_never).process_response(request, response)
    XFrameOptionsMiddleware(_never).process_response(request, response)
    return tuple(
        (name.encode("latin-1"), _latin1(value))
        for name, value in response.headers.items()
        if name not in before
    )


def _never(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("only the middleware's process_response is used")
