"""Streams share a few threads, so that an open watch or live page holds none.

Django runs a request's synchronous work (signal receivers, the pipeline's gates, store
reads, a page's rendering) on a thread of that request's own, kept until its response
ends. For a stream that is as long as it is open: a thousand idle watches were a thousand
threads, each with its own database connection and memory that was not given back.
Streams (API watches, and the live pages' Server-Sent Events, whose paths end in
`/events/`) run their synchronous work on one of `WATCH_THREADS` shared threads instead,
one call at a time each; between events a stream is only a coroutine waiting on its
queue. Each call on a shared thread gives its pooled database connection back when it
returns, so streams that wait hold no connection either.

Each TLS connection also had a 256 KiB read buffer of asyncio's, zero-filled, so resident
for as long as the connection is open: a quarter of a gigabyte for a thousand watches.
API requests are small, so the buffer here is one TLS record's worth.
"""

import asyncio.sslproto
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import ThreadSensitiveContext
from django.db import connections

from apiserver import flags

WATCH_THREADS = 4
API_PREFIXES = ("/api/", "/apis/")
# A live page's stream of Server-Sent Events: every such path ends so.
PAGE_STREAM_SUFFIX = "/events/"

TLS_READ_BUFFER = 16 * 1024  # bytes per connection; asyncio's default is 256 KiB

# Read by each new connection's SSLProtocol, so setting it when the app loads suffices.
asyncio.sslproto.SSLProtocol.max_size = TLS_READ_BUFFER

_threads: list[ThreadPoolExecutor] = []
_turns = itertools.count()
_lock = threading.Lock()


def is_watch(scope: dict[str, Any]) -> bool:
    """A GET on the Kubernetes API with watch=true (or 1), as the API view decides it."""
    if scope.get("type") != "http" or scope.get("method") != "GET":
        return False
    if not scope.get("path", "").startswith(API_PREFIXES):
        return False
    raw = scope.get("query_string", b"")
    if b"watch" not in raw:
        return False  # most requests: no need to parse the query
    query = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
    return query.get("watch", [""])[-1] in flags.TRUE


def is_page_stream(scope: dict[str, Any]) -> bool:
    """A GET of a live page's event stream."""
    return (
        scope.get("type") == "http"
        and scope.get("method") == "GET"
        and scope.get("path", "").endswith(PAGE_STREAM_SUFFIX)
        and not scope["path"].startswith(API_PREFIXES)
    )


def is_stream(scope: dict[str, Any]) -> bool:
    return is_watch(scope) or is_page_stream(scope)


def _giving_back(work: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `work`, then hand this thread's pooled connections back (not mid-transaction)."""
    try:
        return work(*args, **kwargs)
    finally:
        for connection in connections.all(initialized_only=True):
            if connection.settings_dict["OPTIONS"].get("pool") and not connection.in_atomic_block:
                connection.close()


class _StreamThread(ThreadPoolExecutor):
    """One shared thread; each call it runs gives its pooled connection back."""

    def submit(self, work: Any, /, *args: Any, **kwargs: Any) -> Any:
        return super().submit(_giving_back, work, *args, **kwargs)


def watch_thread() -> ThreadPoolExecutor:
    """The next of the shared single-thread executors, in turn."""
    with _lock:
        if not _threads:
            _threads.extend(
                _StreamThread(max_workers=1, thread_name_prefix=f"watch-{index}")
                for index in range(WATCH_THREADS)
            )
        return _threads[next(_turns) % len(_threads)]


class SharedWatchThreads:
    """ASGI middleware: a stream's thread-sensitive calls go to a shared thread."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not is_stream(scope):
            await self.application(scope, receive, send)
            return
        # Django's own ThreadSensitiveContext, entered inside, then uses this one.
        async with ThreadSensitiveContext(executor=watch_thread()):
            await self.application(scope, receive, send)
