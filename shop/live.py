"""Live pages: a watch opened as the learner, sent to the browser as Server-Sent Events.

Tracking an order is watching it, so the live regions are fed by real watches: each
stream is `GET <collection>?watch=true` through the API pipeline as the signed-in learner
(authenticated, authorized, fair-queued, audited as a `watch` by the `browser` client).
Every change becomes one SSE message whose `id:` is the resourceVersion, whose name is
the watch event's type and whose data is the live region rendered again. On reconnect
the browser sends that id back as `Last-Event-ID`, and the watch resumes from it.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from apiserver.accounts import ClusterUser
from apiserver.client import ApiError, WatchEvent
from apiserver.server import lifecycle
from shop import api

# A comment line this often keeps proxies and the browser from closing an idle stream.
KEEPALIVE_SECONDS = 15.0
# Events arriving this close together are shown in one render (a burst from a kubelet).
SETTLE_SECONDS = 0.05
# Each watch's timeoutSeconds; the browser then reconnects with Last-Event-ID.
WATCH_SECONDS = 600
# How long the browser waits before reconnecting, in milliseconds (the SSE `retry:`).
RETRY_MS = 1000
# How many watch events the region lists, newest first.
RECENT = 8

# The shop's words for each watch event, beside the Kubernetes ones.
SHOP_WORDS = {
    "ADDED": "On your list: placed, or seen for the first time",
    "MODIFIED": "A new note on the order: someone updated it",
    "DELETED": "Gone from the warehouse: cancelled and cleared away",
}
EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED")
# The name of a message that re-renders the region without a new event (a fresh list).
SYNC = "SYNC"


@dataclass(frozen=True)
class Line:
    """One watch event as the page lists it: Kubernetes' words and the shop's."""

    type: str
    resource_version: str
    kind: str
    name: str
    # The object as the event carried it: a page may keep its own copy up to date from it,
    # as an informer does, instead of listing again.
    object: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def words(self) -> str:
        return SHOP_WORDS.get(self.type, "")


class Stream(Protocol):
    """An open watch (`apiserver.client.EventStream`) or several read as one (`Merged`)."""

    def events(self) -> AsyncIterator[WatchEvent]: ...

    def close(self) -> None: ...


class Merged:
    """Several watches read as one stream: a watch follows one kind, a page may need two.

    Each watch starts from the same resourceVersion (one counter numbers every change), and
    when they list first, only the last one's closing BOOKMARK is passed on, so the region
    is drawn once everything has been listed. When one watch ends, so does the whole.
    """

    def __init__(self, streams: list[Stream]) -> None:
        self.streams = streams

    async def events(self) -> AsyncIterator[WatchEvent]:
        queue: asyncio.Queue[WatchEvent | None] = asyncio.Queue()

        async def pump(stream: Stream) -> None:
            try:
                async for event in stream.events():
                    queue.put_nowait(event)
            finally:
                queue.put_nowait(None)

        tasks = [asyncio.ensure_future(pump(stream)) for stream in self.streams]
        listed = 0
        try:
            while (event := await queue.get()) is not None:
                if event.initial_end:
                    listed += 1
                    if listed < len(self.streams):
                        continue
                yield event
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.close()

    def close(self) -> None:
        for stream in self.streams:
            stream.close()


class Only:
    """A stream passing on only the changes `keep` picks (bookmarks and errors always).

    The instructor's dashboard watches the whole request log but redraws only for its own
    learners' requests, not for the reads its own redraws send.
    """

    def __init__(self, stream: Stream, keep: Callable[[WatchEvent], bool]) -> None:
        self.stream = stream
        self.keep = keep

    async def events(self) -> AsyncIterator[WatchEvent]:
        async for event in self.stream.events():
            if event.type not in EVENT_TYPES or self.keep(event):
                yield event

    def close(self) -> None:
        self.stream.close()


Opener = Callable[[str], Awaitable[Stream]]
Renderer = Callable[[list[Line]], Awaitable[str]]
Check = Callable[[], Awaitable[bool]]
Seconds = float | Callable[[], float]


def message(data: str = "", event: str = "", id: str = "", retry: int = 0) -> bytes:
    """One SSE message; each line of `data` becomes its own `data:` field."""
    fields = []
    if retry:
        fields.append(f"retry: {retry}")
    if id:
        fields.append(f"id: {id}")
    if event:
        fields.append(f"event: {event}")
    if data:
        fields.extend(f"data: {line}" for line in data.splitlines())
    return ("\n".join(fields) + "\n\n").encode()


def comment(text: str) -> bytes:
    return f": {text}\n\n".encode()


def _later(current: str, seen: str) -> str:
    """The newer of two resourceVersions: merged watches may hand them over out of order."""
    if not seen.isdigit():
        return current
    return seen if not current.isdigit() or int(seen) > int(current) else current


def _line(event: WatchEvent) -> Line:
    meta = event.object.get("metadata") or {}
    return Line(
        event.type,
        event.resource_version,
        str(event.object.get("kind", "")),
        str(meta.get("name", "")),
        event.object,
    )


async def batched(
    events: AsyncIterator[WatchEvent], idle: Seconds, settle: float
) -> AsyncIterator[list[WatchEvent]]:
    """Events in bursts (those within `settle` of the first), or [] after `idle` quiet seconds
    (a number, or a function asked before each wait).

    The next event is awaited in a task, so a quiet stream can still say it is alive, and
    ends as soon as the server begins to shut down; the task and the watch are closed
    however the reader goes (disconnect, shutdown).
    """
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[WatchEvent] | None = None
    stopping = asyncio.ensure_future(lifecycle.shutdown())
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            quiet = idle() if callable(idle) else idle
            done, _ = await asyncio.wait(
                {pending, stopping}, timeout=quiet, return_when=asyncio.FIRST_COMPLETED
            )
            if stopping in done:
                return
            if not done:
                yield []
                continue
            batch: list[WatchEvent] = []
            ended = False
            deadline = loop.time() + settle
            while True:
                task, pending = pending, None
                try:
                    batch.append(task.result())
                except StopAsyncIteration:
                    ended = True
                    break
                left = deadline - loop.time()
                if left <= 0:
                    break
                pending = asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait({pending}, timeout=left)
                if not done:
                    break
            if batch:
                yield batch
            if ended:
                return
    finally:
        stopping.cancel()
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await events.aclose()


async def stream(
    open_watch: Opener,
    render: Renderer,
    resource_version: str,
    allowed: Check | None = None,
    *,
    settle: float | None = None,
    idle: Seconds | None = None,
    refresh: bool = False,
    now: Callable[[], Awaitable[str]] | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body of one live page: the region again after each change, until the end.

    Without a resourceVersion the watch starts with the current state (sendInitialEvents)
    and the region is rendered once when its closing BOOKMARK arrives. A 410 Gone (the
    log no longer reaches back that far) lists again and re-renders the whole region.
    The stream ends at the watch's timeout, when the learner may no longer watch (their
    token was revoked: the watch itself ends with a 401), when the client goes or the
    server stops; the browser reconnects by itself, from the last id it saw. `allowed`,
    when given, is asked before each message too (an instructor who lost their staff
    account).

    Busy pages pass a longer `settle`: every event within it is drawn in one render, so a
    region is drawn at most once per `settle` seconds however heavy the traffic. A log (the
    audit log) is not listed first: `now` says where it stands, the watch starts there and
    the region is drawn at once. With `refresh`, a quiet spell of `idle` seconds redraws
    the region too, sent only when it changed: for what no watch can see.
    """
    lines: deque[Line] = deque(maxlen=RECENT)
    rv = resource_version
    shown = ""
    yield message(retry=RETRY_MS) + comment("watching")
    while True:
        fresh = now is not None
        if fresh and not rv:
            rv = await now()
        try:
            watch = await open_watch(rv)
        except ApiError:
            return
        listing = not rv
        relist = ended = False
        if fresh:
            shown = await render(list(lines))
            yield message(shown, event=SYNC, id=rv)
        try:
            quiet = KEEPALIVE_SECONDS if idle is None else idle
            burst = SETTLE_SECONDS if settle is None else settle
            async with contextlib.aclosing(batched(watch.events(), quiet, burst)) as batches:
                async for batch in batches:
                    if allowed is not None and not await allowed():
                        return
                    if not batch and refresh and not listing:
                        region = await render(list(lines))
                        if region != shown:
                            shown = region
                            yield message(region, event=SYNC, id=rv)
                            continue
                    if not batch:
                        yield comment("keep-alive")
                        continue
                    changed: list[WatchEvent] = []
                    listed = False
                    for event in batch:
                        if event.type == "ERROR":
                            relist, ended = event.code == 410, True
                            break
                        rv = _later(rv, event.resource_version)
                        if event.type in EVENT_TYPES:
                            changed.append(event)
                            lines.appendleft(_line(event))
                        elif event.initial_end:
                            listing, listed = False, True
                            name = changed[-1].type if changed else SYNC
                            shown = await render(list(lines))
                            yield message(shown, event=name, id=rv)
                            changed = []
                    if ended:
                        break
                    if listing:
                        continue
                    if changed:
                        shown = await render(list(lines))
                        yield message(shown, event=changed[-1].type, id=rv)
                    elif rv and not listed:
                        yield message(id=rv)  # a BOOKMARK: the resume point moves on
        finally:
            watch.close()
        if not relist:
            return
        rv = ""


Watches = list[tuple[str, dict[str, str]]]


async def respond(
    request: HttpRequest,
    user: ClusterUser,
    watches: Watches,
    region: Callable[[list[Line]], str],
    still_allowed: Callable[[], bool] | None = None,
    *,
    now: Callable[[], str] | None = None,
    wrap: Callable[[Stream], Stream] | None = None,
    **options: Any,
) -> HttpResponse:
    """Open the watches as `user` now (so a refusal is a plain HTTP error), then stream,
    resuming from the request's `Last-Event-ID`.

    Only the ASGI server streams. A WSGI server (Django's test server, `hub.wsgi`) would
    gather the endless stream into memory before sending a byte, holding a thread and its
    database connection for good. There the front door still answers (a refusal is the
    same), but a watch it lets through is closed at once and the answer is 204 No Content,
    which closes the browser's EventSource (the htmx extension asks again after a pause
    that doubles each time); the page's "Check again" link does the rest.

    `region` draws the live region (in a thread); `still_allowed`, if given, is asked
    before each message (a revoked token ends the watch itself); a log, which is not
    listed first, starts where `now` says; `wrap` may keep some events from the page
    (`Only`). `options` go to `stream()`.
    """
    resume = request.headers.get("Last-Event-ID", "").strip()
    common = {"allowWatchBookmarks": "true", "timeoutSeconds": str(WATCH_SECONDS)}

    async def open_all(resource_version: str) -> Stream:
        listing = {} if resource_version else {"sendInitialEvents": "true"}
        opened: list[Stream] = []
        try:
            for path, query in watches:
                sent = {**query, **common, **listing}
                opened.append(await api.open_watch(user, path, sent, resource_version))
        except BaseException:
            for each in opened:
                each.close()
            raise
        merged = opened[0] if len(opened) == 1 else Merged(opened)
        return wrap(merged) if wrap is not None else merged

    start = resume
    if now is not None and not start:
        start = await sync_to_async(now)()
    try:
        first = await open_all(start)
    except ApiError as error:
        text = str(error.status.get("message", "")) or error.reason
        return HttpResponse(text, status=error.code, content_type="text/plain; charset=utf-8")
    if not isinstance(request, ASGIRequest):
        first.close()
        return HttpResponse(status=204)
    opened = [first]

    async def open_watch(resource_version: str) -> Stream:
        return opened.pop() if opened else await open_all(resource_version)

    async def render(lines: list[Line]) -> str:
        return await sync_to_async(region)(lines)

    async def asked() -> bool:
        return await sync_to_async(still_allowed)()

    allowed = asked if still_allowed is not None else None

    async def where() -> str:
        return await sync_to_async(now)() if now is not None else ""

    body = stream(
        open_watch, render, start, allowed, now=where if now is not None else None, **options
    )
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    # Also when the stream never started: the response is closed however it ends.
    response._resource_closers.append(first.close)
    response["Cache-Control"] = "no-cache, private"
    response["X-Accel-Buffering"] = "no"
    return response
