"""Several processes writing one SQLite file at once still get unique, ordered versions.

The in-memory test database cannot show this (its threads share one cache), so this test
migrates a throwaway SQLite file and races real processes against it.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

WORKER = """
import django, sys
django.setup()
from apiserver.registry import store
from apiserver.registry.kinds import Kind
kind = Kind(group="", version="v1", kind="ConfigMap", plural="configmaps",
            singular="configmap", namespaced=True, verbs=("create",))
for index in range(int(sys.argv[2])):
    name = f"{sys.argv[1]}-{index}"
    store.create(kind, {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": "default"}})
"""


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="PostgreSQL's row lock is tested with threads in test_store.py",
)
def test_processes_racing_on_a_sqlite_file(tmp_path: Path):
    database = tmp_path / "race.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "SECRET_KEY": "race-test-secret-key-0123456789-0123456789-0123456789",
    }
    root = Path(settings.BASE_DIR)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=root,
        env=env,
        check=True,
        timeout=120,
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, f"w{n}", "15"], cwd=root, env=env, stderr=subprocess.PIPE
        )
        for n in range(4)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()[-2000:]
    with sqlite3.connect(database) as db:
        versions = [
            row[0]
            for row in db.execute(
                "SELECT resource_version FROM apiserver_storedobject WHERE resource = '/configmaps'"
            )
        ]
        revisions = [row[0] for row in db.execute("SELECT id FROM apiserver_revision ORDER BY id")]
        (counter,) = db.execute("SELECT value FROM apiserver_counter").fetchone()
    assert len(versions) == len(set(versions)) == 60
    assert revisions == list(range(1, counter + 1))
