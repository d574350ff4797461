"""Thin HTTP views: Django request -> ApiRequest -> pipeline -> JSON (or a watch stream)."""

import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from apiserver import errors, flags, pipeline
from apiserver.endpoints import watch
from apiserver.pipeline import ApiRequest, ApiResponse

JSON = "application/json"


def _api_request(request: HttpRequest) -> ApiRequest:
    limit = getattr(settings, "WAREHOUSE_MAX_BODY_BYTES", 1024 * 1024)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isascii() and length.isdigit() and int(length) > limit:
        raise errors.too_large(limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise errors.too_large(limit) from None
    return ApiRequest(
        method=request.method or "GET",
        path=request.path,
        query=_query(request),
        headers={key.lower(): value for key, value in request.headers.items()},
        body=body,
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )


def _query(request: HttpRequest) -> dict[str, str]:
    """One value per parameter, the last, as the API reads them; an exec's `command`, given
    once per word, is kept whole (words joined by spaces)."""
    query = {key: request.GET.get(key, "") for key in request.GET}
    if "command" in query:
        query["command"] = " ".join(request.GET.getlist("command"))
    return query


def _http(response: ApiResponse) -> HttpResponse:
    headers = dict(response.headers)
    content_type = headers.pop("content-type", JSON)
    if response.more is not None:
        body = _then(response.content(), response.more())
        http = StreamingHttpResponse(body, status=response.status, content_type=content_type)
        http["Cache-Control"] = "no-cache, private"
    else:
        http = HttpResponse(response.content(), status=response.status, content_type=content_type)
    for name, value in headers.items():
        http[name] = value
    return http


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body so far, then the rest as it comes (a followed log)."""
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()


def _error(error: errors.ApiError) -> HttpResponse:
    return _http(ApiResponse(error.code, error.status(), error.headers))


def _is_watch(request: HttpRequest) -> bool:
    return request.method == "GET" and request.GET.get("watch") in flags.TRUE


@csrf_exempt
async def api(request: HttpRequest) -> HttpResponse:
    """Every Kubernetes API path: discovery, resources, subresources, watches."""
    try:
        api_request = _api_request(request)
    except errors.ApiError as error:
        return _error(error)
    if _is_watch(request):
        return await _watch(api_request)
    response = await _in_thread(request, pipeline.handle, api_request)
    return _http(response)


async def _in_thread(request: HttpRequest, work: Callable[[ApiRequest], Any], *args: Any) -> Any:
    """Run the pipeline on a worker thread.

    Django's handler gives each request a thread of its own (started and joined per request)
    and checks database connections as the request starts and ends. `hub.asgi`'s lean lane
    skips both, marking the request: its work then runs on a pool of long-lived threads of
    its own, which check their connections after each request as Django would.
    """
    if getattr(request, "lean_lane", False):
        run = sync_to_async(then_check_connections, thread_sensitive=False, executor=api_threads())
        return await run(work, *args)
    return await sync_to_async(work)(*args)


@functools.cache
def api_threads() -> ThreadPoolExecutor:
    """The API's worker threads: more than the loop's default (cores + 4), so a few requests
    waiting on a locked store do not hold up the rest (WAREHOUSE_API_THREADS)."""
    return ThreadPoolExecutor(
        max_workers=getattr(settings, "WAREHOUSE_API_THREADS", 16), thread_name_prefix="api"
    )


def then_check_connections(work: Callable[..., Any], *args: Any) -> Any:
    """Run `work`, then close this thread's connections if broken or too old.

    CONN_MAX_AGE=0 means "one request" because Django's threads live for one request; these
    threads serve many, so an unpooled connection is kept for the next one rather than
    reopened each time (a new SQLite connection costs more than a whole GET). Pooled ones go
    back to the pool as usual.
    """
    try:
        return work(*args)
    finally:
        for connection in connections.all(initialized_only=True):
            settings_dict = connection.settings_dict
            if settings_dict["CONN_MAX_AGE"] == 0 and not settings_dict["OPTIONS"].get("pool"):
                connection.close_at = None
            connection.close_if_unusable_or_obsolete()


async def _watch(api_request: ApiRequest) -> HttpResponse:
    opened = await sync_to_async(pipeline.open_watch)(api_request, first_reads=True)
    if isinstance(opened, ApiResponse):
        return _http(opened)
    seat = opened.seat
    try:
        if watch.pooled():
            # This thread serves other watches too; its pooled connection goes back now
            # rather than when the watch ends, or each open watch would pin one.
            await sync_to_async(watch.release_connection)()
        stream = watch.events(
            opened.kind,
            opened.namespace,
            api_request.query,
            opened.as_table,
            owner=opened.owner,
            opened=opened.opening,
        )
        response = StreamingHttpResponse(_seated(stream, seat), content_type=JSON)
    except BaseException:
        if seat is not None:
            seat.release()
        raise
    if seat is not None:
        # Also when the stream never started: the response is closed however it ends.
        response._resource_closers.append(seat.release)
    response["Cache-Control"] = "no-cache, private"
    return response


async def _seated(stream: AsyncIterator[bytes], seat: Any) -> AsyncIterator[bytes]:
    """The stream, giving its watch seat back the moment it ends (timeout, client, shutdown)."""
    try:
        async for chunk in stream:
            yield chunk
    finally:
        if seat is not None:
            seat.release()


def health(request: HttpRequest) -> HttpResponse:
    """/healthz, /livez, /readyz: public, plain `ok` like kube-apiserver."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
