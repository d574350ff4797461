"""Alice's order history: listing, tracking, cancelling; bob cannot touch her orders."""

import json

from apiserver.models import AuditRecord
from tests.shop.conftest import learner
from tests.shop.helpers import api_get

POD_URL = "/order/core/v1/pods/"
ALICE_POD = "/api/v1/namespaces/alice/pods/web"


def _order(client, url: str = POD_URL) -> None:
    manifest = client.get(url).context["form"].initial["manifest"]
    assert client.post(url, {"manifest": manifest}).status_code == 302


def test_empty_history_invites_a_first_order(alice):
    page = alice.get("/orders/").content.decode()

    assert "No orders yet" in page
    assert "kubectl get pods,deployments" in page


def test_history_lists_each_order_with_number_and_status(alice):
    _order(alice)
    _order(alice, "/order/core/v1/configmaps/")

    response = alice.get("/orders/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    rows = {row["name"]: row for row in response.context["rows"]}
    assert rows["web"]["kind"] == "Pod"
    assert rows["web"]["status"] == "Pending"
    assert rows["shop-settings"]["status"] == "Stored"
    pod = api_get(learner("alice"), ALICE_POD)[1]
    assert rows["web"]["resource_version"] == pod["metadata"]["resourceVersion"]
    assert 'href="/orders/alice/core/v1/pods/web/"' in page
    assert 'action="/orders/alice/core/v1/pods/web/delete/"' in page
    assert "GET /api/v1/namespaces/alice/pods" in page


def test_history_partial_refreshes_itself_without_the_layout(alice):
    _order(alice)

    response = alice.get("/orders/", headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "<html" not in page
    assert page.lstrip().startswith('<section id="orders"')
    assert 'hx-trigger="orders-changed from:body"' in page  # after a cancel; no polling
    assert ">web</a>" in page


def test_history_reads_through_the_pipeline_as_the_browser(alice):
    alice.get("/orders/")

    lists = AuditRecord.objects.filter(method="GET", namespace="alice", client="browser")
    assert lists.filter(path="/api/v1/namespaces/alice/pods").exists()


def test_secrets_are_listed_by_name_with_values_hidden(alice):
    _order(alice, "/order/core/v1/secrets/")

    listing = alice.get("/orders/").content.decode()
    receipt = alice.get("/orders/alice/core/v1/secrets/shop-password/").content.decode()

    assert "shop-password" in listing
    for page in (listing, receipt):
        assert "not-a-real-password" not in page
        assert "bm90LWEtcmVhbC1wYXNzd29yZA" not in page
    assert "(hidden)" in receipt


def test_cancelling_deletes_through_the_pipeline_and_shows_the_request(alice):
    _order(alice)

    response = alice.post("/orders/alice/core/v1/pods/web/delete/")

    assert response.status_code == 302
    assert response["Location"] == "/orders/"
    assert api_get(learner("alice"), ALICE_POD)[0] == 404
    page = alice.get("/orders/").content.decode()
    assert "Order cancelled" in page
    assert "DELETE /api/v1/namespaces/alice/pods/web HTTP/1.1" in page
    assert "kubectl delete pods web -n alice" in page
    assert "Order cancelled" not in alice.get("/orders/").content.decode()


def test_cancelling_with_htmx_returns_the_result_and_asks_the_list_to_refresh(alice):
    _order(alice)

    response = alice.post("/orders/alice/core/v1/pods/web/delete/", headers={"HX-Request": "true"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert page.lstrip().startswith('<div id="last-action">')
    assert "DELETE /api/v1/namespaces/alice/pods/web HTTP/1.1" in page
    assert json.loads(response["HX-Trigger"]) == {"orders-changed": {}}


def test_cancel_is_post_only(alice):
    _order(alice)

    assert alice.get("/orders/alice/core/v1/pods/web/delete/").status_code == 405
    assert api_get(learner("alice"), ALICE_POD)[0] == 200


def test_bob_addressing_alices_order_in_his_namespace_finds_nothing(alice, bob):
    _order(alice)

    bob.post("/orders/bob/core/v1/pods/web/delete/")

    page = bob.get("/orders/").content.decode()
    assert "Cancellation refused" in page
    assert "NotFound" in page
    assert api_get(learner("alice"), ALICE_POD)[0] == 200


def test_bob_crafting_a_cancel_for_alices_namespace_is_forbidden(alice, bob):
    _order(alice)

    response = bob.post("/orders/alice/core/v1/pods/web/delete/", follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Cancellation refused" in page
    assert "403" in page
    assert "Forbidden" in page
    assert api_get(learner("alice"), ALICE_POD)[0] == 200


def test_bob_cannot_read_alices_receipt(alice, bob):
    _order(alice)

    response = bob.get("/orders/alice/core/v1/pods/web/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "Order not shown" in page
    assert "nginx:1.27" not in page


def test_receipt_of_a_cancelled_order_says_it_is_gone(alice):
    _order(alice)
    alice.post("/orders/alice/core/v1/pods/web/delete/")

    response = alice.get("/orders/alice/core/v1/pods/web/")

    assert response.status_code == 404
    assert "NotFound" in response.content.decode()


def test_refresh_is_skipped_with_one_request_when_nothing_changed(alice):
    _order(alice)
    revision = alice.get("/orders/").context["revision"]
    before = AuditRecord.objects.count()

    unchanged = alice.get("/orders/", {"since": revision}, headers={"HX-Request": "true"})

    assert unchanged.status_code == 204
    assert AuditRecord.objects.count() == before + 1


def test_refresh_renders_again_after_a_change(alice):
    revision = alice.get("/orders/").context["revision"]
    _order(alice)

    changed = alice.get("/orders/", {"since": revision}, headers={"HX-Request": "true"})

    assert changed.status_code == 200
    assert ">web</a>" in changed.content.decode()
    assert changed.context["revision"] != revision


def test_refresh_is_skipped_when_only_another_learner_changed_something(alice, bob):
    _order(alice)
    revision = alice.get("/orders/").context["revision"]
    _order(bob)

    unchanged = alice.get("/orders/", {"since": revision}, headers={"HX-Request": "true"})

    assert unchanged.status_code == 204


def test_refresh_renders_when_this_learners_namespace_changes(alice, bob):
    revision = alice.get("/orders/").context["revision"]
    _order(bob)
    _order(alice, "/order/core/v1/configmaps/")

    changed = alice.get("/orders/", {"since": revision}, headers={"HX-Request": "true"})

    assert changed.status_code == 200
    assert "shop-settings" in changed.content.decode()
    assert "web" not in {row["name"] for row in changed.context["rows"]}


def test_an_unchanged_refresh_costs_a_handful_of_queries(alice, django_assert_max_num_queries):
    _order(alice)
    revision = alice.get("/orders/").context["revision"]

    # The session, the learner, the namespace's newest revision, the audit row (+ slack
    # for the kind index's periodic check): no lists, no catalog query, no rendering.
    with django_assert_max_num_queries(6):
        response = alice.get("/orders/", {"since": revision}, headers={"HX-Request": "true"})
    assert response.status_code == 204
