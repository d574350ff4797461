"""The ASGI lean lane: which requests skip Django's per-request thread, and what they get.

API requests (watches aside) and cached catalog pages are served straight from the
handler with the headers every page gets; everything else takes Django's usual path.
"""

import gzip
import threading

import pytest
from django.db import connection

from apiserver.registry import kinds
from apiserver.server import views
from catalog import pagecache
from hub.asgi import _lean_lane
from tests.asgi import serve


@pytest.fixture
def steady_catalog(monkeypatch):
    """A catalog state that stays known for the test however slowly the machine renders."""
    monkeypatch.setattr(kinds, "CHECK_SECONDS", 3600.0)
    monkeypatch.setattr(kinds, "CACHE_SECONDS", 3600.0)


def _scope(path: str, method: str = "GET", query: bytes = b"", headers=()) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def _serve(scope: dict) -> tuple[int, dict[bytes, bytes], bytes]:
    status, headers, body = serve(scope)
    return status, {name.lower(): value for name, value in headers}, body


@pytest.mark.parametrize(
    ("path", "query"),
    [("/api/v1/namespaces/alice/configmaps", b""), ("/apis", b""), ("/version", b"")],
)
def test_api_requests_take_the_lean_lane(path, query):
    assert _lean_lane(_scope(path, query=query)) == (views.api, None)


@pytest.mark.parametrize("query", [b"watch=true", b"watch=1&resourceVersion=5", b"watch=True"])
def test_watches_take_djangos_path(query):
    assert _lean_lane(_scope("/api/v1/namespaces/alice/configmaps", query=query)) is None


def test_health_checks_take_the_lean_lane():
    assert _lean_lane(_scope("/healthz")) == (views.health, None)


def test_a_page_takes_the_lean_lane_only_once_cached(shopper, catalog, steady_catalog):
    assert _lean_lane(_scope("/")) is None
    assert shopper.get("/").status_code == 200

    view, page = _lean_lane(_scope("/"))

    assert view is None and page is pagecache.current_page("/")
    assert _lean_lane(_scope("/", query=b"q=pod")) is None
    assert _lean_lane(_scope("/", headers=[(b"hx-request", b"true")])) is None
    assert _lean_lane(_scope("/", method="HEAD")) is None
    assert _lean_lane(_scope("/learner/")) is None


def test_a_cached_page_from_the_lean_lane_has_the_page_headers(shopper, catalog, steady_catalog):
    plain = shopper.get("/catalog/apps/v1/deployments/")

    status, headers, body = _serve(
        _scope("/catalog/apps/v1/deployments/", headers=[(b"accept-encoding", b"gzip")])
    )

    assert status == 200
    assert headers[b"content-encoding"] == b"gzip"
    assert gzip.decompress(body) == plain.content
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"content-length"] == str(len(body)).encode()


def test_the_lean_lane_checks_the_host_like_every_page(db):
    scope = _scope("/healthz")
    scope["headers"] = [(b"host", b"evil.example.com")]

    status, _, _ = _serve(scope)

    assert status == 400


def test_the_lean_lane_answers_health_checks(db):
    status, headers, body = _serve(_scope("/healthz"))

    assert (status, body) == (200, b"ok")
    assert headers[b"x-frame-options"] == b"DENY"


def test_worker_threads_keep_a_healthy_connection_between_requests(transactional_db):
    """CONN_MAX_AGE=0 means per request for Django's per-request threads; a long-lived worker
    keeps its connection, and drops it once it is broken."""
    seen, closed = [], []

    def work() -> None:
        connection.ensure_connection()
        seen.append(connection.connection)

    def worker() -> None:
        connection.close = lambda: closed.append(True)  # this thread's connection only
        views.then_check_connections(work)
        views.then_check_connections(work)
        assert not closed
        connection.errors_occurred = True
        connection.is_usable = lambda: False
        views.then_check_connections(lambda: None)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()

    assert seen[0] is not None and seen[0] is seen[1]
    assert closed == [True]
