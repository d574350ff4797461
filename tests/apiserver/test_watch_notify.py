"""On PostgreSQL a write committed by another process wakes this process's watches by
NOTIFY, and a thousand idle watches cost no reads of the revision log meanwhile.

Both sides are processes of their own on a throwaway PostgreSQL database
(`tests/apiserver/crossprocess.py`), since this test process's database is the test one.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apiserver.endpoints import watch
from apiserver.registry import store
from support.databases import POSTGRES, environment, postgres_available
from support.livecluster import REPO, throwaway_postgres
from tests.processes import json_line, run_python

STREAMS = 1000
IDLE_SECONDS = 3.0
WRITES = 5

needs_postgres = pytest.mark.skipif(not postgres_available(), reason=f"no PostgreSQL at {POSTGRES}")


@needs_postgres
def test_a_write_from_another_process_wakes_idle_watches_that_never_poll(tmp_path: Path):
    with throwaway_postgres(POSTGRES, "warehouse_notify") as url:
        env = environment(url, WAREHOUSE_STATE_DIR=str(tmp_path / "state"))
        run_python(env, "manage.py", "migrate", "--noinput", "-v0")
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.apiserver.crossprocess",
                "watch",
                str(STREAMS),
                str(IDLE_SECONDS),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            ready = json_line(watcher, 120)
            assert ready["listening"]
            assert ready["subscribers"] == STREAMS + 1
            # Polling would have read the log ~20 times in the idle seconds.
            assert ready["idle_statements"] == 0

            written = _write(env, "first")
            woken = [json_line(watcher, 30) for _ in range(WRITES)]

            # The listening connection is cut: the feed reconnects, re-reads what was
            # committed meanwhile, and is woken by NOTIFY again afterwards.
            assert _cut_listeners(url) == 1
            rewritten = _write(env, "after-the-cut")
            rewoken = [json_line(watcher, 30) for _ in range(WRITES)]
        finally:
            watcher.kill()
            watcher.wait(timeout=10)

    assert [w["revision"] for w in woken] == [w["revision"] for w in written]
    latencies = [w["woke"] - c["committed"] for w, c in zip(woken, written, strict=True)]
    print("cross-process wake-up after commit (s):", [round(x, 4) for x in latencies])
    # The idle feed read nothing, so only a NOTIFY woke it this far under its 45 s safety
    # re-read; how fast that is belongs to bench/, not to a test on a busy machine.
    assert max(latencies) < watch.SAFETY_SECONDS / 4
    assert [w["revision"] for w in rewoken] == [w["revision"] for w in rewritten]
    assert rewoken[-1]["listening"]


@needs_postgres
def test_an_audit_record_written_by_another_process_wakes_auditevent_watches(tmp_path: Path):
    with throwaway_postgres(POSTGRES, "warehouse_audit_notify") as url:
        env = environment(url, WAREHOUSE_STATE_DIR=str(tmp_path / "state"))
        run_python(env, "manage.py", "migrate", "--noinput", "-v0")
        watcher = subprocess.Popen(
            [sys.executable, "-m", "tests.apiserver.crossprocess", "watch-audit"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert json_line(watcher, 120)["listening"]
            out = run_python(env, "-m", "tests.apiserver.crossprocess", "audit", str(WRITES))
            written = [json.loads(line) for line in out.strip().splitlines()]
            woken = [json_line(watcher, 30) for _ in range(WRITES)]
        finally:
            watcher.kill()
            watcher.wait(timeout=10)

    assert [w["id"] for w in woken] == [w["id"] for w in written]
    assert {w["body"]["objectRef"]["namespace"] for w in woken} == {"crossing"}
    latencies = [w["woke"] - c["committed"] for w, c in zip(woken, written, strict=True)]
    print("cross-process audit wake-up (s):", [round(x, 4) for x in latencies])
    assert max(latencies) < watch.SAFETY_SECONDS / 4  # by NOTIFY: listening, not polling


def _write(env: dict[str, str], prefix: str) -> list[dict]:
    out = run_python(env, "-m", "tests.apiserver.crossprocess", "write", str(WRITES), prefix)
    return [json.loads(line) for line in out.strip().splitlines()]


def _cut_listeners(url: str) -> int:
    """End the watch feeds' listening connections from the server side; how many."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            ["warehouse watch listener"],
        ).fetchall()
    return len(rows)


def _feed(cursor: int, listening: bool) -> watch._Feed:
    feed = watch._Feed(None)
    feed.cursor, feed.listening = cursor, listening
    return feed


def test_a_notify_for_a_revision_already_read_costs_nothing():
    feed = _feed(cursor=7, listening=True)
    feed.notified(store.REVISIONS_CHANNEL, "7")  # a local commit kicked the feed first
    assert not feed.kicked.is_set()
    feed.notified(store.REVISIONS_CHANNEL, "8")
    assert feed.kicked.is_set()


def test_a_listening_feed_waits_for_the_safety_read_a_polling_one_does_not():
    assert _feed(0, listening=True)._wait_seconds() > watch.SAFETY_SECONDS - 1
    assert _feed(0, listening=False)._wait_seconds() <= watch.POLL_SECONDS
    owner = watch._Subscriber("/configmaps", "alice", (1, "token"))
    # Streams with owners: a listening feed is told of credential changes, so it need
    # not check them any sooner; a polling one checks every few seconds.
    told = _feed(0, listening=True)
    told.subscribers.add(owner)
    assert told._wait_seconds() > watch.SAFETY_SECONDS - 1
    polling = _feed(0, listening=False)
    polling.read_at += 60
    polling.subscribers.add(owner)
    assert polling._wait_seconds() <= watch.CREDENTIALS_SECONDS


def test_a_notice_of_changed_credentials_has_the_feed_check_them_at_once():
    feed = _feed(cursor=7, listening=True)
    feed.notified(watch.CREDENTIALS_CHANNEL, "42")
    assert feed.recheck_due and feed.kicked.is_set()
