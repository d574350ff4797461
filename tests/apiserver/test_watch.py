"""Watch: a stream of ADDED/MODIFIED/DELETED events, resumable from a resourceVersion.

The generator is driven with `async_to_sync`, so its database calls run on the test's own
thread and see the test's (uncommitted) writes.
"""

import asyncio
import json

from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from apiserver.endpoints import watch
from apiserver.registry import kinds, store
from tests.apiserver.conftest import TABLE_ACCEPT, configmap, pod

PODS = "/api/v1/namespaces/alice/pods"


def _pods():
    return kinds.lookup("", "v1", "pods")


def _create(api, alice, name, **labels):
    return api.post(PODS, alice, pod(name, **labels)).json_body


async def _next(stream) -> dict:
    return json.loads(await anext(stream))


def test_watch_sends_current_objects_then_changes(api, alice):
    _create(api, alice, "web")

    @async_to_sync
    async def run():
        stream = watch.events(_pods(), "alice", {"timeoutSeconds": "10"})
        events = [await _next(stream)]
        await sync_to_async(_create)(api, alice, "db")
        events.append(await _next(stream))
        await sync_to_async(api.patch)(
            f"{PODS}/db",
            alice,
            {"metadata": {"labels": {"x": "y"}}},
            "application/merge-patch+json",
        )
        events.append(await _next(stream))
        await sync_to_async(api.delete)(f"{PODS}/db", alice)
        events.append(await _next(stream))
        await stream.aclose()
        return events

    events = run()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "web"),
        ("ADDED", "db"),
        ("MODIFIED", "db"),
        ("DELETED", "db"),
    ]
    assert events[2]["object"]["metadata"]["labels"]["x"] == "y"
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events[1:]]
    assert versions == sorted(versions)


def test_watch_resumes_after_a_resource_version(api, alice):
    first = _create(api, alice, "a")
    _create(api, alice, "b")
    api.delete(f"{PODS}/a", alice)
    start = first["metadata"]["resourceVersion"]

    @async_to_sync
    async def run():
        stream = watch.events(_pods(), "alice", {"resourceVersion": start, "timeoutSeconds": "5"})
        events = [await _next(stream), await _next(stream)]
        await stream.aclose()
        return events

    events = run()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]


def test_watch_filters_by_field_and_label_selector(api, alice):
    @async_to_sync
    async def run():
        query = {
            "fieldSelector": "metadata.name=web",
            "resourceVersion": str(await sync_to_async(store.current_revision)()),
            "timeoutSeconds": "5",
        }
        stream = watch.events(_pods(), "alice", query)
        await sync_to_async(_create)(api, alice, "other")
        await sync_to_async(_create)(api, alice, "web")
        event = await _next(stream)
        await stream.aclose()
        return event

    event = run()
    assert event["object"]["metadata"]["name"] == "web"


def test_watch_only_sees_its_namespace_and_kind(api, alice, bob):
    @async_to_sync
    async def run():
        revision = await sync_to_async(store.current_revision)()
        stream = watch.events(
            _pods(), "alice", {"resourceVersion": str(revision), "timeoutSeconds": "5"}
        )
        await sync_to_async(api.post)("/api/v1/namespaces/bob/pods", bob, pod("bobs"))
        await sync_to_async(api.post)(
            "/api/v1/namespaces/alice/configmaps", alice, configmap("cfg")
        )
        await sync_to_async(_create)(api, alice, "mine")
        event = await _next(stream)
        await stream.aclose()
        return event

    assert run()["object"]["metadata"]["name"] == "mine"


def test_too_old_resource_version_is_410_gone(api, alice):
    for name in ("a", "b", "c"):
        _create(api, alice, name)
    store.compact(keep=1)

    @async_to_sync
    async def run():
        stream = watch.events(_pods(), "alice", {"resourceVersion": "1", "timeoutSeconds": "5"})
        events = [json.loads(chunk) async for chunk in stream]
        return events

    (event,) = run()
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"


def test_watch_ends_after_timeout_seconds(api, alice):
    @async_to_sync
    async def run():
        return [chunk async for chunk in watch.events(_pods(), "alice", {"timeoutSeconds": "0"})]

    assert run() == []


def test_watch_as_table_for_kubectl_get_w(api, alice):
    _create(api, alice, "web")

    @async_to_sync
    async def run():
        stream = watch.events(_pods(), "alice", {"timeoutSeconds": "5"}, as_table=True)
        first = await _next(stream)
        await sync_to_async(_create)(api, alice, "db")
        second = await _next(stream)
        await stream.aclose()
        return first, second

    first, second = run()
    assert first["object"]["kind"] == "Table"
    assert first["object"]["rows"][0]["cells"][0] == "web"
    assert first["object"]["columnDefinitions"][0]["name"] == "Name"
    assert second["object"]["rows"][0]["cells"][0] == "db"
    assert second["object"]["columnDefinitions"] == []


def test_send_initial_events_ends_with_a_bookmark(api, alice):
    _create(api, alice, "web")

    @async_to_sync
    async def run():
        stream = watch.events(
            _pods(),
            "alice",
            {"sendInitialEvents": "true", "allowWatchBookmarks": "true", "timeoutSeconds": "5"},
        )
        events = [await _next(stream), await _next(stream)]
        await stream.aclose()
        return events

    added, bookmark = run()
    assert added["type"] == "ADDED"
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_over_http_streams_json_lines(api, alice):
    _create(api, alice, "web")

    @async_to_sync
    async def run():
        client = AsyncClient()
        response = await client.get(
            PODS,
            {"watch": "true", "timeoutSeconds": "1"},
            headers={"authorization": f"Bearer {alice.token}", "accept": TABLE_ACCEPT},
        )
        chunks = [chunk async for chunk in response.streaming_content]
        return response, b"".join(chunks)

    response, content = run()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    lines = [json.loads(line) for line in content.splitlines()]
    assert lines[0]["type"] == "ADDED"
    assert lines[0]["object"]["kind"] == "Table"


def test_watch_over_http_checks_permissions_first(api, alice, bob):
    @async_to_sync
    async def run():
        client = AsyncClient()
        return await client.get(
            PODS, {"watch": "1"}, headers={"authorization": f"Bearer {bob.token}"}
        )

    response = run()
    assert response.status_code == 403
    assert json.loads(response.content)["reason"] == "Forbidden"


def test_bad_watch_resource_version_is_400(api, alice):
    @async_to_sync
    async def run():
        client = AsyncClient()
        return await client.get(
            PODS,
            {"watch": "true", "resourceVersion": "abc"},
            headers={"authorization": f"Bearer {alice.token}"},
        )

    assert run().status_code == 400


def test_label_watch_sees_objects_enter_and_leave_the_selection(api, alice):
    merge = "application/merge-patch+json"
    _create(api, alice, "web", tier="back")

    @async_to_sync
    async def run():
        revision = await sync_to_async(store.current_revision)()
        stream = watch.events(
            _pods(),
            "alice",
            {
                "labelSelector": "tier=front",
                "resourceVersion": str(revision),
                "timeoutSeconds": "5",
            },
        )
        events = []
        for labels in ({"tier": "front"}, {"tier": "front", "x": "1"}, {"tier": "back"}):
            await sync_to_async(api.patch)(
                f"{PODS}/web", alice, {"metadata": {"labels": labels}}, merge
            )
            events.append(await _next(stream))
        await stream.aclose()
        return events

    assert [e["type"] for e in run()] == ["ADDED", "MODIFIED", "DELETED"]


def test_several_streams_share_one_feed_and_each_gets_its_events(api, alice, bob):
    @async_to_sync
    async def run():
        revision = str(await sync_to_async(store.current_revision)())
        query = {"resourceVersion": revision, "timeoutSeconds": "5"}
        alices = [watch.events(_pods(), "alice", dict(query)) for _ in range(3)]
        bobs = watch.events(_pods(), "bob", dict(query))
        everyone = watch.events(_pods(), None, dict(query))
        streams = [*alices, bobs, everyone]
        waiting = [asyncio.ensure_future(_next(stream)) for stream in streams]
        await asyncio.sleep(0.3)  # every stream has caught up and waits on the feed
        assert len(watch._feeds[asyncio.get_running_loop()].subscribers) == 5
        await sync_to_async(_create)(api, alice, "web")
        firsts = [await asyncio.wait_for(w, 5) for w in waiting[:3]]
        await sync_to_async(api.post)("/api/v1/namespaces/bob/pods", bob, pod("bobs"))
        bob_first = await asyncio.wait_for(waiting[3], 5)
        every = [await asyncio.wait_for(waiting[4], 5), await _next(everyone)]
        for stream in streams:
            await stream.aclose()
        return firsts, bob_first, every

    firsts, bob_first, every = run()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in firsts] == [("ADDED", "web")] * 3
    assert bob_first["object"]["metadata"]["name"] == "bobs"
    assert [e["object"]["metadata"]["name"] for e in every] == ["web", "bobs"]
    assert not watch._feeds  # the feed went with its last stream


def test_idle_streams_poll_the_log_once_per_interval_not_once_each(
    api, alice, django_assert_max_num_queries
):
    @async_to_sync
    async def run():
        query = {"resourceVersion": "1", "timeoutSeconds": "1"}
        streams = [watch.events(_pods(), "alice", dict(query)) for _ in range(20)]

        async def drain(stream):
            return [chunk async for chunk in stream]

        return await asyncio.gather(*(drain(stream) for stream in streams))

    # Each stream checks its resourceVersion and catches up once (2 x 20 reads); then the
    # feed's start and about 1 s / POLL_SECONDS shared polls. Polling on their own, the 20
    # streams would add some 130 reads in that second.
    with django_assert_max_num_queries(2 * 20 + 1 + int(1 / watch.POLL_SECONDS) + 4):
        assert run() == [[]] * 20


def test_a_slow_stream_that_falls_behind_rereads_the_log(api, alice, monkeypatch):
    monkeypatch.setattr(watch, "QUEUE_ROWS", 2)

    @async_to_sync
    async def run():
        revision = str(await sync_to_async(store.current_revision)())
        query = {"resourceVersion": revision, "timeoutSeconds": "5"}
        stream = watch.events(_pods(), "alice", query)
        first = asyncio.ensure_future(_next(stream))
        await asyncio.sleep(0.3)
        for name in ("a", "b", "c", "d", "e"):
            await sync_to_async(_create)(api, alice, name)
        events = [await asyncio.wait_for(first, 5)]
        events += [await _next(stream) for _ in range(4)]
        await stream.aclose()
        return events

    assert [e["object"]["metadata"]["name"] for e in run()] == ["a", "b", "c", "d", "e"]
