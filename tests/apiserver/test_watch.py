"""Watch: a stream of ADDED/MODIFIED/DELETED events, resumable from a resourceVersion.

The generator is driven with `async_to_sync`, so its database calls run on the test's own
thread and see the test's (uncommitted) writes.
"""

import json

from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from apiserver import kinds, store, watch
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
