"""Production mode end to end: deploy/run-production.sh with several workers, PostgreSQL and
rate limits in Redis, driven by the real kubectl with a kubeconfig from `manage.py kubeconfig`.
"""

import json
import secrets
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from support.databases import POSTGRES, postgres_available
from support.production import production_server, redis_url_for_tests

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
data:
  colour: {colour}
"""


def _skip_without_services() -> None:
    if not postgres_available():
        pytest.skip(f"no PostgreSQL at {POSTGRES}")
    try:
        redis.Redis.from_url(redis_url_for_tests()).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {redis_url_for_tests()}")
    if not Path(KUBECTL).exists():
        pytest.skip("kubectl not installed")


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    _skip_without_services()
    with production_server(
        tmp_path_factory.mktemp("production"),
        api_workers=3,
        REDIS_URL=redis_url_for_tests(),
        WAREHOUSE_LEARNER_QPS="5",
        WAREHOUSE_LEARNER_BURST="20",
    ) as cluster:
        yield cluster


def _kubectl(config: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [KUBECTL, f"--kubeconfig={config}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.e2e
def test_kubectl_apply_get_watch_delete_across_workers(production):
    name = f"learner-{secrets.token_hex(3)}"
    config = production.kubeconfig(name)
    assert "created" in _kubectl(config, "apply", "-f", "-", stdin=CONFIGMAP.format(colour="red"))
    got = json.loads(_kubectl(config, "get", "configmap", "demo", "-o", "json"))
    assert got["data"] == {"colour": "red"}

    watcher = subprocess.Popen(
        [
            KUBECTL,
            f"--kubeconfig={config}",
            "get",
            "configmap",
            "demo",
            "--watch",
            "-o",
            "jsonpath={.data.colour}{'\\n'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout.readline().strip() == "red"
        # Each kubectl run is a new connection, so the change likely lands on another
        # worker than the watch; watches follow the shared revision log either way.
        _kubectl(config, "apply", "-f", "-", stdin=CONFIGMAP.format(colour="blue"))
        line = _read_line(watcher, timeout=15)
        assert line == "blue"
    finally:
        watcher.kill()
        watcher.wait(timeout=10)

    assert "deleted" in _kubectl(config, "delete", "configmap", "demo")
    listed = json.loads(_kubectl(config, "get", "configmaps", "-o", "json"))
    assert [item["metadata"]["name"] for item in listed["items"]] == []


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout)
    return found[0].strip() if found else ""


@pytest.mark.e2e
def test_rate_limits_hold_across_workers_and_kubectl_keeps_working(production):
    noisy = f"mallory-{secrets.token_hex(3)}"
    production.kubeconfig(noisy)
    token = production.token(noisy)
    alice = production.kubeconfig(f"alice-{secrets.token_hex(3)}")
    context = production.ssl_context()
    url = f"{production.api_url}/api/v1/namespaces/{noisy}/configmaps"
    codes: list[int] = []
    lock = threading.Lock()

    def flood() -> None:
        for _ in range(25):
            request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                    code = answer.status
            except urllib.error.HTTPError as error:
                code = error.code
                if code == 429:
                    assert error.headers["Retry-After"]
                    assert json.load(error)["reason"] == "TooManyRequests"
            with lock:
                codes.append(code)

    started = time.monotonic()
    threads = [threading.Thread(target=flood) for _ in range(6)]
    for thread in threads:
        thread.start()
    # While mallory floods, another learner's kubectl is served as usual.
    for _ in range(3):
        _kubectl(alice, "get", "configmaps")
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert set(codes) <= {200, 429}
    assert codes.count(429) > 0
    # One shared bucket for every worker: a burst of 20 and 5 per second, not 3x that.
    assert codes.count(200) <= 20 + 5 * elapsed + 2
