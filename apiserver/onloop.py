"""Reads answered on the event loop itself, where nothing on their way can wait.

Handing a request to a worker thread and back costs more than a GET does (two wake-ups
and the interpreter lock passed to and fro, each time with the other threads in line for
it). kube-apiserver pays nothing like it: a goroutine per request is cheap. So a read
that can only compute and read local files runs right on the loop: a plain GET or LIST
(no watch, no stream) on SQLite, whose WAL readers almost never wait for a writer (SQLite
documents rare exceptions, such as recovery after a crash), while no classroom fault can
make a request sleep and a learner seat is free.

Whatever might wait is turned back to a worker thread rather than done here: any statement
but a SELECT, or inside a transaction (`WouldBlock`, checked before it runs). If a worker
thread takes the last learner seat meanwhile, the read is not sent back: it gets 429 at
once (`fairness.in_flight`) instead of waiting in line as APF would. The audit row
of a read served here goes to the audit log's writer thread (`filters.audit`), which the
log's readers wait for (`audit.settle`), so none is lost and none is read late.

Django refuses database work on a thread running an event loop, to keep accidental
blocking out of async code. This lane is the deliberate exception: it tells Django so
only while a read runs (`_serving`), on one connection of its own kept for the loop.
"""

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection

# Requests whose path ends so stream or upgrade: never served here.
STREAMING_SUBRESOURCES = ("/log", "/exec", "/attach", "/portforward", "/proxy")


class WouldBlock(Exception):
    """Raised where a read on the loop would have to wait: serve it on a thread instead."""


_here = threading.local()
_context: contextvars.Context | None = None


def active() -> bool:
    """True while a request runs on the loop (on the loop's thread only)."""
    return getattr(_here, "active", False)


def enabled() -> bool:
    """WAREHOUSE_API_READS_ON_LOOP: "auto" (on SQLite with in-process limits), "on", "off"."""
    return chosen(
        getattr(settings, "WAREHOUSE_API_READS_ON_LOOP", "auto"),
        settings.DATABASES["default"]["ENGINE"],
        getattr(settings, "WAREHOUSE_RATE_LIMIT_BACKEND", "memory"),
    )


@functools.cache
def chosen(choice: str, engine: str, limits: str) -> bool:
    """Whether the setting `choice` serves reads here, with this database engine and
    rate-limit backend."""
    if choice == "auto":
        return engine.endswith("sqlite3") and limits != "redis"
    return choice == "on"


def _plain_read(method: str, path: str, query: dict[str, str]) -> bool:
    """A GET that neither watches nor streams (checked before any gate)."""
    if method != "GET":
        return False
    if query.get("watch") not in (None, "", "0", "false") or query.get("follow"):
        return False
    return not path.endswith(STREAMING_SUBRESOURCES) and "/auditevents" not in path


class _OnlyReads:
    """An execute wrapper: a statement that could wait for the write lock is not run here,
    nor anything inside a transaction the read opened (on SQLite, BEGIN IMMEDIATE)."""

    def __init__(self) -> None:
        self.depth = len(connection.atomic_blocks)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        opened = len(context["connection"].atomic_blocks) > self.depth
        if opened or sql.lstrip()[:6].upper() != "SELECT":
            raise WouldBlock(sql[:60])
        return execute(sql, params, many, context)


@contextmanager
def _serving() -> Iterator[None]:
    """The loop hidden from Django's async check, and only reads allowed, while a read runs."""
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    _here.active = True
    try:
        with connection.execute_wrapper(_OnlyReads()):
            yield
    finally:
        _here.active = False
        asyncio.events._set_running_loop(loop)


def try_serve[T](
    work: Callable[[Any], T], request: Any, nothing_waits: Callable[[], bool]
) -> T | None:
    """`work(request)` here and now if it is a plain read and `nothing_waits()` (asked on
    the loop's connection) says no fault or full lane would hold it, else None: serve it
    on a thread. A read turned back midway by `WouldBlock` has written nothing; at most it
    has already taken its rate-limit tokens, so it counts twice (no plain read writes).
    """
    if not _plain_read(request.method, request.path, request.query) or not enabled():
        return None
    global _context
    if _context is None:
        _context = contextvars.Context()
    return _context.run(_served, work, request, nothing_waits)


def _served[T](
    work: Callable[[Any], T], request: Any, nothing_waits: Callable[[], bool]
) -> T | None:
    with _serving():
        if not nothing_waits():
            return None
        try:
            return work(request)
        except WouldBlock:
            return None
