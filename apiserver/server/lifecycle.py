"""Whether this server process is shutting down, for streams that should end by themselves.

uvicorn tells no in-flight request that it is stopping: after its graceful timeout it
cancels them, and each open stream dies with a traceback in the log. A stream that waits
on `shutdown()` instead ends its response normally the moment `begin_shutdown()` is called
(`manage.py serve` calls it on SIGINT or SIGTERM), so clients see a clean end and reconnect.
"""

import asyncio
import threading

_lock = threading.Lock()
_stopping = False
_waiters: set[asyncio.Future[None]] = set()


def begin_shutdown() -> None:
    """Wake every stream waiting on `shutdown()`, from any thread."""
    global _stopping
    with _lock:
        _stopping = True
        waiters = list(_waiters)
    for waiter in waiters:
        loop = waiter.get_loop()
        if not loop.is_closed():
            loop.call_soon_threadsafe(_wake, waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def reset() -> None:
    """Serve again (tests start and stop servers in one process)."""
    global _stopping
    with _lock:
        _stopping = False


async def shutdown() -> None:
    """Returns once the process has begun to shut down."""
    waiter = asyncio.get_running_loop().create_future()
    with _lock:
        if _stopping:
            return
        _waiters.add(waiter)
    try:
        await waiter
    finally:
        with _lock:
            _waiters.discard(waiter)
