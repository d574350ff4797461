"""get pods/NAME/log: a container's log, as the API server fetches it from the kubelet.

The lines come from the kubelet's side (`WAREHOUSE_CONTAINER_LOGS`, by default
`controlplane.logs.read`), which refuses a container that has not started with its own
words; here the query is applied as kube-apiserver does: `container` (required when the
Pod has several), `previous`, `sinceSeconds` or `sinceTime`, `tailLines`, `timestamps`
and `limitBytes`. The answer is plain text.

With `follow`, the response goes on as the container writes: each new line is sent when
its time comes, and the log ends when that run of the container ends, the Pod goes, or
the server stops. Between lines the follower waits on the watch feed for a change to the
Pod, so it reads the store only when something happened or a line is due.
"""

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

from apiserver import errors, flags
from apiserver.endpoints import watch
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.registry import store
from apiserver.registry.kinds import Kind
from apiserver.server import lifecycle

# A followed log looks again at least this often, should a wake-up be missed.
FOLLOW_CHECK_SECONDS = 30.0

TEXT = "text/plain"


@functools.cache
def _reader(path: str) -> Callable[..., list[tuple[datetime, str]]]:
    return import_string(path)


def reader() -> Callable[..., list[tuple[datetime, str]]]:
    return _reader(settings.WAREHOUSE_CONTAINER_LOGS)


def _positive(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise errors.bad_request(f"{name}: invalid value {value!r}: must be an integer") from None
    if number < (0 if name == "tailLines" else 1):
        raise errors.invalid(
            "PodLogOptions",
            "",
            [{"reason": "FieldValueInvalid", "message": "must be greater than 0", "field": name}],
        )
    return number


def _flag(query: dict[str, str], name: str) -> bool:
    return query.get(name, "") in flags.TRUE


def container_for(pod: dict[str, Any], asked: str) -> str:
    """The container asked for, or the only one; several and none named is a 400."""
    if asked:
        return asked
    names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(
        f"a container name must be specified for pod {pod['metadata']['name']}, "
        f"choose one of: [{' '.join(names)}]"
    )


def _read(pod: dict[str, Any], container: str, previous: bool, now: datetime) -> list:
    try:
        return reader()(pod, container, previous, now)
    except errors.NotReadable as error:
        raise errors.bad_request(str(error)) from None


def _shown(line: tuple[datetime, str], timestamps: bool) -> str:
    at, text = line
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.000000000Z')} {text}" if timestamps else text


def read_lines(pod: dict[str, Any], query: dict[str, str], now: datetime) -> list[str]:
    """The log's lines as the query shapes them (with the kubelet's refusals as 400s)."""
    container = container_for(pod, query.get("container", ""))
    since_seconds = _positive(query, "sinceSeconds")
    tail = _positive(query, "tailLines")
    lines = _read(pod, container, _flag(query, "previous"), now)
    since = None
    if since_seconds is not None:
        since = now - timedelta(seconds=since_seconds)
    elif query.get("sinceTime"):
        try:
            since = datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
        except ValueError:
            raise errors.bad_request(f"sinceTime: invalid value {query['sinceTime']!r}") from None
    if since is not None:
        lines = [(at, text) for at, text in lines if at >= since]
    if tail is not None:
        lines = lines[-tail:] if tail else []
    timestamps = _flag(query, "timestamps")
    return [_shown(line, timestamps) for line in lines]


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    pod = store.get(target.kind, target.namespace or "", target.name)
    now = datetime.now(UTC)
    lines = read_lines(pod, request.query, now)
    body = "".join(f"{line}\n" for line in lines).encode()
    limit = _positive(request.query, "limitBytes")
    if limit is not None:
        body = body[:limit]
    more = None
    if _flag(request.query, "follow") and not _flag(request.query, "previous"):
        container = container_for(pod, request.query.get("container", ""))
        timestamps = _flag(request.query, "timestamps")

        def more() -> AsyncIterator[bytes]:
            return follow(target.kind, pod, container, now, timestamps)

    return ApiResponse(200, None, {"content-type": TEXT}, raw=body, more=more)


def _run_started(pod: dict[str, Any], container: str) -> str:
    """Which run of the container is current: its start time, "" when none runs."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return ((status.get("state") or {}).get("running") or {}).get("startedAt", "")
    return ""


async def follow(
    kind: Kind, pod: dict[str, Any], container: str, sent_until: datetime, timestamps: bool
) -> AsyncIterator[bytes]:
    """The lines written after `sent_until`, each when its time comes, until the run ends."""
    meta = pod["metadata"]
    namespace, name = meta.get("namespace", ""), meta["name"]
    following = _run_started(pod, container)
    if not following:
        return
    stopping = asyncio.ensure_future(lifecycle.shutdown())
    # A read on a worker thread that gives a pooled connection straight back.
    read = sync_to_async(watch._released, thread_sensitive=False)
    try:
        async with watch.changes(kind.resource, namespace) as woken:
            while True:
                try:
                    pod = await read(store.get, kind, namespace, name)
                except errors.ApiError:
                    return  # the Pod has gone
                now = datetime.now(UTC)
                current = _run_started(pod, container)
                ended = current != following
                try:
                    # Restarted since: the run followed is now the previous one.
                    lines = reader()(pod, container, bool(current) and ended, now)
                except errors.NotReadable:
                    return
                new = [line for line in lines if line[0] > sent_until]
                if new:
                    yield "".join(f"{_shown(line, timestamps)}\n" for line in new).encode()
                    sent_until = max(sent_until, new[-1][0])
                sent_until = max(sent_until, now)
                if ended:
                    return
                ahead = reader()(pod, container, False, now + timedelta(hours=1))
                due = [at for at, _ in ahead if at > now]
                wait = min(FOLLOW_CHECK_SECONDS, (due[0] - now).total_seconds() if due else 1e9)
                waking = asyncio.ensure_future(woken.get())
                done, _ = await asyncio.wait(
                    {waking, stopping}, timeout=max(wait, 0.05), return_when=asyncio.FIRST_COMPLETED
                )
                if not waking.done():
                    waking.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waking
                if stopping in done:
                    return
    finally:
        stopping.cancel()
