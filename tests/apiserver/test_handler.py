"""The API's front door at the ASGI level: scope and body in, the pipeline, bytes out.

Requests go through the whole ASGI application, as uvicorn hands them over, so these
cover the lane kubectl's requests take; the pipeline itself is tested elsewhere.
"""

import asyncio
import json

import pytest

from apiserver.server import handler
from tests.apiserver.conftest import _user
from tests.asgi import http_scope, serve

CONFIGMAPS = "/api/v1/namespaces/alice/configmaps"


@pytest.fixture
def alice(transactional_db):
    """Alice, committed: the API's worker threads read her from their own connections."""
    return _user("alice", namespace="alice")


def _scope(method: str, path: str, query: bytes = b"", headers=(), host=b"127.0.0.1:6443"):
    return http_scope(method, path, query, headers, host)


def _bearer(user) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {user.token}".encode())


def test_a_list_is_answered_with_the_pages_security_headers(alice):
    status, headers, body = serve(_scope("GET", CONFIGMAPS, headers=[_bearer(alice)]))

    assert status == 200
    named = {name.lower(): value for name, value in headers}
    assert named[b"content-type"] == b"application/json"
    assert named[b"content-length"] == str(len(body)).encode()
    assert named[b"x-content-type-options"] == b"nosniff"
    assert named[b"x-frame-options"] == b"DENY"
    assert json.loads(body)["kind"] == "ConfigMapList"


def test_a_body_sent_in_pieces_is_read_whole(alice):
    manifest = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pieces"}}
    ).encode()
    headers = [_bearer(alice), (b"content-type", b"application/json")]

    status, _, body = serve(
        _scope("POST", CONFIGMAPS, headers=headers), chunks=(manifest[:10], manifest[10:])
    )

    assert status == 201, body
    assert json.loads(body)["metadata"]["name"] == "pieces"


def test_a_header_sent_twice_reaches_the_pipeline_joined(alice):
    """As Django joins repeated headers: here the second Accept is what makes it a Table."""
    accepts = [
        (b"accept", b"application/json;as=Table;v=v1;g=meta.k8s.io"),
        (b"accept", b"application/json"),
    ]

    status, _, body = serve(_scope("GET", CONFIGMAPS, headers=[_bearer(alice), *accepts]))

    assert status == 200
    assert json.loads(body)["kind"] == "Table"


def test_a_body_over_the_limit_is_refused_before_it_is_read(alice, settings):
    settings.WAREHOUSE_MAX_BODY_BYTES = 100
    headers = [_bearer(alice), (b"content-length", b"5000")]

    status, _, body = serve(_scope("POST", CONFIGMAPS, headers=headers), chunks=(b"x" * 5000,))

    assert status == 413
    assert json.loads(body)["reason"] == "RequestEntityTooLarge"


def test_a_body_over_the_limit_without_a_length_is_refused_as_it_arrives(alice, settings):
    settings.WAREHOUSE_MAX_BODY_BYTES = 100

    status, _, body = serve(
        _scope("POST", CONFIGMAPS, headers=[_bearer(alice)]), chunks=(b"x" * 80, b"x" * 80)
    )

    assert status == 413
    assert json.loads(body)["code"] == 413


def test_a_host_not_allowed_gets_djangos_answer(alice):
    scope = _scope("GET", CONFIGMAPS, headers=[_bearer(alice)], host=b"evil.example.com")

    status, _, _ = serve(scope)

    assert status == 400


def test_the_command_words_of_an_exec_are_kept_in_order():
    scope = _scope("GET", "/api", query=b"command=ls&container=c&command=-l&command=%2Ftmp")

    assert handler._query(scope) == {"command": "ls -l /tmp", "container": "c"}


def test_hsts_is_sent_only_over_https(settings):
    settings.SECURE_HSTS_SECONDS = 60

    secure = dict(handler._security_headers(True, handler._security_settings()))
    plain = dict(handler._security_headers(False, handler._security_settings()))

    assert secure[b"Strict-Transport-Security"].startswith(b"max-age=60")
    assert b"Strict-Transport-Security" not in plain


def test_a_followed_log_ends_when_its_client_leaves():
    """The stream would go on for as long as the container; the client's leaving ends it
    and closes what fed it."""
    sent: list[dict] = []
    closed = asyncio.Event()

    async def forever():
        try:
            while True:
                yield b"line\n"
                await asyncio.sleep(0.01)
        finally:
            closed.set()

    async def receive() -> dict:
        while len(sent) < 3:
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        await asyncio.wait_for(handler._stream(send, receive, b"first\n", forever()), 5)

    asyncio.run(run())

    assert closed.is_set()
    assert sent[0]["body"] == b"first\n"
