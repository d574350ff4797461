"""Helpers for tests that need a database of their own, outside pytest-django's.

The databases themselves come from `support.databases`; here a missing PostgreSQL skips
the test, and the consistency check reads what a race or a crash left, with plain SQL.
"""

import contextlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import databases
from support.livecluster import REPO


@contextlib.contextmanager
def own_database(kind: str, workdir: Path) -> Iterator[str]:
    """`support.databases.own_database`, skipping the test when PostgreSQL is missing."""
    try:
        with databases.own_database(kind, workdir) as url:
            yield url
    except databases.NoPostgres:
        pytest.skip(f"no PostgreSQL at {databases.POSTGRES}")


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def prepared(env: dict[str, str]) -> None:
    """Migrate and seed the catalog, as `make db` does."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_catalog")


def _rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            return db.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def store_problems(database_url: str) -> list[str]:
    """Everything wrong with the store: what a crash or a race must never leave behind."""
    problems = []
    objects = _rows(
        database_url,
        "SELECT id, resource, name, resource_version, body FROM apiserver_storedobject",
    )
    revisions = {
        row[0]: row[1:]
        for row in _rows(
            database_url, "SELECT id, resource, name, event_type FROM apiserver_revision"
        )
    }
    counter = _rows(
        database_url, "SELECT value FROM apiserver_counter WHERE name = 'resourceVersion'"
    )
    newest = max(revisions, default=0)
    if newest and (not counter or counter[0][0] < newest):
        problems.append(f"counter {counter} is behind the newest revision {newest}")
    for pk, resource, name, version, body in objects:
        revision = revisions.get(version)
        if revision is None:
            problems.append(f"{resource} {name} (rv {version}) has no revision row")
        elif (revision[0], revision[1]) != (resource, name) or revision[2] == "DELETED":
            problems.append(f"{resource} {name}: revision {version} is {revision}")
        try:
            obj = json.loads(body)
        except ValueError:
            problems.append(f"object {pk} is not JSON")
            continue
        if str(obj.get("metadata", {}).get("resourceVersion")) != str(version):
            problems.append(f"{resource} {name}: body and row disagree on resourceVersion")
    return problems
