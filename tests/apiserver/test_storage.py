"""Storage with an end: every way a learner could grow the database without bound.

Compacted revisions, expiring Events, Events under quota, Kubernetes' size limits and a
pruned audit log. Housekeeping is driven directly with an injected "now", never by sleeping.
"""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apiserver import accounts
from apiserver.client import ApiError, Client
from apiserver.endpoints import watch
from apiserver.filters import audit
from apiserver.housekeeping import Policy, run_once
from apiserver.models import AuditRecord, Revision, StoredObject
from apiserver.registry import kinds, store
from controlplane.events import EventRecorder
from controlplane.runner import Informer
from tests.apiserver.conftest import configmap, drop_quota, pod, set_hard

CONFIGMAPS = "/api/v1/namespaces/alice/configmaps"
EVENTS = "/api/v1/namespaces/alice/events"
PODS = "/api/v1/namespaces/alice/pods"
LIMIT = "Too long: must have at most 262144 bytes"


@pytest.fixture(autouse=True)
def _logs_of_this_test_only(db):
    """Start from empty logs: tests that run live servers may leave committed rows behind,
    and housekeeping would rightly clear those too. (Rolled back with the test.)"""
    Revision.objects.all().delete()
    AuditRecord.objects.all().delete()


def _now() -> datetime:
    return datetime.now(UTC)


def event(name: str, about: str = "web") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "namespace": "alice", "name": about},
        "reason": "Tested",
        "message": "a note",
        "type": "Normal",
        "count": 1,
    }


def annotated(name: str, size: int) -> dict:
    body = configmap(name)
    body["metadata"]["annotations"] = {"notes": "x" * (size - len("notes"))}
    return body


# Size limits


def test_a_megabyte_of_annotations_is_refused_with_kubernetes_message(api, alice):
    response = api.post(CONFIGMAPS, alice, annotated("big", 1_000_000))

    assert response.status_code == 422
    assert response.json_body["message"] == (
        f'ConfigMap "big" is invalid: metadata.annotations: {LIMIT}'
    )
    (cause,) = response.json_body["details"]["causes"]
    assert cause == {
        "reason": "FieldValueTooLong",
        "message": LIMIT,
        "field": "metadata.annotations",
    }
    assert not StoredObject.objects.filter(name="big").exists()


def test_annotations_of_exactly_256_kib_are_accepted(api, alice):
    assert api.post(CONFIGMAPS, alice, annotated("full", 262144)).status_code == 201
    assert api.post(CONFIGMAPS, alice, annotated("over", 262145)).status_code == 422


def test_annotations_cannot_be_grown_past_the_limit_by_patches(api, alice):
    api.post(CONFIGMAPS, alice, annotated("grow", 200_000))
    response = api.patch(
        f"{CONFIGMAPS}/grow",
        alice,
        {"metadata": {"annotations": {"more": "y" * 100_000}}},
        "application/merge-patch+json",
    )
    assert response.status_code == 422
    assert LIMIT in response.json_body["message"]


def test_an_object_built_up_by_patches_stops_at_the_store_limit(api, alice, settings):
    settings.WAREHOUSE_MAX_OBJECT_BYTES = 20_000
    api.post(CONFIGMAPS, alice, configmap("pile"))
    statuses = []
    for step in range(4):
        statuses.append(
            api.patch(
                f"{CONFIGMAPS}/pile",
                alice,
                {"data": {f"part{step}": "z" * 8000}},
                "application/merge-patch+json",
            ).status_code
        )
    assert statuses == [200, 200, 413, 413]
    refused = api.patch(
        f"{CONFIGMAPS}/pile", alice, {"data": {"last": "z" * 8000}}, "application/merge-patch+json"
    ).json_body
    assert refused["reason"] == "RequestEntityTooLarge"
    assert refused["message"] == "Request entity too large: limit is 20000 bytes"
    stored = json.loads(StoredObject.objects.get(name="pile").body)
    assert sorted(stored["data"]) == ["part0", "part1"]


# Events: a time to live, and a quota of their own


def test_events_older_than_the_ttl_are_gone_after_housekeeping(api, alice):
    assert api.post(EVENTS, alice, event("old")).status_code == 201
    before = store.current_revision()

    kept = run_once(now=_now() + timedelta(minutes=59))
    assert kept.events == 0
    assert api.get(f"{EVENTS}/old", alice).status_code == 200

    # (Revisions kept longer than the clock moves here, so the log still holds the expiry.)
    expired = run_once(
        now=_now() + timedelta(hours=1, minutes=1),
        policy=Policy(revision_keep=timedelta(hours=2)),
    )
    assert expired.events == 1
    assert api.get(f"{EVENTS}/old", alice).status_code == 404
    # Watchers see the expiry, as they see etcd's lease run out.
    (deleted,) = Revision.objects.filter(id__gt=before, name="old")
    assert deleted.event_type == "DELETED"
    # And the namespace's quota shows the room it left.
    quota = api.get("/api/v1/namespaces/alice/resourcequotas/warehouse-quota", alice).json_body
    assert quota["status"]["used"]["count/events"] == "0"


def test_an_event_written_again_lives_an_hour_from_its_last_write(api, alice):
    api.post(EVENTS, alice, event("bumped"))
    row = StoredObject.objects.get(name="bumped")
    row.updated = _now() - timedelta(hours=2)
    row.save(update_fields=["updated"])
    api.patch(f"{EVENTS}/bumped", alice, {"count": 2}, "application/merge-patch+json")

    assert run_once(now=_now() + timedelta(minutes=30)).events == 0
    assert api.get(f"{EVENTS}/bumped", alice).status_code == 200


def test_events_count_toward_the_namespace_quota(api, alice):
    set_hard("alice", {"count/events": "2"})
    assert api.post(EVENTS, alice, event("one")).status_code == 201
    assert api.post(EVENTS, alice, event("two")).status_code == 201

    response = api.post(EVENTS, alice, event("three"))

    assert response.status_code == 403
    assert response.json_body["message"] == (
        'events "three" is forbidden: exceeded quota: warehouse-quota, '
        "requested: count/events=1, used: count/events=2, limited: count/events=2"
    )


def test_the_control_planes_events_never_lock_a_learner_out(api, alice):
    # Two objects for the learner beside her RoleBinding, the quota and the LimitRange.
    set_hard("alice", {"warehouse.example/objects": "5", "count/events": "3"})
    web = api.post(PODS, alice, pod("web")).json_body
    recorder = EventRecorder(Client(accounts.system_user("kubelet"), "kubelet"), "kubelet")
    notes = [
        recorder.record(web, "Normal", reason, reason, _now())
        for reason in ("Scheduled", "Pulling", "Pulled", "Created", "Started")
    ]

    # The event quota fills and the recorder drops the rest, as client-go's does ...
    assert [note is not None for note in notes] == [True, True, True, False, False]
    # ... while the learner's room for objects is untouched.
    assert api.post(PODS, alice, pod("db")).status_code == 201
    assert api.post(PODS, alice, pod("cache")).status_code == 403


# Compaction


def _pods():
    return kinds.lookup("", "v1", "pods")


def test_compaction_keeps_the_revisions_of_the_last_minutes(api, alice):
    for name in ("a", "b", "c"):
        api.post(CONFIGMAPS, alice, configmap(name))
    count = Revision.objects.count()

    assert run_once(now=_now() + timedelta(minutes=9)).revisions == 0
    assert Revision.objects.count() == count

    report = run_once(now=_now() + timedelta(minutes=11))
    assert report.revisions == count - 1
    # The newest stays, so the log still says where it starts.
    assert list(Revision.objects.values_list("id", flat=True)) == [store.current_revision()]


def test_compaction_keeps_at_most_the_newest_rows(api, alice):
    for name in ("a", "b", "c", "d"):
        api.post(CONFIGMAPS, alice, configmap(name))
    newest = store.current_revision()

    run_once(policy=Policy(revision_keep_rows=2))

    assert list(Revision.objects.order_by("id").values_list("id", flat=True)) == [
        newest - 1,
        newest,
    ]


def test_compaction_works_in_bounded_batches_and_says_when_more_is_left(api, alice):
    for name in "abcdefgh":
        api.post(CONFIGMAPS, alice, configmap(name))
    total = Revision.objects.count()
    policy = Policy(revision_keep_rows=1, batch=2, batches=2)

    first = run_once(policy=policy)
    assert (first.revisions, first.unfinished) == (4, True)
    while run_once(policy=policy).unfinished:
        pass
    assert Revision.objects.count() == 1 < total


def test_a_watch_from_before_compaction_is_gone_and_a_relist_recovers(api, alice):
    drop_quota("alice")
    informer = Informer(Client(accounts.system_user("kube-controller-manager"), "controller"))
    informer.sync()
    start = store.current_revision()
    for name in ("a", "b", "c"):
        api.post(PODS, alice, pod(name))
    run_once(policy=Policy(revision_keep_rows=1))

    @async_to_sync
    async def stream_from_before():
        query = {"resourceVersion": str(start), "timeoutSeconds": "5"}
        return [json.loads(chunk) async for chunk in watch.events(_pods(), "alice", query)]

    (gone,) = stream_from_before()
    assert (gone["type"], gone["object"]["code"], gone["object"]["reason"]) == (
        "ERROR",
        410,
        "Expired",
    )
    with pytest.raises(ApiError) as refused:
        Client(alice, "controller").watch("pods", "alice", str(start)).poll()
    assert refused.value.code == 410

    # The informer's watch is now too old: it lists again and has every pod.
    assert informer.sync() is True
    assert {name for _, name in informer.objects["pods"]} >= {"a", "b", "c"}


def test_a_watch_opened_before_compaction_keeps_working_if_it_keeps_up(api, alice):
    api.post(PODS, alice, pod("first"))

    @async_to_sync
    async def run():
        stream = watch.events(_pods(), "alice", {"timeoutSeconds": "10"})
        seen = [json.loads(await anext(stream))]
        await sync_to_async(api.post)(PODS, alice, pod("second"))
        seen.append(json.loads(await anext(stream)))
        await sync_to_async(run_once)(None, Policy(revision_keep_rows=1))
        await sync_to_async(api.post)(PODS, alice, pod("third"))
        seen.append(json.loads(await anext(stream)))
        await stream.aclose()
        return seen

    assert [(e["type"], e["object"]["metadata"]["name"]) for e in run()] == [
        ("ADDED", "first"),
        ("ADDED", "second"),
        ("ADDED", "third"),
    ]


# The audit log


def _audit_rows(count: int, at: datetime) -> None:
    AuditRecord.objects.bulk_create(
        AuditRecord(
            timestamp=at,
            user="alice",
            client="kubectl",
            verb="get",
            method="GET",
            path="/api/v1/namespaces/alice/pods",
            status_code=200,
            latency_ms=1.0,
        )
        for _ in range(count)
    )


def test_audit_records_older_than_a_day_are_pruned(db):
    now = _now()
    _audit_rows(5, now - timedelta(hours=25))
    _audit_rows(3, now - timedelta(hours=23))

    assert run_once(now=now).audit == 5
    assert AuditRecord.objects.count() == 3


def test_the_audit_log_keeps_at_most_the_newest_rows(db):
    _audit_rows(10, _now())
    newest = AuditRecord.objects.order_by("-id").values_list("id", flat=True)[:4]

    assert run_once(policy=Policy(audit_keep_rows=4)).audit == 6
    assert set(AuditRecord.objects.values_list("id", flat=True)) == set(newest)


def test_audit_pruning_goes_in_batches(db):
    _audit_rows(7, _now() - timedelta(days=2))

    assert audit.prune(_now() - timedelta(days=1), keep_rows=1000, batch=3) == 3
    assert AuditRecord.objects.count() == 4
    report = run_once(policy=Policy(batch=3, batches=1))
    assert (report.audit, report.unfinished) == (3, True)
    assert run_once(policy=Policy(batch=3, batches=1)).audit == 1
    assert AuditRecord.objects.count() == 0


def test_a_namespaces_etag_never_goes_back_after_compaction(api, alice):
    api.post(CONFIGMAPS, alice, configmap("a"))
    seen = store.namespace_revision("alice")
    accounts.ensure_namespace("bob")
    run_once(policy=Policy(revision_keep_rows=1))

    assert not Revision.objects.filter(namespace="alice").exists()
    assert store.namespace_revision("alice") >= seen


def test_housekeeping_by_hand_and_in_every_process_that_runs_the_control_plane(db, settings):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("housekeeping", stdout=out)
    assert "revision(s) compacted" in out.getvalue()
    assert "apiserver.housekeeping.run" in settings.WAREHOUSE_BACKGROUND_TASKS


def test_the_housekeeping_task_stops_when_asked(db, settings):
    import asyncio

    from apiserver import housekeeping

    settings.WAREHOUSE_HOUSEKEEPING_SECONDS = 60

    async def run():
        stop = asyncio.Event()
        task = asyncio.create_task(housekeeping.run(stop))
        await asyncio.sleep(0)
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(run())


def test_a_stream_that_falls_behind_compaction_ends_with_410_not_a_silent_gap(
    api, alice, monkeypatch
):
    drop_quota("alice")
    monkeypatch.setattr(watch, "QUEUE_ROWS", 1)
    start = store.current_revision()

    @async_to_sync
    async def run():
        stream = watch.events(_pods(), "alice", {"resourceVersion": str(start)})
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        await sync_to_async(api.post)(PODS, alice, pod("first"))
        seen = [json.loads(await first)]
        # The stream's reader stalls while pods come and the log is compacted past it.
        for name in ("a", "b", "c"):
            await sync_to_async(api.post)(PODS, alice, pod(name))
        await sync_to_async(run_once)(None, Policy(revision_keep_rows=1))
        seen.append(json.loads(await anext(stream)))
        await stream.aclose()
        return seen

    first, gone = run()
    assert first["object"]["metadata"]["name"] == "first"
    assert (gone["type"], gone["object"]["code"]) == ("ERROR", 410)
    assert gone["object"]["message"].startswith("too old resource version")


def test_an_object_at_the_store_limit_can_still_be_deleted(api, alice, settings):
    api.post(PODS, alice, pod("full"))
    settings.WAREHOUSE_MAX_OBJECT_BYTES = len(StoredObject.objects.get(name="full").body) + 5
    StoredObject.objects.filter(name="full").update(
        body=StoredObject.objects.get(name="full").body.replace(
            '"spec":{', '"spec":{"nodeName":"node-1",'
        )
    )

    assert api.delete(f"{PODS}/full", alice).status_code == 200
