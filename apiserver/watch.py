"""Watch streams: newline-delimited JSON events, fed by the revision log.

Polling the revisions table works across processes and on both databases; an in-process
wake-up after each commit keeps latency low when the write happened in this process.
"""

import asyncio
import contextlib
import json
import random
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from apiserver import errors, store, tables
from apiserver.kinds import Kind
from apiserver.selectors import fields_match, labels_match, parse_fields, parse_labels

POLL_SECONDS = 0.15
BOOKMARK_SECONDS = 30.0
DEFAULT_TIMEOUT = 1800
MAX_TIMEOUT = 3600

_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
_waiters_lock = threading.Lock()


def wake_watchers() -> None:
    """Called after every committed write: wake the streams of this process at once."""
    with _waiters_lock:
        waiters = list(_waiters)
    for loop, event in waiters:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the loop has closed
            with _waiters_lock:
                _waiters.discard((loop, event))


store.commit_listeners.append(wake_watchers)


def pooled() -> bool:
    return bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))


def release_connection() -> None:
    """Give this thread's pooled connection back (run it in the thread that holds it)."""
    connection.close()


class Filter:
    """Which events a watch wants: its namespace, label and field selectors."""

    def __init__(self, kind: Kind, namespace: str | None, query: dict[str, str]) -> None:
        self.kind = kind
        self.namespace = namespace
        self.labels = parse_labels(query.get("labelSelector", ""))
        self.fields = parse_fields(query.get("fieldSelector", ""), kind.kind)

    @property
    def is_everything(self) -> bool:
        return not self.labels and not self.fields

    def matches(self, obj: dict[str, Any]) -> bool:
        return labels_match(self.labels, obj.get("metadata", {}).get("labels")) and fields_match(
            self.fields, obj
        )


def _event(event_type: str, obj: dict[str, Any]) -> bytes:
    return (store.dumps({"type": event_type, "object": obj}) + "\n").encode()


def initial_state(kind: Kind, namespace: str | None) -> tuple[list[dict[str, Any]], int]:
    return store.list_objects(kind, namespace)


def check_resource_version(value: str) -> int:
    """The revision to start after; 0 means 'send the current state first'."""
    if value in ("", "0"):
        return 0
    if not value.isdigit():
        raise errors.bad_request(f'invalid resource version "{value}"')
    return int(value)


async def events(
    kind: Kind,
    namespace: str | None,
    query: dict[str, str],
    as_table: bool = False,
) -> AsyncIterator[bytes]:
    """The event stream of one watch request, until timeoutSeconds (or the client) ends it."""
    watch_filter = Filter(kind, namespace, query)
    timeout = query.get("timeoutSeconds", "")
    seconds = min(int(timeout), MAX_TIMEOUT) if timeout.isdigit() else DEFAULT_TIMEOUT
    if not timeout.isdigit():
        seconds = int(seconds * (1 + random.random()) / 2) + DEFAULT_TIMEOUT // 2
    deadline = time.monotonic() + seconds
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    send_initial = query.get("sendInitialEvents") in ("true", "1")
    include = query.get("includeObject", "Metadata")
    first_table = True

    def shaped(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal first_table
        obj["apiVersion"] = kind.api_version
        if not as_table:
            return obj
        result = tables.table(kind, [obj], include, with_columns=first_table)
        first_table = False
        return result

    start = check_resource_version(query.get("resourceVersion", ""))
    cursor = start
    if start == 0 or send_initial:
        objects, revision = await sync_to_async(initial_state)(kind, namespace)
        for obj in objects:
            if watch_filter.matches(obj):
                yield _event("ADDED", shaped(obj))
        cursor = revision
        if send_initial:
            yield _event("BOOKMARK", _bookmark(kind, revision, initial_end=True))
    else:
        oldest = await sync_to_async(store.oldest_revision)()
        if oldest and start < oldest - 1:
            status = errors.gone(f"too old resource version: {start} ({oldest - 1})").status()
            yield _event("ERROR", status)
            return

    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    # With a connection pool, an idle stream hands its connection back between polls,
    # so open watches do not each hold one of the pool's few connections.
    is_pooled = pooled()
    with _waiters_lock:
        _waiters.add((loop, wake))
    last_sent = time.monotonic()
    try:
        while True:
            rows = await sync_to_async(store.revisions_after)(cursor, kind.resource, namespace)
            for revision, event_type, body in rows:
                cursor = revision
                obj = json.loads(body)
                event_type = await _seen_as(watch_filter, kind, event_type, obj, revision)
                if event_type:
                    yield _event(event_type, shaped(obj))
                    last_sent = time.monotonic()
            if rows:
                continue
            now = time.monotonic()
            if now >= deadline:
                return
            if bookmarks and now - last_sent >= BOOKMARK_SECONDS:
                yield _event("BOOKMARK", _bookmark(kind, cursor))
                last_sent = now
            wake.clear()
            if is_pooled:
                await sync_to_async(release_connection)()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(POLL_SECONDS, deadline - now))
    finally:
        with _waiters_lock:
            _waiters.discard((loop, wake))


async def _seen_as(
    watch_filter: Filter, kind: Kind, event_type: str, obj: dict[str, Any], revision: int
) -> str:
    """The event a selector-filtered watch sees: an object that starts matching is ADDED,
    one that stops matching is DELETED (as kube-apiserver does); "" means nothing."""
    matches = watch_filter.matches(obj)
    if event_type != "MODIFIED" or watch_filter.is_everything:
        return event_type if matches else ""
    meta = obj.get("metadata", {})
    before = await sync_to_async(store.previous_state)(
        kind.resource,
        meta.get("namespace", "") if kind.namespaced else "",
        meta.get("name", ""),
        revision,
    )
    matched = before is not None and watch_filter.matches(json.loads(before))
    if matches:
        return "MODIFIED" if matched else "ADDED"
    return "DELETED" if matched else ""


def _bookmark(kind: Kind, revision: int, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}
