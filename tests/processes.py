"""Tests whose other side is a process of its own: run one to the end, or read its reports.

Both sides print JSON lines; the test reads them as they come, with a deadline.
"""

import json
import subprocess
import sys
import time

from support.livecluster import REPO


def run_python(env: dict[str, str], *args: str) -> str:
    """Run this Python with `args` in the repository; its output, or fail with it."""
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def json_line(process: subprocess.Popen, seconds: float) -> dict:
    """The next JSON line `process` prints, within `seconds`, or fail with its stderr."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("{"):
            return json.loads(line)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"no answer from the other side: {process.stderr.read()[-4000:]}")
