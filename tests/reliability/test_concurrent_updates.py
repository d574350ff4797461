"""Nothing lost: racing read-modify-PUTs on one ConfigMap resolve by resourceVersion.

Real threads in a real process, each with its own database connection, against a
database of their own (a SQLite file, and a fresh PostgreSQL database): every update
that got 200 is in the final object, and every loser got 409 and retried.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.databases import environment
from support.livecluster import REPO
from tests.reliability.racing import own_database, prepared, store_problems

THREADS = 8
UPDATES = 6

WORKER = """
import json, sys, threading
import django
django.setup()
from django.db import connection
from apiserver import accounts
from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, handle

threads, updates = int(sys.argv[1]), int(sys.argv[2])
user = ClusterUser.objects.create(name="alice", namespace="alice")
accounts.open_learner(user)
item = "/api/v1/namespaces/alice/configmaps/shared"
json_headers = {"content-type": "application/json"}
created = handle(ApiRequest("POST", "/api/v1/namespaces/alice/configmaps", {}, json_headers,
    json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"},
                "data": {"count": "0"}}).encode(), user=user))
assert created.status == 201, created.body
barrier = threading.Barrier(threads)
results, unexpected = {}, []

def work(index):
    barrier.wait()
    done = conflicts = 0
    try:
        while done < updates:
            current = handle(ApiRequest("GET", item, user=user)).body
            current["data"]["count"] = str(int(current["data"]["count"]) + 1)
            current["data"][f"t{index}-{done}"] = "written"
            answer = handle(ApiRequest("PUT", item, {}, json_headers,
                                       json.dumps(current).encode(), user=user))
            if answer.status == 200:
                done += 1
            elif answer.status == 409 and answer.body["reason"] == "Conflict":
                conflicts += 1
            else:
                unexpected.append((answer.status, answer.body))
                return
    finally:
        connection.close()
    results[index] = {"done": done, "conflicts": conflicts}

workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for worker in workers: worker.start()
for worker in workers: worker.join()
final = handle(ApiRequest("GET", item, user=user)).body
print(json.dumps({"results": results, "unexpected": unexpected, "final": final}))
"""


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_racing_updates_lose_nothing(database: str, tmp_path: Path):
    with own_database(database, tmp_path) as url:
        env = environment(url, WAREHOUSE_RATE_LIMIT_BACKEND="off")
        prepared(env)
        run = subprocess.run(
            [sys.executable, "-c", WORKER, str(THREADS), str(UPDATES)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        report = json.loads(run.stdout.strip().splitlines()[-1])
        problems = store_problems(url)

    assert report["unexpected"] == []
    results = report["results"]
    assert len(results) == THREADS
    assert all(r["done"] == UPDATES for r in results.values())
    data = report["final"]["data"]
    assert data["count"] == str(THREADS * UPDATES)
    written = {key for key in data if key != "count"}
    assert written == {f"t{i}-{n}" for i in range(THREADS) for n in range(UPDATES)}
    # Lost races were told so (409) and retried; none was silently overwritten.
    assert sum(r["conflicts"] for r in results.values()) > 0
    assert problems == []
