"""Quota holds under a race: 40 creates at once in one namespace never overshoot it.

Real threads in a real process, each with its own connection to a fresh PostgreSQL
database (READ COMMITTED, where a count read without a lock let 216 of 200 through): each
create takes the namespace's quota lock inside its transaction, so exactly the room left
is granted and every other create is refused with 403.
"""

import json
import subprocess
import sys
from pathlib import Path

from support.databases import environment
from support.livecluster import REPO
from tests.reliability.racing import own_database, prepared, store_problems

THREADS = 40
PODS = 11  # the share of the default nodes among the default room of learners
# After the Pods, room for 20 objects beside the namespace's ResourceQuota and LimitRange.
OBJECTS = 2 + PODS + 20

WORKER = """
import json, sys, threading
import django
django.setup()
from django.db import connection
from apiserver import accounts
from apiserver.models import ClusterUser, StoredObject
from apiserver.pipeline import ApiRequest, handle

threads = int(sys.argv[1])
user = ClusterUser.objects.create(name="alice", namespace="alice")
accounts.open_learner(user)
json_headers = {"content-type": "application/json"}


def race(path, body_of):
    barrier = threading.Barrier(threads)
    answers = {}

    def work(index):
        barrier.wait()
        try:
            answer = handle(ApiRequest("POST", path, {}, json_headers,
                                       json.dumps(body_of(index)).encode(), user=user))
            answers[index] = [answer.status, answer.body.get("message", "")]
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers: worker.start()
    for worker in workers: worker.join()
    return answers


pods = race("/api/v1/namespaces/alice/pods",
            lambda i: {"metadata": {"name": f"p{i}"},
                       "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
live_pods = StoredObject.objects.filter(namespace="alice", resource="/pods").count()
configmaps = race("/api/v1/namespaces/alice/configmaps",
                  lambda i: {"metadata": {"name": f"c{i}"}, "data": {"i": str(i)}})
stored = StoredObject.objects.filter(namespace="alice").exclude(resource="/events").count()
quota = handle(ApiRequest("GET", "/api/v1/namespaces/alice/resourcequotas/warehouse-quota",
                          user=user)).body
print(json.dumps({"configmaps": configmaps, "stored": stored, "pods": pods,
                  "live_pods": live_pods, "quota": quota}))
"""


def _granted(answers: dict[str, list]) -> int:
    return sum(status == 201 for status, _ in answers.values())


def _refusals(answers: dict[str, list]) -> set[str]:
    """Every refusal's message, past the object's name; each one a 403."""
    assert {status for status, _ in answers.values()} <= {201, 403}, answers
    return {
        message.split(" is forbidden: ")[1] for status, message in answers.values() if status == 403
    }


def test_forty_concurrent_creates_never_overshoot_the_quota_on_postgresql(tmp_path: Path):
    with own_database("postgres", tmp_path) as url:
        env = environment(
            url,
            WAREHOUSE_RATE_LIMIT_BACKEND="off",
            WAREHOUSE_LEARNER_CONCURRENCY=str(THREADS),  # all 40 at once, none turned away
            WAREHOUSE_NAMESPACE_QUOTA=str(OBJECTS),
        )
        prepared(env)
        run = subprocess.run(
            [sys.executable, "-c", WORKER, str(THREADS)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        report = json.loads(run.stdout.strip().splitlines()[-1])
        problems = store_problems(url)

    configmaps, pods, quota = report["configmaps"], report["pods"], report["quota"]
    assert len(configmaps) == THREADS and len(pods) == THREADS
    # Exactly the room there was, and never more: the others were told so.
    assert report["live_pods"] == _granted(pods) == PODS
    # Eleven Pods at the LimitRange's default limit use up limits.cpu as well.
    assert _refusals(pods) == {
        "exceeded quota: warehouse-quota, requested: limits.cpu=100m,pods=1, "
        "used: limits.cpu=1100m,pods=11, limited: limits.cpu=1100m,pods=11"
    }
    assert report["stored"] == OBJECTS
    assert _granted(configmaps) == OBJECTS - 3 - PODS  # the quota, the LimitRange, her RoleBinding
    assert _refusals(configmaps) == {
        "exceeded quota: warehouse-quota, requested: warehouse.example/objects=1, "
        f"used: warehouse.example/objects={OBJECTS}, limited: warehouse.example/objects={OBJECTS}"
    }
    used = quota["status"]["used"]
    assert (used["pods"], used["warehouse.example/objects"]) == (str(PODS), str(OBJECTS))
    assert problems == []
