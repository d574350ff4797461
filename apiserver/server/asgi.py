"""Watch requests share a few threads, so that an open watch holds none.

Django runs a request's synchronous work (signal receivers, the pipeline's gates, store
reads) on a thread of that request's own, kept until its response ends. For a watch that
is as long as the stream is open: a thousand idle watches were a thousand threads, each
with its own database connection and memory that was not given back. Watch requests run
their synchronous work on one of `WATCH_THREADS` shared threads instead, one call at a
time each; between events a stream is only a coroutine waiting on its queue.

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

WATCH_THREADS = 4
API_PREFIXES = ("/api/", "/apis/")

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
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return query.get("watch", [""])[-1] in ("true", "1")


def watch_thread() -> ThreadPoolExecutor:
    """The next of the shared single-thread executors, in turn."""
    with _lock:
        if not _threads:
            _threads.extend(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"watch-{index}")
                for index in range(WATCH_THREADS)
            )
        return _threads[next(_turns) % len(_threads)]


class SharedWatchThreads:
    """ASGI middleware: a watch request's thread-sensitive calls go to a shared thread."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not is_watch(scope):
            await self.application(scope, receive, send)
            return
        # Django's own ThreadSensitiveContext, entered inside, then uses this one.
        async with ThreadSensitiveContext(executor=watch_thread()):
            await self.application(scope, receive, send)
