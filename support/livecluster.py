"""A real Warehouse server in a subprocess, for kubectl, the Python client and benchmarks.

The server is ``manage.py serve`` exactly as a learner runs it, with DEBUG off, on free
loopback ports and its own database, because pytest-django's test database lives inside
the test process where no subprocess can reach it: a SQLite file in a temporary folder,
or a fresh PostgreSQL database when the tests run on PostgreSQL (dropped afterwards).
Its certificates live in a temporary STATE_DIR, so the tests never touch ``var/``.
"""

import contextlib
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/warehouse"
STARTUP_SECONDS = 60
# Variables from the test process that must not leak into the server or into kubectl.
_SCRUBBED = ("DJANGO_ALLOW_ASYNC_UNSAFE", "KUBECONFIG", "WAREHOUSE_API_URL", "DEBUG")


@dataclass
class LiveCluster:
    """A running server and what a client needs to reach it."""

    workdir: Path
    env: dict[str, str]
    web_url: str
    api_url: str
    log_file: Path
    database_url: str
    process: subprocess.Popen | None = None
    _kubeconfigs: dict[str, Path] = field(default_factory=dict)
    _instructors: dict[str, bool] = field(default_factory=dict)

    @property
    def ca_file(self) -> Path:
        return Path(self.env["WAREHOUSE_STATE_DIR"]) / "tls" / "ca.crt"

    def manage(self, *args: str, timeout: float = 180) -> str:
        """Run a management command against the server's database; return its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def kubeconfig(self, name: str, *, instructor: bool = False) -> Path:
        """A kubeconfig file for ``name``, made once with ``manage.py kubeconfig``.

        Modules share one cluster, so a name taken in one role cannot be asked for in the
        other (it would quietly keep its first role)."""
        if name not in self._kubeconfigs:
            path = self.workdir / f"{name}.kubeconfig"
            flags = ["--instructor"] if instructor else []
            self.manage("kubeconfig", name, "--server", self.api_url, "-o", str(path), *flags)
            self._kubeconfigs[name] = path
            self._instructors[name] = instructor
        if self._instructors[name] != instructor:
            role = "an instructor" if self._instructors[name] else "a learner"
            raise ValueError(f"{name} was made as {role}: pick another name")
        return self._kubeconfigs[name]

    def token(self, name: str) -> str:
        """`name`'s token, from the kubeconfig already made for them (else a learner's)."""
        path = self._kubeconfigs.get(name) or self.kubeconfig(name)
        config = yaml.safe_load(path.read_text())
        return config["users"][0]["user"]["token"]

    def ssl_context(self) -> ssl.SSLContext:
        """Trust only the app's CA, as kubectl does with the kubeconfig's CA data."""
        return ssl.create_default_context(cafile=self.ca_file)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_url(base_url: str, database: str) -> str:
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.contextmanager
def _database(workdir: Path, kind: str, base_url: str) -> Iterator[str]:
    """A database URL for the server alone; PostgreSQL ones are dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'db.sqlite3'}"
        return
    with throwaway_postgres(base_url, "warehouse_e2e") as url:
        yield url


@contextlib.contextmanager
def throwaway_postgres(base_url: str, prefix: str) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database on `base_url`'s server, dropped afterwards."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_url = postgres_url(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(base_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_kind() -> tuple[str, str]:
    """Follow the test run: PostgreSQL when DATABASE_URL names it, otherwise SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return "postgres", url
    return "sqlite", os.environ.get("WAREHOUSE_TEST_POSTGRES", DEFAULT_POSTGRES)


def start_serving(cluster: "LiveCluster", mode: str = "ab", *options: str) -> None:
    """Start `manage.py serve` for `cluster` on its own ports, logging to its log file.

    Used at start-up, and again by tests that kill the server and bring it back;
    `options` go to `serve` as well (``--no-controlplane`` for a second host).
    """
    web_port = cluster.web_url.rsplit(":", 1)[1]
    api_port = cluster.api_url.rsplit(":", 1)[1]
    with open(cluster.log_file, mode) as log:
        cluster.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--host=127.0.0.1",
                f"--port={web_port}",
                f"--api-port={api_port}",
                *options,
            ],
            cwd=REPO,
            env=cluster.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def running_cluster(
    workdir: Path,
    database: str | None = None,
    postgres_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[LiveCluster]:
    """Migrate, seed and serve a fresh Warehouse; stop it and drop its database afterwards."""
    kind, base_url = database_kind()
    kind = database or kind
    base_url = postgres_url or base_url
    workdir.mkdir(parents=True, exist_ok=True)
    web_port, api_port = free_port(), free_port()
    with _database(workdir, kind, base_url) as database_url:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env.update(
            DEBUG="false",
            SECRET_KEY=f"live-cluster-{secrets.token_hex(16)}",
            DATABASE_URL=database_url,
            WAREHOUSE_STATE_DIR=str(workdir / "state"),
            WAREHOUSE_API_URL=f"https://127.0.0.1:{api_port}",
            DJANGO_SETTINGS_MODULE="hub.settings",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        cluster = LiveCluster(
            workdir=workdir,
            env=env,
            web_url=f"http://127.0.0.1:{web_port}",
            api_url=f"https://127.0.0.1:{api_port}",
            log_file=workdir / "server.log",
            database_url=database_url,
        )
        cluster.manage("migrate", "--noinput")
        cluster.manage("seed_catalog")
        cluster.manage("collectstatic", "--noinput")
        start_serving(cluster, mode="wb")
        try:
            wait_until_ready(cluster)
            yield cluster
        finally:
            stop(cluster.process)


def wait_until_ready(cluster: LiveCluster) -> None:
    """Any HTTP answer on both listeners means the server is up, whatever the routes."""
    deadline = time.monotonic() + STARTUP_SECONDS
    context = None
    probes = [cluster.web_url + "/", cluster.api_url + "/version"]
    while probes:
        if not cluster.alive():
            raise RuntimeError(f"The server exited during startup:\n{cluster.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"The server did not answer in time:\n{cluster.log_tail()}")
        if context is None and cluster.ca_file.exists():
            context = cluster.ssl_context()
        try:
            urllib.request.urlopen(probes[0], timeout=2, context=context)
        except urllib.error.HTTPError:
            pass
        except (OSError, ssl.SSLError):
            time.sleep(0.1)
            continue
        probes.pop(0)


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM for a clean shutdown; SIGKILL the whole group if that takes too long."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
