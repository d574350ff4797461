"""The analogy map: drawn on the store front and in lesson 1 from `catalog.analogy.PAIRINGS`."""

import re

import pytest
from django.utils.html import escape

from catalog.analogy import PAIRINGS
from learning import lessons


def _pairs(page: str) -> list[str]:
    return re.findall(r'<li class="analogy-map__pair">(.*?)</li>', page, flags=re.DOTALL)


@pytest.mark.parametrize("url", ["/", "/learn/lessons/front-door/"])
def test_every_pairing_is_drawn_with_where_it_breaks(shopper, catalog, url):
    page = shopper.get(url).content.decode()

    pairs = _pairs(page)
    assert len(pairs) == len(PAIRINGS)
    for drawn, pairing in zip(pairs, PAIRINGS, strict=True):
        assert escape(pairing.shop) in drawn and escape(pairing.kube) in drawn
        assert f"<strong>Where it breaks:</strong> {escape(pairing.breaks)}" in drawn
        assert "stands for" in drawn  # the line between the two ends, read aloud
    assert 'href="/static/css/figures.css"' in page or "figures." in page


def test_the_map_covers_the_whole_analogy():
    kube_words = " ".join(p.kube for p in PAIRINGS)
    for idea in ("objects", "API groups", "API server", "kubectl", "CustomResourceDefinition"):
        assert idea in kube_words
    assert all(p.breaks.endswith(".") and len(p.breaks) < 200 for p in PAIRINGS)


def test_only_the_lessons_that_ask_for_it_draw_the_map(shopper, catalog):
    drawn = [lesson for lesson in lessons.all_lessons() if lesson.figure == "analogy-map"]
    plain = next(lesson for lesson in lessons.all_lessons() if not lesson.figure)

    assert drawn[0].number == 1
    assert _pairs(shopper.get(f"/learn/lessons/{plain.slug}/").content.decode()) == []
