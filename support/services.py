"""PostgreSQL and Redis for a command, on a machine that may have neither running.

    python -m support.services --postgres URL --redis URL -- COMMAND...

For each URL: when a server answers there, the command uses it unchanged. When none does,
a throwaway one is started (as pytest-postgresql and pytest-redis do): Debian's package is
installed with apt-get if its programs are missing, the server runs on a free loopback port
with its data in a temporary folder, and afterwards, also after a failure or Ctrl-C, it is
stopped and its folder removed. Either way the command finds the URLs in its environment:
PG_URL and WAREHOUSE_TEST_POSTGRES, REDIS_URL and WAREHOUSE_TEST_REDIS.
"""

import argparse
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

STARTUP_SECONDS = 60
STOP_SECONDS = 30
# Where Debian (and the tests' machine) keep the server programs, newest version last.
POSTGRES_BINDIRS = "/usr/lib/postgresql/*/bin"


def say(message: str) -> None:
    print(f"services: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_address(url: str, host: str, port: int, path: str | None = None) -> str:
    """`url` pointing at host:port instead, keeping its user and (unless given) its path."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(
        parts._replace(netloc=f"{user}{host}:{port}", path=parts.path if path is None else path)
    )


def postgres_answers(url: str) -> bool:
    """A PostgreSQL server accepts us on `url`'s host and port (its maintenance database)."""
    import psycopg

    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def postgres_bindir() -> Path | None:
    """The folder holding initdb and postgres: Debian's newest, else whatever is on PATH."""
    versions = sorted(
        glob.glob(POSTGRES_BINDIRS), key=lambda d: int(Path(d).parent.name.split(".")[0])
    )
    for candidate in reversed(versions):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).resolve().parent / "postgres").exists():
        return Path(initdb).resolve().parent
    return None


def redis_server() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def apt_install(package: str) -> None:
    """Install a Debian package, as the Makefile's system-deps target does for Chromium."""
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    say(f"installing Debian's {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL}
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], **quiet)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", package], **quiet)
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(f"could not install {package} with apt-get ({error})") from error


def unprivileged() -> dict:
    """Popen arguments that drop root: initdb and postgres refuse to run as root."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _wait_until(ready, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{what} did not start:\n{tail}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen, first: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(first)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _scratch(prefix: str, owner: dict) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if owner:
            os.chown(folder, owner["user"], owner["group"])
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _installed(find, package: str, program: str):
    """What `find` finds, installing the Debian `package` first when it finds nothing."""
    found = find()
    if found is None:
        apt_install(package)
        found = find()
        if found is None:
            raise RuntimeError(f"installed {package}, but found no {program}")
    return found


@contextlib.contextmanager
def throwaway_postgres(url: str) -> Iterator[str]:
    """A fresh PostgreSQL server on a free port, with `url`'s user and database; its URL."""
    bindir = _installed(postgres_bindir, "postgresql", "initdb")
    parts = urlsplit(url)
    user, database = parts.username or "postgres", parts.path.lstrip("/") or "postgres"
    owner = unprivileged()
    port = free_port()
    with _scratch("warehouse-postgres-", owner) as folder:
        data, log = folder / "data", folder / "postgres.log"
        # initdb/postgres as `nobody` when root; the scratch folder is theirs, cwd included.
        run_as = {**owner, "cwd": folder}
        initdb = subprocess.run(
            [bindir / "initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8"]
            + ["--locale=C", "--no-sync"],
            capture_output=True,
            text=True,
            **run_as,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        with open(log, "wb") as out:
            # fsync off: the data is thrown away, so only speed matters.
            process = subprocess.Popen(
                [bindir / "postgres", "-D", data, "-p", str(port), "-k", folder]
                + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
                + ["-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
                + ["-c", "max_connections=300"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **run_as,
            )
        try:
            own = with_address(url, "127.0.0.1", port, f"/{database}")
            _wait_until(lambda: postgres_answers(own), process, log, "PostgreSQL")
            if database != "postgres":
                import psycopg

                with psycopg.connect(with_database(own, "postgres"), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{database}"')
            yield own
        finally:
            _stop(process, signal.SIGINT)  # PostgreSQL's "fast" shutdown


@contextlib.contextmanager
def throwaway_redis(url: str) -> Iterator[str]:
    """A fresh Redis server on a free port, nothing saved to disk; `url` pointing at it."""
    program = _installed(redis_server, "redis-server", "redis-server")
    port = free_port()
    with _scratch("warehouse-redis-", {}) as folder:
        log = folder / "redis.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder]
                + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=folder,
            )
        try:
            own = with_address(url, "127.0.0.1", port)
            _wait_until(lambda: redis_answers(own), process, log, "Redis")
            yield own
        finally:
            _stop(process, signal.SIGTERM)


@contextlib.contextmanager
def postgres(url: str) -> Iterator[dict[str, str]]:
    """The environment naming PostgreSQL: `url` when a server answers, else a throwaway one."""
    if postgres_answers(url):
        yield {"PG_URL": url, "WAREHOUSE_TEST_POSTGRES": url}
        return
    with throwaway_postgres(url) as own:
        say(f"no PostgreSQL at {_address(url)}; using a throwaway one at {_address(own)}")
        yield {"PG_URL": own, "WAREHOUSE_TEST_POSTGRES": own}


@contextlib.contextmanager
def redis(url: str) -> Iterator[dict[str, str]]:
    """The environment naming Redis: `url` when a server answers, else a throwaway one."""
    if redis_answers(url):
        yield {"REDIS_URL": url, "WAREHOUSE_TEST_REDIS": url}
        return
    with throwaway_redis(url) as own:
        say(f"no Redis at {_address(url)}; using a throwaway one at {_address(own)}")
        yield {"REDIS_URL": own, "WAREHOUSE_TEST_REDIS": own}


def _address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def run(command: Sequence[str], env: dict[str, str]) -> int:
    """Run `command`, passing SIGTERM/SIGHUP on; after Ctrl-C, give it time to finish."""
    child = subprocess.Popen(list(command), env=env)

    def forward(signum, _frame):
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            code = child.wait()
        except KeyboardInterrupt:
            # The child has had the same Ctrl-C; let it clean up before the servers go.
            try:
                code = child.wait(timeout=STOP_SECONDS)
            except (KeyboardInterrupt, subprocess.TimeoutExpired):
                child.kill()
                code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.services", description=__doc__)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL the command needs")
    parser.add_argument("--redis", metavar="URL", help="Redis the command needs")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        try:
            if args.postgres:
                env.update(stack.enter_context(postgres(args.postgres)))
            if args.redis:
                env.update(stack.enter_context(redis(args.redis)))
        except RuntimeError as error:
            say(f"{error}; start PostgreSQL and Redis yourself, or install their packages")
            return 1
        return run(command, env)


if __name__ == "__main__":
    sys.exit(main())
