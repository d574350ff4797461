"""The shared store front and product pages change as soon as a CRD changes the catalog."""

from catalog.models import ResourceKind
from tests.crds.conftest import CRDS, WIDGET_CRD, widget_crd

WIDGET_PAGE = "/catalog/shop.example.com/v1/widgets/"


def test_a_new_seller_shows_on_the_cached_store_front_at_once(carol, call, shopper):
    before = shopper.get("/")
    assert WIDGET_PAGE.encode() not in before.content

    assert call("POST", CRDS, carol, widget_crd()).status == 201

    after = shopper.get("/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert WIDGET_PAGE.encode() in after.content
    assert after["ETag"] != before["ETag"]
    assert shopper.get(WIDGET_PAGE).status_code == 200


def test_a_seller_leaving_takes_its_page_and_shelf_with_it(carol, call, shopper):
    assert call("POST", CRDS, carol, widget_crd()).status == 201
    assert shopper.get(WIDGET_PAGE).status_code == 200
    assert WIDGET_PAGE.encode() in shopper.get("/").content

    assert call("DELETE", WIDGET_CRD, carol).status == 200

    assert not ResourceKind.objects.filter(plural="widgets").exists()
    assert shopper.get(WIDGET_PAGE).status_code == 404
    assert WIDGET_PAGE.encode() not in shopper.get("/").content
