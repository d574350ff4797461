"""A fast lane through the middleware for the Kubernetes API's paths.

Django's built-in middleware is synchronous, so under ASGI each one costs two hops to a
worker thread and back, per request: some 3 ms before the API's own view even starts.
The API needs none of what they add for pages (sessions, CSRF, users, messages, htmx):
it authenticates bearer tokens itself, and its view is CSRF-exempt. So API paths are
served straight from here, keeping what still applies to them: the Host check
(ALLOWED_HOSTS) and the security headers, added inline because they are pure CPU work.
Every other path goes down the usual chain.

The catalog pages the store shares between all visitors (`catalog.pagecache`) leave the
chain the same way once cached, while the catalog is known not to have moved.
"""

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware

from apiserver.server.urls import view_for
from catalog import pagecache


def _unused(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("the fast path's security headers are added, not chained")


class ApiFastPathMiddleware:
    """Serve /api, /apis, /openapi, /version, the health checks and cached catalog pages
    without the page middleware."""

    # Async only: under ASGI (production) Django then runs it on the event loop, before
    # any thread hop; under WSGI (runserver, the sync test client) it is adapted once.
    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.security = SecurityMiddleware(_unused)
        self.frames = XFrameOptionsMiddleware(_unused)
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        view = view_for(request.path_info)
        page = None if view is not None else pagecache.current(request)
        response = await self.serve(request, view, page)
        return response if response is not None else await self.get_response(request)

    async def serve(
        self, request: HttpRequest, view: Callable | None, page: pagecache.Page | None
    ) -> HttpResponse | None:
        """The API view's answer or the cached page, with the headers pages would get; None
        when there is neither (`hub.asgi` calls this directly for its lean lane)."""
        if view is None and page is None:
            return None
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it (else 400)
        response = self.security.process_request(request)
        if response is None:
            if page is not None:
                response = pagecache.respond(request, page)
            else:
                response = view(request)
                if iscoroutinefunction(view):
                    response = await response
        response = self.security.process_response(request, response)
        response = self.frames.process_response(request, response)
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # as CommonMiddleware
        return response
