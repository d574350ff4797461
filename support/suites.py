"""The whole suite on SQLite and on PostgreSQL at once, each in a pytest process of its own.

    python -m support.suites postgres://postgres@127.0.0.1:5432/warehouse [pytest args...]

Most of a run is spent waiting on servers, browsers and kubectl, not computing, so the two
passes side by side take little longer than one. They share no mutable state: the
PostgreSQL pass has its own collected static files and its own Redis databases (see
`support.databases.redis_url`); test databases and temporary folders are named per run.
Each pass writes to its own log, printed whole when it ends; the exit status is non-zero
if either pass failed.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
# The PostgreSQL pass's Redis databases sit this far below the SQLite pass's.
REDIS_OFFSET = "6"


def _passes(pg_url: str, logs: Path) -> dict[str, tuple[dict[str, str], Path]]:
    # The PostgreSQL pass's own settings, left out in case this run was started from one.
    own = ("DATABASE_URL", "WAREHOUSE_STATIC_ROOT", "WAREHOUSE_TEST_REDIS_OFFSET")
    sqlite = {name: value for name, value in os.environ.items() if name not in own}
    postgres = dict(
        os.environ,
        DATABASE_URL=pg_url,
        WAREHOUSE_STATIC_ROOT=str(REPO / "staticfiles-postgres"),
        WAREHOUSE_TEST_REDIS_OFFSET=REDIS_OFFSET,
    )
    # The browser tests' screenshots, kept per pass as the run's artifacts (set even when
    # this run was started from a pass, which has its own).
    for env, folder in ((sqlite, "sqlite"), (postgres, "postgres")):
        env["E2E_SCREENSHOT_DIR"] = str(SCREENSHOTS / folder)
    return {"SQLite": (sqlite, logs / "sqlite.log"), "PostgreSQL": (postgres, logs / "pg.log")}


def main(argv: list[str]) -> int:
    pg_url, pytest_args = argv[0], argv[1:]
    logs = Path(tempfile.mkdtemp(prefix="warehouse-suites-"))
    running = {}
    for name, (env, log) in _passes(pg_url, logs).items():
        command = [sys.executable, "-m", "pytest", "-q", *pytest_args]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
        running[name] = (process, log, time.monotonic())
        print(f"suites: {name} pass started, log in {log}", flush=True)
    try:
        failed = _wait(running)
    finally:
        for process, _, _ in running.values():
            process.terminate()
    print(f"\nsuites: {'failed: ' + ', '.join(failed) if failed else 'both passes passed'}")
    return 1 if failed else 0


def _wait(running: dict[str, tuple[subprocess.Popen, Path, float]]) -> list[str]:
    """Print each pass's log as it ends; the names of those that failed."""
    failed = []
    while running:
        for name, (process, log, started) in list(running.items()):
            if process.poll() is None:
                continue
            del running[name]
            minutes = (time.monotonic() - started) / 60
            print(f"\n===== {name} pass: exit {process.returncode}, {minutes:.1f} min =====")
            sys.stdout.write(log.read_text(errors="replace"))
            sys.stdout.flush()
            if process.returncode != 0:
                failed.append(name)
        time.sleep(1)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
