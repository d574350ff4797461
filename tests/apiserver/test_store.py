"""The store: one resourceVersion counter for the whole cluster, and an append-only log."""

import threading

import pytest
from django.db import connection

from apiserver import accounts
from apiserver.models import Revision, StoredObject
from apiserver.registry import kinds, store
from tests.apiserver.conftest import configmap, deployment, pod


def test_resource_versions_strictly_increase_across_kinds(api, alice):
    versions = []
    for path, body in (
        ("/api/v1/namespaces/alice/pods", pod("a")),
        ("/api/v1/namespaces/alice/configmaps", configmap("b")),
        ("/apis/apps/v1/namespaces/alice/deployments", deployment("c")),
        ("/api/v1/namespaces/alice/pods", pod("d")),
    ):
        versions.append(int(api.post(path, alice, body).json_body["metadata"]["resourceVersion"]))
    patched = api.patch(
        "/api/v1/namespaces/alice/configmaps/b",
        alice,
        {"data": {"x": "y"}},
        "application/merge-patch+json",
    )
    versions.append(int(patched.json_body["metadata"]["resourceVersion"]))
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert store.current_revision() == versions[-1]


def test_every_write_appends_one_revision_with_the_full_object(api, alice):
    before = Revision.objects.count()
    created = api.post("/api/v1/namespaces/alice/pods", alice, pod("web")).json_body
    api.patch(
        "/api/v1/namespaces/alice/pods/web",
        alice,
        {"metadata": {"labels": {"a": "b"}}},
        "application/merge-patch+json",
    )
    api.delete("/api/v1/namespaces/alice/pods/web", alice)
    written = list(Revision.objects.order_by("id"))[before:]
    revisions = [r for r in written if r.resource == "/pods"]
    assert [r.event_type for r in revisions] == ["ADDED", "MODIFIED", "DELETED"]
    assert revisions[0].id == int(created["metadata"]["resourceVersion"])
    assert all(r.name == "web" for r in revisions)
    # The rest is the namespace's quota showing the Pod come and go, a revision each.
    usage = [(r.resource, r.event_type) for r in written if r.resource != "/pods"]
    assert usage == [("/resourcequotas", "MODIFIED")] * 2
    assert '"uid"' in revisions[2].body
    assert not StoredObject.objects.filter(resource="/pods", name="web").exists()


def test_a_failed_write_leaves_nothing_behind(api, alice):
    before = (Revision.objects.count(), store.current_revision())
    bad = pod("web")
    del bad["spec"]["containers"][0]["image"]
    assert api.post("/api/v1/namespaces/alice/pods", alice, bad).status_code == 422
    assert (Revision.objects.count(), store.current_revision()) == before


def test_ensuring_a_namespace_twice_keeps_the_first(alice):
    namespaces = kinds.lookup("", "v1", "namespaces")
    first = store.get(namespaces, "", "alice")
    assert accounts.ensure_namespace("alice") is False
    assert store.get(namespaces, "", "alice")["metadata"]["uid"] == first["metadata"]["uid"]


def test_compaction_makes_old_versions_gone(api, alice):
    for name in ("a", "b", "c"):
        api.post("/api/v1/namespaces/alice/configmaps", alice, configmap(name))
    store.compact(keep=1)
    assert store.oldest_revision() == store.current_revision()


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="in-memory SQLite shares one cache between threads: no row locking to test",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_share_a_resource_version(alice):
    """Threads race to create objects; every revision is unique and the counter matches."""
    kind = kinds.lookup("", "v1", "configmaps")
    failures = []

    def writer(prefix: str) -> None:
        try:
            for index in range(5):
                store.create(
                    kind,
                    configmap(f"{prefix}-{index}")
                    | {"metadata": {"name": f"{prefix}-{index}", "namespace": "alice"}},
                )
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    versions = [
        int(v)
        for v in StoredObject.objects.filter(resource="/configmaps").values_list(
            "resource_version", flat=True
        )
    ]
    assert len(versions) == 20
    assert len(set(versions)) == 20
    ids = list(Revision.objects.order_by("id").values_list("id", flat=True))
    assert ids == sorted(set(ids))
    assert store.current_revision() == ids[-1]
