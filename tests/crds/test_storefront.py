"""The third-party product in the store front, and ordered through the shop's own page."""

import pytest
from django.test import Client

from apiserver.models import ClusterUser
from apiserver.registry import kinds, store


@pytest.fixture
def dora(settings, tmp_path_factory) -> Client:
    """A learner signed in through the shop's page (her namespace is `dora`)."""
    settings.STATE_DIR = tmp_path_factory.getbasetemp() / "crd-shop-state"
    settings.WAREHOUSE_API_HOSTS = []
    settings.WAREHOUSE_API_URL = "https://127.0.0.1:6443"
    browser = Client()
    response = browser.post("/learner/", {"name": "dora", "display_name": "Dora"})
    assert response.status_code == 302
    return browser


def test_store_front_shows_the_sellers_department(registered, client):
    page = client.get("/").content.decode()

    assert "Third-party seller: shop.example.com" in page
    assert "third-party seller" in page
    assert "Widget" in page


def test_learner_orders_a_widget_from_the_shop_page(registered, dora):
    url = "/order/shop.example.com/v1/widgets/"
    assert "kind: Widget" in dora.get(url).context["form"].initial["manifest"]
    manifest = "apiVersion: shop.example.com/v1\nkind: Widget\nmetadata:\n  name: first\n"

    refused = dora.post(url, {"manifest": manifest + "spec:\n  size: 0\n"})
    ordered = dora.post(url, {"manifest": manifest + "spec:\n  size: 2\n"})

    assert "spec.size in body should be greater than or equal to 1" in refused.content.decode()
    assert ordered.status_code == 302, ordered.content.decode()[:2000]
    kind = kinds.lookup("shop.example.com", "v1", "widgets")
    (made,), _ = store.list_objects(kind, ClusterUser.objects.get(name="dora").namespace)
    assert made["spec"] == {"size": 2, "color": "red"}  # the seller's schema default
