"""A shopper who follows a broken link finds a friendly empty shelf, never an error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "url",
    [
        "/catalog/apps/v1/lawnmowers/",
        "/catalog/apps/v9/deployments/",
        "/catalog/gardening.example.com/v1/lawnmowers/",
        "/catalog/core/v1/deployments/",
        "/catalog/apps/v1/Deployments/",
        "/catalog/apps%00/v1/deployments/",
        "/catalog/apps/v1/deploy%00ments/",
    ],
)
def test_an_unknown_product_gets_the_friendly_404_page(shopper, catalog, url):
    response = shopper.get(url)

    assert response.status_code == 404
    page = response.content.decode()
    assert "<html" in page
    assert "Nothing is on that shelf" in page
    assert 'href="/"' in page
    assert 'role="search"' in page
    assert "The analogy" in page


@pytest.mark.parametrize(
    "url", ["/catalog/", "/catalog/apps/", "/catalog/apps/v1/", "/catalog/core/v1", "/nowhere/"]
)
def test_partial_catalog_addresses_get_the_404_page_too(shopper, catalog, url):
    response = shopper.get(url, follow=True)

    assert response.status_code == 404
    assert "Nothing is on that shelf" in response.content.decode()


def test_the_404_page_offers_to_search_for_the_missing_name(shopper, catalog):
    page = shopper.get("/catalog/apps/v1/lawnmowers/").content.decode()

    assert 'name="q" type="search" value="lawnmowers"' in page


def test_the_right_product_in_the_wrong_version_is_suggested(shopper, catalog):
    page = shopper.get("/catalog/autoscaling/v3/horizontalpodautoscalers/").content.decode()

    assert "Did you mean" in page
    assert 'href="/catalog/autoscaling/v2/horizontalpodautoscalers/"' in page
    assert 'href="/catalog/autoscaling/v1/horizontalpodautoscalers/"' in page


def test_a_department_address_points_to_its_shelf_on_the_store_front(shopper, catalog):
    page = shopper.get("/catalog/apps/").content.decode()

    assert 'href="/#dept-apps"' in page


@settings(
    max_examples=40,
    deadline=None,  # speed is measured in bench/, never here
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    group=st.text(min_size=1, max_size=60),
    version=st.text(min_size=1, max_size=10),
    plural=st.text(min_size=1, max_size=60),
)
def test_no_product_address_ever_breaks_the_shop(shopper, catalog, group, version, plural):
    from urllib.parse import quote

    url = "/catalog/" + "/".join(quote(part, safe="") for part in (group, version, plural)) + "/"

    response = shopper.get(url)

    assert response.status_code in (200, 404)
