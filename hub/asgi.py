"""The ASGI application: Django's handler, with a lean lane for the hot requests.

Django's ASGI handler gives every request a fresh thread-sensitive context, so the first
synchronous step of each request (the request_started signal's connection check) starts
a thread and the end joins it; the signals themselves hop to that thread and back. The
Kubernetes API's requests (watches aside) need no Django request at all: they go from
here to the pipeline and back as bytes (`apiserver.server.handler`), on the API's
long-lived worker threads. The cached catalog pages are served by
`ApiFastPathMiddleware.serve` straight from here. Everything else, and
anything the lean lane cannot answer, takes Django's usual path; WebSockets are
`kubectl exec` streams (`apiserver.server.exec`); the synchronous steps of
a stream (an API watch, a live page's events) run on a few shared threads
(`apiserver.server.asgi`), so an open stream holds none.
"""

import os
import sys
from contextlib import closing
from urllib.parse import parse_qsl

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import response_for_exception
from django.urls import set_script_prefix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django.setup(set_prefix=False)

from apiserver import flags  # noqa: E402
from apiserver.server import exec as exec_stream  # noqa: E402
from apiserver.server import handler, views  # noqa: E402 - after django.setup()
from apiserver.server.asgi import SharedWatchThreads  # noqa: E402
from apiserver.server.urls import view_for  # noqa: E402
from catalog import pagecache  # noqa: E402
from hub.middleware import ApiFastPathMiddleware  # noqa: E402


class WarehouseHandler(ASGIHandler):
    """Django's ASGI handler, serving API requests and cached pages in a lean lane."""

    def __init__(self) -> None:
        super().__init__()
        self.fast_path = ApiFastPathMiddleware(self._middleware_chain)

    async def __call__(self, scope, receive, send) -> None:
        if exec_stream.is_exec(scope):
            await exec_stream.serve(scope, receive, send)
            return
        lane = _lean_lane(scope) if scope["type"] == "http" else None
        if lane == (views.api, None) and await handler.serve(scope, receive, send):
            return
        if lane is None:
            await super().__call__(scope, receive, send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            request, error = self.create_request(scope, body_file)
            if request is None:
                await self.send_response(error, send)
                error.close()
                return
            request.lean_lane = True
            try:
                response = await self.fast_path.serve(request, *lane)
            except Exception as exc:
                response = await sync_to_async(response_for_exception, thread_sensitive=False)(
                    request, exc
                )
            response._handler_class = self.__class__
            try:
                await self.send_response(response, send)
            finally:
                response.close()


def _lean_lane(scope) -> tuple | None:
    """(view, page) for a request the lean lane serves, else None."""
    if scope.get("root_path"):
        return None
    path = scope["path"]
    view = view_for(path)
    if view is views.api:
        raw = scope.get("query_string", b"")
        if b"watch" not in raw:
            return view, None
        query = dict(parse_qsl(raw.decode("latin-1")))
        return None if query.get("watch") in flags.TRUE else (view, None)
    if view is not None:
        return view, None
    if scope["method"] != "GET" or scope.get("query_string"):
        return None
    if any(name == b"hx-request" for name, _ in scope.get("headers", ())):
        return None
    page = pagecache.current_page(path)
    return None if page is None else (None, page)


# Streams skip the lean lane; their synchronous steps share a few threads instead.
application = SharedWatchThreads(WarehouseHandler())

# A write holds the cluster's revision counter until it commits, across a round trip to
# the database; coming back, its thread waits for the interpreter, up to the switch
# interval (5 ms by default) per busy thread ahead of it, with every other writer in the
# cluster queued on the lock behind. A shorter interval shortens that convoy
# (bench/workshop_load.py: with 1 ms, 300 learners on 2 cores hold their targets).
sys.setswitchinterval(settings.WAREHOUSE_SWITCH_INTERVAL_MS / 1000)
