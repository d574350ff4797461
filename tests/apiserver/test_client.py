"""The one loopback client: the same gates as kubectl, and watches an informer can poll."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apiserver.client import ApiError, Client, path_for
from apiserver.models import AuditRecord
from apiserver.registry import store
from tests.apiserver.conftest import configmap, drop_quota


def _records(user: str) -> list[tuple[str, str, int]]:
    rows = AuditRecord.objects.filter(user=user).order_by("id")
    return [(r.client, r.verb, r.status_code) for r in rows]


def test_paths_are_named_the_way_kubectl_names_resources(alice):
    assert path_for("pods", "alice", "web") == "/api/v1/namespaces/alice/pods/web"
    assert path_for("deployments", "alice") == "/apis/apps/v1/namespaces/alice/deployments"
    assert path_for("nodes", "alice", "node-1") == "/api/v1/nodes/node-1"
    assert path_for("events") == "/api/v1/events"
    assert path_for("events.k8s.io/events", "alice") == (
        "/apis/events.k8s.io/v1/namespaces/alice/events"
    )
    with pytest.raises(KeyError, match="lawnmowers"):
        path_for("lawnmowers")


def test_requests_pass_every_gate_and_are_audited_as_the_named_client(alice, bob):
    client = Client(alice, "browser")
    created = client.create("configmaps", configmap("shelf"), "alice")
    assert created["metadata"]["resourceVersion"]

    with pytest.raises(ApiError) as refused:
        Client(bob, "browser").get("configmaps", "shelf", "alice")

    assert refused.value.code == 403 and refused.value.reason == "Forbidden"
    assert _records("alice") == [("browser", "create", 201)]
    assert _records("bob") == [("browser", "get", 403)]


def test_an_exchange_keeps_both_halves_for_the_page(alice):
    exchange = Client(alice, "browser", "warehouse-web").exchange(
        "POST", "/api/v1/namespaces/alice/configmaps", configmap("shelf")
    )

    assert exchange.ok and exchange.status == 201
    assert exchange.http_request.startswith("POST /api/v1/namespaces/alice/configmaps HTTP/1.1")
    assert "Authorization: Bearer <token>" in exchange.http_request
    assert exchange.http_response.startswith("HTTP/1.1 201 Created")
    assert exchange.raise_for_status()["metadata"]["name"] == "shelf"


def test_a_watch_is_audited_once_and_polled_without_waiting(alice):
    client = Client(alice, "controller")
    listing = client.list("configmaps", "alice")
    watch = client.watch("configmaps", "alice", listing["metadata"]["resourceVersion"])

    assert watch.poll() == []
    client.create("configmaps", configmap("a"), "alice")
    client.patch("configmaps", "a", "alice", {"data": {"k": "v2"}})
    client.delete("configmaps", "a", "alice")

    events = [(kind, obj["metadata"]["name"]) for kind, obj in watch.poll()]
    assert events == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert watch.poll() == []
    assert [verb for _, verb, _ in _records("alice")] == [
        "list",
        "watch",
        "create",
        "patch",
        "delete",
    ]


def test_a_watch_from_the_start_sends_what_exists_first(alice):
    client = Client(alice, "controller")
    client.create("configmaps", configmap("a"), "alice")

    watch = client.watch("configmaps", "alice")

    assert [(kind, obj["metadata"]["name"]) for kind, obj in watch.poll()] == [("ADDED", "a")]
    assert int(watch.resource_version) >= 1


def test_a_watch_older_than_the_log_is_gone_so_the_informer_lists_again(alice):
    drop_quota("alice")
    client = Client(alice, "controller")
    watch = client.watch("configmaps", "alice", str(store.current_revision()))
    for name in ("a", "b", "c"):
        client.create("configmaps", configmap(name), "alice")
    store.compact(keep=1)

    with pytest.raises(ApiError) as gone:
        watch.poll()

    assert gone.value.code == 410 and gone.value.reason == "Expired"


def test_a_refused_watch_raises_and_is_audited(bob, alice):
    with pytest.raises(ApiError) as refused:
        Client(bob, "controller").watch("configmaps", "alice")

    assert refused.value.code == 403
    assert _records("bob") == [("controller", "watch", 403)]


def test_an_async_stream_is_a_watch_through_every_gate(alice, bob):
    """`open_stream` is how async pages follow a kind: audited once, refused like kubectl."""
    client = Client(alice, "browser")
    client.create("configmaps", configmap("shelf"), "alice")
    path = path_for("configmaps", "alice")

    @async_to_sync
    async def run():
        stream = await client.open_stream(path, {"sendInitialEvents": "true"})
        events = stream.events()
        listed = [await anext(events), await anext(events)]
        crate = await sync_to_async(client.create)("configmaps", configmap("crate"), "alice")
        added = await anext(events)
        await events.aclose()
        with pytest.raises(ApiError) as refused:
            await Client(bob, "browser").open_stream(path)
        return listed, crate, added, refused.value

    listed, crate, added, refused = run()

    assert [(e.type, e.object["metadata"].get("name")) for e in listed] == [
        ("ADDED", "shelf"),
        ("BOOKMARK", None),
    ]
    assert listed[1].initial_end
    # The list's own point in the log, before the crate (whose quota usage came after it).
    assert int(listed[1].resource_version) < int(crate["metadata"]["resourceVersion"])
    assert (added.type, added.object["metadata"]["name"]) == ("ADDED", "crate")
    assert added.resource_version == crate["metadata"]["resourceVersion"]
    assert refused.code == 403
    assert ("browser", "watch", 200) in _records("alice")
    assert _records("bob") == [("browser", "watch", 403)]
