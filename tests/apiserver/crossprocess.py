"""The two sides of the cross-process wake-up test, each run as a process of its own.

    python -m tests.apiserver.crossprocess watch STREAMS IDLE_SECONDS
    python -m tests.apiserver.crossprocess write WRITES PREFIX
    python -m tests.apiserver.crossprocess watch-audit
    python -m tests.apiserver.crossprocess audit WRITES

The last two do the same for the audit log: a feed of AuditEvents in the namespace, and
audit records written as requests into it would write them.

Both use DATABASE_URL (a throwaway PostgreSQL database). The watcher opens STREAMS idle
subscribers on its process's feed plus one on the namespace the writer writes to, counts
every SQL statement on the revisions table while idle, then reports when each write
reaches it, until it is killed. Each side prints JSON lines; the wall clock is shared (one machine).
"""

import asyncio
import contextlib
import json
import sys
import time

import django

NAMESPACE = "crossing"


def _say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def watch(streams: int, idle: float) -> None:
    from django.db.backends import utils

    from apiserver.endpoints import watch as feeds
    from apiserver.models import Revision

    table = Revision._meta.db_table
    statements = [0]
    execute = utils.CursorWrapper.execute

    def counted(self, sql, params=None):
        if table in str(sql):
            statements[0] += 1
        return execute(self, sql, params)

    utils.CursorWrapper.execute = counted

    async def main() -> None:
        feed = feeds._feed()
        idle_ones = [await feed.subscribe("/configmaps", f"idle-{i}") for i in range(streams)]
        target = await feed.subscribe("/configmaps", NAMESPACE)
        deadline = time.monotonic() + 30
        while not feed.listening and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)  # the read that follows the LISTEN
        before = statements[0]
        await asyncio.sleep(idle)
        _say(
            ready=True,
            listening=feed.listening,
            subscribers=len(feed.subscribers),
            idle_statements=statements[0] - before,
        )
        while idle_ones:
            row = await target.rows.get()
            if row is not None:
                _say(woke=time.time(), revision=row[0], listening=feed.listening)

    asyncio.run(main())


def write(writes: int, prefix: str) -> None:
    from apiserver.errors import ApiError
    from apiserver.registry import store
    from apiserver.registry.kinds import Kind

    kind = Kind(
        group="",
        version="v1",
        kind="ConfigMap",
        plural="configmaps",
        singular="configmap",
        namespaced=True,
        verbs=("create",),
    )
    namespaces = Kind(
        group="",
        version="v1",
        kind="Namespace",
        plural="namespaces",
        singular="namespace",
        namespaced=False,
        verbs=("create",),
    )
    with contextlib.suppress(ApiError):  # made by an earlier run
        store.create(
            namespaces, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        )
    time.sleep(0.3)
    for index in range(writes):
        started = time.time()
        obj = store.create(
            kind,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"{prefix}-{index}", "namespace": NAMESPACE},
            },
        )
        revision = int(obj["metadata"]["resourceVersion"])
        _say(started=started, committed=time.time(), revision=revision)
        time.sleep(0.3)


def watch_audit() -> None:
    from apiserver.endpoints import watch as feeds
    from apiserver.registry import auditevents

    async def main() -> None:
        feed = feeds._feed(feeds.AUDIT)
        target = await feed.subscribe(auditevents.RESOURCE, NAMESPACE)
        deadline = time.monotonic() + 30
        while not feed.listening and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        _say(ready=True, listening=feed.listening)
        while True:
            row = await target.rows.get()
            if row is not None:
                _say(woke=time.time(), id=row[0], body=json.loads(row[4]))

    asyncio.run(main())


def audit(writes: int) -> None:
    from apiserver.endpoints.request import ApiRequest
    from apiserver.filters import audit
    from apiserver.filters.requestinfo import Prepared, Route
    from apiserver.registry import auditevents
    from apiserver.registry.kinds import Kind

    pods = Kind(
        group="",
        version="v1",
        kind="Pod",
        plural="pods",
        singular="pod",
        namespaced=True,
        verbs=("list",),
    )
    path = f"/api/v1/namespaces/{NAMESPACE}/pods"
    for _ in range(writes):
        prepared = Prepared(target=Route(kind=pods, namespace=NAMESPACE), verb="list")
        audit.record(ApiRequest("GET", path, client="kubectl"), prepared, 200, time.perf_counter())
        _say(committed=time.time(), id=auditevents.newest_id())
        time.sleep(0.3)


if __name__ == "__main__":
    django.setup()
    role, *args = sys.argv[1:]
    if role == "watch":
        watch(int(args[0]), float(args[1]))
    elif role == "watch-audit":
        watch_audit()
    elif role == "audit":
        audit(int(args[0]))
    else:
        write(int(args[0]), args[1])
