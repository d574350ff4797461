"""A thousand open live pages in one process cost nothing while nobody writes.

On PostgreSQL with pooled connections, as production runs: no SQL statement (no polling
of the revision log, no re-checking of tokens), no thread per stream and no pooled
connection held. A write still reaches the right pages at once, a learner revoked by
another process loses their streams at once, and a shutdown ends them all within
seconds, leaving no task behind. The server side is a process of its own
(`tests/shop/pagestreams.py`) on a throwaway database, since this one's is the test one.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apiserver.server import asgi
from support.databases import POSTGRES, environment, postgres_available
from support.livecluster import REPO, throwaway_postgres
from tests.processes import json_line, run_python

STREAMS = 1000
LEARNERS = 50
IDLE_SECONDS = 3.0

pytestmark = pytest.mark.skipif(not postgres_available(), reason=f"no PostgreSQL at {POSTGRES}")


def test_a_thousand_idle_live_pages_cost_no_queries_threads_or_connections(tmp_path: Path):
    with throwaway_postgres(POSTGRES, "warehouse_pages") as url:
        env = environment(
            url,
            DB_POOL="true",
            WAREHOUSE_STATE_DIR=str(tmp_path / "state"),
            WAREHOUSE_RATE_LIMIT_BACKEND="off",
            WAREHOUSE_NEW_LEARNERS_LIMIT="1000",
        )
        run_python(env, "manage.py", "migrate", "--noinput", "-v0")
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.shop.pagestreams", "serve"]
            + [str(STREAMS), str(LEARNERS), str(IDLE_SECONDS)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            idle = json_line(server, 600)
            write = json_line(server, 60)
            out = run_python(env, "-m", "tests.shop.pagestreams", "revoke", "reader-1")
            told = json.loads(out.strip().splitlines()[-1])
            server.stdin.write("go\n")
            server.stdin.flush()
            revoked = json_line(server, 60)
            stopped = json_line(server, 60)
        finally:
            server.kill()
            server.wait(timeout=10)
    print("thousand live pages:", idle, write, revoked, stopped)
    print(
        "revoked in another process; its streams ended after (s):",
        revoked["last_ended_at"] - told["at"],
    )

    assert idle["drawn"] == idle["open"] == STREAMS
    assert idle["idle_statements"] == 0, idle["idle_sql"]
    assert idle["checked_out"] == 0
    # The shared stream threads and the watch feed's (and asyncio's own), not one each.
    assert idle["threads_idle"] - idle["threads_before"] <= asgi.WATCH_THREADS + 4, idle

    per_learner = STREAMS // LEARNERS
    assert write["created"] == 201
    assert write["reached"] == write["meant"] == per_learner
    # Revoked in another process: told by NOTIFY, not found by a poll seconds later.
    assert revoked["revoked_ended"] == per_learner
    assert revoked["last_ended_at"] - told["at"] < 2.0
    assert revoked["still_open"] == STREAMS - per_learner

    assert stopped["ended"] == STREAMS
    assert stopped["shutdown_seconds"] < 5.0
    assert stopped["tasks_left"] == 0
    assert stopped["checked_out"] == 0
