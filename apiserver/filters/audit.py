"""The audit log: one row per request, cheap to write, read by the Grand Central view.

Rows are written at once, or, with WAREHOUSE_AUDIT_BATCH_SECONDS above zero, in batches
like kube-apiserver's batch audit backends: each request hands its row to a buffer and
a writer thread of the process inserts what gathered, at most that many seconds later,
in one statement. A room's requests then cost one commit per batch rather than one each;
a process that dies loses at most its last batch, which is why the default is immediate.
"""

import atexit
import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection

from apiserver import onloop
from apiserver.models import AuditRecord

if TYPE_CHECKING:
    from apiserver.endpoints.request import ApiRequest
    from apiserver.filters.requestinfo import Prepared

log = logging.getLogger(__name__)

# The columns of one audit record, in the order they are written.
FIELDS = (
    "timestamp",
    "user",
    "client",
    "verb",
    "resource",
    "subresource",
    "namespace",
    "name",
    "method",
    "path",
    "status_code",
    "latency_ms",
    "lane",
    "resource_version",
)


# The PostgreSQL channel each audit row is announced on, payload its id: watches of
# AuditEvents in other processes read the new rows when told (`endpoints.watch`).
CHANNEL = "warehouse_audit"

# Called in this process after each row is written: the watch feeds' wake-up, which waits
# for the commit when the row was written inside a transaction.
insert_listeners: list[Callable[[], None]] = []


@functools.cache
def _insert_sql_for(vendor: str) -> str:
    """The INSERT; on PostgreSQL the same statement sends the NOTIFY, so a row costs one
    round trip still, and the notice goes out only if the row commits."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(AuditRecord._meta.get_field(f).column) for f in FIELDS)
    marks = ", ".join(["%s"] * len(FIELDS))
    insert = f"INSERT INTO {quote(AuditRecord._meta.db_table)} ({columns}) VALUES ({marks})"
    if vendor == "postgresql":
        return (
            f"WITH written AS ({insert} RETURNING id) "
            f"SELECT pg_notify('{CHANNEL}', id::text) FROM written"
        )
    return insert


def _insert_sql() -> str:
    return _insert_sql_for(connection.vendor)


@functools.cache
def _batch_sql_for(vendor: str, rows: int) -> str:
    """One INSERT of `rows` rows; on PostgreSQL one NOTIFY for the batch, its newest id."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(AuditRecord._meta.get_field(f).column) for f in FIELDS)
    row = "(" + ", ".join(["%s"] * len(FIELDS)) + ")"
    insert = (
        f"INSERT INTO {quote(AuditRecord._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([row] * rows)}"
    )
    if vendor == "postgresql":
        return (
            f"WITH written AS ({insert} RETURNING id) "
            f"SELECT pg_notify('{CHANNEL}', max(id)::text) FROM written"
        )
    return insert


# The most rows one batch INSERT carries.
BATCH_ROWS = 500
# How long the audit thread gathers the rows of reads served on the event loop: waking it
# for each would hand the interpreter to and fro as often as a worker thread does.
LOOP_LINGER_SECONDS = 0.02


class _Batches:
    """The rows this process has yet to write, and the thread that writes them."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.lock = threading.Condition()
        self.thread: threading.Thread | None = None
        self.linger = 0.0
        self.added = 0  # rows ever handed in
        self.done = 0  # rows ever written (or given up on)

    def add(self, values: list[Any], linger: float = 0.0) -> None:
        """Hand in a row; the first of a batch wakes the writer, which then gathers for the
        batch's time or `linger`, whichever is longer (the rest never wake it)."""
        with self.lock:
            self.rows.append(values)
            self.added += 1
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="audit-batches", daemon=True)
                self.thread.start()
            if len(self.rows) == 1:
                self.linger = linger
                self.lock.notify()
            elif len(self.rows) >= BATCH_ROWS:
                self.lock.notify()

    def run(self) -> None:
        """Asleep until a row comes; then gather for the batch's time (or until full)."""
        while True:
            with self.lock:
                self.lock.wait_for(lambda: bool(self.rows))
                deadline = time.monotonic() + max(_batch_seconds(), self.linger)
                # Until full or due; rows taken meanwhile (a flush at exit) start afresh.
                while self.rows and len(self.rows) < BATCH_ROWS:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.lock.wait(left)
            self.flush()

    def flush(self) -> None:
        """Write every row gathered so far, in batches of at most BATCH_ROWS (never from a
        read on the event loop, which may not write: the audit thread will)."""
        if onloop.active():
            return
        with self.lock:
            rows, self.rows = self.rows, []
            self.lock.notify_all()
        if not rows:
            return
        try:
            self._write(rows)
        finally:
            with self.lock:
                self.done += len(rows)
                self.lock.notify_all()
        for listener in insert_listeners:
            listener()

    def settle(self, timeout: float) -> None:
        """Return once every row handed in before the call is written (or `timeout` ends)."""
        with self.lock:
            wanted = self.added
        if self.done >= wanted:
            return
        self.flush()
        with self.lock:
            self.lock.wait_for(lambda: self.done >= wanted, timeout)

    def _write(self, rows: list[list[Any]]) -> None:
        try:
            for start in range(0, len(rows), BATCH_ROWS):
                chunk = rows[start : start + BATCH_ROWS]
                params = [value for values in chunk for value in values]
                with connection.cursor() as cursor:
                    cursor.execute(_batch_sql_for(connection.vendor, len(chunk)), params)
        except Exception:  # noqa: BLE001 - auditing must not break serving
            log.exception("could not write %d audit records", len(rows))
        finally:
            if settings.DATABASES["default"].get("OPTIONS", {}).get("pool"):
                connection.close()  # back to the pool until the next batch


_batches = _Batches()


def _batch_seconds() -> float:
    return float(getattr(settings, "WAREHOUSE_AUDIT_BATCH_SECONDS", 0) or 0)


def flush() -> None:
    """Write the rows this process still holds (at exit, and for tests)."""
    _batches.flush()


def settle(timeout: float = 5.0) -> None:
    """Wait until every row this process handed to the audit thread is written, so a
    reader of the log sees each request answered before it asked (reads served on the
    event loop, batched rows)."""
    _batches.settle(timeout)


atexit.register(flush)


# A flood of refused strangers must not become a flood of INSERTs: per client address and
# process, one refusal row is written each this many seconds, and the rest are counted.
REFUSAL_SAMPLE_SECONDS = 1.0

_refusals_lock = threading.Lock()
_refusals: dict[str, tuple[float, int]] = {}


def _sampled_refusal(address: str) -> int:
    """0 to skip this refusal's row, else how many refusals the row stands for."""
    now = time.monotonic()
    with _refusals_lock:
        written, skipped = _refusals.get(address, (0.0, 0))
        if now - written < REFUSAL_SAMPLE_SECONDS:
            _refusals[address] = (written, skipped + 1)
            return 0
        if len(_refusals) > 10_000:
            _refusals.clear()
        _refusals[address] = (now, 0)
    return skipped + 1


def forget_refusals() -> None:
    """Start sampling afresh (tests)."""
    with _refusals_lock:
        _refusals.clear()


def record(
    request: "ApiRequest", prepared: "Prepared", status: int, started: float, written: int = 0
) -> None:
    """Write one audit row (a single INSERT); never lets a logging failure fail the request.

    Plain SQL rather than `AuditRecord.objects.create()`: every request pays for this row,
    and the ORM's model and query building cost more than the INSERT itself. Refusals of
    callers without credentials are sampled per address (`REFUSAL_SAMPLE_SECONDS`): the
    log still shows who was refused and when, without one row per refused request.
    """
    if status == 429 and prepared.user is None:
        standing_for = _sampled_refusal(request.remote_addr)
        if not standing_for:
            return
        if standing_for > 1:
            log.warning(
                "refused %d requests without credentials from %s",
                standing_for,
                request.remote_addr or "this process",
            )
    target = prepared.target
    kind = target.kind if target is not None else None
    try:
        values = [
            connection.ops.adapt_datetimefield_value(datetime.now(UTC)),
            prepared.user.username if prepared.user is not None else "",
            (request.client or "other")[:20],
            prepared.verb or request.method.lower(),
            kind.resource.lstrip("/") if kind else "",
            target.subresource if target is not None else "",
            (target.namespace or "") if kind and kind.namespaced else "",
            (target.name if kind else "")[:253],
            request.method[:10],
            request.path[:1000],
            status,
            round((time.perf_counter() - started) * 1000, 3),
            str(getattr(prepared, "lane", ""))[:20],
            written or None,
        ]
        if onloop.active():
            # A read on the event loop never waits for the write lock: its row goes to the
            # audit thread, which wakes once per LOOP_LINGER_SECONDS at most, not per row.
            _batches.add(values, LOOP_LINGER_SECONDS)
            return
        if _batch_seconds() > 0:
            _batches.add(values)
            return
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(), values)
    except Exception:  # noqa: BLE001 - auditing must not break serving
        log.exception("could not write the audit record")
        return
    for listener in insert_listeners:
        listener()


def recent(
    limit: int = 50, since_id: int = 0, namespace: str | None = None
) -> list[dict[str, Any]]:
    """The newest audit records first, optionally only those after `since_id` or in a namespace."""
    settle()
    rows = AuditRecord.objects.filter(id__gt=since_id)
    if namespace is not None:
        rows = rows.filter(namespace=namespace)
    return list(rows.order_by("-id").values("id", *FIELDS)[:limit])


def prune(written_before: datetime, keep_rows: int, batch: int) -> int:
    """Delete up to `batch` of the oldest records, those written before `written_before` or
    beyond the newest `keep_rows`, in one short statement; returns how many went.

    Only a run of the oldest rows goes, found along the primary key, so a prune never scans
    the log and never holds it for long.
    """
    newest = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return 0
    oldest = AuditRecord.objects.order_by("id").values_list("id", "timestamp")[:batch]
    last = 0
    for record_id, stamp in oldest:
        if record_id > newest - keep_rows and stamp >= written_before:
            break
        last = record_id
    if not last:
        return 0
    deleted, _ = AuditRecord.objects.filter(id__lte=last).delete()
    return deleted
