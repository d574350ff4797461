"""One request through the ASGI application, as uvicorn hands it over, for tests."""

import asyncio

from django.core import signals
from django.db import close_old_connections

from hub.asgi import application


def http_scope(
    method: str,
    path: str,
    query: bytes = b"",
    headers=(),
    host: bytes = b"127.0.0.1:6443",
    scheme: str = "https",
) -> dict:
    """The scope uvicorn hands over for one HTTP request to the API's port."""
    port = int(host.rsplit(b":", 1)[1]) if b":" in host else 443
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", host), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", port),
    }


def serve(scope: dict, chunks=(b"",)) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of one request whose body arrives in these chunks."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(60)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    # As Django's test clients do: the test thread's connection is the test's, which the
    # end of a request must not check from inside the event loop.
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        asyncio.run(application(scope, receive, send))
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)
    start, *bodies = sent
    return start["status"], start["headers"], b"".join(m.get("body", b"") for m in bodies)
