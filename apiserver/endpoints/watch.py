"""Watch streams: newline-delimited JSON events, fed by the revision log.

Polling the revisions table works across processes and on both databases; an in-process
wake-up after each commit keeps latency low when the write happened in this process.

The polling is shared: all the streams of one event loop (one server process) subscribe
to one `_Feed`, which reads every new revision once per interval and hands each stream
the rows of its kind and namespace through an asyncio queue. A hundred idle watches cost
one small query per interval per process, not a hundred. A stream catches up from its
own resourceVersion by itself first, so resuming works as before, and writes made by
other processes are still seen, by the shared poll.
"""

import asyncio
import json
import math
import random
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from apiserver import errors
from apiserver.endpoints import tables
from apiserver.endpoints.selectors import fields_match, labels_match, parse_fields, parse_labels
from apiserver.registry import store
from apiserver.registry.kinds import Kind

POLL_SECONDS = 0.15
BOOKMARK_SECONDS = 30.0
DEFAULT_TIMEOUT = 1800
MAX_TIMEOUT = 3600

# At most this many rows wait for a slow stream; past that it re-reads the log itself.
QUEUE_ROWS = 1000

# One feed per event loop with open streams; it goes when its last stream does.
_feeds: dict[asyncio.AbstractEventLoop, "_Feed"] = {}
_feeds_lock = threading.Lock()


def wake_watchers() -> None:
    """Called after every committed write: wake the streams of this process at once."""
    with _feeds_lock:
        feeds = list(_feeds.items())
    for loop, feed in feeds:
        try:
            loop.call_soon_threadsafe(feed.kick)
        except RuntimeError:  # the loop has closed
            with _feeds_lock:
                _feeds.pop(loop, None)


Row = tuple[int, str, str, str, str]  # id, resource, namespace, event type, body


class _Subscriber:
    """One stream's place on the feed: what it watches and the rows waiting for it."""

    def __init__(self, resource: str, namespace: str | None) -> None:
        self.resource = resource
        self.namespace = namespace
        self.rows: asyncio.Queue[Row | None] = asyncio.Queue(maxsize=QUEUE_ROWS)
        self.behind = False  # the queue overflowed: re-read the log from the cursor

    def wants(self, row: Row) -> bool:
        return row[1] == self.resource and self.namespace in (None, row[2])

    def offer(self, item: Row | None) -> None:
        if self.behind:
            return
        try:
            self.rows.put_nowait(item)
        except asyncio.QueueFull:
            self.behind = True


def _read_new(after: int) -> list[Row]:
    rows = store.all_revisions_after(after)
    if pooled():
        release_connection()
    return rows


def _read_start() -> int:
    value = store.current_revision()
    if pooled():
        release_connection()
    return value


class _Feed:
    """The revision log read once per interval for every watch stream on one event loop.

    There is no background task: whichever stream's wait runs out (or is kicked by a
    local commit) polls for everyone, and the others find the poll already done. So the
    feed lives exactly as long as its streams, on their loop and their threads.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.subscribers: set[_Subscriber] = set()
        self.cursor: int | None = None
        self.lock = asyncio.Lock()
        self.polled_at = -math.inf
        self.wanted = 0  # local commits seen (kicks); `done` is how many a poll covered
        self.done = 0

    async def subscribe(self, resource: str, namespace: str | None) -> _Subscriber:
        """Join; every row committed after this returns is offered to the subscriber.

        The feed's starting point is read before the first subscriber joins, so rows up
        to it are already committed and a catch-up read that starts afterwards sees them.
        """
        async with self.lock:
            if self.cursor is None:
                self.cursor = await sync_to_async(_read_start)()
                self.polled_at = time.monotonic()
            subscriber = _Subscriber(resource, namespace)
            self.subscribers.add(subscriber)
            with _feeds_lock:  # in case its last stream left while this one waited
                _feeds.setdefault(self.loop, self)
            return subscriber

    def unsubscribe(self, subscriber: _Subscriber) -> None:
        self.subscribers.discard(subscriber)
        if not self.subscribers:
            # The last stream has gone: a later one starts a feed afresh.
            with _feeds_lock:
                if _feeds.get(self.loop) is self:
                    del _feeds[self.loop]

    def kick(self) -> None:
        """A commit in this process: have the next waiting stream poll at once."""
        self.wanted += 1
        for subscriber in list(self.subscribers):
            subscriber.offer(None)

    async def poll(self) -> None:
        """Read new revisions for everyone, unless a poll just did (or covered a kick)."""
        async with self.lock:
            fresh = time.monotonic() - self.polled_at < POLL_SECONDS * 0.9
            if self.cursor is None or (fresh and self.done >= self.wanted):
                return
            wanted = self.wanted
            while True:
                rows = await sync_to_async(_read_new)(self.cursor)
                if rows and rows[0][0] > self.cursor + 1:
                    # Compaction overtook the feed: each stream re-reads from its own
                    # place and learns whether its history is still there.
                    for subscriber in self.subscribers:
                        subscriber.behind = True
                for row in rows:
                    self.cursor = max(self.cursor, row[0])
                    for subscriber in list(self.subscribers):
                        if subscriber.wants(row):
                            subscriber.offer(row)
                if len(rows) < store.REVISION_BATCH:
                    break
            self.polled_at = time.monotonic()
            self.done = wanted


def _feed() -> _Feed:
    loop = asyncio.get_running_loop()
    with _feeds_lock:
        feed = _feeds.get(loop)
        if feed is None:
            feed = _feeds[loop] = _Feed(loop)
        return feed


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
        self.fields = parse_fields(query.get("fieldSelector", ""), kind)

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
    if not (value.isascii() and value.isdigit()):
        raise errors.bad_request(f'invalid resource version "{value}"')
    return int(value)


def timeout_seconds(value: str) -> int:
    """How long a watch stays open: timeoutSeconds as asked (capped) when it is a count of
    ASCII digits, else a default spread over time so the clients do not all come back at once."""
    if value.isascii() and value.isdigit():
        return min(int(value), MAX_TIMEOUT)
    return int(DEFAULT_TIMEOUT * (1 + random.random()) / 2) + DEFAULT_TIMEOUT // 2


def too_old(revision: int) -> dict[str, Any] | None:
    """The 410 Gone status when the log no longer holds every change after `revision`
    (it was compacted), else None."""
    oldest = store.oldest_revision()
    if oldest and revision < oldest - 1:
        return errors.gone(f"too old resource version: {revision} ({oldest - 1})").status()
    return None


async def events(
    kind: Kind,
    namespace: str | None,
    query: dict[str, str],
    as_table: bool = False,
) -> AsyncIterator[bytes]:
    """The event stream of one watch request, until timeoutSeconds (or the client) ends it."""
    watch_filter = Filter(kind, namespace, query)
    deadline = time.monotonic() + timeout_seconds(query.get("timeoutSeconds", ""))
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
    elif gone := await sync_to_async(too_old)(start):
        yield _event("ERROR", gone)
        return

    feed = _feed()
    subscriber = await feed.subscribe(kind.resource, namespace)
    last_sent = time.monotonic()
    catching_up = True
    held: list[Row] = []  # a row taken from the queue while waiting, handled next
    try:
        while True:
            kicked = False
            if catching_up or subscriber.behind:
                # From our own cursor to the present, with our own reads; rows the feed
                # offers meanwhile wait in the queue, and those already seen are skipped.
                subscriber.behind = False
                rows = await sync_to_async(store.revisions_after)(cursor, kind.resource, namespace)
                gap = bool(rows) and rows[0][0] > cursor + 1
                if gap and (gone := await sync_to_async(too_old)(cursor)):
                    yield _event("ERROR", gone)
                    return
                catching_up = bool(rows)
                if not rows and pooled():
                    # An idle stream holds no pooled connection between events.
                    await sync_to_async(release_connection)()
            else:
                rows, kicked = _drain(subscriber, held)
            for revision, event_type, body in rows:
                if revision <= cursor:
                    continue
                cursor = revision
                obj = json.loads(body)
                event_type = await _seen_as(watch_filter, kind, event_type, obj, revision)
                if event_type:
                    yield _event(event_type, shaped(obj))
                    last_sent = time.monotonic()
            if kicked:
                await feed.poll()
            if rows or kicked or catching_up or subscriber.behind:
                continue
            now = time.monotonic()
            if now >= deadline:
                return
            if bookmarks and now - last_sent >= BOOKMARK_SECONDS:
                yield _event("BOOKMARK", _bookmark(kind, cursor))
                last_sent = now
            try:
                item = await asyncio.wait_for(
                    subscriber.rows.get(), timeout=min(POLL_SECONDS, deadline - now)
                )
            except TimeoutError:
                await feed.poll()
            else:
                if item is None:
                    await feed.poll()
                else:
                    held.append(item)
    finally:
        feed.unsubscribe(subscriber)


def _drain(subscriber: _Subscriber, held: list[Row]) -> tuple[list[tuple[int, str, str]], bool]:
    """The rows the feed queued for a stream, and whether a local commit asked for a poll."""
    rows: list[tuple[int, str, str]] = [(item[0], item[3], item[4]) for item in held]
    held.clear()
    kicked = False
    while not subscriber.rows.empty() and len(rows) < store.REVISION_BATCH:
        item = subscriber.rows.get_nowait()
        if item is None:
            kicked = True
        else:
            rows.append((item[0], item[3], item[4]))
    return rows, kicked


def seen_as(
    watch_filter: Filter, kind: Kind, event_type: str, obj: dict[str, Any], revision: int
) -> str:
    """The event a selector-filtered watch sees: an object that starts matching is ADDED,
    one that stops matching is DELETED (as kube-apiserver does); "" means nothing."""
    matches = watch_filter.matches(obj)
    if event_type != "MODIFIED" or watch_filter.is_everything:
        return event_type if matches else ""
    meta = obj.get("metadata", {})
    before = store.previous_state(
        kind.resource,
        meta.get("namespace", "") if kind.namespaced else "",
        meta.get("name", ""),
        revision,
    )
    matched = before is not None and watch_filter.matches(json.loads(before))
    if matches:
        return "MODIFIED" if matched else "ADDED"
    return "DELETED" if matched else ""


async def _seen_as(
    watch_filter: Filter, kind: Kind, event_type: str, obj: dict[str, Any], revision: int
) -> str:
    if event_type != "MODIFIED" or watch_filter.is_everything:
        return seen_as(watch_filter, kind, event_type, obj, revision)
    return await sync_to_async(seen_as)(watch_filter, kind, event_type, obj, revision)


class Follower:
    """A watch read synchronously: each `poll()` returns the events since the last one.

    The loopback client's watches use it (the control plane's informers follow their
    kinds this way); HTTP watches stream the same events through `events()`.
    """

    def __init__(self, kind: Kind, namespace: str | None, query: dict[str, str]) -> None:
        self.kind = kind
        self.namespace = namespace
        self.filter = Filter(kind, namespace, query)
        self.cursor = check_resource_version(query.get("resourceVersion", ""))
        self.listed = self.cursor != 0
        self.as_table = False
        self.seat: Any = None  # fairness.WatchSeat while capped, given back when it ends

    @property
    def resource_version(self) -> str:
        return str(self.cursor)

    def poll(self) -> list[tuple[str, dict[str, Any]]]:
        """(event type, object) pairs committed since the last poll, oldest first.

        Raises 410 Gone when the log no longer reaches back to this watch's place, as
        kube-apiserver does; the caller lists again and opens a new watch.
        """
        kind = self.kind
        if not self.listed:
            objects, self.cursor = store.list_objects(kind, self.namespace)
            self.listed = True
            return [("ADDED", _versioned(kind, o)) for o in objects if self.filter.matches(o)]
        events: list[tuple[str, dict[str, Any]]] = []
        while True:
            rows = store.revisions_after(self.cursor, kind.resource, self.namespace)
            if rows and rows[0][0] > self.cursor + 1:
                oldest = store.oldest_revision()
                if oldest and self.cursor < oldest - 1:
                    raise errors.gone(f"too old resource version: {self.cursor} ({oldest - 1})")
            for revision, event_type, body in rows:
                self.cursor = revision
                obj = json.loads(body)
                seen = seen_as(self.filter, kind, event_type, obj, revision)
                if seen:
                    events.append((seen, _versioned(kind, obj)))
            if len(rows) < store.REVISION_BATCH:
                return events


def _versioned(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    obj["apiVersion"] = kind.api_version
    return obj


def _bookmark(kind: Kind, revision: int, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}
