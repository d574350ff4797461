"""Live pages: the tracking page and "Your orders" are fed by watches, sent as SSE.

Each stream is driven with `async_to_sync`, so the views' database calls run on the
test's own thread and see its writes; writes go through the API pipeline as the learner.
"""

import asyncio
import json
import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from apiserver.filters import fairness
from apiserver.models import AuditRecord
from apiserver.pipeline import ApiRequest, handle
from apiserver.registry import store
from apiserver.server import lifecycle
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver
from learning import workshops
from shop import live
from tests.controlplane.conftest import Cluster, pod_manifest
from tests.shop.conftest import learner
from tests.shop.test_tracking import order

PODS = "/api/v1/namespaces/alice/pods"
STREAM = "/orders/alice/core/v1/pods/web/track/events/"
ORDERS_STREAM = "/orders/events/"


def _send(name: str, method: str, path: str, body: dict | None = None) -> dict:
    """One request through the pipeline as learner `name`, as kubectl would send it."""
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    response = handle(
        ApiRequest(
            method=method,
            path=path,
            headers={"accept": "application/json", "content-type": content_type},
            body=json.dumps(body).encode() if body is not None else b"",
            user=learner(name),
        )
    )
    assert response.status < 300, response.body
    return response.body or {}


def _pod(name: str = "web") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }


def _label(value: str, name: str = "web") -> str:
    """Change the Pod through the API; its new resourceVersion."""
    body = _send("alice", "PATCH", f"{PODS}/{name}", {"metadata": {"labels": {"x": value}}})
    return body["metadata"]["resourceVersion"]


class Reader:
    """Reads SSE messages off a streaming response: fields, and comment lines apart."""

    def __init__(self, response) -> None:
        self.response = response
        self.chunks = aiter(response.streaming_content) if response.streaming else None
        self.buffer = ""
        self.comments: list[str] = []

    async def next(self, timeout: float = 5.0) -> dict[str, str] | None:
        """The next message with an event or an id (None when the stream ends)."""
        while True:
            while "\n\n" not in self.buffer:
                try:
                    chunk = await asyncio.wait_for(anext(self.chunks), timeout)
                except StopAsyncIteration:
                    return None
                self.buffer += chunk.decode()
            block, self.buffer = self.buffer.split("\n\n", 1)
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                key, _, value = line.partition(": ")
                fields[key] = f"{fields[key]}\n{value}" if key in fields else value
            if "event" in fields or "id" in fields:
                return fields

    async def event(self, timeout: float = 5.0) -> dict[str, str]:
        """The next message that carries a region (skipping bookmarks' bare ids)."""
        while True:
            found = await self.next(timeout)
            assert found is not None, "the stream ended"
            if "event" in found:
                return found

    async def close(self) -> None:
        await self.response.streaming_content.aclose()


async def _open(browser, path: str = STREAM, **headers) -> tuple[object, Reader]:
    client = AsyncClient()
    client.cookies = browser.cookies
    response = await client.get(path, headers=headers)
    return response, Reader(response)


def _lines(data: str) -> list[tuple[str, str]]:
    """(event type, resourceVersion) of each watch line shown in a region."""
    return re.findall(
        r"<code>(ADDED|MODIFIED|DELETED)</code>.*?resourceVersion</span>\s*<code>(\d+)</code>",
        data,
        re.S,
    )


@pytest.fixture
def web(alice) -> str:
    """Alice's Pod `web`, stored through the API; its resourceVersion."""
    return _send("alice", "POST", PODS, _pod())["metadata"]["resourceVersion"]


def test_the_tracking_stream_sends_the_order_then_each_change(alice, web):
    @async_to_sync
    async def run():
        response, reader = await _open(alice)
        added = await reader.event()
        changed_at = await sync_to_async(_label)("1")
        modified = await reader.event()
        await reader.close()
        return response, added, modified, changed_at

    response, added, modified, changed_at = run()

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache, private"
    assert added["event"] == "ADDED"
    # The resume point is the list's own, at or after the Pod (its quota usage follows it).
    assert int(added["id"]) >= int(web)
    assert added["data"].lstrip().startswith('<div class="tracker-layout">')
    assert '<section id="tracker"' in added["data"] and '<section id="timeline"' in added["data"]
    assert 'id="current-step"' in added["data"]
    assert _lines(added["data"]) == [("ADDED", web)]
    assert modified["event"] == "MODIFIED"
    assert modified["id"] == changed_at
    assert _lines(modified["data"]) == [("MODIFIED", changed_at), ("ADDED", web)]
    # Only the newest line is announced: the list itself is not a live region.
    assert f"MODIFIED Pod web, resourceVersion {changed_at}: A new note" in modified["data"]
    assert "x: &#x27;1&#x27;" in modified["data"]  # the object's YAML, swapped out of band


def test_a_cancelled_order_is_shown_gone_with_its_last_state(alice, web):
    @async_to_sync
    async def run():
        _, reader = await _open(alice)
        await reader.event()
        await sync_to_async(_send)("alice", "DELETE", f"{PODS}/web")
        gone = await reader.event()
        while gone["event"] != "DELETED":
            gone = await reader.event()
        await reader.close()
        return gone

    gone = run()

    assert _lines(gone["data"])[0][0] == "DELETED"
    assert "This order no longer exists." in gone["data"]
    assert "Below is the last state this browser saw." in gone["data"]


def test_last_event_id_resumes_the_watch_without_gaps_or_repeats(alice, web):
    @async_to_sync
    async def run():
        _, reader = await _open(alice)
        first = await reader.event()
        await reader.close()
        missed = [await sync_to_async(_label)(value) for value in ("1", "2")]
        _, reader = await _open(alice, **{"Last-Event-ID": first["id"]})
        caught_up = [await reader.event()]
        if len(_lines(caught_up[0]["data"])) < 2:
            caught_up.append(await reader.event())
        later = await sync_to_async(_label)("3")
        after = await reader.event()
        await reader.close()
        return first, missed, caught_up, later, after

    first, missed, caught_up, later, after = run()

    assert int(first["id"]) >= int(web)
    assert caught_up[-1]["id"] == missed[-1]
    assert _lines(caught_up[-1]["data"]) == [("MODIFIED", missed[1]), ("MODIFIED", missed[0])]
    assert after["id"] == later
    assert _lines(after["data"]) == [
        ("MODIFIED", later),
        ("MODIFIED", missed[1]),
        ("MODIFIED", missed[0]),
    ]


def test_a_resume_point_the_log_has_dropped_lists_again(alice, web):
    for value in "123":
        _label(value)
    store.compact(1)

    @async_to_sync
    async def run():
        _, reader = await _open(alice, **{"Last-Event-ID": web})
        fresh = await reader.event()
        await reader.close()
        return fresh

    fresh = run()

    assert fresh["event"] == "ADDED"
    assert fresh["id"] == str(store.current_revision())
    assert 'id="timeline"' in fresh["data"]


@pytest.fixture
def seats(settings):
    """Watch seats counted per learner, as in production (the tests' default is no limits)."""
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    fairness.reset()
    yield
    fairness.reset()


def test_the_stream_is_a_watch_audited_for_the_browser(alice, web, seats):
    AuditRecord.objects.all().delete()

    @async_to_sync
    async def run():
        _, reader = await _open(alice)
        await reader.event()
        watching = await sync_to_async(fairness.open_watches)("alice")
        await reader.close()
        return watching

    watching = run()

    watch = AuditRecord.objects.get(verb="watch")
    assert (watch.user, watch.client, watch.status_code) == ("alice", "browser", 200)
    assert watch.path == PODS
    assert watching == 1
    assert fairness.open_watches("alice") == 0  # the seat went back with the stream


def test_another_learner_cannot_stream_your_order(alice, bob, web):
    @async_to_sync
    async def run():
        response, _ = await _open(bob)
        return response

    response = run()

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert not response.streaming
    refused = AuditRecord.objects.filter(verb="watch", user="bob").latest("id")
    assert (refused.client, refused.status_code) == ("browser", 403)


def test_a_wsgi_server_answers_204_at_once_and_gives_the_seat_back(alice, bob, web, seats):
    """Under WSGI (Django's test client and test server) an endless stream would be
    gathered into memory and never sent; the watch is opened and closed again instead."""
    AuditRecord.objects.all().delete()

    response = alice.get(STREAM)

    assert response.status_code == 204
    assert not response.streaming and response.content == b""
    assert fairness.open_watches("alice") == 0
    watch = AuditRecord.objects.get(verb="watch", user="alice")
    assert (watch.client, watch.status_code) == ("browser", 200)
    # The front door decides as it does under ASGI: a refusal is the same refusal.
    refused = bob.get(STREAM)
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("text/plain")


def test_no_learner_no_stream(client, db):
    @async_to_sync
    async def run():
        return await AsyncClient().get(STREAM)

    response = run()

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")


def test_a_bad_last_event_id_is_a_plain_400(alice, web):
    @async_to_sync
    async def run():
        response, _ = await _open(alice, **{"Last-Event-ID": "abc"})
        return response

    response = run()

    assert response.status_code == 400
    assert not response.streaming


def test_a_quiet_stream_sends_keep_alive_comments(alice, web, monkeypatch):
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.2)

    @async_to_sync
    async def run():
        _, reader = await _open(alice)
        await reader.event()
        quiet = await asyncio.wait_for(anext(reader.chunks), 3)
        await reader.close()
        return quiet

    assert run() == b": keep-alive\n\n"


def test_the_stream_ends_when_the_learners_token_is_revoked(alice, web, seats, monkeypatch):
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.2)

    @async_to_sync
    async def run():
        _, reader = await _open(alice)
        await reader.event()
        await sync_to_async(lambda: workshops.revoke(learner("alice")))()
        ended = await reader.next(timeout=5)
        await reader.close()
        return ended

    assert run() is None
    assert fairness.open_watches("alice") == 0


def test_your_orders_stream_shows_a_pod_created_through_the_api(alice):
    @async_to_sync
    async def run():
        response, reader = await _open(alice, ORDERS_STREAM)
        empty = await reader.event()
        created = await sync_to_async(_send)("alice", "POST", PODS, _pod("api-made"))
        added = await reader.event()
        await reader.close()
        return response, empty, created, added

    response, empty, created, added = run()

    assert response.status_code == 200
    assert empty["event"] == live.SYNC  # nothing yet: the list as it is
    assert "No orders yet" in empty["data"]
    assert added["event"] == "ADDED"
    assert added["id"] == created["metadata"]["resourceVersion"]
    assert ">api-made</a>" in added["data"]
    assert 'id="watch-log-lines"' in added["data"]
    assert 'hx-swap-oob="innerHTML"' in added["data"]
    watch = AuditRecord.objects.filter(verb="watch", user="alice").latest("id")
    assert watch.client == "browser"


def _lists_by_the_page() -> list[str]:
    records = AuditRecord.objects.filter(verb="list", user="alice", client="browser")
    return list(records.order_by("id").values_list("resource", flat=True))


def test_your_orders_stream_shows_a_configmap_which_no_pod_would_show(alice):
    @async_to_sync
    async def run():
        _, reader = await _open(alice, ORDERS_STREAM)
        await reader.event()
        lists = await sync_to_async(_lists_by_the_page)()
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "menu"}}
        created = await sync_to_async(_send)(
            "alice", "POST", "/api/v1/namespaces/alice/configmaps", body
        )
        added = await reader.event()
        relisted = await sync_to_async(_lists_by_the_page)()
        await reader.close()
        return created, added, relisted[len(lists) :]

    created, added, relisted = run()
    # Like an informer's cache: the watch event carries the ConfigMap, so nothing is
    # listed again.
    assert relisted == []

    assert added["event"] == "ADDED"
    assert added["id"] == created["metadata"]["resourceVersion"]
    assert ">menu</a>" in added["data"]
    watched = AuditRecord.objects.filter(verb="watch", user="alice")
    assert {r.resource for r in watched} >= {"configmaps", "secrets", "pods", "endpoints"}


def test_your_orders_stream_keeps_its_supplies_from_the_events_alone(alice):
    @async_to_sync
    async def run():
        _, reader = await _open(alice, ORDERS_STREAM)
        await reader.event()
        lists = await sync_to_async(_lists_by_the_page)()
        path = "/api/v1/namespaces/alice/configmaps"
        for name in ("menu", "wine"):
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            await sync_to_async(_send)("alice", "POST", path, body)
            await reader.event()
        await sync_to_async(_send)("alice", "DELETE", f"{path}/menu")
        gone = await reader.event()
        while gone["event"] != "DELETED":
            gone = await reader.event()
        relisted = await sync_to_async(_lists_by_the_page)()
        await reader.close()
        return gone, relisted[len(lists) :]

    gone, relisted = run()

    assert relisted == []
    assert ">wine</a>" in gone["data"]
    assert ">menu</a>" not in gone["data"]


def test_the_stream_ends_at_the_watch_timeout_and_gives_its_seats_back(alice, seats, monkeypatch):
    monkeypatch.setattr(live, "WATCH_SECONDS", 1)

    @async_to_sync
    async def run():
        _, reader = await _open(alice, ORDERS_STREAM)
        listed = await reader.event()
        watching = await sync_to_async(fairness.open_watches)("alice")
        ended = await reader.next(timeout=5)
        await reader.close()
        return listed, watching, ended

    listed, watching, ended = run()

    assert listed["event"] == live.SYNC
    assert watching == 5  # Pods, Endpoints, ConfigMaps, Secrets and claims: a seat each
    assert ended is None  # the browser reconnects from here with Last-Event-ID
    assert fairness.open_watches("alice") == 0


def test_a_stream_ends_cleanly_when_the_server_begins_to_shut_down(alice, web, seats):
    @async_to_sync
    async def run():
        _, reader = await _open(alice)
        await reader.event()
        lifecycle.begin_shutdown()
        try:
            return await reader.next(timeout=2)
        finally:
            lifecycle.reset()
            await reader.close()

    assert run() is None
    assert fairness.open_watches("alice") == 0


def test_messages_split_multi_line_data():
    assert live.message("<p>\nhi</p>", event="ADDED", id="7") == (
        b"id: 7\nevent: ADDED\ndata: <p>\ndata: hi</p>\n\n"
    )
    assert live.message(id="9") == b"id: 9\n\n"
    assert live.comment("keep-alive") == b": keep-alive\n\n"


@pytest.fixture
def plane(alice) -> Cluster:
    """A control plane on a hand-wound clock, one second per kubelet step."""
    clock = FakeClock()
    control = ControlPlane(clock=clock, config=Config(nodes=1, timing=Timing(step=1.0)))
    control.start()
    return Cluster(plane=control, clock=clock, alice=learner("alice"), driver=Driver(control))


def test_a_service_page_watches_its_endpoints_too(alice, plane):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shopfront"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    order(alice, service, "/order/core/v1/services/")
    plane.settle()

    def deliver() -> None:
        order(alice, pod_manifest("web"))
        plane.settle()
        plane.step(1, times=2)

    @async_to_sync
    async def run():
        _, reader = await _open(alice, "/orders/alice/core/v1/services/shopfront/track/events/")
        first = await reader.event()
        await sync_to_async(deliver)()
        later = [await reader.event()]
        while "Endpoints ready" not in later[-1]["data"]:
            later.append(await reader.event())
        await reader.close()
        return first, later

    first, later = run()

    assert "No ready endpoints" in first["data"]
    assert "Endpoints/shopfront" in later[-1]["data"]
    assert "Endpoints ready: 1 Pod address(es)" in later[-1]["data"]
    watched = set(
        AuditRecord.objects.filter(verb="watch", user="alice").values_list("path", flat=True)
    )
    assert watched == {
        "/api/v1/namespaces/alice/services",
        "/api/v1/namespaces/alice/endpoints",
    }


def test_the_resume_point_only_moves_forward():
    assert live._later("", "7") == "7"
    assert live._later("9", "7") == "9"
    assert live._later("7", "12") == "12"
    assert live._later("7", "") == "7"
