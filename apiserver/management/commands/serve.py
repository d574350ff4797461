"""Serve the shop pages over HTTP and the Kubernetes API over HTTPS, in one process.

Both listeners run the same ASGI app in one asyncio loop, so a page and kubectl see
the same store and the same watch notifications. HTTPS matters: kubectl sends its
bearer token only over TLS. With DEBUG off, run ``manage.py collectstatic`` first:
WhiteNoise then serves the compressed, hashed files from STATIC_ROOT.
"""

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import uvicorn
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from apiserver import accounts
from apiserver.server import kubeconfig, lifecycle, tls

BackgroundTask = Callable[[asyncio.Event], Awaitable[None]]
logger = logging.getLogger("warehouse.serve")
# How long open requests (watch streams, above all) get to finish on shutdown.
GRACEFUL_SECONDS = 3


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the command, which runs two."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Command(BaseCommand):
    help = "Serve the pages on HTTP (--port) and the Kubernetes API on HTTPS (--api-port)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="HTTP port for the pages.")
        parser.add_argument("--api-port", type=int, default=6443, help="HTTPS port for the API.")
        parser.add_argument(
            "--no-controlplane",
            action="store_true",
            help="Do not start the background tasks (WAREHOUSE_BACKGROUND_TASKS).",
        )
        parser.add_argument(
            "--log-level",
            default="info",
            choices=["critical", "error", "warning", "info", "debug"],
        )
        parser.add_argument("--no-access-log", action="store_true", help="Quieter output.")

    def handle(self, *args, **options) -> None:
        self.check(display_num_errors=False)
        self.check_migrations()
        if not settings.DEBUG:
            self._check_collected_static()
        accounts.write_default_policy()
        tasks = [] if options["no_controlplane"] else _background_tasks()
        background = "off (--no-controlplane)" if options["no_controlplane"] else f"{len(tasks)}"
        host: str = options["host"]
        paths = tls.ensure_certificates(hosts=[host])
        web_socket = _bind(host, options["port"])
        api_socket = _bind(host, options["api_port"])

        def config(**extra) -> uvicorn.Config:
            return uvicorn.Config(
                "hub.asgi:application",
                lifespan="off",
                log_level=options["log_level"],
                access_log=not options["no_access_log"],
                timeout_graceful_shutdown=GRACEFUL_SECONDS,
                server_header=False,
                **extra,
            )

        web = _Server(config())
        api = _Server(
            config(
                ssl_certfile=str(paths.server_cert),
                ssl_keyfile=str(paths.server_key),
            )
        )
        self._banner(host, web_socket, api_socket, background)
        # uvloop where installed, as uvicorn's own command picks it (`--loop auto`).
        asyncio.run(
            _serve([(web, web_socket), (api, api_socket)], tasks),
            loop_factory=web.config.get_loop_factory(),
        )

    def _check_collected_static(self) -> None:
        read_manifest = getattr(staticfiles_storage, "read_manifest", None)
        if read_manifest is not None and read_manifest() is None:
            raise CommandError(
                "DEBUG is off and the static files are not collected: "
                "run `manage.py collectstatic --noinput` first."
            )

    def _banner(
        self, host: str, web_socket: socket.socket, api_socket: socket.socket, background: str
    ) -> None:
        shown = _url_host(host)
        web_url = f"http://{shown}:{web_socket.getsockname()[1]}/"
        api_url = f"https://{shown}:{api_socket.getsockname()[1]}"
        if not settings.WAREHOUSE_API_URL:
            # Kubeconfigs, from the learner page or `manage.py kubeconfig`, name this port.
            kubeconfig.note_served_url(api_url)
        lines = [
            "Warehouse is open.",
            f"  Shop pages:  {web_url}",
            f"  API server:  {api_url}  (TLS, signed by the app's own CA)",
            f"  kubeconfig:  {_kubeconfig_command(api_url)} > alice.yaml",
            "               KUBECONFIG=alice.yaml kubectl get pods",
            f"  Background tasks (control plane): {background}",
            "Press Ctrl+C to stop.",
        ]
        self.stdout.write(self.style.SUCCESS(lines[0]))
        self.stdout.write("\n".join(lines[1:]))
        self.stdout.flush()


def _kubeconfig_command(api_url: str) -> str:
    """The command that makes a learner's kubeconfig, as it can be pasted in another shell:
    this interpreter (the project's virtualenv), and what the settings need from the
    environment that a fresh shell lacks."""
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    needs = []
    if settings.DEBUG and "DEBUG" in os.environ:
        needs.append("DEBUG=true")
    if "DATABASE_URL" in os.environ:
        needs.append(f"DATABASE_URL={shlex.quote(os.environ['DATABASE_URL'])}")
    if "WAREHOUSE_STATE_DIR" in os.environ:
        needs.append(f"WAREHOUSE_STATE_DIR={shlex.quote(os.environ['WAREHOUSE_STATE_DIR'])}")
    command = [*needs, shlex.quote(str(python)), "manage.py", "kubeconfig", "alice"]
    if settings.WAREHOUSE_API_URL and api_url != settings.WAREHOUSE_API_URL:
        command += ["--server", api_url]
    return " ".join(command)


def _url_host(host: str) -> str:
    """The host as it goes in a URL: wildcards shown as loopback, IPv6 in brackets."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _bind(host: str, port: int) -> socket.socket:
    """Bind before serving, so a busy port is a clear error rather than a half-started server."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        raise CommandError(f"Cannot listen on {host} port {port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _background_tasks() -> list[BackgroundTask]:
    """The control plane's entry points from settings; each runs until the stop event."""
    try:
        return [import_string(path) for path in settings.WAREHOUSE_BACKGROUND_TASKS]
    except ImportError as error:
        raise CommandError(f"WAREHOUSE_BACKGROUND_TASKS: {error}") from None


async def _serve(
    servers: list[tuple[uvicorn.Server, socket.socket]], tasks: list[BackgroundTask]
) -> None:
    """Run every server and background task until SIGINT or SIGTERM, then stop them all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        if stop.is_set():
            # A second Ctrl+C: stop waiting for open watch streams.
            for server, _ in servers:
                server.force_exit = True
        stop.set()
        lifecycle.begin_shutdown()  # open page streams end now rather than be cancelled
        for server, _ in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop)
    background = [asyncio.create_task(task(stop)) for task in tasks]
    for task in background:
        task.add_done_callback(_report_crash)
    lifecycle.reset()
    serving = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    try:
        # If one server stops by itself, stop the rest rather than serve half the app.
        await asyncio.wait(serving, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for server, _ in servers:
            server.should_exit = True
        await asyncio.gather(*serving, return_exceptions=True)
    finally:
        stop.set()
        if background:
            _, pending = await asyncio.wait(background, timeout=GRACEFUL_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("Background task %s stopped", task.get_name(), exc_info=task.exception())
