"""`make test` on a bare machine: support.services starts PostgreSQL and Redis where none
answers, uses the ones that do, and leaves nothing running behind (a few seconds)."""

import json
import sys
from pathlib import Path

import pytest

from support import services

needs_programs = pytest.mark.skipif(
    services.postgres_bindir() is None or services.redis_server() is None,
    reason="PostgreSQL or Redis programs not installed (make test installs them when needed)",
)

REPORT = """
import json, os, sys, psycopg, redis
with psycopg.connect(os.environ["PG_URL"]) as conn:
    database = conn.execute("select current_database()").fetchone()[0]
pong = redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
names = ("PG_URL", "WAREHOUSE_TEST_POSTGRES", "REDIS_URL", "WAREHOUSE_TEST_REDIS")
json.dump({"database": database, "pong": pong, **{n: os.environ[n] for n in names}},
          open(sys.argv[1], "w"))
sys.exit(7)
"""


@needs_programs
def test_a_bare_machine_gets_throwaway_servers_stopped_afterwards(tmp_path: Path):
    nothing_there = services.free_port()
    pg = f"postgres://postgres@127.0.0.1:{nothing_there}/warehouse_bare"
    rd = f"redis://127.0.0.1:{nothing_there}/3"
    assert not services.postgres_answers(pg)
    assert not services.redis_answers(rd)

    report = tmp_path / "report.json"
    command = [sys.executable, "-c", REPORT, str(report)]
    code = services.main(["--postgres", pg, "--redis", rd, "--", *command])

    assert code == 7, "the command's exit status is the wrapper's"
    seen = json.loads(report.read_text())
    assert seen["database"] == "warehouse_bare"
    assert seen["pong"] is True
    assert seen["PG_URL"] == seen["WAREHOUSE_TEST_POSTGRES"] != pg
    assert seen["REDIS_URL"] == seen["WAREHOUSE_TEST_REDIS"] != rd
    assert seen["REDIS_URL"].endswith("/3")
    assert not services.postgres_answers(seen["PG_URL"]), "PostgreSQL still running"
    assert not services.redis_answers(seen["REDIS_URL"]), "Redis still running"


@needs_programs
def test_servers_that_answer_are_used_unchanged():
    with services.throwaway_redis("redis://127.0.0.1:1/0") as running:
        assert services.redis_answers(running)
        with services.redis(running) as env:
            assert env == {"REDIS_URL": running, "WAREHOUSE_TEST_REDIS": running}
    assert not services.redis_answers(running)


@needs_programs
def test_a_failing_start_leaves_no_folder(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(services.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(services, "redis_answers", lambda url: False)
    monkeypatch.setattr(services, "STARTUP_SECONDS", 0.5)
    starting = services.throwaway_redis("redis://127.0.0.1:1/0")
    with pytest.raises(RuntimeError, match="Redis did not start"), starting:
        pass
    assert list(tmp_path.iterdir()) == []


def test_missing_programs_are_installed_from_debian(monkeypatch):
    commands = []
    monkeypatch.setattr(services.subprocess, "run", lambda cmd, **kw: commands.append(cmd))
    monkeypatch.setattr(services, "redis_server", lambda: None)
    monkeypatch.setattr(services, "postgres_bindir", lambda: None)
    for start, package in [
        (services.throwaway_redis, "redis-server"),
        (services.throwaway_postgres, "postgresql"),
    ]:
        commands.clear()
        with pytest.raises(RuntimeError, match=f"installed {package}"), start("x://h:1/d"):
            pass
        sudo = [] if services.os.geteuid() == 0 else ["sudo"]
        assert commands == [
            [*sudo, "apt-get", "update", "-qq"],
            [*sudo, "apt-get", "install", "-y", "-qq", package],
        ]


def test_a_failed_install_is_one_clear_line(monkeypatch, capsys):
    def apt_get(cmd, **kw):
        raise services.subprocess.CalledProcessError(100, cmd)

    monkeypatch.setattr(services.subprocess, "run", apt_get)
    monkeypatch.setattr(services, "redis_server", lambda: None)
    monkeypatch.setattr(services, "redis_answers", lambda url: False)
    assert services.main(["--redis", "redis://127.0.0.1:1/0", "--", "true"]) == 1
    assert "could not install redis-server with apt-get" in capsys.readouterr().err
