"""Lessons: alice reads them, does the "try it" tasks for real, and the app checks as her."""

from apiserver.models import AuditRecord
from learning import checks, lessons
from learning.models import StepProgress
from learning.workshops import instructor_identity
from tests.crds.conftest import CRDS, widget_crd
from tests.learning.conftest import api, deployment, learner, pod

PODS = "/api/v1/namespaces/alice/pods"


def check(client, lesson: str, step: str, htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/learn/lessons/{lesson}/{step}/check/", **headers)


def test_the_path_lists_every_lesson_in_order(shopper):
    page = shopper.get("/learn/").content.decode()
    titles = [lesson.title for lesson in lessons.all_lessons()]
    assert len(titles) >= 7
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions)


def test_a_lesson_page_has_sections_panel_hints_and_a_check_button(shopper):
    response = shopper.get("/learn/lessons/front-door/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>The one front door</h1>" in page
    assert "This lesson, side by side" in page
    assert "Where the analogy breaks" in page
    assert "Show hint 1 of 3</button>" in page
    assert 'action="/learn/lessons/front-door/order-web/hint/"' in page
    assert "exactly `web`" not in page and "exactly <code>web</code>" not in page
    assert 'hx-post="/learn/lessons/front-door/order-web/check/"' in page
    assert 'action="/learn/lessons/front-door/order-web/check/"' in page
    assert 'aria-live="polite"' in page


def test_an_unknown_lesson_is_a_404(shopper):
    assert shopper.get("/learn/lessons/no-such-thing/").status_code == 404
    assert shopper.get("/learn/lessons/front-door/nope/check/").status_code == 405


def test_alice_fails_then_passes_the_order_web_step(alice):
    response = check(alice, "front-door", "order-web")
    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert "Not yet." in fragment and "no pods/web in alice" in fragment

    created = api(learner("alice"), "POST", PODS, pod("web"))
    assert created.status == 201
    fragment = check(alice, "front-door", "order-web").content.decode()
    assert "Yes!" in fragment and "Found pods/web in alice" in fragment
    assert "Passed" in fragment
    record = StepProgress.objects.get(learner__name="alice", step="order-web")
    assert record.passed and record.attempts == 2


def test_the_check_really_asks_the_api_server_as_alice(alice):
    check(alice, "front-door", "order-web")
    asked = AuditRecord.objects.filter(user="alice", path=f"{PODS}/web").latest("id")
    assert (asked.verb, asked.status_code) == ("get", 404)


def test_a_pass_is_kept_even_if_the_object_goes_away(alice):
    api(learner("alice"), "POST", PODS, pod("web"))
    check(alice, "front-door", "order-web")
    api(learner("alice"), "DELETE", f"{PODS}/web")
    fragment = check(alice, "front-door", "order-web").content.decode()
    assert "Not yet." in fragment and "Passed" in fragment


def test_without_javascript_the_check_redirects_back_with_the_result(alice):
    response = check(alice, "front-door", "order-web", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == "/learn/lessons/front-door/#step-order-web"
    page = alice.get(response["Location"]).content.decode()
    assert "no pods/web in alice" in page
    again = alice.get("/learn/lessons/front-door/").content.decode()
    assert "no pods/web in alice" not in again


def test_a_visitor_without_a_learner_name_is_sent_to_sign_in(shopper):
    response = shopper.post("/learn/lessons/front-door/order-web/check/")
    assert response.status_code == 302
    assert response["Location"].startswith("/learner/?next=")
    htmx = shopper.post("/learn/lessons/front-door/order-web/check/", HTTP_HX_REQUEST="true")
    assert htmx.headers["HX-Redirect"].startswith("/learner/?next=")


def test_listing_services_counts_only_from_kubectl(alice):
    alice_user = learner("alice")
    api(alice_user, "GET", "/api/v1/namespaces/alice/services", client="browser")
    assert "Not yet." in check(alice, "front-door", "list-services").content.decode()
    api(alice_user, "GET", "/api/v1/namespaces/alice/services", client="kubectl")
    fragment = check(alice, "front-door", "list-services").content.decode()
    assert "Yes!" in fragment and "GET /api/v1/namespaces/alice/services" in fragment


def test_bobs_kubectl_requests_do_not_pass_alices_step(alice, bob):
    api(learner("bob"), "GET", "/api/v1/namespaces/bob/services")
    assert "Not yet." in check(alice, "front-door", "list-services").content.decode()


def test_a_refused_create_in_someone_elses_namespace_passes_the_forbidden_step(alice):
    assert "Not yet." in check(alice, "anatomy-of-a-create", "forbidden").content.decode()
    refused = api(learner("alice"), "POST", "/api/v1/namespaces/default/pods", pod("intruder"))
    assert refused.status == 403
    assert "Yes!" in check(alice, "anatomy-of-a-create", "forbidden").content.decode()


def test_a_pod_without_containers_passes_the_admission_step(alice):
    empty = pod("empty")
    empty["spec"]["containers"] = []
    assert api(learner("alice"), "POST", PODS, empty).status == 422
    assert "Yes!" in check(alice, "anatomy-of-a-create", "invalid").content.decode()


def test_only_a_deployment_with_three_replicas_passes(alice):
    deployments = "/apis/apps/v1/namespaces/alice/deployments"
    assert api(learner("alice"), "POST", deployments, deployment("two", 2)).status == 201
    fragment = check(alice, "anatomy-of-a-create", "deployment-three").content.decode()
    assert "None of your Deployments asks for exactly 3 replicas" in fragment
    assert api(learner("alice"), "POST", deployments, deployment("shop", 3)).status == 201
    fragment = check(alice, "anatomy-of-a-create", "deployment-three").content.decode()
    assert "Deployment shop asks for 3 replicas" in fragment


def test_a_bad_image_fails_delivery_and_passes_the_step(alice, control_plane):
    assert api(learner("alice"), "POST", PODS, pod("parcel", "nosuch/parcel:never")).status == 201
    control_plane.step(times=3)
    fragment = check(alice, "the-analogy", "bad-image").content.decode()
    assert "Yes!" in fragment
    assert "ErrImagePull" in fragment or "ImagePullBackOff" in fragment


def test_a_good_image_does_not_pass_the_bad_image_step_but_passes_running(alice, control_plane):
    api(learner("alice"), "POST", PODS, pod("web"))
    assert "Not yet." in check(alice, "always-open", "delivered").content.decode()
    control_plane.step(times=4)
    assert "Not yet." in check(alice, "the-analogy", "bad-image").content.decode()
    assert "Pod web is Running" in check(alice, "always-open", "delivered").content.decode()


def test_a_burst_needs_twenty_kubectl_requests(alice):
    for _ in range(19):
        api(learner("alice"), "GET", PODS)
    assert "Found 19 of the 20" in check(alice, "overload", "burst").content.decode()
    api(learner("alice"), "GET", PODS)
    assert "Yes!" in check(alice, "overload", "burst").content.decode()


def test_a_step_whose_check_is_not_registered_says_it_is_coming(alice, monkeypatch):
    monkeypatch.delitem(checks.CHECKS, "scenario-outage")
    page = alice.get("/learn/lessons/always-open/").content.decode()
    assert "Coming soon" in page
    assert "/learn/lessons/always-open/outage/check/" not in page
    fragment = check(alice, "always-open", "outage").content.decode()
    assert "coming soon" in fragment
    assert not StepProgress.objects.filter(step="outage").exists()


def test_no_step_waits_for_crds_or_scenarios_any_more(alice):
    for slug, step in [
        ("third-party-sellers", "custom-kind-served"),
        ("always-open", "outage"),
        ("overload", "overload-scenario"),
    ]:
        page = alice.get(f"/learn/lessons/{slug}/").content.decode()
        assert f'action="/learn/lessons/{slug}/{step}/check/"' in page


def test_a_revoked_learner_cannot_be_checked(alice):
    alice_user = learner("alice")
    alice_user.is_active = False
    alice_user.save()
    assert check(alice, "front-door", "order-web").status_code == 200
    assert check(alice, "front-door", "order-web").headers["HX-Redirect"].startswith("/learner/")


def test_every_see_also_link_opens_a_page_of_the_shop(alice):
    links = [link for lesson in lessons.all_lessons() for link in lesson.links]
    assert links
    for link in links:
        assert alice.get(link.url).status_code == 200, link.url
    assert "See it in the shop" in alice.get("/learn/lessons/reading-the-catalog/").content.decode()


def test_only_local_links_are_kept():
    assert lessons._local("/orders/")
    for url in ("//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil"):
        assert not lessons._local(url)


def test_alice_passes_the_crd_step_once_carol_registers_a_kind_and_alice_lists_it(alice, carol):
    not_yet = check(alice, "third-party-sellers", "custom-kind-served").content.decode()
    assert "Not yet." in not_yet and "No third-party seller has registered yet." in not_yet

    seller = instructor_identity(carol.user)
    assert api(seller, "POST", CRDS, widget_crd()).status == 201
    served = check(alice, "third-party-sellers", "custom-kind-served").content.decode()
    assert "Not yet." in served and "Now list them: kubectl get widgets" in served

    listed = api(learner("alice"), "GET", "/apis/shop.example.com/v1/namespaces/alice/widgets")
    assert listed.status == 200
    passed = check(alice, "third-party-sellers", "custom-kind-served").content.decode()
    assert "Yes!" in passed and "You listed widgets, a kind a CRD added" in passed
    assert StepProgress.objects.get(learner__name="alice", step="custom-kind-served").passed


def test_learners_cannot_register_a_crd_themselves(alice):
    assert api(learner("alice"), "POST", CRDS, widget_crd()).status == 403
    fragment = check(alice, "third-party-sellers", "custom-kind-served").content.decode()
    assert "No third-party seller has registered yet." in fragment
