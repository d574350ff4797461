"""`make test`'s runner: both database passes at once, each with its own settings, and a
failure in either fails the whole."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
URL = "postgres://postgres@127.0.0.1:5432/warehouse_runner_check"

SHOWS_ITS_SETTINGS = """
import os

def test_settings():
    names = ("DATABASE_URL", "WAREHOUSE_STATIC_ROOT", "WAREHOUSE_TEST_REDIS_OFFSET")
    print("seen:", *(os.environ.get(name, "-") for name in names))
    print("screenshots:", os.environ.get("E2E_SCREENSHOT_DIR", "-"))
"""


def _suites(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_probe.py"
    test_file.write_text(body)
    return subprocess.run(
        [sys.executable, "-m", "support.suites", URL, "-s", "-p", "no:randomly", str(test_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_each_pass_runs_with_its_own_database_static_files_and_redis(tmp_path):
    ran = _suites(tmp_path, SHOWS_ITS_SETTINGS)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "===== SQLite pass: exit 0" in ran.stdout
    assert "===== PostgreSQL pass: exit 0" in ran.stdout
    seen = {line for line in ran.stdout.splitlines() if line.startswith("seen:")}
    assert seen == {"seen: - - -", f"seen: {URL} {REPO / 'staticfiles-postgres'} 6"}
    assert "both passes passed" in ran.stdout
    shots = {line for line in ran.stdout.splitlines() if line.startswith("screenshots:")}
    folder = REPO / "test-artifacts" / "screenshots"
    assert shots == {f"screenshots: {folder / 'sqlite'}", f"screenshots: {folder / 'postgres'}"}


def test_a_failure_in_either_pass_fails_the_run(tmp_path):
    only_sqlite = "import os\n\ndef test_sqlite():\n    assert 'DATABASE_URL' not in os.environ\n"
    ran = _suites(tmp_path, only_sqlite)
    assert ran.returncode == 1
    assert "===== SQLite pass: exit 0" in ran.stdout
    assert "===== PostgreSQL pass: exit 1" in ran.stdout
    assert "failed: PostgreSQL" in ran.stdout
