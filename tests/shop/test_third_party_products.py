"""Third-party products: carol registers a seller's kind, alice reads its page, orders and tracks.

carol is an instructor on the cluster (only instructors may create a CRD); alice shops in
her own browser. Kinds without a hand-written example, custom or built in, start from the
catalog's example, moved to the learner's namespace.
"""

import html
import re

import pytest
import yaml

from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, handle
from catalog.models import ResourceKind
from shop.manifests import PLACEHOLDER_NOTE, example_manifest
from tests.crds.conftest import CRDS, widget_crd
from tests.shop.conftest import learner
from tests.shop.helpers import api_get

HTMX = {"HX-Request": "true"}
PRODUCT = "/catalog/shop.example.com/v1/widgets/"
ORDER = "/order/shop.example.com/v1/widgets/"
WIDGET = "/apis/shop.example.com/v1/namespaces/alice/widgets/my-widget"


@pytest.fixture
def carol(db) -> ClusterUser:
    """An instructor identity on the cluster, who may register third-party sellers."""
    return ClusterUser.objects.create(name="carol", role=ClusterUser.Role.INSTRUCTOR)


def register(who: ClusterUser, crd: dict) -> int:
    body = yaml.safe_dump(crd).encode()
    response = handle(
        ApiRequest(
            "POST",
            CRDS,
            headers={"content-type": "application/yaml", "accept": "application/json"},
            body=body,
            user=who,
            client="kubectl",
        )
    )
    return response.status


@pytest.fixture
def widgets(carol) -> ResourceKind:
    """The widget seller, registered by carol through the API server."""
    assert register(carol, widget_crd()) == 201
    return ResourceKind.objects.get(plural="widgets", is_custom=True)


def form_text(response) -> str:
    """The order form's textarea, as the browser would submit it untouched."""
    page = response.content.decode()
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert response.status_code == 200 and found, page[:2000]
    return html.unescape(found.group(1)).lstrip("\n")


# The product page ---------------------------------------------------------------------


def test_a_custom_products_page_names_its_crd_columns_and_the_missing_controller(shopper, widgets):
    page = shopper.get(PRODUCT).content.decode()
    assert '<code id="crd-name">widgets.shop.example.com</code>' in page
    assert "kubectl get crd widgets.shop.example.com -o yaml" in page
    columns = page[page.index('id="printer-columns"') :]
    columns = columns[: columns.index("</table>")]
    for name, kind, path in [
        ("Size", "integer", ".spec.size"),
        ("Color", "string", ".spec.color"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ]:
        assert f"{name}</th>" in columns
        assert f"<code>{kind}</code>" in columns and f"<code>{path}</code>" in columns
    note = page[page.index('id="no-controller"') :]
    assert "Nothing is built, started or delivered unless the" in note
    assert "also runs a controller that watches widgets" in note


def test_a_custom_product_without_columns_says_so(shopper, carol):
    crd = widget_crd()
    del crd["spec"]["versions"][0]["additionalPrinterColumns"]
    assert register(carol, crd) == 201
    page = shopper.get(PRODUCT).content.decode()
    assert 'id="printer-columns"' not in page
    assert "The seller added no columns of their own" in page
    assert 'id="no-controller"' in page


def test_built_in_products_say_nothing_about_sellers(shopper):
    page = shopper.get("/catalog/core/v1/pods/").content.decode()
    assert 'id="crd-name"' not in page and 'id="no-controller"' not in page


# Ordering and tracking ----------------------------------------------------------------


def test_alice_orders_a_widget_through_the_form_and_tracks_it(alice, widgets):
    text = form_text(alice.get(ORDER))
    manifest = yaml.safe_load(text)
    assert manifest == {
        "apiVersion": "shop.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "my-widget", "namespace": "alice"},
        "spec": {"size": 1},
    }

    response = alice.post(ORDER, {"manifest": text})
    assert response.status_code == 302
    receipt = "/orders/alice/shop.example.com/v1/widgets/my-widget/"
    assert response["Location"] == receipt
    assert "201" in alice.get(receipt).content.decode()
    status, body = api_get(learner("alice"), WIDGET)
    assert status == 200 and body["spec"]["size"] == 1

    tracking = alice.get(f"{receipt}track/")
    assert tracking.status_code == 200 and "<html" in tracking.content.decode()
    assert "my-widget" in tracking.content.decode()
    poll = alice.get(f"{receipt}track/", headers=HTMX)
    assert poll.status_code == 286  # stored and nothing more will happen: polling stops
    assert "<html" not in poll.content.decode()


def test_with_htmx_the_widget_order_answers_with_the_checkout_receipt(alice, widgets):
    text = form_text(alice.get(ORDER)).replace("my-widget", "big-one")
    response = alice.post(ORDER, {"manifest": text}, headers=HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert "Checkout receipt" in fragment and "201" in fragment
    assert response["HX-Push-Url"] == "/orders/alice/shop.example.com/v1/widgets/big-one/"
    assert "/orders/alice/shop.example.com/v1/widgets/big-one/track/" in fragment


def test_the_widget_form_lands_in_each_learners_own_namespace(bob, widgets):
    manifest = yaml.safe_load(form_text(bob.get(ORDER)))
    assert manifest["metadata"]["namespace"] == "bob"


def test_built_in_kinds_without_our_own_example_start_from_the_spec_sheet(alice):
    statefulset = yaml.safe_load(form_text(alice.get("/order/apps/v1/statefulsets/")))
    assert statefulset["metadata"]["namespace"] == "alice"
    assert {"selector", "template"} <= set(statefulset["spec"])
    cronjob = yaml.safe_load(form_text(alice.get("/order/batch/v1/cronjobs/")))
    assert cronjob["metadata"] == {"name": "nightly-stocktake", "namespace": "alice"}
    assert cronjob["spec"]["schedule"] == "0 2 * * *"


def test_placeholders_come_with_a_note_and_cluster_wide_kinds_have_no_namespace(alice):
    namespace = ResourceKind.objects.get(api_version__group__name="", plural="namespaces")
    assert "namespace:" not in example_manifest(namespace, "alice")
    statefulset = ResourceKind.objects.get(api_version__group__name="apps", plural="statefulsets")
    text = example_manifest(statefulset, "alice")
    assert text.startswith(PLACEHOLDER_NOTE) and "selector: <LabelSelector>" in text
    role = ResourceKind.objects.get(
        api_version__group__name="rbac.authorization.k8s.io", plural="roles"
    )
    text = example_manifest(role, "alice")
    assert "<" not in text and not text.startswith("#")
    assert yaml.safe_load(text)["metadata"] == {"name": "my-role", "namespace": "alice"}


def test_our_hand_written_examples_stay_for_the_common_kinds(alice):
    deployment = yaml.safe_load(form_text(alice.get("/order/apps/v1/deployments/")))
    assert deployment["metadata"] == {"name": "web", "namespace": "alice"}
    assert deployment["spec"]["replicas"] == 2
