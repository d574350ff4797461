"""Signing in without an account: pick a name, keep it, and nobody else can take it over."""

from django.test import Client

from apiserver.models import AuditRecord, ClusterUser
from apiserver.registry import kinds, store
from tests.shop.conftest import learner, signed_in


def test_picking_a_name_creates_learner_with_own_namespace():
    browser = Client()

    response = browser.post("/learner/", {"name": "alice", "display_name": "Alice A."})

    assert response.status_code == 302
    assert response["Location"] == "/learner/"
    alice = learner("alice")
    assert (alice.role, alice.namespace, alice.display_name) == ("learner", "alice", "Alice A.")
    namespace = store.get(kinds.lookup("", "v1", "namespaces"), "", "alice")
    assert namespace["metadata"]["name"] == "alice"


def test_the_namespace_is_made_through_the_front_door_once(db):
    browser = Client()
    browser.post("/learner/", {"name": "alice"})
    browser.post("/learner/", {"name": "alice"})  # the same browser comes back

    made = AuditRecord.objects.filter(path="/api/v1/namespaces", method="POST")
    assert [(r.user, r.client, r.status_code) for r in made.order_by("id")] == [
        ("system:warehouse-accounts", "accounts", 201),
        ("system:warehouse-accounts", "accounts", 409),
    ]


def test_a_shut_front_door_does_not_stop_a_returning_learner(db):
    from learning import faults

    browser = Client()
    browser.post("/learner/", {"name": "alice"})
    browser.post("/learner/sign-out/")
    faults.start_scenario("outage", 60, "carol")
    try:
        response = browser.post("/learner/", {"name": "alice"})
    finally:
        faults.stop_scenario()

    assert response.status_code == 302
    assert learner("alice").namespace == "alice"


def test_a_new_name_waits_for_the_front_door(db):
    """Only the API server can say a Namespace is free, so no new name is handed out
    unchecked during an outage (it could be someone else's namespace)."""
    from learning import faults

    faults.start_scenario("outage", 60, "carol")
    try:
        response = Client().post("/learner/", {"name": "alice"})
    finally:
        faults.stop_scenario()

    assert response.status_code == 200
    assert "front door is not answering" in response.content.decode()
    assert not ClusterUser.objects.filter(name="alice").exists()
    assert not store.namespace_exists("alice")


def test_signed_in_page_shows_who_and_where(alice):
    page = alice.get("/learner/").content.decode()

    assert "Signed in as <strong>Alice</strong>" in page
    assert "namespace <code>alice</code>" in page
    assert "/learner/kubeconfig/" in page
    assert "export KUBECONFIG=" in page


def test_invalid_name_gets_a_friendly_message_and_no_user():
    browser = Client()

    response = browser.post("/learner/", {"name": "Alice_Smith!"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Use only lowercase letters, digits and" in page
    assert 'aria-invalid="true"' in page
    assert 'value="Alice_Smith!"' in page
    assert not ClusterUser.objects.filter(name__iexact="alice_smith!").exists()


def test_too_long_and_reserved_names_are_refused():
    browser = Client()

    too_long = browser.post("/learner/", {"name": "a" * 64}).content.decode()
    reserved = browser.post("/learner/", {"name": "kube-system"}).content.decode()

    assert "63 characters or fewer" in too_long
    assert "belongs to the cluster itself" in reserved
    assert ClusterUser.objects.count() == 0


def test_name_taken_by_another_browser_cannot_be_hijacked(alice):
    token = learner("alice").token
    mallory = Client()

    response = mallory.post("/learner/", {"name": "alice"})

    assert response.status_code == 200
    assert "That name is taken by someone else" in response.content.decode()
    assert mallory.get("/orders/")["Location"].startswith("/learner/?next=")
    assert "shop_learner_id" not in mallory.session
    assert learner("alice").token == token


def test_same_browser_resumes_its_name_after_signing_out(alice):
    alice_id = learner("alice").pk

    alice.post("/learner/sign-out/")
    assert alice.get("/orders/").status_code == 302
    response = alice.post("/learner/", {"name": "alice"})

    assert response.status_code == 302
    assert alice.session["shop_learner_id"] == alice_id
    assert ClusterUser.objects.filter(name="alice").count() == 1
    assert alice.get("/orders/").status_code == 200


def test_pages_that_need_a_learner_send_visitors_to_sign_in_and_back():
    visitor = Client()

    response = visitor.get("/order/core/v1/pods/")
    assert response.status_code == 302
    assert response["Location"] == "/learner/?next=%2Forder%2Fcore%2Fv1%2Fpods%2F"

    response = visitor.post(
        "/learner/", {"name": "carol", "next": "/order/core/v1/pods/"}, follow=False
    )
    assert response["Location"] == "/order/core/v1/pods/"


def test_next_pointing_off_site_is_ignored():
    response = Client().post("/learner/", {"name": "carol", "next": "https://evil.example/"})

    assert response["Location"] == "/learner/"


def test_htmx_visitor_without_learner_is_redirected_by_htmx():
    response = Client().get("/orders/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/learner/?next=")


def test_display_name_is_escaped():
    browser = signed_in("dora", "<script>alert(1)</script>")

    page = browser.get("/learner/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_signing_out_is_a_post(alice):
    assert alice.get("/learner/sign-out/").status_code == 405
    assert alice.post("/learner/sign-out/")["Location"] == "/learner/"
    assert "shop_learner_id" not in alice.session
