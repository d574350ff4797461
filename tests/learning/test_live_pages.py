"""Grand Central, the dashboard board and the scenario panel watch AuditEvents, sent as SSE.

Each stream is a watch opened through the API as the signed-in visitor, so RBAC decides
what arrives; the streams are driven with `async_to_sync`, as the shop's live pages are.
"""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apiserver.accounts import system_user
from apiserver.models import AuditRecord
from learning import faults
from learning.models import Workshop
from learning.workshops import instructor_identity
from shop import live
from tests.learning.conftest import api, learner
from tests.shop.test_live import _open

GC = "/learn/grand-central/"
GC_STREAM = "/learn/grand-central/events/"


@pytest.fixture(autouse=True)
def _no_scenario_left():
    faults._forget_cache()
    yield
    faults.stop_scenario()
    faults._forget_cache()


@pytest.fixture
def workshop(carol) -> Workshop:
    response = carol.post("/learn/workshops/", {"title": "Live drills"})
    assert response.status_code == 302
    return Workshop.objects.get(title="Live drills")


def _as(name: str, method: str, path: str) -> None:
    """One request through the front door as a learner, or as the scheduler."""
    if name.startswith("system:"):
        api(system_user(name.removeprefix("system:")), method, path, client="scheduler")
    else:
        api(learner(name), method, path)


def _events(code: str) -> str:
    return f"/learn/workshops/{code}/events/"


def _scenario_events(code: str) -> str:
    return f"/learn/workshops/{code}/scenario/events/"


def test_grand_central_connects_its_traffic_to_a_stream_and_keeps_a_link(alice):
    page = alice.get(GC).content.decode()
    assert f'sse-connect="{GC_STREAM}"' in page
    assert 'hx-trigger="every' not in page
    assert f'<a href="{GC}">Check again</a>' in page
    mine = alice.get(f"{GC}?mine=1").content.decode()
    assert f'sse-connect="{GC_STREAM}?mine=1"' in mine


def test_the_traffic_stream_draws_at_once_then_each_request_as_it_is_answered(alice):
    @async_to_sync
    async def run():
        response, reader = await _open(alice, GC_STREAM)
        first = await reader.event()
        await sync_to_async(_as)("alice", "GET", "/api/v1/namespaces/alice/services")
        added = await reader.event()
        await reader.close()
        return response, first, added

    response, first, added = run()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert first["event"] == live.SYNC
    assert first["data"].lstrip().startswith('<div id="traffic">')
    assert added["event"] == "ADDED"
    assert "GET /api/v1/namespaces/alice/services" in added["data"]
    assert int(added["id"]) > int(first["id"])
    watch = AuditRecord.objects.filter(user="alice", verb="watch").get()
    assert watch.client == "browser"
    assert watch.path == "/apis/audit.warehouse.dev/v1/namespaces/alice/auditevents"


def test_a_learners_stream_is_her_namespace_not_bobs_nor_the_cluster_wide_traffic(alice, bob):
    @async_to_sync
    async def run():
        _, reader = await _open(alice, GC_STREAM)
        await reader.event()
        await sync_to_async(_as)("bob", "GET", "/api/v1/namespaces/bob/secrets")
        await sync_to_async(_as)("system:scheduler", "GET", "/api/v1/nodes")
        await sync_to_async(_as)("system:scheduler", "GET", "/api/v1/namespaces/alice/pods")
        seen = await reader.event()
        await reader.close()
        return seen

    seen = run()
    assert "GET /api/v1/namespaces/alice/pods" in seen["data"]
    assert "/namespaces/bob/" not in seen["data"]
    assert "GET /api/v1/nodes" not in seen["data"]


def test_an_instructors_stream_watches_every_namespace(carol, alice):
    @async_to_sync
    async def run():
        _, reader = await _open(carol, GC_STREAM)
        await reader.event()
        await sync_to_async(_as)("alice", "GET", "/api/v1/namespaces/alice/configmaps")
        seen = await reader.event()
        await reader.close()
        return seen

    seen = run()
    assert "GET /api/v1/namespaces/alice/configmaps" in seen["data"]
    identity = instructor_identity(carol.user)
    watch = AuditRecord.objects.get(user=identity.username, verb="watch")
    assert watch.path == "/apis/audit.warehouse.dev/v1/auditevents"


def test_the_traffic_stream_resumes_from_last_event_id(alice):
    @async_to_sync
    async def run():
        _, reader = await _open(alice, GC_STREAM)
        first = await reader.event()
        await reader.close()
        await sync_to_async(_as)("alice", "GET", "/api/v1/namespaces/alice/pods")
        _, reader = await _open(alice, GC_STREAM, **{"Last-Event-ID": first["id"]})
        redrawn = await reader.event()
        caught_up = await reader.event()
        await reader.close()
        return first, redrawn, caught_up

    first, redrawn, caught_up = run()
    assert redrawn["event"] == live.SYNC and redrawn["id"] == first["id"]
    assert caught_up["event"] == "ADDED" and int(caught_up["id"]) > int(first["id"])


def test_a_visitor_without_a_learner_name_has_nothing_to_watch(shopper):
    @async_to_sync
    async def run():
        response, _ = await _open(shopper, GC_STREAM)
        return response

    assert run().status_code == 403
    page = shopper.get(GC).content.decode()
    assert "sse-connect" not in page and "Pick a learner name" in page


def test_the_dashboard_board_streams_learners_requests_not_its_own_reads(carol, workshop):
    browser = carol.__class__()
    browser.post("/join/", {"code": workshop.code, "display_name": "Ann"})
    ann = workshop.participants.get().learner

    @async_to_sync
    async def run():
        response, reader = await _open(carol, _events(workshop.code))
        first = await reader.event()
        path = f"/api/v1/namespaces/{ann.namespace}/pods"
        await sync_to_async(api)(ann, "GET", path)
        seen = await reader.event()
        try:  # the redraw's own Pod list is not news: nothing more comes
            quiet = await reader.next(timeout=2.5)
        except TimeoutError:
            quiet = None
        await reader.close()
        return response, first, seen, quiet

    response, first, seen, quiet = run()
    assert response.status_code == 200
    assert first["event"] == live.SYNC and first["data"].lstrip().startswith('<div id="board">')
    assert seen["event"] == "ADDED" and 'data-learner="' in seen["data"]
    assert quiet is None


def test_the_dashboard_page_connects_its_board_and_its_scenario_panel(carol, workshop):
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert f'sse-connect="{_events(workshop.code)}"' in page
    assert f'sse-connect="{_scenario_events(workshop.code)}"' in page
    assert 'hx-trigger="every' not in page
    assert page.count(">Check again</a>") == 2


def test_only_the_workshops_instructor_may_open_its_streams(carol, dave, alice, workshop):
    @async_to_sync
    async def run(browser, path):
        response, _ = await _open(browser, path)
        return response

    for path in (_events(workshop.code), _scenario_events(workshop.code)):
        assert run(dave, path).status_code == 403
        refused = run(alice, path)
        assert refused.status_code == 302 and refused["Location"].startswith("/admin/login/")


def test_the_scenario_panel_shows_the_refusals_a_scenario_causes(carol, alice, workshop):
    carol.post(
        f"/learn/workshops/{workshop.code}/scenario/start/", {"name": "outage", "seconds": 60}
    )

    @async_to_sync
    async def run():
        _, reader = await _open(carol, _scenario_events(workshop.code))
        first = await reader.event()
        await sync_to_async(_as)("alice", "GET", "/api/v1/namespaces/alice/pods")
        refused = await reader.event()
        await reader.close()
        return first, refused

    first, refused = run()
    assert first["event"] == live.SYNC and "<strong>Outage</strong> is running" in first["data"]
    assert 'id="scenario-refused">0<' in first["data"]
    assert refused["event"] == "ADDED" and 'id="scenario-refused">1<' in refused["data"]
