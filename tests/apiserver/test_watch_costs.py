"""What an open watch holds: no thread of its own, no refusal as 500, nothing after its
user's token stops holding.

Streams go through the real async view (Django's AsyncClient, or the ASGI application
with the shared watch threads), not just the event generator.
"""

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.asgi import get_asgi_application
from django.db import OperationalError
from django.test import AsyncClient

from apiserver.endpoints import watch
from apiserver.filters import fairness
from apiserver.models import AuditRecord, ClusterUser
from apiserver.pipeline import ApiRequest, handle, open_watch
from apiserver.registry import kinds, store
from apiserver.server import asgi
from tests.apiserver.conftest import pod

PODS = "/api/v1/namespaces/alice/pods"


def _pods():
    return kinds.lookup("", "v1", "pods")


BUSY = OperationalError("couldn't get a connection after 10.00 sec")


@pytest.fixture
def quick_credentials(monkeypatch):
    monkeypatch.setattr(watch, "CREDENTIALS_SECONDS", 0.2)


def _open(client: AsyncClient, token: str, path: str = PODS, **query: str):
    return client.get(
        path,
        {"watch": "true", "timeoutSeconds": "30", **query},
        headers={"authorization": f"Bearer {token}"},
    )


async def _lines_until_end(response, seconds: float = 15) -> list[dict]:
    async def read() -> list[dict]:
        return [json.loads(chunk) async for chunk in response.streaming_content]

    return await asyncio.wait_for(read(), seconds)


# A revoked token ends its streams


@pytest.mark.parametrize("revoke", ["rotate the token", "deactivate the user"])
def test_a_revoked_token_ends_the_open_stream(api, alice, bob, quick_credentials, revoke):
    api.post(PODS, alice, pod("web"))

    @async_to_sync
    async def run():
        client = AsyncClient()
        alices = await _open(client, alice.token)
        bobs = await _open(client, bob.token, "/api/v1/namespaces/bob/pods")
        first = json.loads(await anext(aiter(alices.streaming_content)))
        bob_waits = asyncio.ensure_future(_lines_until_end(bobs, 30))
        if revoke == "rotate the token":
            await sync_to_async(alice.rotate_token)()
        else:
            await sync_to_async(ClusterUser.objects.filter(pk=alice.pk).update)(is_active=False)
        rest = await _lines_until_end(alices)
        await sync_to_async(api.post)("/api/v1/namespaces/bob/pods", bob, pod("still"))
        await asyncio.sleep(0.5)
        bob_open = not bob_waits.done()
        bob_waits.cancel()
        return alices.status_code, first, rest, bob_open

    status, first, rest, bob_open = run()
    assert (status, first["type"], first["object"]["metadata"]["name"]) == (200, "ADDED", "web")
    assert [(e["type"], e["object"]["code"]) for e in rest] == [("ERROR", 401)]
    assert bob_open, "another learner's stream ended too"


def test_a_stream_whose_token_still_holds_goes_on(api, alice, quick_credentials):
    @async_to_sync
    async def run():
        response = await _open(AsyncClient(), alice.token, timeoutSeconds="1")
        return await _lines_until_end(response)

    # Several credential checks pass in that second; the stream ends by its timeout.
    assert run() == []


def test_a_stream_opened_after_rotation_with_the_new_token_is_not_ended(
    api, alice, quick_credentials
):
    token = alice.rotate_token()

    @async_to_sync
    async def run():
        response = await _open(AsyncClient(), token, timeoutSeconds="1")
        return response.status_code, await _lines_until_end(response)

    assert run() == (200, [])


# A busy store or pool is 503 with Retry-After, never 500


def _refused(response) -> tuple[int, str, str]:
    body = json.loads(response.content)
    return response.status_code, response.get("Retry-After"), body["reason"]


def test_a_busy_pool_during_the_watch_gates_is_503_with_retry_after(alice, monkeypatch):
    def exhausted(*args, **kwargs):
        raise BUSY

    monkeypatch.setattr("apiserver.pipeline.authorize", exhausted)

    @async_to_sync
    async def run():
        return await _open(AsyncClient(), alice.token)

    assert _refused(run()) == (503, "1", "ServiceUnavailable")


@pytest.mark.parametrize("query", [{}, {"resourceVersion": "1"}])
def test_a_busy_store_on_the_first_read_is_503_and_gives_the_seat_back(
    alice, monkeypatch, settings, query
):
    """The current state (or the 410 check) is read before the 200 is sent."""
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    fairness.reset()

    def exhausted(*args, **kwargs):
        raise BUSY

    monkeypatch.setattr(store, "list_objects", exhausted)
    monkeypatch.setattr(store, "compacted_through", exhausted)

    @async_to_sync
    async def run():
        return await _open(AsyncClient(), alice.token, **query)

    assert _refused(run()) == (503, "1", "ServiceUnavailable")
    assert fairness.open_watches("alice") == 0
    audited = AuditRecord.objects.filter(user="alice", verb="watch")
    assert list(audited.values_list("status_code", flat=True)) == [503]


def test_a_busy_store_mid_stream_ends_it_with_an_error_event_not_a_broken_response(
    api, alice, monkeypatch
):
    def exhausted(*args, **kwargs):
        raise BUSY

    monkeypatch.setattr(store, "revisions_after", exhausted)

    @async_to_sync
    async def run():
        response = await _open(AsyncClient(), alice.token, resourceVersion="1")
        return response.status_code, await _lines_until_end(response)

    status, events = run()
    assert status == 200
    assert [(e["type"], e["object"]["code"]) for e in events] == [("ERROR", 503)]


def test_a_failed_shared_poll_does_not_end_the_streams(api, alice, monkeypatch):
    real = store.all_revisions_after
    failures = []

    def flaky(after, *args):
        if not failures:
            failures.append(after)
            raise BUSY
        return real(after, *args)

    monkeypatch.setattr(store, "all_revisions_after", flaky)

    @async_to_sync
    async def run():
        revision = str(await sync_to_async(store.current_revision)())
        stream = watch.events(
            _pods(),
            "alice",
            {"resourceVersion": revision, "timeoutSeconds": "10"},
        )
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.5)  # the first shared poll fails meanwhile
        await sync_to_async(api.post)(PODS, alice, pod("after"))
        event = json.loads(await asyncio.wait_for(waiting, 5))
        await stream.aclose()
        return event

    assert run()["object"]["metadata"]["name"] == "after"
    assert failures


def test_the_watch_remembers_who_opened_it_and_with_which_token(alice):
    opened = open_watch(
        ApiRequest(
            method="GET",
            path=PODS,
            query={"watch": "true"},
            headers={"authorization": f"Bearer {alice.token}"},
        )
    )

    assert opened.owner == (alice.pk, alice.token)


# No thread per open watch


def _scope(path: str, query: str, token: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 443),
    }


class _Connection:
    """One client connection to the ASGI application: what it sent back, and a hang-up."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue = asyncio.Queue()
        self.gone = asyncio.Event()
        self.sent_body = False

    async def receive(self) -> dict:
        if not self.sent_body:
            self.sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        await self.messages.put(message)

    async def status(self) -> int:
        return (await self.messages.get())["status"]

    async def next_event(self) -> dict:
        while True:
            message = await self.messages.get()
            if message.get("body"):
                return json.loads(message["body"])


def _create_pod(user: ClusterUser, name: str) -> int:
    request = ApiRequest(
        method="POST",
        path=PODS,
        headers={"authorization": f"Bearer {user.token}", "content-type": "application/json"},
        body=json.dumps(pod(name)).encode(),
    )
    return handle(request).status


@pytest.mark.django_db(transaction=True)
def test_open_watches_share_a_few_threads_instead_of_one_each(alice):
    """Through the real ASGI application, as uvicorn serves it."""
    application = asgi.SharedWatchThreads(get_asgi_application())
    count = 30
    path = "/api/v1/namespaces/alice/pods"

    async def run():
        revision = await sync_to_async(store.current_revision, thread_sensitive=False)()
        query = f"watch=true&resourceVersion={revision}&timeoutSeconds=30"
        before = threading.active_count()
        connections = [_Connection() for _ in range(count)]
        served = [
            asyncio.ensure_future(application(_scope(path, query, alice.token), c.receive, c.send))
            for c in connections
        ]
        statuses = await asyncio.wait_for(asyncio.gather(*(c.status() for c in connections)), 30)
        await asyncio.sleep(0.5)
        during = threading.active_count()
        created = await sync_to_async(_create_pod, thread_sensitive=False)(alice, "shared")
        events = await asyncio.wait_for(asyncio.gather(*(c.next_event() for c in connections)), 30)
        for connection in connections:
            connection.gone.set()
        await asyncio.wait_for(asyncio.gather(*served, return_exceptions=True), 30)
        return statuses, before, during, created, events

    statuses, before, during, created, events = asyncio.run(run())
    assert statuses == [200] * count
    assert created == 201
    assert {(e["type"], e["object"]["metadata"]["name"]) for e in events} == {("ADDED", "shared")}
    # The shared watch threads and the feed's thread (and asyncio's own), not one each.
    assert during - before <= asgi.WATCH_THREADS + 4, (before, during)


def test_only_api_watch_requests_take_the_shared_threads():
    def scope(method: str, path: str, query: str) -> dict:
        return {"type": "http", "method": method, "path": path, "query_string": query.encode()}

    assert asgi.is_watch(scope("GET", PODS, "watch=true"))
    assert asgi.is_watch(scope("GET", "/apis/apps/v1/deployments", "labelSelector=a&watch=1"))
    assert not asgi.is_watch(scope("GET", PODS, "watch=false"))
    assert not asgi.is_watch(scope("GET", PODS, ""))
    assert not asgi.is_watch(scope("POST", PODS, "watch=true"))
    assert not asgi.is_watch(scope("GET", "/orders/", "watch=true"))
    # A live page's event stream shares them too; the page itself and the API's lists do not.
    assert asgi.is_stream(scope("GET", "/orders/events/", ""))
    assert asgi.is_stream(scope("GET", "/orders/alice/core/v1/pods/web/track/events/", ""))
    assert not asgi.is_stream(scope("GET", "/orders/", ""))
    assert not asgi.is_stream(scope("POST", "/orders/events/", ""))
    assert not asgi.is_stream(scope("GET", "/api/v1/events/", ""))


def test_memory_is_given_back_when_most_of_a_burst_of_streams_has_gone(api, alice, monkeypatch):
    watch.give_back_memory()  # harmless wherever it runs
    monkeypatch.setattr(watch, "TRIM_AFTER_STREAMS", 4)
    given_back = []
    monkeypatch.setattr(watch, "give_back_memory", lambda: given_back.append(True))

    @async_to_sync
    async def run():
        streams = [
            watch.events(_pods(), "alice", {"resourceVersion": "1", "timeoutSeconds": seconds})
            for seconds in ("1", "1", "3", "3")
        ]
        ending = asyncio.gather(*(anext(s, None) for s in streams))
        await asyncio.sleep(2.5)  # the first two have ended, and a second has passed
        half_gone = len(given_back)
        await asyncio.wait_for(ending, 10)
        await asyncio.sleep(1.5)
        return half_gone, len(given_back)

    # Half gone is not yet most of them; three of four is, and the last one adds nothing.
    assert run() == (0, 1)


def test_a_change_handed_out_in_slices_still_reaches_every_stream(api, alice, monkeypatch):
    monkeypatch.setattr(watch, "OFFER_SLICE", 2)

    @async_to_sync
    async def run():
        revision = str(await sync_to_async(store.current_revision)())
        query = {"resourceVersion": revision, "timeoutSeconds": "10"}
        streams = [watch.events(_pods(), "alice", dict(query)) for _ in range(5)]
        waiting = [asyncio.ensure_future(anext(stream)) for stream in streams]
        await asyncio.sleep(0.3)
        await sync_to_async(api.post)(PODS, alice, pod("sliced"))
        events = [json.loads(await asyncio.wait_for(w, 5)) for w in waiting]
        for stream in streams:
            await stream.aclose()
        return events

    assert [e["object"]["metadata"]["name"] for e in run()] == ["sliced"] * 5
