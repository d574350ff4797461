"""Housekeeping: what keeps the store from growing without end.

kube-apiserver compacts etcd's history every five minutes, etcd drops each Event when its
lease (`--event-ttl`, an hour) runs out, and audit logs are rotated by age and size. One
loop does all three here, in the one process that runs the control plane (`serve` in
development, `manage.py controlplane` in production), on a thread of its own and in short
batches, so requests never wait for it and it never holds the store for long.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection

from apiserver.filters import audit
from apiserver.registry import store

log = logging.getLogger("warehouse.housekeeping")


@dataclass(frozen=True)
class Policy:
    """How much history to keep, and how much work one pass may do per table."""

    revision_keep: timedelta = timedelta(minutes=10)
    revision_keep_rows: int = 100_000
    # The newest revisions kept of any one object (0: no such bound).
    revision_keep_per_object: int = 50
    event_ttl: timedelta = timedelta(hours=1)
    audit_keep: timedelta = timedelta(hours=24)
    audit_keep_rows: int = 200_000
    batch: int = 2000
    batches: int = 50
    # An expiring Event also writes its DELETED revision, so its batches are smaller.
    event_batch: int = 500

    @classmethod
    def from_settings(cls) -> "Policy":
        return cls(
            revision_keep=timedelta(seconds=settings.WAREHOUSE_REVISION_KEEP_SECONDS),
            revision_keep_rows=settings.WAREHOUSE_REVISION_KEEP_ROWS,
            revision_keep_per_object=settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT,
            event_ttl=timedelta(seconds=settings.WAREHOUSE_EVENT_TTL_SECONDS),
            audit_keep=timedelta(hours=settings.WAREHOUSE_AUDIT_KEEP_HOURS),
            audit_keep_rows=settings.WAREHOUSE_AUDIT_KEEP_ROWS,
        )


@dataclass
class Report:
    """What one pass removed; `unfinished` when a budget ran out and more is waiting.
    `revisions` counts every revision compacted, `per_object` those of them that were
    beyond their object's newest `revision_keep_per_object`."""

    events: int = 0
    revisions: int = 0
    per_object: int = 0
    audit: int = 0
    unfinished: bool = False


def run_once(now: datetime | None = None, policy: Policy | None = None) -> Report:
    """One pass at time `now`: expire Events, compact the revision log, prune the audit log.

    Events go first, so the DELETED revisions their expiry writes are young and stay in
    the log for watchers to see. The log is compacted by age and rows first, then each
    object is cut to its newest revisions, so one busy object (a Pod whose status keeps
    changing, a Deployment rolled a hundred times) cannot push every other object's history
    out of the store-wide window.
    """
    now = now or datetime.now(UTC)
    policy = policy or Policy.from_settings()
    report = Report()
    report.events, events_left = _in_batches(
        lambda: store.expire_events(now - policy.event_ttl, policy.event_batch),
        policy.event_batch,
        policy.batches,
    )
    through = store.compaction_point(now - policy.revision_keep, policy.revision_keep_rows)
    report.revisions, revisions_left = _in_batches(
        lambda: store.compact_batch(through, policy.batch), policy.batch, policy.batches
    )
    report.per_object, objects_left = _trim_objects(policy)
    report.revisions += report.per_object
    report.audit, audit_left = _in_batches(
        lambda: audit.prune(now - policy.audit_keep, policy.audit_keep_rows, policy.batch),
        policy.batch,
        policy.batches,
    )
    report.unfinished = events_left or revisions_left or objects_left or audit_left
    return report


def _trim_objects(policy: Policy) -> tuple[int, bool]:
    """Cut every object to its newest `revision_keep_per_object` revisions, each object in
    short transactions of its own (at most a batch each), up to the rows a pass may remove
    (`batch` times `batches`); says whether some were left for the next pass."""
    if policy.revision_keep_per_object <= 0:
        return 0, False
    store.forget_passed_trims()
    budget = policy.batch * policy.batches
    total = 0
    for cut in store.object_cuts(policy.revision_keep_per_object):
        while True:
            if total >= budget:
                return total, True
            size = min(policy.batch, budget - total)
            done = store.trim_object(cut, size)
            total += done
            if done < size:
                break
    return total, False


def _in_batches(step: Callable[[], int], batch: int, batches: int) -> tuple[int, bool]:
    """Run `step` until it finds less than a batch or the pass's budget is spent."""
    total = 0
    for _ in range(batches):
        done = step()
        total += done
        if done < batch:
            return total, False
    return total, True


def _pass() -> Report:
    try:
        return run_once()
    finally:
        connection.close()


async def run(stop: asyncio.Event) -> None:
    """The background task: a pass every WAREHOUSE_HOUSEKEEPING_SECONDS until `stop` is set,
    and again within a second while a pass leaves work undone. A failed pass is logged and
    tried again next time, never fatal."""
    loop = asyncio.get_running_loop()
    worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="housekeeping")
    interval = settings.WAREHOUSE_HOUSEKEEPING_SECONDS
    pause = interval
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            if stop.is_set():
                return
            pause = interval
            try:
                report = await loop.run_in_executor(worker, _pass)
            except Exception:
                log.exception("housekeeping pass failed")
                continue
            if report.events or report.revisions or report.audit:
                log.info(
                    "housekeeping: %d event(s) expired, %d revision(s) compacted "
                    "(%d beyond their object's newest), %d audit record(s) pruned",
                    report.events,
                    report.revisions,
                    report.per_object,
                    report.audit,
                )
            if report.unfinished:
                pause = min(interval, 1)
    finally:
        worker.shutdown(wait=False)
