"""How long the store's housekeeping takes, and how long any one batch holds the store.

    python bench/housekeeping.py                      # 100,000 revisions, 10,000 Events
    python bench/housekeeping.py --revisions 300000 --events 20000 --audit 300000

Builds a throwaway SQLite database, fills the revision log, Events and the audit log
with rows an hour and more old (1 KB bodies, like a small Pod), then runs housekeeping
passes until nothing is left to do. Prints figures; asserts nothing.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _setup(database: Path) -> None:
    sys.path.insert(0, str(REPO))
    from support import inprocess

    inprocess.start(database)


def _fill(revisions: int, events: int, audits: int) -> None:
    import uuid

    from apiserver.models import AuditRecord, Counter, Revision, StoredObject
    from apiserver.registry import store

    first = store.current_revision() + 1
    last = first + revisions - 1
    old = datetime.now(UTC) - timedelta(hours=2)
    body = '{"metadata":{"name":"web"},"spec":"' + "x" * 1000 + '"}'
    for start in range(first, last + 1, 10_000):
        Revision.objects.bulk_create(
            Revision(
                id=i,
                resource="/pods",
                namespace="alice",
                name="web",
                event_type="MODIFIED",
                body=body,
                created=old,
            )
            for i in range(start, min(start + 10_000, last + 1))
        )
    Counter.objects.update_or_create(name="resourceVersion", defaults={"value": last})
    StoredObject.objects.bulk_create(
        (
            StoredObject(
                resource="/events",
                namespace="alice",
                name=f"web.{i:x}",
                uid=uuid.uuid4(),
                resource_version=last,
                body='{"metadata":{"name":"e"}}',
                created=old,
                updated=old,
            )
            for i in range(events)
        ),
        batch_size=5000,
    )
    AuditRecord.objects.bulk_create(
        (
            AuditRecord(
                timestamp=old - timedelta(days=1),
                user="alice",
                client="kubectl",
                verb="get",
                method="GET",
                path="/api/v1/namespaces/alice/pods",
                status_code=200,
                latency_ms=1.0,
            )
            for _ in range(audits)
        ),
        batch_size=5000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--audit", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _setup(Path(folder) / "bench.sqlite3")
        _fill(args.revisions, args.events, args.audit)
        from apiserver import housekeeping

        slowest = _time_batches()
        policy = housekeeping.Policy.from_settings()
        passes, longest, totals = 0, 0.0, [0, 0, 0]
        started = time.perf_counter()
        while True:
            begun = time.perf_counter()
            report = housekeeping.run_once(policy=policy)
            longest = max(longest, time.perf_counter() - begun)
            passes += 1
            totals = [
                totals[0] + report.events,
                totals[1] + report.revisions,
                totals[2] + report.audit,
            ]
            if not report.unfinished:
                break
        took = time.perf_counter() - started
    print(
        f"housekeeping: {totals[1]:,} revisions compacted, {totals[0]:,} Events expired, "
        f"{totals[2]:,} audit records pruned in {took:.2f} s "
        f"({passes} pass(es), the longest {longest:.2f} s)"
    )
    for name, seconds in slowest.items():
        rows = policy.event_batch if name == "expiring Events" else policy.batch
        print(f"  slowest batch of {rows:,} rows, {name}: {seconds * 1000:.0f} ms")


def _time_batches() -> dict[str, float]:
    """Time every batch as it runs: how long one holds the store is what requests feel."""
    from apiserver.filters import audit
    from apiserver.registry import store

    slowest: dict[str, float] = {}

    def timed(module: object, attribute: str, name: str) -> None:
        step = getattr(module, attribute)

        def wrapper(*args: object) -> int:
            started = time.perf_counter()
            done = step(*args)
            slowest[name] = max(slowest.get(name, 0.0), time.perf_counter() - started)
            return done

        setattr(module, attribute, wrapper)

    timed(store, "expire_events", "expiring Events")
    timed(store, "compact_batch", "compacting revisions")
    timed(audit, "prune", "pruning the audit log")
    return slowest


if __name__ == "__main__":
    main()
