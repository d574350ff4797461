"""Hints come one at a time, and a miss says how close it was: alice through the views."""

from django.test import Client

from tests.learning.conftest import api, deployment, learner, pod

PODS = "/api/v1/namespaces/alice/pods"
HTMX = {"HTTP_HX_REQUEST": "true"}
ORDER_WEB = "/learn/lessons/front-door/order-web"


def check(client: Client, lesson: str = "front-door", step: str = "order-web") -> str:
    return client.post(f"/learn/lessons/{lesson}/{step}/check/", **HTMX).content.decode()


def test_the_page_shows_no_hint_until_asked_then_one_more_each_time(shopper):
    page = shopper.get("/learn/lessons/front-door/").content.decode()
    assert "The order page for Pods" not in page
    assert "Show hint 1 of 3</button>" in page

    first = shopper.post(f"{ORDER_WEB}/hint/", **HTMX)
    fragment = first.content.decode()
    assert first.status_code == 200 and "<html" not in fragment
    assert "The order page for Pods" in fragment and "must be exactly" not in fragment
    assert "Show hint 2 of 3</button>" in fragment

    shopper.post(f"{ORDER_WEB}/hint/", **HTMX)
    third = shopper.post(f"{ORDER_WEB}/hint/", **HTMX).content.decode()
    assert third.count("<li>") == 3 and "That was the last hint." in third
    assert "Show hint" not in third
    fourth = shopper.post(f"{ORDER_WEB}/hint/", **HTMX).content.decode()
    assert fourth.count("<li>") == 3


def test_without_javascript_a_hint_redirects_back_and_the_page_keeps_it(shopper):
    response = shopper.post(f"{ORDER_WEB}/hint/")
    assert response.status_code == 302
    assert response["Location"] == "/learn/lessons/front-door/#step-order-web"
    page = shopper.get("/learn/lessons/front-door/").content.decode()
    assert "The order page for Pods" in page and "Show hint 2 of 3</button>" in page
    other = Client().get("/learn/lessons/front-door/").content.decode()
    assert "The order page for Pods" not in other


def test_hints_of_one_step_do_not_reveal_another_steps(shopper):
    shopper.post(f"{ORDER_WEB}/hint/")
    page = shopper.get("/learn/lessons/front-door/").content.decode()
    assert "Download your kubeconfig" not in page


def test_a_hint_for_a_step_that_does_not_exist_is_a_404_and_get_is_refused(shopper):
    assert shopper.post("/learn/lessons/front-door/nope/hint/").status_code == 404
    assert shopper.post("/learn/lessons/nope/order-web/hint/").status_code == 404
    assert shopper.get(f"{ORDER_WEB}/hint/").status_code == 405


def test_a_failed_check_reveals_the_next_hint_out_of_band(alice):
    fragment = check(alice)
    assert "Not yet." in fragment
    assert 'id="hints-order-web"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "The order page for Pods" in fragment and "Show hint 2 of 3</button>" in fragment


def test_a_passed_check_reveals_no_hint(alice):
    api(learner("alice"), "POST", PODS, pod("web"))
    fragment = check(alice)
    assert "Yes!" in fragment and "The order page for Pods" not in fragment


def test_near_miss_created_in_default_not_in_your_namespace(alice):
    refused = api(learner("alice"), "POST", "/api/v1/namespaces/default/pods", pod("web"))
    assert refused.status == 403
    fragment = check(alice)
    assert "Not yet." in fragment
    assert "went to the namespace <code>default</code> (answered 403)" in fragment
    assert "not to <code>alice</code>" in fragment


def test_near_miss_wrong_name(alice):
    api(learner("alice"), "POST", PODS, pod("Web-1".lower()))
    api(learner("alice"), "POST", PODS, pod("webb"))
    fragment = check(alice)
    assert "You have pods named <code>web-1</code>, <code>webb</code>" in fragment
    assert "names must match exactly" in fragment


def test_near_miss_wrong_kind(alice):
    made = api(
        learner("alice"), "POST", "/apis/apps/v1/namespaces/alice/deployments", deployment("web", 1)
    )
    assert made.status == 201
    fragment = check(alice)
    assert "There is a Deployment named <code>web</code>" in fragment
    assert "one of the kind pods" in fragment


def test_no_near_miss_when_nothing_is_close(alice):
    fragment = check(alice)
    assert "The API server has no pods/web in alice yet." in fragment
    assert "Close:" not in fragment and "You have" not in fragment


def test_near_miss_for_a_deployment_with_the_wrong_count(alice):
    api(
        learner("alice"),
        "POST",
        "/apis/apps/v1/namespaces/alice/deployments",
        deployment("shop", 2),
    )
    fragment = check(alice, "anatomy-of-a-create", "deployment-three")
    assert "(shop asks for 2)" in fragment
    assert "kubectl scale deployment NAME --replicas=3" in fragment


def test_near_miss_for_kubectl_steps_from_another_client(alice):
    api(learner("alice"), "GET", "/api/v1/namespaces/alice/services", client="browser")
    fragment = check(alice, "front-door", "list-services")
    assert "Close: your GET /api/v1/namespaces/alice/services → 200" in fragment
    assert "except its client, which is browser, not kubectl" in fragment
