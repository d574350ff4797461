"""What every page carries besides its content: the copy script, the jump to the analogy on a
phone, and colours that follow the system's light or dark setting."""

import re

from django.contrib.staticfiles import finders

SCRIPT = re.compile(r'<script src="/static/js/copy\.js" defer></script>')


def test_copy_js_exists_and_announces_copies_politely():
    found = finders.find("js/copy.js")
    assert found is not None
    with open(found, encoding="utf-8") as source:
        script = source.read()
    assert 'setAttribute("aria-live", "polite")' in script
    assert '"Copied"' in script
    assert "htmx:load" in script  # regions swapped in later get their buttons too


def test_every_page_includes_copy_js_deferred_and_shows_no_button_without_it(
    shopper, alice, catalog
):
    for client, path in (
        (shopper, "/"),
        (shopper, "/catalog/apps/v1/deployments/"),
        (shopper, "/learn/lessons/front-door/"),
        (alice, "/learner/"),
        (alice, "/orders/"),
    ):
        page = client.get(path).content.decode()
        assert len(SCRIPT.findall(page)) == 1, path
        assert "copy-button" not in page, path  # buttons are made by the script alone


def test_the_analogy_panel_is_a_jump_target_named_in_the_main_navigation(shopper, catalog):
    page = shopper.get("/").content.decode()
    nav = re.search(r'<nav class="site-nav" aria-label="Main">.*?</nav>', page, re.S).group(0)
    assert '<a href="#analogy">The analogy</a>' in nav
    assert re.search(r'<aside class="side" id="analogy" tabindex="-1"', page)
    assert page.index('href="#analogy"') < page.index('id="main"') < page.index('id="analogy"')


def test_each_stylesheet_redefines_its_colours_for_dark_mode():
    for name in ("css/site.css", "shop/shop.css", "learning/learning.css"):
        with open(finders.find(name), encoding="utf-8") as source:
            css = source.read()
        dark = re.search(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{(.*?)\}", css, re.S)
        assert dark is not None, name
        redefined = set(re.findall(r"(--[\w-]+):", dark.group(1)))
        assert redefined, name
        light = css[: dark.start()]
        assert redefined <= set(re.findall(r"(--[\w-]+):", light)), name
