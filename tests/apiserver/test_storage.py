"""Storage with an end: every way a learner could grow the database without bound.

Compacted revisions, expiring Events, Events under quota, Kubernetes' size limits and a
pruned audit log. Housekeeping is driven directly with an injected "now", never by sleeping.
"""

import asyncio
import contextlib
import itertools
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


# The per-object bound: a busy object keeps its newest revisions, the others all theirs


MERGE = "application/merge-patch+json"
_changes = itertools.count()


def _revisions_of(name: str) -> list[int]:
    return list(Revision.objects.filter(name=name).order_by("id").values_list("id", flat=True))


def _patched(api, user, name: str, times: int) -> list[int]:
    """Change a ConfigMap `times` times; the resourceVersions written."""
    written = []
    for _ in range(times):
        change = {"data": {"n": str(next(_changes))}}
        answer = api.patch(f"{CONFIGMAPS}/{name}", user, change, MERGE).json_body
        written.append(int(answer["metadata"]["resourceVersion"]))
    return written


def _configmaps():
    return kinds.lookup("", "v1", "configmaps")


def test_the_per_object_bound_drops_only_the_busy_objects_oldest_revisions(api, alice, settings):
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 3
    api.post(CONFIGMAPS, alice, configmap("quiet"))
    api.post(CONFIGMAPS, alice, configmap("busy"))
    changes = _patched(api, alice, "busy", 10)
    quiet = _revisions_of("quiet")

    report = run_once()

    # Its creation and the first seven changes went; the newest three stay.
    assert _revisions_of("busy") == changes[-3:]
    assert _revisions_of("quiet") == quiet
    assert report.per_object >= 8
    assert report.revisions >= report.per_object
    # What is left is within the bound: another pass finds nothing to do.
    assert run_once().per_object == 0


def test_the_history_of_a_trimmed_object_says_how_many_revisions_went(api, alice, settings):
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 3
    api.post(CONFIGMAPS, alice, configmap("busy"))
    changes = _patched(api, alice, "busy", 6)
    api.post(CONFIGMAPS, alice, configmap("quiet"))
    run_once()

    body = api.get(f"{CONFIGMAPS}/busy/history", alice).json_body

    assert [int(i["resourceVersion"]) for i in body["items"]] == changes[-3:]
    compacted = body["compacted"]
    assert compacted["earlierRevisionsRemoved"] is True
    # The creation and the first three changes: every revision missing, counted.
    assert compacted["removedByKeepPerObject"] == 4
    assert compacted["earlierRevisionsCounted"] is True
    assert compacted["keepPerObject"] == 3
    quiet = api.get(f"{CONFIGMAPS}/quiet/history", alice).json_body["compacted"]
    assert quiet["earlierRevisionsRemoved"] is False
    assert "removedByKeepPerObject" not in quiet


def test_a_count_the_time_window_started_is_not_called_the_whole_story(api, alice, settings):
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 3
    api.post(CONFIGMAPS, alice, configmap("busy"))
    _patched(api, alice, "busy", 2)
    store.compact(keep=2)  # the creation goes with the store-wide window first
    changes = _patched(api, alice, "busy", 4)
    run_once()

    compacted = api.get(f"{CONFIGMAPS}/busy/history", alice).json_body["compacted"]

    assert _revisions_of("busy") == changes[-3:]
    assert compacted["removedByKeepPerObject"] == 3
    assert compacted["earlierRevisionsCounted"] is False


def test_a_name_used_again_counts_only_its_own_trimmed_revisions(api, alice, settings):
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 3
    api.post(CONFIGMAPS, alice, configmap("busy"))
    api.delete(f"{CONFIGMAPS}/busy", alice)
    api.post(CONFIGMAPS, alice, configmap("busy"))
    _patched(api, alice, "busy", 4)  # six before these: the old one's two, then ADDED, one more
    run_once()

    compacted = api.get(f"{CONFIGMAPS}/busy/history", alice).json_body["compacted"]

    assert compacted["removedByKeepPerObject"] == 2
    assert compacted["earlierRevisionsCounted"] is True


def test_a_watch_from_before_a_trimmed_revision_is_gone_and_one_from_after_sees_everything(
    api, alice, settings
):
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 3
    api.post(CONFIGMAPS, alice, configmap("quiet"))
    api.post(CONFIGMAPS, alice, configmap("busy"))
    start = store.current_revision()
    # The first change after `start` stays (its object is quiet): the hole is behind it.
    (kept,) = _patched(api, alice, "quiet", 1)
    assert kept == start + 1
    changes = _patched(api, alice, "busy", 5)
    run_once()
    dropped, resumable = changes[:2], changes[2:]
    assert not Revision.objects.filter(id__in=dropped).exists()
    assert store.compacted_through() == dropped[-1]

    with pytest.raises(ApiError) as refused:
        Client(alice, "kubectl").watch("configmaps", "alice", str(start)).poll()
    assert refused.value.code == 410

    @async_to_sync
    async def stream_from(revision: int) -> list[dict]:
        query = {"resourceVersion": str(revision), "timeoutSeconds": "1"}
        return [json.loads(chunk) async for chunk in watch.events(_configmaps(), "alice", query)]

    (gone,) = stream_from(start)
    assert (gone["type"], gone["object"]["code"], gone["object"]["reason"]) == (
        "ERROR",
        410,
        "Expired",
    )
    assert gone["object"]["message"] == f"too old resource version: {start} ({dropped[-1]})"

    # From the newest revision removed on, nothing is missing: every later event arrives.
    following = Client(alice, "kubectl").watch("configmaps", "alice", str(dropped[-1]))
    seen = following.poll()
    assert [int(obj["metadata"]["resourceVersion"]) for _, obj in seen] == resumable
    later = _patched(api, alice, "quiet", 1) + _patched(api, alice, "busy", 1)
    assert [
        (kind, obj["metadata"]["name"], int(obj["metadata"]["resourceVersion"]))
        for kind, obj in following.poll()
    ] == [("MODIFIED", "quiet", later[0]), ("MODIFIED", "busy", later[1])]
    streamed = stream_from(dropped[-1])
    assert [int(e["object"]["metadata"]["resourceVersion"]) for e in streamed] == [
        *resumable,
        *later,
    ]


def test_a_stream_that_keeps_up_is_not_disturbed_by_the_per_object_bound(api, alice):
    api.post(CONFIGMAPS, alice, configmap("busy"))

    @async_to_sync
    async def run():
        stream = watch.events(_configmaps(), "alice", {"timeoutSeconds": "10"})
        seen = [json.loads(await anext(stream))]
        for _ in range(4):
            await sync_to_async(_patched)(api, alice, "busy", 1)
            seen.append(json.loads(await anext(stream)))
        await sync_to_async(run_once)(None, Policy(revision_keep_per_object=1))
        await sync_to_async(_patched)(api, alice, "busy", 1)
        seen.append(json.loads(await anext(stream)))
        await stream.aclose()
        return seen

    assert [e["type"] for e in run()] == ["ADDED", *["MODIFIED"] * 5]


def test_a_stream_the_per_object_bound_overtakes_ends_with_410_not_a_silent_gap(api, alice):
    api.post(CONFIGMAPS, alice, configmap("quiet"))
    api.post(CONFIGMAPS, alice, configmap("busy"))

    def write_and_trim() -> None:
        _patched(api, alice, "quiet", 1)  # read in turn: the hole is after it
        _patched(api, alice, "busy", 5)
        run_once(None, Policy(revision_keep_per_object=3))

    @async_to_sync
    async def run():
        stream = watch.events(_configmaps(), "alice", {"timeoutSeconds": "10"})
        listed = [json.loads(await anext(stream)) for _ in range(2)]
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        # The shared feed is held while the changes land and two of them are removed, so
        # it first reads the log with a hole in its middle, not at its start.
        async with watch._feed().lock:
            await sync_to_async(write_and_trim)()
        after = [json.loads(await waiting)]
        with contextlib.suppress(StopAsyncIteration):
            after.append(json.loads(await anext(stream)))
        await stream.aclose()
        return listed, after

    listed, after = run()
    assert [e["type"] for e in listed] == ["ADDED", "ADDED"]
    assert [e["type"] for e in after] == ["ERROR"]
    assert after[0]["object"]["code"] == 410


def test_the_per_object_bound_works_in_bounded_batches_and_counts_them_all(api, alice):
    api.post(CONFIGMAPS, alice, configmap("busy"))
    changes = _patched(api, alice, "busy", 7)
    policy = Policy(revision_keep_per_object=1, batch=2, batches=2)

    first = run_once(policy=policy)
    assert (first.per_object, first.unfinished) == (4, True)
    while run_once(policy=policy).unfinished:
        pass

    assert _revisions_of("busy") == changes[-1:]
    compacted = api.get(f"{CONFIGMAPS}/busy/history", alice).json_body["compacted"]
    assert compacted["removedByKeepPerObject"] == 7
    assert compacted["earlierRevisionsCounted"] is True


def test_keeping_zero_per_object_turns_the_bound_off(api, alice, settings):
    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 0
    api.post(CONFIGMAPS, alice, configmap("busy"))
    changes = _patched(api, alice, "busy", 6)
    before = _revisions_of("busy")

    report = run_once()

    assert report.per_object == 0
    assert _revisions_of("busy") == before
    assert before[-6:] == changes
    assert store.compacted_through() == store.oldest_revision() - 1
    history = api.get(f"{CONFIGMAPS}/busy/history", alice).json_body
    assert history["compacted"]["earlierRevisionsRemoved"] is False
    assert history["compacted"]["keepPerObject"] == 0


def test_a_count_is_forgotten_once_the_time_window_passes_it(api, alice, settings):
    from apiserver.models import TrimmedHistory

    settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT = 2
    api.post(CONFIGMAPS, alice, configmap("busy"))
    _patched(api, alice, "busy", 4)
    run_once()
    assert TrimmedHistory.objects.filter(name="busy").exists()
    mark = store.compacted_through()

    _patched(api, alice, "busy", 1)
    store.compact(keep=1)
    run_once()

    assert not TrimmedHistory.objects.filter(name="busy").exists()
    compacted = api.get(f"{CONFIGMAPS}/busy/history", alice).json_body["compacted"]
    assert compacted["earlierRevisionsRemoved"] is True
    assert "removedByKeepPerObject" not in compacted
    # The mark never goes back.
    assert store.compacted_through() >= mark


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
