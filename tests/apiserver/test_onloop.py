"""Plain reads answered on the event loop; everything that might wait, on a worker thread.

Each request is served through the real ASGI application (`tests.asgi.serve`), and a fault
injector registered for the test notes which thread ran the pipeline's gates for it.
"""

import threading

import pytest

from apiserver import onloop
from apiserver.filters import fairness
from apiserver.filters import faults as fault_hook
from apiserver.registry import auditevents
from learning import faults
from tests.asgi import http_scope, serve

# Committed data: the worker threads read and write on connections of their own.
pytestmark = pytest.mark.django_db(transaction=True)

CONFIGMAPS = "/api/v1/namespaces/alice/configmaps"


@pytest.fixture(autouse=True)
def reads_on_loop(settings):
    """The lane on whatever the database: "auto" turns it on for SQLite only."""
    settings.WAREHOUSE_API_READS_ON_LOOP = "on"


@pytest.fixture
def threads_seen():
    """The name of the thread each request's gates ran on, in order."""
    seen: list[str] = []

    def note(lane, user):
        seen.append(threading.current_thread().name)
        return 1.0

    fault_hook.register(note, quiet=lambda: True)
    yield seen
    fault_hook.unregister(note)


def _scope(path: str, method: str = "GET", token: str = "", query: bytes = b"") -> dict:
    headers = [(b"accept", b"application/json")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if method != "GET":
        headers.append((b"content-type", b"application/json"))
    return http_scope(method, path, query, headers)


def _configmap(name: str) -> bytes:
    return (
        b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "'
        + name.encode()
        + b'"}, "data": {"shelf": "7"}}'
    )


def _create(alice, name: str) -> None:
    status, _, body = serve(_scope(CONFIGMAPS, "POST", alice.token), (_configmap(name),))
    assert status == 201, body


def test_a_get_and_a_list_are_served_on_the_loop_and_a_write_on_a_worker(alice, threads_seen):
    here = threading.current_thread().name  # the thread asyncio.run drives the loop on

    _create(alice, "parcel")
    got, _, body = serve(_scope(f"{CONFIGMAPS}/parcel", token=alice.token))
    listed, _, _ = serve(_scope(CONFIGMAPS, token=alice.token))

    assert (got, listed) == (200, 200)
    assert b'"shelf": "7"' in body or b'"shelf":"7"' in body
    write, get, list_ = threads_seen
    assert write.startswith("api") and write != here
    assert get == list_ == here


def test_a_watch_and_every_read_in_a_slowdown_go_to_the_workers(alice, carol, threads_seen):
    _create(alice, "parcel")
    faults.start_scenario("slowdown", 60, carol)
    try:
        status, _, _ = serve(_scope(f"{CONFIGMAPS}/parcel", token=carol.token))
    finally:
        faults.stop_scenario()
    assert status == 200
    assert threads_seen[-1].startswith("api")

    status, _, _ = serve(_scope(f"{CONFIGMAPS}/parcel", token=carol.token))
    assert status == 200
    assert threads_seen[-1] == threading.current_thread().name


def test_a_read_that_would_write_is_served_again_on_a_worker_and_writes_once(alice, threads_seen):
    """A statement other than a read is never run on the loop: the request starts over on
    a worker thread, where it runs once."""
    _create(alice, "parcel")
    written: list[str] = []

    def writes(lane, user):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("UPDATE apiserver_clusteruser SET name = name WHERE id = -1")
        written.append(threading.current_thread().name)
        return 1.0

    fault_hook.register(writes, quiet=lambda: True)
    try:
        status, _, _ = serve(_scope(f"{CONFIGMAPS}/parcel", token=alice.token))
    finally:
        fault_hook.unregister(writes)

    assert status == 200
    assert len(written) == 1 and written[0].startswith("api")
    assert threads_seen[-2:] == [threading.current_thread().name, written[0]]


def test_with_no_learner_seat_free_a_read_waits_in_line_on_a_worker(alice, settings, threads_seen):
    settings.WAREHOUSE_LEARNER_CONCURRENCY = 1
    settings.WAREHOUSE_LEARNER_QUEUE_SECONDS = 0.05
    seats = fairness._learner_seats()
    assert seats.acquire(blocking=False)
    try:
        status, headers, _ = serve(_scope(CONFIGMAPS, token=alice.token))
    finally:
        seats.release()
    assert status == 429
    assert threads_seen[-1].startswith("api")


def test_switched_off_every_request_goes_to_the_workers(alice, settings, threads_seen):
    settings.WAREHOUSE_API_READS_ON_LOOP = "off"
    status, _, _ = serve(_scope(CONFIGMAPS, token=alice.token))
    assert status == 200
    assert threads_seen[-1].startswith("api")


def test_a_read_on_the_loop_leaves_its_audit_row_for_the_very_next_reader(alice, threads_seen):
    before = auditevents.newest_id()
    serve(_scope(CONFIGMAPS, token=alice.token, query=b"labelSelector=aisle%3Dseven"))
    assert threads_seen[-1] == threading.current_thread().name

    rows, _ = auditevents.recent("alice", limit=5)

    newest = rows[-1]
    assert int(newest["metadata"]["name"]) > before
    assert (newest["verb"], newest["objectRef"]["resource"]) == ("list", "configmaps")
    assert newest["user"] == {"username": "alice"}


@pytest.mark.parametrize(
    ("choice", "engine", "limits", "on"),
    [
        ("auto", "django.db.backends.sqlite3", "memory", True),
        ("auto", "django.db.backends.sqlite3", "off", True),
        ("auto", "django.db.backends.sqlite3", "redis", False),
        ("auto", "django.db.backends.postgresql", "memory", False),
        ("on", "django.db.backends.postgresql", "redis", True),
        ("off", "django.db.backends.sqlite3", "memory", False),
    ],
)
def test_auto_serves_reads_on_the_loop_only_on_sqlite_with_limits_in_process(
    choice, engine, limits, on
):
    assert onloop.chosen(choice, engine, limits) is on


def test_a_statement_other_than_a_read_is_refused_on_the_loop():
    from django.db import connection

    def update() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM apiserver_clusteruser WHERE id = -1")

    class Request:
        method, path, query = "GET", CONFIGMAPS, {}

    assert onloop.try_serve(lambda request: update(), Request(), lambda: True) is None
