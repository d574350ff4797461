"""Watch streams: newline-delimited JSON events, fed by the revision log.

The revisions table is the source of truth; what changes is how a process learns that
it has new rows. A commit in this process wakes its feed at once. On PostgreSQL every
committed write also sends a NOTIFY (see `store._next_revision`), and each process
holds one listening connection, so a write made by another process, or another host
sharing the database, wakes the feed too: it then reads the new rows by id, and while
nothing is written it reads nothing (bar a slow safety re-read, and one after each
reconnect of the listening connection). SQLite is one host: there the feed polls.

The reading is shared: all the streams of one event loop (one server process) subscribe
to one `_Feed`, whose one task reads every new revision once and hands each stream the
rows of its kind and namespace through an asyncio queue. A thousand idle watches cost
one small query per interval per process on SQLite and none on PostgreSQL, and an idle
stream does nothing at all until its queue has something: no thread, no timer, no
pooled database connection (every read gives its connection straight back). A stream
catches up from its own resourceVersion by itself first, so resuming works as before,
and writes made by other processes are still seen, by the shared feed.

The feed also checks, in one query, that the users with open streams still hold the
token they opened them with: rotating a learner's token or deactivating them ends their
streams in every server process. It checks when told that some user's credentials
changed (in this process at commit; on PostgreSQL by a NOTIFY sent in the change's own
transaction), and otherwise only with the slow safety re-read; on SQLite every few seconds.

The audit log is watched the same way (`registry.auditevents`): a feed of its own reads
audit rows by id, woken in-process right after each audit INSERT and, on PostgreSQL, by
the NOTIFY that the INSERT statement itself sends on its own channel. Each `Log` says where
a feed reads and listens; the streams do not care which one they follow.
"""

import asyncio
import contextlib
import ctypes
import json
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import AsyncToSync, sync_to_async
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction

from apiserver import errors, flags
from apiserver.endpoints import tables
from apiserver.endpoints.selectors import fields_match, labels_match, parse_fields, parse_labels
from apiserver.filters import audit
from apiserver.models import ClusterUser
from apiserver.registry import auditevents, conversion, store
from apiserver.registry.kinds import Kind

log = logging.getLogger(__name__)

POLL_SECONDS = 0.15
# With a listening connection, a re-read this often all the same, should a NOTIFY be lost.
SAFETY_SECONDS = 45.0
# The listening connection's reconnect delays: doubling from the first up to the last.
RECONNECT_SECONDS = (0.25, 15.0)
CREDENTIALS_SECONDS = 2.0
BOOKMARK_SECONDS = 30.0
DEFAULT_TIMEOUT = 1800
MAX_TIMEOUT = 3600

REVOKED = errors.ApiError(
    401, "Unauthorized", "Unauthorized: the token this watch was opened with was revoked"
)

# After a burst of at least this many streams, most of them closing gives memory back.
TRIM_AFTER_STREAMS = 100

# The feed wakes at most this many streams before letting the event loop run others.
OFFER_SLICE = 50

# At most this many rows wait for a slow stream; past that it re-reads the log itself.
QUEUE_ROWS = 1000

_feeds_lock = threading.Lock()

# The feeds' reads, one at a time, on one thread of their own per process.
_feed_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watch-feed")


Row = tuple[int, str, str, str, str]  # id, resource, namespace, event type, body


@dataclass
class Log:
    """A table that watches follow by id: where its feed reads, and where it listens.

    `dense` logs number every row with no gaps (the revision counter), so a gap means
    compaction overtook the feed; an auto-increment id (the audit log) may skip numbers.
    `compacted` is the newest id compaction may have removed: a reader from before it may
    have missed a row.
    """

    name: str
    channel: str
    start: Callable[[], int]
    all_after: Callable[[int], list[Row]]
    after: Callable[[int, str, str | None], list[tuple[int, str, str]]]
    compacted: Callable[[], int]
    dense: bool = True
    # One feed per event loop with open streams; it goes when its last stream does.
    feeds: dict[asyncio.AbstractEventLoop, "_Feed"] = field(default_factory=dict)

    def wake(self) -> None:
        """Have this process's feeds of this log read at once."""
        if not self.feeds:
            return
        with _feeds_lock:
            feeds = list(self.feeds.items())
        for loop, feed in feeds:
            try:
                loop.call_soon_threadsafe(feed.kick)
            except RuntimeError:  # the loop has closed
                with _feeds_lock:
                    self.feeds.pop(loop, None)


# Looked up at each call, so a store function replaced later (tests) is the one used.
REVISIONS = Log(
    "revisions",
    store.REVISIONS_CHANNEL,
    lambda: store.current_revision(),
    lambda after: store.all_revisions_after(after),
    lambda after, resource, namespace: store.revisions_after(after, resource, namespace),
    lambda: store.compacted_through(),
)
AUDIT = Log(
    "audit",
    audit.CHANNEL,
    auditevents.newest_id,
    auditevents.all_events_after,
    auditevents.events_after,
    lambda: max(auditevents.oldest_id() - 1, 0),
    dense=False,
)
_feeds = REVISIONS.feeds


def log_for(kind: Kind) -> Log:
    return AUDIT if kind.resource == auditevents.RESOURCE else REVISIONS


def wake_watchers() -> None:
    """Called after every committed write: have this process's feeds poll at once."""
    REVISIONS.wake()


def wake_audit_watchers() -> None:
    """Called after every audit record is written: the same, for the audit log's feeds, once
    the row is committed. Costs a dict check while nobody in this process watches it."""
    if AUDIT.feeds:
        transaction.on_commit(AUDIT.wake)


Owner = tuple[int, str]  # the user's primary key and the token the stream was opened with


# The PostgreSQL channel a change of some user's token or standing is announced on.
CREDENTIALS_CHANNEL = "warehouse_credentials"


def credentials_changed(sender: Any, instance: ClusterUser, **kwargs: Any) -> None:
    """A user's token or standing changed (or they went): their open streams are checked
    when the change commits, in this process and, on PostgreSQL, in every other one."""
    fields = kwargs.get("update_fields")
    if kwargs.get("created") or (fields is not None and not {"token", "is_active"} & fields):
        return
    using = kwargs.get("using") or "default"
    if listens():
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CREDENTIALS_CHANNEL, str(instance.pk)])
    transaction.on_commit(recheck_credentials, using=using)


def recheck_credentials() -> None:
    """Have this process's feeds check their streams' credentials at once."""
    with _feeds_lock:
        feeds = [*REVISIONS.feeds.items(), *AUDIT.feeds.items()]
    for loop, feed in feeds:
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(feed.recheck)


def listens() -> bool:
    """Whether commits reach this process by NOTIFY (PostgreSQL) rather than by polling."""
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def listener_conninfo() -> str:
    """Where the listening connection goes: the default database, outside Django's pool
    (a LISTEN holds its connection for good), with keepalives so a dead peer is noticed."""
    from psycopg.conninfo import make_conninfo

    db = settings.DATABASES["default"]
    params: dict[str, Any] = {
        key: value
        for key, value in db.get("OPTIONS", {}).items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    params.update(
        dbname=db.get("NAME"),
        user=db.get("USER"),
        password=db.get("PASSWORD"),
        host=db.get("HOST"),
        port=str(db.get("PORT") or ""),
        application_name="warehouse watch listener",
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})


def pooled() -> bool:
    return bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))


def release_connection() -> None:
    """Give this thread's pooled connection back (run it in the thread that holds it)."""
    connection.close()


def _released(read: Callable[..., Any], *args: Any) -> Any:
    try:
        return read(*args)
    finally:
        if pooled():
            release_connection()


async def _read(read: Callable[..., Any], *args: Any) -> Any:
    """One store read for a stream, its pooled connection given back as soon as it returns.

    Thread-sensitive: under the API server that is one of the few threads watch requests
    share (`apiserver.server.asgi`); when sync code drives the loop (tests), its thread.
    """
    return await sync_to_async(_released)(read, *args)


async def _feed_read(read: Callable[..., Any], *args: Any) -> Any:
    """A read for the feed's task, which outlives the request that started it, so it has
    a thread of its own; a sync caller driving this loop (tests) lends its thread."""
    if getattr(AsyncToSync.executors, "current", None) is not None:
        return await sync_to_async(_released)(read, *args)
    return await sync_to_async(_released, thread_sensitive=False, executor=_feed_thread)(
        read, *args
    )


class _Subscriber:
    """One stream's place on the feed: what it watches and the rows waiting for it."""

    def __init__(self, resource: str, namespace: str | None, owner: Owner | None) -> None:
        self.resource = resource
        self.namespace = namespace
        self.owner = owner
        self.rows: asyncio.Queue[Row | None] = asyncio.Queue(maxsize=QUEUE_ROWS)
        self.behind = False  # the queue overflowed: re-read the log from the cursor
        self.revoked = False  # its user's token changed or they were deactivated

    def offer(self, row: Row) -> None:
        if self.behind:
            return
        try:
            self.rows.put_nowait(row)
        except asyncio.QueueFull:
            self.behind = True

    def wake(self) -> None:
        """Have the stream look at its flags (behind, revoked) even with no rows for it."""
        with contextlib.suppress(asyncio.QueueFull):  # it has rows to read: it wakes anyway
            self.rows.put_nowait(None)


def _credentials_holding(owners: set[Owner]) -> set[Owner]:
    """Which of these (user, token) pairs still authenticate: one query for them all."""
    users = ClusterUser.objects.filter(pk__in={pk for pk, _ in owners}, is_active=True)
    return set(users.values_list("pk", "token")) & owners


class _Feed:
    """The revision log read for every watch stream on one event loop, when told of a
    commit (by this process, or by NOTIFY on PostgreSQL) or, on SQLite, once per interval.

    One task reads, started with the first stream and stopped with the last; on PostgreSQL
    a second task holds the listening connection for as long. Streams only wait on their
    queues.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, source: Log = REVISIONS) -> None:
        self.loop = loop
        self.log = source
        self.subscribers: set[_Subscriber] = set()
        # The same streams by what they watch (resource, namespace or None for all): a row
        # is offered to those wanting it without asking every stream.
        self.places: dict[tuple[str, str | None], set[_Subscriber]] = {}
        self.cursor: int | None = None
        self.lock = asyncio.Lock()
        self.kicked = asyncio.Event()
        self.checked_at = time.monotonic()
        self.recheck_due = False  # told that some user's credentials changed
        self.read_at = time.monotonic()
        self.listening = False  # a LISTEN connection is up: no need to poll
        self.task: asyncio.Task | None = None
        self.peak = 0  # the most streams open at once since memory was last given back

    async def subscribe(
        self, resource: str, namespace: str | None, owner: Owner | None = None
    ) -> _Subscriber:
        """Join; every row committed after this returns is offered to the subscriber.

        The feed's starting point is read before the first subscriber joins, so rows up
        to it are already committed and a catch-up read that starts afterwards sees them.
        """
        async with self.lock:
            if self.cursor is None:
                self.cursor = await _read(self.log.start)
            subscriber = _Subscriber(resource, namespace, owner)
            self.subscribers.add(subscriber)
            self.places.setdefault((resource, namespace), set()).add(subscriber)
            self.peak = max(self.peak, len(self.subscribers))
            with _feeds_lock:  # in case its last stream left while this one waited
                self.log.feeds.setdefault(self.loop, self)
            if self.task is None or self.task.done():
                self.task = self.loop.create_task(self.run(), name="watch feed")
            return subscriber

    def unsubscribe(self, subscriber: _Subscriber) -> None:
        self.subscribers.discard(subscriber)
        place = (subscriber.resource, subscriber.namespace)
        watching = self.places.get(place)
        if watching is not None:
            watching.discard(subscriber)
            if not watching:
                del self.places[place]
        if self.peak >= TRIM_AFTER_STREAMS and len(self.subscribers) <= self.peak // 4:
            # Most of a burst of streams has gone: once their connections have closed
            # too, give the memory they freed back to the system.
            self.peak = len(self.subscribers)
            self.loop.call_later(1.0, give_back_memory)
        if not self.subscribers:
            # The last stream has gone: a later one starts a feed afresh.
            with _feeds_lock:
                if self.log.feeds.get(self.loop) is self:
                    del self.log.feeds[self.loop]
            if self.task is not None:
                self.task.cancel()
                self.task = None

    def kick(self) -> None:
        """A commit in this process: read at once."""
        self.kicked.set()

    def recheck(self) -> None:
        """Some user's credentials changed: check the open streams' at once."""
        self.recheck_due = True
        self.kicked.set()

    def notified(self, channel: str, payload: str) -> None:
        """A NOTIFY: a commit (read, unless the feed has read that revision already, a
        local commit having kicked it first), or a change of credentials."""
        if channel == CREDENTIALS_CHANNEL:
            self.recheck()
            return
        if payload.isdigit() and self.cursor is not None and int(payload) <= self.cursor:
            return
        self.kicked.set()

    def _credentials_every(self) -> float:
        """Told of every change while listening, the feed checks only for safety then."""
        return SAFETY_SECONDS if self.listening else CREDENTIALS_SECONDS

    def _wait_seconds(self) -> float:
        """Until the next read that nothing kicks: a poll, a safety re-read, or a check of
        the open streams' credentials (only when some stream has an owner)."""
        now = time.monotonic()
        due = self.read_at + (SAFETY_SECONDS if self.listening else POLL_SECONDS)
        if any(s.owner is not None for s in self.subscribers):
            due = min(due, self.checked_at + self._credentials_every())
        return max(due - now, 0.0)

    async def run(self) -> None:
        """Read when kicked or due while anyone watches; check credentials when due."""
        listener = (
            self.loop.create_task(self.listen(), name="watch listener") if listens() else None
        )
        try:
            while self.subscribers:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.kicked.wait(), self._wait_seconds())
                kicked = self.kicked.is_set()
                self.kicked.clear()
                try:
                    every = SAFETY_SECONDS if self.listening else POLL_SECONDS
                    if kicked or time.monotonic() - self.read_at >= every:
                        await self.poll()
                    overdue = time.monotonic() - self.checked_at >= self._credentials_every()
                    if self.recheck_due or overdue:
                        self.recheck_due = False
                        await self.check_credentials()
                except OperationalError as error:
                    # A busy store: the streams wait a little longer, nothing is lost.
                    log.warning("watch feed could not read the store: %s", error)
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            if listener is not None:
                listener.cancel()

    async def listen(self) -> None:
        """Hold one LISTEN connection and kick the feed on each NOTIFY; on losing it, poll
        until it is back (reconnecting with growing delays), then re-read once, since
        commits made meanwhile were announced to nobody."""
        import psycopg

        first, last = RECONNECT_SECONDS
        delay = first
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    listener_conninfo(), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {self.log.channel}")
                    await conn.execute(f"LISTEN {CREDENTIALS_CHANNEL}")
                    self.listening = True
                    self.recheck()  # changes made while no one listened
                    delay = first
                    async for notice in conn.notifies():
                        self.notified(notice.channel, notice.payload)
            except (psycopg.Error, OSError) as error:
                log.warning("watch listener lost its connection (retry in %.2fs): %s", delay, error)
            finally:
                self.listening = False
                self.kick()  # poll meanwhile, from now
            await asyncio.sleep(delay)
            delay = min(delay * 2, last)

    async def poll(self) -> None:
        """Read the new revisions and offer each to the streams that want it."""
        async with self.lock:
            self.read_at = time.monotonic()
            if self.cursor is None:
                return
            while True:
                rows = await _feed_read(self.log.all_after, self.cursor)
                if self.log.dense and skipped(rows, self.cursor):
                    # Compaction overtook the feed (at the log's start, or an object's
                    # revisions in its middle): each stream re-reads from its own place
                    # and learns whether its history is still there.
                    for subscriber in self.subscribers:
                        subscriber.behind = True
                        subscriber.wake()
                for row in rows:
                    self.cursor = max(self.cursor, row[0])
                    wanting = [
                        *self.places.get((row[1], row[2]), ()),
                        *self.places.get((row[1], None), ()),
                    ]
                    for index, subscriber in enumerate(wanting, 1):
                        subscriber.offer(row)
                        if index % OFFER_SLICE == 0:
                            # Let the streams woken so far send, and other requests
                            # run, before waking more: a change that a thousand
                            # watches see does not hold the loop for all of them.
                            await asyncio.sleep(0)
                if len(rows) < store.REVISION_BATCH:
                    break

    async def check_credentials(self) -> None:
        """End the streams whose user's token was rotated or who were deactivated."""
        self.checked_at = time.monotonic()
        owners = {s.owner for s in self.subscribers if s.owner is not None and not s.revoked}
        if not owners:
            return
        holding = await _feed_read(_credentials_holding, owners)
        for subscriber in list(self.subscribers):
            if subscriber.owner in owners and subscriber.owner not in holding:
                subscriber.revoked = True
                subscriber.wake()


def give_back_memory() -> None:
    """Return freed heap memory to the system (glibc's malloc_trim).

    glibc keeps what it frees for reuse, so after a burst of watches the server would stay
    at its peak size for good; elsewhere (no malloc_trim) this does nothing.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _feed(source: Log = REVISIONS) -> _Feed:
    loop = asyncio.get_running_loop()
    with _feeds_lock:
        feed = source.feeds.get(loop)
        if feed is None:
            feed = source.feeds[loop] = _Feed(loop, source)
        return feed


store.commit_listeners.append(wake_watchers)
audit.insert_listeners.append(wake_audit_watchers)


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


# Recent events as unfiltered JSON watches send them. The key holds the row's body too:
# the feed hands every stream the same string, whose hash Python keeps.
_shared_events: dict[tuple[int, str, str, str], bytes] = {}
SHARED_EVENTS = 256


def _shared_event(revision: int, event_type: str, body: str, api_version: str) -> bytes:
    """The bytes every unfiltered JSON watch of a kind sends for one change, made once: a
    write that a thousand watches see is parsed and encoded once, not a thousand times."""
    key = (revision, event_type, api_version, body)
    found = _shared_events.get(key)
    if found is None:
        obj = conversion.as_version(json.loads(body), api_version)
        found = _shared_events[key] = _event(event_type, obj)
        while len(_shared_events) > SHARED_EVENTS:
            _shared_events.pop(next(iter(_shared_events)), None)
    return found


def initial_state(kind: Kind, namespace: str | None) -> tuple[list[dict[str, Any]], int]:
    """What a watch from nothing sends first; for the audit log, its newest page only."""
    if kind.resource == auditevents.RESOURCE:
        return auditevents.recent(namespace)
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


def skipped(rows: list[tuple], cursor: int) -> bool:
    """Whether rows read after `cursor`, oldest first, leave out an id on the way: some
    may have been compacted (or, read with a filter, belong to other places)."""
    return bool(rows) and rows[-1][0] - cursor > len(rows)


def expired(revision: int, source: Log = REVISIONS) -> errors.ApiError | None:
    """The 410 Gone (Expired) for a reader at `revision` when the log no longer holds every
    change after it, else None: compaction removed revisions after it, from the log's start
    or (the per-object bound) from its middle. Every watch, streamed or polled, asks here."""
    compacted = source.compacted()
    if revision < compacted:
        return errors.gone(f"too old resource version: {revision} ({compacted})")
    return None


def too_old(revision: int, source: Log = REVISIONS) -> dict[str, Any] | None:
    """`expired`'s 410 Gone as the status an ERROR event carries, else None."""
    gone = expired(revision, source)
    return None if gone is None else gone.status()


@dataclass
class Opening:
    """What a watch reads before its response starts: where it starts from, and either
    the current state to send first or the 410 Gone to send instead."""

    cursor: int
    objects: list[dict[str, Any]] | None = None
    gone: dict[str, Any] | None = None


def first_reads(kind: Kind, namespace: str | None, query: dict[str, str]) -> Opening:
    """The reads a watch makes before its first byte: the HTTP view has them done while
    opening the watch, so that a busy store is still answered (and audited) as 503 with
    Retry-After rather than a stream broken after its 200."""
    start = check_resource_version(query.get("resourceVersion", ""))
    if start == 0 or query.get("sendInitialEvents") in flags.TRUE:
        objects, revision = initial_state(kind, namespace)
        return Opening(revision, objects)
    return Opening(start, gone=too_old(start, log_for(kind)))


async def events(
    kind: Kind,
    namespace: str | None,
    query: dict[str, str],
    as_table: bool = False,
    owner: Owner | None = None,
    opened: Opening | None = None,
) -> AsyncIterator[bytes]:
    """The event stream of one watch request, until timeoutSeconds (or the client) ends it.

    `owner` is the user and token that opened it: the stream ends when they no longer
    authenticate. `opened` is `first_reads()`'s result when the caller read it already.
    """
    watch_filter = Filter(kind, namespace, query)
    deadline = time.monotonic() + timeout_seconds(query.get("timeoutSeconds", ""))
    bookmarks = query.get("allowWatchBookmarks") in flags.TRUE
    send_initial = query.get("sendInitialEvents") in flags.TRUE
    include = query.get("includeObject", "Metadata")
    first_table = True

    def shaped(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal first_table
        obj = conversion.as_version(obj, kind.api_version)
        if not as_table:
            return obj
        result = tables.table(kind, [obj], include, with_columns=first_table)
        first_table = False
        return result

    if opened is None:
        opened = await _read(first_reads, kind, namespace, query)
    if opened.gone:
        yield _event("ERROR", opened.gone)
        return
    cursor = opened.cursor
    if opened.objects is not None:
        for obj in opened.objects:
            if watch_filter.matches(obj):
                yield _event("ADDED", shaped(obj))
        opened.objects = None  # the stream may last an hour; the list need not
        if send_initial:
            yield _event("BOOKMARK", _bookmark(kind, cursor, initial_end=True))

    source = log_for(kind)
    feed = _feed(source)
    try:
        subscriber = await feed.subscribe(kind.resource, namespace, owner)
    except OperationalError as error:
        log.warning("watch on %s ended: the store is busy: %s", kind.resource, error)
        yield _event("ERROR", errors.storage_busy().status())
        return
    last_sent = time.monotonic()
    plain = not as_table and watch_filter.is_everything
    catching_up = True
    held: list[Row] = []  # a row taken from the queue while waiting, handled next
    try:
        while not subscriber.revoked:
            if catching_up or subscriber.behind:
                # From our own cursor to the present, with our own reads; rows the feed
                # offers meanwhile wait in the queue, and those already seen are skipped.
                subscriber.behind = False
                rows = await _read(source.after, cursor, kind.resource, namespace)
                gap = skipped(rows, cursor)
                if gap and (gone := await _read(too_old, cursor, source)):
                    yield _event("ERROR", gone)
                    return
                catching_up = bool(rows)
            else:
                rows = _drain(subscriber, held)
            for revision, event_type, body in rows:
                if revision <= cursor:
                    continue
                cursor = revision
                if plain:
                    yield _shared_event(revision, event_type, body, kind.api_version)
                    last_sent = time.monotonic()
                    continue
                obj = json.loads(body)
                event_type = await _seen_as(watch_filter, kind, event_type, obj, revision)
                if event_type:
                    yield _event(event_type, shaped(obj))
                    last_sent = time.monotonic()
            if rows or catching_up or subscriber.behind:
                continue
            now = time.monotonic()
            if now >= deadline:
                return
            due = deadline
            if bookmarks:
                if now - last_sent >= BOOKMARK_SECONDS:
                    yield _event("BOOKMARK", _bookmark(kind, cursor))
                    last_sent = now
                due = min(due, last_sent + BOOKMARK_SECONDS)
            try:
                # Nothing to do until the feed offers a row (or a wake-up), or a deadline.
                item = await asyncio.wait_for(subscriber.rows.get(), timeout=due - now)
            except TimeoutError:
                continue
            if item is not None:
                held.append(item)
        yield _event("ERROR", REVOKED.status())
    except OperationalError as error:
        log.warning("watch on %s ended: the store is busy: %s", kind.resource, error)
        yield _event("ERROR", errors.storage_busy().status())
    finally:
        feed.unsubscribe(subscriber)


def _drain(subscriber: _Subscriber, held: list[Row]) -> list[tuple[int, str, str]]:
    """The rows the feed queued for a stream (wake-ups carry none)."""
    rows: list[tuple[int, str, str]] = [(item[0], item[3], item[4]) for item in held]
    held.clear()
    while not subscriber.rows.empty() and len(rows) < store.REVISION_BATCH:
        item = subscriber.rows.get_nowait()
        if item is not None:
            rows.append((item[0], item[3], item[4]))
    return rows


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
    return await _read(seen_as, watch_filter, kind, event_type, obj, revision)


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
        self.user: ClusterUser | None = None  # who opened it, with the token they used
        self.opening: Opening | None = None  # first_reads(), when read while opening

    @property
    def owner(self) -> Owner | None:
        """The (user, token) an HTTP stream checks it still holds; None: never revoked."""
        if self.user is None or self.user.pk is None:
            return None
        return self.user.pk, self.user.token

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
            objects, self.cursor = initial_state(kind, self.namespace)
            self.listed = True
            return [("ADDED", _versioned(kind, o)) for o in objects if self.filter.matches(o)]
        events: list[tuple[str, dict[str, Any]]] = []
        while True:
            source = log_for(kind)
            rows = source.after(self.cursor, kind.resource, self.namespace)
            if skipped(rows, self.cursor) and (gone := expired(self.cursor, source)):
                raise gone
            for revision, event_type, body in rows:
                self.cursor = revision
                obj = json.loads(body)
                seen = seen_as(self.filter, kind, event_type, obj, revision)
                if seen:
                    events.append((seen, _versioned(kind, obj)))
            if len(rows) < store.REVISION_BATCH:
                return events


def _versioned(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    return conversion.as_version(obj, kind.api_version)


def _bookmark(kind: Kind, revision: int, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}


@contextlib.asynccontextmanager
async def any_change(places: Iterable[tuple[str, str | None]]) -> AsyncIterator[asyncio.Event]:
    """An event set at each committed change in any of these (resource, namespace) places,
    fed by this process's feed like any watch: what a synchronous follower (an informer)
    waits on, so that it reads when told rather than on a timer."""
    feed = _feed()
    changed = asyncio.Event()
    subscribers = [await feed.subscribe(resource, namespace) for resource, namespace in places]

    async def nudge(subscriber: _Subscriber) -> None:
        while True:
            await subscriber.rows.get()
            while not subscriber.rows.empty():
                subscriber.rows.get_nowait()
            subscriber.behind = False  # the follower reads the log itself, from its cursor
            changed.set()

    tasks = [asyncio.ensure_future(nudge(subscriber)) for subscriber in subscribers]
    try:
        yield changed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for subscriber in subscribers:
            feed.unsubscribe(subscriber)


@contextlib.asynccontextmanager
async def changes(resource: str, namespace: str | None) -> AsyncIterator[asyncio.Queue]:
    """A queue that wakes at each committed change to `resource` in `namespace`, fed by
    this process's feed like any watch (a follower of a Pod's log waits on it)."""
    feed = _feed()
    subscriber = await feed.subscribe(resource, namespace)
    try:
        yield subscriber.rows
    finally:
        feed.unsubscribe(subscriber)
