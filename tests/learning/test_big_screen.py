"""The instructor's big-screen view: the join code, the join link and its QR code, for the
projector, and for nobody but the workshop's instructor."""

import re

import pytest
import segno

from learning.models import Workshop

pytestmark = pytest.mark.usefixtures("quizzes")

QR_PATH = re.compile(r'<path class="qr__modules" stroke="currentColor" d="([^"]+)"')


def new_workshop(carol, **fields) -> Workshop:
    response = carol.post("/learn/workshops/", {"title": "Cluster basics", **fields})
    assert response.status_code == 302
    return Workshop.objects.get(title="Cluster basics")


def segno_modules(url: str) -> str:
    """The module path segno draws for `url` with a four-module quiet zone."""
    svg = segno.make(url, micro=False).svg_inline(scale=1, border=4)
    return re.search(r' d="([^"]+)"', svg).group(1)


def test_the_big_screen_shows_the_code_the_link_and_a_qr_code_of_the_link(carol):
    workshop = new_workshop(carol)
    response = carol.get(f"/learn/workshops/{workshop.code}/big-screen/")
    assert response.status_code == 200
    page = response.content.decode()
    link = f"http://testserver/join/?code={workshop.code}"
    assert f'<span class="big-screen__code" id="join-code">{workshop.code}</span>' in page
    assert "http://testserver/join/</strong>" in page and link in page
    assert QR_PATH.search(page).group(1) == segno_modules(link)
    assert QR_PATH.search(page).group(1) != segno_modules("http://testserver/join/")
    svg = re.search(r"<svg [^>]*>", page).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="join-qr-title"' in svg
    assert f'<title id="join-qr-title">QR code that opens {link}</title>' in page
    assert "Joining is closed" not in page


def test_when_learners_must_type_the_code_the_qr_code_leaves_it_out(carol):
    workshop = new_workshop(carol, code_required="on")
    page = carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    assert QR_PATH.search(page).group(1) == segno_modules("http://testserver/join/")
    assert f"?code={workshop.code}" not in page
    assert "you type the code yourself" in page and workshop.code in page


def test_a_closed_workshop_says_so_on_the_big_screen(carol):
    workshop = new_workshop(carol)
    carol.post(f"/learn/workshops/{workshop.code}/toggle/")
    page = carol.get(f"/learn/workshops/{workshop.code}/big-screen/").content.decode()
    assert "Joining is closed" in page


def test_the_dashboard_links_to_its_big_screen(carol):
    workshop = new_workshop(carol)
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert f'href="/learn/workshops/{workshop.code}/big-screen/"' in page


def test_only_the_workshops_instructor_or_a_superuser_may_open_the_big_screen(
    carol, dave, alice, shopper, store_manager
):
    workshop = new_workshop(carol)
    url = f"/learn/workshops/{workshop.code}/big-screen/"
    for stranger in (alice, shopper):
        refused = stranger.get(url)
        assert refused.status_code == 302 and refused["Location"].startswith("/admin/login/")
    refused = dave.get(url)
    assert refused.status_code == 403 and workshop.code not in refused.content.decode()
    assert store_manager.get(url).status_code == 200
    assert carol.get("/learn/workshops/NOPE42/big-screen/").status_code == 404
    assert carol.post(url).status_code == 405
