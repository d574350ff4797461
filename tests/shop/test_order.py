"""Alice orders through the website: the form, the checkout receipt, and refusals."""

import pytest
from django.test import Client

from apiserver.models import AuditRecord
from shop.views import SESSION_LAST_ORDER
from tests.shop.conftest import learner
from tests.shop.helpers import POD_FOR_BOB, POD_WITHOUT_CONTAINERS, api_get

POD_URL = "/order/core/v1/pods/"


def _form_manifest(client, url: str) -> str:
    return client.get(url).context["form"].initial["manifest"]


def test_order_form_is_prefilled_for_the_learners_namespace(alice):
    response = alice.get(POD_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Order a Pod" in page
    assert "namespace: alice" in page
    assert "image: nginx:1.27" in page
    assert 'method="post" action="/order/core/v1/pods/"' in page
    assert 'hx-post="/order/core/v1/pods/"' in page


def test_guided_pod_form_writes_the_manifest_with_a_broken_image(alice):
    page = alice.get(POD_URL, {"name": "doomed", "image": "nginx:does-not-exist"}).content.decode()

    assert "name: doomed" in page
    assert "image: nginx:does-not-exist" in page


def test_guided_pod_form_only_offers_known_images(alice):
    response = alice.get(POD_URL, {"name": "web", "image": "evil\nkind: Secret"})

    assert "kind: Secret" not in response.context["form"].initial["manifest"]
    assert "Select a valid choice" in response.content.decode()


def test_guided_pod_form_refreshes_just_the_order_area_with_htmx(alice):
    response = alice.get(
        POD_URL, {"name": "api", "image": "busybox:1.36"}, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert "<html" not in page
    assert "image: busybox:1.36" in page


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (POD_URL, "/api/v1/namespaces/alice/pods/web"),
        ("/order/apps/v1/deployments/", "/apis/apps/v1/namespaces/alice/deployments/web"),
        ("/order/core/v1/services/", "/api/v1/namespaces/alice/services/web"),
        ("/order/core/v1/configmaps/", "/api/v1/namespaces/alice/configmaps/shop-settings"),
        ("/order/batch/v1/jobs/", "/apis/batch/v1/namespaces/alice/jobs/hello"),
        ("/order/core/v1/secrets/", "/api/v1/namespaces/alice/secrets/shop-password"),
        ("/order/apps/v1/replicasets/", "/apis/apps/v1/namespaces/alice/replicasets/web-set"),
    ],
)
def test_every_example_order_is_accepted_by_the_api_server(alice, url, path):
    response = alice.post(url, {"manifest": _form_manifest(alice, url)})

    assert response.status_code == 302
    status, body = api_get(learner("alice"), path)
    assert status == 200
    assert body["metadata"]["namespace"] == "alice"
    group, version, plural = url.strip("/").split("/")[1:]
    name = body["metadata"]["name"]
    assert response["Location"] == f"/orders/alice/{group}/{version}/{plural}/{name}/"


def test_ordering_a_pod_stores_it_through_the_pipeline_and_audits_the_browser(alice):
    response = alice.post(POD_URL, {"manifest": _form_manifest(alice, POD_URL)})

    assert response["Location"] == "/orders/alice/core/v1/pods/web/"
    status, pod = api_get(learner("alice"), "/api/v1/namespaces/alice/pods/web")
    assert status == 200
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"
    # (The namespace's own ResourceQuota and LimitRange were POSTed by the accounts client.)
    record = AuditRecord.objects.filter(method="POST", namespace="alice", user="alice").get()
    assert (record.client, record.user, record.status_code) == ("browser", "alice", 201)


def test_receipt_after_redirect_shows_the_raw_exchange_and_kubectl(alice):
    response = alice.post(POD_URL, {"manifest": _form_manifest(alice, POD_URL)}, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "POST /api/v1/namespaces/alice/pods HTTP/1.1" in page
    assert "HTTP/1.1 201" in page
    assert "kubectl create -n alice -f - &lt;&lt;&#x27;EOF&#x27;" in page
    assert "Order placed" in page
    assert "GET /api/v1/namespaces/alice/pods/web HTTP/1.1" in page
    assert "kubectl get pods web -n alice -o yaml" in page
    assert "resourceVersion" in page
    uid = api_get(learner("alice"), "/api/v1/namespaces/alice/pods/web")[1]["metadata"]["uid"]
    assert uid in page


def test_the_last_exchange_kept_in_the_session_is_small(alice):
    alice.post(POD_URL, {"manifest": _form_manifest(alice, POD_URL)})

    ticket = alice.session[SESSION_LAST_ORDER]
    assert ticket["status"] == 201
    assert ticket["key"] == "alice/core/v1/pods/web"
    assert len(str(ticket)) < 60_000


def test_htmx_order_swaps_in_the_checkout_receipt(alice):
    response = alice.post(
        POD_URL, {"manifest": _form_manifest(alice, POD_URL)}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/orders/alice/core/v1/pods/web/"
    page = response.content.decode()
    assert "<html" not in page
    assert "Checkout receipt" in page
    assert "POST /api/v1/namespaces/alice/pods HTTP/1.1" in page


def test_invalid_order_shows_the_field_error_and_keeps_the_text(alice):
    response = alice.post(POD_URL, {"manifest": POD_WITHOUT_CONTAINERS})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-invalid="true"' in page
    assert 'role="alert"' in page
    assert "<code>spec.containers</code>" in page
    assert "422" in page
    assert "name: empty-box" in page
    assert api_get(learner("alice"), "/api/v1/namespaces/alice/pods/empty-box")[0] == 404


def test_malformed_yaml_gets_a_friendly_error_not_a_crash(alice):
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n"

    response = alice.post(POD_URL, {"manifest": text})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This is not valid YAML" in page
    assert "Line " in page
    assert "name: [oops" in page
    assert not AuditRecord.objects.filter(method="POST", user="alice").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "the text holds a list"),
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
        ("kind: Pod\n---\nkind: Pod\n", "more than one document"),
        ("x: .nan\n", "cannot be sent as JSON"),
        ("   \n", "The order form is empty"),
        ("a: " + "x" * 70_000, "longer than 64 KiB"),
        ("[" * 5000, "not valid YAML"),
    ],
)
def test_unsendable_text_is_explained(alice, text, message):
    response = alice.post(POD_URL, {"manifest": text})

    assert response.status_code == 200
    assert message in response.content.decode()


def test_ten_thousand_open_brackets_are_refused_with_a_clear_message(alice):
    """Well under the size limit, but the pure-Python loader would spend half a minute here."""
    response = alice.post(POD_URL, {"manifest": "[" * 10_000})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This is not valid YAML. Line 1, column 1001: exceeded maximum nesting depth." in page
    assert not AuditRecord.objects.filter(method="POST", user="alice").exists()


def test_an_order_addressed_to_someone_elses_namespace_is_refused(alice, bob):
    response = alice.post(POD_URL, {"manifest": POD_FOR_BOB})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Order refused" in page
    assert "is not yours" in page or "Refused at the till" in page
    assert response.context["ticket"]["status"] in (400, 403)
    assert "name: sneaky" in page
    assert api_get(learner("bob"), "/api/v1/namespaces/bob/pods/sneaky")[0] == 404


def test_ordering_the_same_name_twice_explains_the_clash(alice):
    manifest = _form_manifest(alice, POD_URL)
    alice.post(POD_URL, {"manifest": manifest})

    response = alice.post(POD_URL, {"manifest": manifest})

    assert response.status_code == 200
    assert response.context["ticket"]["status"] == 409
    assert "already have an order under this name" in response.content.decode()


def test_unknown_product_is_a_404(alice):
    assert alice.get("/order/core/v1/unicorns/").status_code == 404


def test_htmx_refusal_swaps_back_the_form_with_the_errors(alice):
    response = alice.post(
        POD_URL, {"manifest": POD_WITHOUT_CONTAINERS}, headers={"HX-Request": "true"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "HX-Push-Url" not in response
    assert 'id="manifest-errors"' in page
    assert "name: empty-box" in page


def test_cluster_wide_products_are_refused_to_learners(alice):
    form = alice.get("/order/core/v1/nodes/")
    assert "is cluster-wide" in form.content.decode()

    response = alice.post(
        "/order/core/v1/nodes/", {"manifest": _form_manifest(alice, "/order/core/v1/nodes/")}
    )

    assert response.status_code == 200
    assert response.context["ticket"]["status"] == 403
    assert "Refused at the till" in response.content.decode()


def test_order_form_needs_a_learner_even_for_a_post():
    response = Client().post(POD_URL, {"manifest": "kind: Pod"})

    assert response.status_code == 302
    assert response["Location"] == "/learner/?next=%2Forder%2Fcore%2Fv1%2Fpods%2F"
