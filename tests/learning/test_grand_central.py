"""Grand Central: the front door's traffic, live, with each client kind in its own colour."""

import re

from apiserver.accounts import system_user
from apiserver.models import ClusterUser
from tests.learning.conftest import api, learner


def traffic(client, query: str = "") -> str:
    response = client.get(f"/learn/grand-central/{query}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def count(page: str, client_kind: str) -> int:
    return int(re.search(rf'<strong data-client="{client_kind}">(\d+)</strong>', page)[1])


def test_the_full_page_watches_rather_than_polls(alice):
    page = alice.get("/learn/grand-central/").content.decode()
    assert "<html" in page and "<h1>Grand Central</h1>" in page
    assert 'sse-connect="/learn/grand-central/events/"' in page
    assert "hx-trigger" not in page
    assert 'href="/learn/grand-central/?mine=1"' in page


def test_the_fragment_shows_requests_by_client_kind(alice):
    me = learner("alice")
    api(me, "GET", "/api/v1/namespaces/alice/pods", client="kubectl")
    api(me, "GET", "/api/v1/namespaces/alice/pods", client="kubectl")
    api(me, "GET", "/api/v1/namespaces/alice/services", client="python-client")
    api(system_user("scheduler"), "GET", "/api/v1/namespaces/alice/pods", client="scheduler")
    api(system_user("kubelet-node-1"), "GET", "/api/v1/namespaces/alice/pods", client="kubelet")
    page = traffic(alice)
    assert "<html" not in page
    assert count(page, "kubectl") == 2
    assert count(page, "python-client") == 1
    assert count(page, "scheduler") == 1
    assert count(page, "kubelet") == 1
    assert '<span class="gc-badge gc--kubectl">kubectl</span>' in page
    assert "GET /api/v1/namespaces/alice/services" in page
    assert "system:scheduler" in page


def test_alice_does_not_see_bobs_traffic_but_an_instructor_does(alice, bob, carol):
    api(learner("bob"), "GET", "/api/v1/namespaces/bob/secrets")
    api(system_user("scheduler"), "GET", "/api/v1/namespaces/bob/pods", client="scheduler")
    assert "/namespaces/bob/" not in traffic(alice)
    everything = traffic(carol)
    assert "GET /api/v1/namespaces/bob/secrets" in everything
    assert "every namespace" in everything


def test_my_requests_filter_hides_the_control_planes_work_in_my_namespace(alice):
    api(system_user("scheduler"), "GET", "/api/v1/namespaces/alice/pods", client="scheduler")
    api(learner("alice"), "GET", "/api/v1/namespaces/alice/services")
    assert "system:scheduler" in traffic(alice)
    mine = traffic(alice, "?mine=1")
    assert "system:scheduler" not in mine and "/namespaces/alice/services" in mine
    assert 'href="/learn/grand-central/?mine=1">Check again' in mine


def test_cluster_wide_traffic_is_the_instructors_not_a_learners(alice, carol):
    api(system_user("scheduler"), "GET", "/api/v1/nodes", client="scheduler")
    assert "GET /api/v1/nodes" not in traffic(alice)
    assert "GET /api/v1/nodes" in traffic(carol)


def test_a_visitor_without_a_learner_name_sees_no_traffic(shopper, alice):
    api(learner("alice"), "GET", "/api/v1/namespaces/alice/pods")
    api(system_user("scheduler"), "GET", "/api/v1/nodes", client="scheduler")
    page = traffic(shopper, "?mine=1")
    assert "/namespaces/alice/" not in page and "GET /api/v1/nodes" not in page
    assert "Pick a learner name" in page
    assert ClusterUser.objects.filter(name="alice").exists()
