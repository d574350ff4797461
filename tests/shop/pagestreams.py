"""The two sides of the thousand-live-pages test, each run as a process of its own.

    python -m tests.shop.pagestreams serve STREAMS LEARNERS IDLE_SECONDS
    python -m tests.shop.pagestreams revoke NAME

Both use DATABASE_URL (a throwaway, migrated PostgreSQL database) with pooled
connections (DB_POOL), as production runs. The server side seeds the catalog, signs in
LEARNERS learners through the learner page and opens STREAMS "Your orders" streams among
them through the real ASGI application, as uvicorn would call it. Once every region has
been drawn it counts, over IDLE_SECONDS, SQL statements, threads and pooled connections
checked out; then it reports which streams a Pod created through the API reaches, which
streams end when the other process revokes a learner, and how long a shutdown takes to
end them all. It prints JSON lines and reads a line on stdin where it waits for the test.

The watch feed's one safety re-read (every `watch.SAFETY_SECONDS`, for the whole process,
should a NOTIFY be lost) is put off past the run: it costs the same for one stream as for
a thousand, and a slow machine's idle window would otherwise sometimes hold it.
"""

import asyncio
import json
import sys
import threading
import time

import django

NAME = "reader-{}"
POD = "arrived"


def _say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


class Page:
    """One browser tab's stream: the bytes it was sent, and when the server ended it."""

    def __init__(self, learner: str, cookie: str) -> None:
        self.learner = learner
        self.cookie = cookie
        self.text = ""
        self.drawn = asyncio.Event()
        self.ended = asyncio.Event()
        self.changed = asyncio.Event()
        self.gone = asyncio.Event()
        self.asked = False
        self.ended_at = 0.0  # the wall clock, shared with the process that revokes

    def scope(self) -> dict:
        path = "/orders/events/"
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"accept", b"text/event-stream"),
                (b"cookie", self.cookie.encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }

    async def receive(self) -> dict:
        if not self.asked:
            self.asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if message["status"] != 200:
                self._end()
            return
        self.text += message.get("body", b"").decode()
        if "event: SYNC" in self.text:
            self.drawn.set()
        if "event: ADDED" in self.text:
            self.changed.set()
        if not message.get("more_body", False):
            self._end()

    def _end(self) -> None:
        self.ended_at = time.time()
        self.ended.set()


def _signed_in(names: list[str]) -> dict[str, str]:
    """Each learner's session cookie, from signing in on the learner page."""
    from django.db import connection
    from django.test import Client

    cookies = {}
    for name in names:
        browser = Client(HTTP_HOST="127.0.0.1")
        response = browser.post("/learner/", {"name": name, "display_name": name})
        assert response.status_code == 302, response.content[:500]
        cookies[name] = f"sessionid={browser.cookies['sessionid'].value}"
    connection.close()  # the test client keeps it; only the streams' count
    return cookies


def _create_pod(name: str) -> int:
    from django.db import connection

    from apiserver.accounts import ClusterUser
    from shop import api

    learner = ClusterUser.objects.get(name=name)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": POD},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }
    path = api.collection_path("", "v1", "pods", learner.namespace)
    try:
        return api.call(learner, "POST", path, pod).status
    finally:
        connection.close()


def _checked_out() -> int:
    from django.db import connection

    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


async def _settled(statements: list[int], quiet: float = 1.0, longest: float = 60.0) -> None:
    """Wait until no statement has run for `quiet` seconds: the last renders have given
    their connections back and the opening work is done (on a busy machine, seconds late).
    A poll at any period shorter than `quiet` never settles, and shows in the idle count."""
    deadline = time.monotonic() + longest
    seen = -1
    while statements[0] != seen and time.monotonic() < deadline:
        seen = statements[0]
        await asyncio.sleep(quiet)


def serve(streams: int, learners: int, idle: float) -> None:
    from asgiref.sync import sync_to_async
    from django.core.management import call_command
    from django.db.backends import utils

    from apiserver.endpoints import watch
    from apiserver.server import lifecycle
    from catalog.management.commands.seed_catalog import seed
    from catalog.sources import discover_kinds
    from hub.asgi import application

    watch.SAFETY_SECONDS = 3600.0
    seed(discover_kinds())
    call_command("default_policy", verbosity=0)
    names = [NAME.format(index) for index in range(learners)]
    cookies = _signed_in(names)

    statements = [0]
    recent: list[str] = []
    execute = utils.CursorWrapper.execute

    def counted(self, sql, params=None):
        statements[0] += 1
        recent.append(str(sql)[:120])
        del recent[:-20]
        return execute(self, sql, params)

    utils.CursorWrapper.execute = counted

    async def main() -> None:
        threads_before = threading.active_count()
        pages = [Page(names[i % learners], cookies[names[i % learners]]) for i in range(streams)]
        served = []
        started = time.monotonic()
        for first in range(0, streams, 100):
            wave = pages[first : first + 100]
            served += [
                asyncio.ensure_future(application(p.scope(), p.receive, p.send)) for p in wave
            ]
            await asyncio.wait_for(asyncio.gather(*(p.drawn.wait() for p in wave)), 120)
        opened = time.monotonic() - started
        await _settled(statements)
        before = statements[0]
        await asyncio.sleep(idle)
        _say(
            drawn=sum(p.drawn.is_set() for p in pages),
            open=sum(not p.ended.is_set() for p in pages),
            opened_seconds=round(opened, 1),
            idle_statements=statements[0] - before,
            idle_sql=recent[len(recent) - min(len(recent), statements[0] - before) :],
            threads_before=threads_before,
            threads_idle=threading.active_count(),
            checked_out=await sync_to_async(_checked_out, thread_sensitive=False)(),
        )

        written = time.monotonic()
        status = await sync_to_async(_create_pod, thread_sensitive=False)(names[0])
        mine = [p for p in pages if p.learner == names[0]]
        await asyncio.wait_for(asyncio.gather(*(p.changed.wait() for p in mine)), 30)
        reached = time.monotonic() - written
        await asyncio.sleep(0.5)
        _say(
            created=status,
            reached=sum(p.changed.is_set() for p in pages),
            meant=len(mine),
            reached_seconds=round(reached, 3),
        )

        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        revoked = [p for p in pages if p.learner == names[1]]
        await asyncio.wait_for(asyncio.gather(*(p.ended.wait() for p in revoked)), 30)
        _say(
            revoked_ended=len(revoked),
            last_ended_at=max(p.ended_at for p in revoked),
            still_open=sum(not p.ended.is_set() for p in pages),
        )

        stopping = time.monotonic()
        lifecycle.begin_shutdown()
        await asyncio.wait_for(asyncio.gather(*served), 30)
        ended = time.monotonic() - stopping
        await asyncio.sleep(0.5)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        _say(
            shutdown_seconds=round(ended, 3),
            ended=sum(p.ended.is_set() for p in pages),
            tasks_left=len(leftover),
            checked_out=await sync_to_async(_checked_out, thread_sensitive=False)(),
        )

    asyncio.run(main())


def revoke(name: str) -> None:
    from apiserver.accounts import ClusterUser
    from learning import workshops

    workshops.revoke(ClusterUser.objects.get(name=name))
    _say(revoked=name, at=time.time())


if __name__ == "__main__":
    django.setup()
    role, *args = sys.argv[1:]
    if role == "serve":
        serve(int(args[0]), int(args[1]), float(args[2]))
    else:
        revoke(args[0])
