"""The store front and product pages are rendered once per catalog state and shared.

What makes sharing safe is that nothing on them is personal: no learner name, no CSRF
token. What makes it cheap is a 304 for a browser that has the page and gzip for one that
accepts it.
"""

import gzip

import pytest

from catalog import pagecache
from tests.shop.conftest import signed_in

PAGES = ["/", "/catalog/apps/v1/deployments/", "/catalog/core/v1/pods/"]


@pytest.mark.parametrize("url", PAGES)
def test_a_second_visit_with_the_etag_gets_a_304(shopper, url):
    first = shopper.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-cache"

    again = shopper.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_a_stale_etag_gets_the_whole_page(shopper):
    response = shopper.get("/", HTTP_IF_NONE_MATCH='"not-this-one"')

    assert response.status_code == 200
    assert b"The store front" in response.content


@pytest.mark.parametrize("url", PAGES)
def test_the_page_is_gzipped_when_the_browser_accepts_it(shopper, url):
    plain = shopper.get(url)
    zipped = shopper.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 3
    assert int(zipped["Content-Length"]) == len(zipped.content)
    assert "Accept-Encoding" in zipped["Vary"]
    assert zipped["ETag"] != plain["ETag"]
    # Either encoding's ETag shows the browser has the page.
    assert shopper.get(url, HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code == 304


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("x-gzip", True),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_with_its_quality_values(header, wanted):
    assert pagecache.accepts_gzip(header) is wanted


def test_signed_in_learners_see_the_same_page_with_neither_name_on_it(shopper):
    alice = signed_in("alice", "Alice Liddell")
    bob = signed_in("bob", "Bob Bobbington")

    for url in PAGES:
        seen = [browser.get(url) for browser in (alice, bob, shopper)]
        assert {page.content for page in seen} == {seen[0].content}
        for page in seen:
            text = page.content.decode()
            assert "Alice Liddell" not in text and "Bob Bobbington" not in text
            assert "csrfmiddlewaretoken" not in text and "x-csrftoken" not in text
            assert "csrftoken" not in page.cookies


def test_pages_that_post_still_carry_the_csrf_token(shopper):
    page = shopper.get("/learner/").content.decode()

    assert "x-csrftoken" in page


def test_searches_and_htmx_requests_are_rendered_afresh(shopper):
    search = shopper.get("/?q=deploy")
    fragment = shopper.get("/", HTTP_HX_REQUEST="true")

    assert search.status_code == fragment.status_code == 200
    assert "ETag" not in search and "ETag" not in fragment
    assert b"<html" not in fragment.content
    assert pagecache.current_page("/?q=deploy") is None


def test_a_missing_product_is_not_cached(shopper):
    assert shopper.get("/catalog/apps/v1/lawnmowers/").status_code == 404
    assert pagecache._pages.get("/catalog/apps/v1/lawnmowers/") is None
