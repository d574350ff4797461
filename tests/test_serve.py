import asyncio
import os
import signal
import socket
import ssl

import pytest
import uvicorn
from django.core.management import CommandError, call_command

from apiserver.management.commands import serve
from apiserver.server import tls


async def _hello(scope, receive, send) -> None:
    assert scope["type"] == "http"
    body = scope["scheme"].encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _get(port: int, context: ssl.SSLContext | None) -> bytes:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname="localhost" if context else None
    )
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    body = await reader.read()
    writer.close()
    return body.split(b"\r\n\r\n", 1)[1]


def test_both_listeners_serve_and_sigterm_stops_everything(tmp_path, settings):
    settings.STATE_DIR = tmp_path
    paths = tls.ensure_certificates()
    web_socket = serve._bind("127.0.0.1", 0)
    api_socket = serve._bind("127.0.0.1", 0)
    web = serve._Server(uvicorn.Config(_hello, lifespan="off", log_level="warning"))
    api = serve._Server(
        uvicorn.Config(
            _hello,
            lifespan="off",
            log_level="warning",
            ssl_certfile=str(paths.server_cert),
            ssl_keyfile=str(paths.server_key),
        )
    )
    seen: dict[str, object] = {}

    async def probe(stop: asyncio.Event) -> None:
        while not (web.started and api.started):
            await asyncio.sleep(0.01)
        client = ssl.create_default_context(cadata=tls.ca_pem().decode())
        seen["http"] = await _get(web_socket.getsockname()[1], None)
        seen["https"] = await _get(api_socket.getsockname()[1], client)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), timeout=5)
        seen["stopped"] = True

    asyncio.run(asyncio.wait_for(serve._serve([(web, web_socket), (api, api_socket)], [probe]), 30))

    assert seen == {"http": b"http", "https": b"https", "stopped": True}
    assert web.should_exit and api.should_exit
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_busy_port_is_a_clear_error():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1 port {port}"):
            serve._bind("127.0.0.1", port)


def test_serve_command_stops_before_serving_when_the_api_port_is_busy(db, tmp_path, settings):
    settings.STATE_DIR = tmp_path
    settings.DEBUG = True
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"port {port}"):
            call_command("serve", "--port", "0", "--api-port", str(port))
    assert (tmp_path / "tls" / "server.key").exists()


def test_serve_command_refuses_an_unknown_background_task(db, tmp_path, settings):
    settings.STATE_DIR = tmp_path
    settings.DEBUG = True
    settings.WAREHOUSE_BACKGROUND_TASKS = ["controlplane.nowhere.run"]

    with pytest.raises(CommandError, match="WAREHOUSE_BACKGROUND_TASKS"):
        call_command("serve", "--port", "0", "--api-port", "0")


@pytest.mark.parametrize(
    ("host", "shown"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]")],
)
def test_banner_urls_use_a_reachable_host(host, shown):
    assert serve._url_host(host) == shown
