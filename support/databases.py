"""Throwaway databases for a server process or a thread race, and the environment to use one.

A server process must run against a database both the caller and its workers can reach:
a SQLite file in a temporary folder, or a fresh PostgreSQL database (created here,
dropped afterwards).
"""

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from support.livecluster import DEFAULT_POSTGRES, postgres_url, throwaway_postgres

POSTGRES = os.environ.get("WAREHOUSE_TEST_POSTGRES", DEFAULT_POSTGRES)
# The Redis server tests may use; `python -m support.services` points it at its own.
REDIS = os.environ.get("WAREHOUSE_TEST_REDIS", "redis://127.0.0.1:6379/14")
# How far below their usual numbers this run's Redis databases sit: a second run at the
# same time (`support.suites`) keeps to databases of its own.
REDIS_OFFSET = int(os.environ.get("WAREHOUSE_TEST_REDIS_OFFSET", "0"))


class NoPostgres(RuntimeError):
    """PostgreSQL was asked for, but none answers on the configured address."""


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(postgres_url(POSTGRES, "postgres"), connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


def redis_url(db: int) -> str:
    """The tests' Redis server, database `db` (less the run's offset): each test module
    keeps to its own."""
    return urlunsplit(urlsplit(REDIS)._replace(path=f"/{db - REDIS_OFFSET}"))


@contextlib.contextmanager
def own_database(kind: str, workdir: Path) -> Iterator[str]:
    """A DATABASE_URL for a throwaway database of `kind` (sqlite or postgres)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'own.sqlite3'}"
        return
    if not postgres_available():
        raise NoPostgres(f"no PostgreSQL at {POSTGRES}")
    with throwaway_postgres(POSTGRES, "warehouse_rel") as url:
        yield url


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """This process's environment for a server on `database_url`, with a fresh secret key."""
    scrubbed = ("DJANGO_ALLOW_ASYNC_UNSAFE", "KUBECONFIG", "DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="hub.settings",
        SECRET_KEY="reliability-" + secrets.token_hex(24),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env
