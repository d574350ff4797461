"""A server killed mid-request (kill -9) leaves the store consistent, and starts again.

A real `manage.py serve` process on its own database takes a burst of concurrent creates
over HTTPS; it is killed with SIGKILL while they are in flight, then started again. Every
object must have the revision that produced it, the counter must be ahead of every
revision, and every body must be JSON: a write is all there, or not there at all.
"""

import json
import os
import signal
import ssl
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.databases import POSTGRES, postgres_available
from support.livecluster import (
    LiveCluster,
    running_cluster,
    start_serving,
    wait_until_ready,
)
from tests.reliability.racing import store_problems

WRITERS = 12


def _writer(cluster: LiveCluster, token: str, context: ssl.SSLContext, index: int, stop, sent):
    url = f"{cluster.api_url}/api/v1/namespaces/default/configmaps"
    count = 0
    while not stop.is_set():
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"w{index}-{count}"},
            "data": {"payload": "x" * 2000},
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                if response.status == 201:
                    sent.append(body["metadata"]["name"])
        except (urllib.error.URLError, OSError, ssl.SSLError):
            if stop.is_set():
                return
            time.sleep(0.05)
        count += 1


def _restart(cluster: LiveCluster) -> None:
    start_serving(cluster)
    wait_until_ready(cluster)


@pytest.mark.e2e
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_kill_9_mid_flight_leaves_the_store_consistent(database: str, tmp_path: Path):
    if database == "postgres" and not postgres_available():
        pytest.skip(f"no PostgreSQL at {POSTGRES}")
    with running_cluster(
        tmp_path / "cluster", database=database, extra_env={"WAREHOUSE_RATE_LIMIT_BACKEND": "off"}
    ) as cluster:
        cluster.kubeconfig("carol", instructor=True)
        token = cluster.token("carol")
        context = cluster.ssl_context()
        stop, sent = threading.Event(), []
        writers = [
            threading.Thread(target=_writer, args=(cluster, token, context, i, stop, sent))
            for i in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 30
        while len(sent) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(cluster.process.pid, signal.SIGKILL)
        cluster.process.wait(timeout=10)
        stop.set()
        for writer in writers:
            writer.join(timeout=10)
        assert len(sent) >= 40, cluster.log_tail()
        assert store_problems(cluster.database_url) == []

        _restart(cluster)
        assert store_problems(cluster.database_url) == []
        listing = urllib.request.Request(
            f"{cluster.api_url}/api/v1/namespaces/default/configmaps",
            headers={"authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(listing, timeout=10, context=context) as response:
            names = {item["metadata"]["name"] for item in json.load(response)["items"]}
        # Every create that was answered 201 survived the crash.
        assert set(sent) <= names
