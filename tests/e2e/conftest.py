"""A real Chromium, driven by Playwright, for tests against pytest-django's live server.

Uses Debian's Chromium rather than a browser downloaded by `playwright install`.
"""

import os
import shutil

import pytest

from tests.conftest import ensure_seeded
from tests.e2e.livecluster import live_cluster  # noqa: F401  (kubectl and API client tests)

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module.

    Playwright's sync API keeps an event loop running in this thread while it is open,
    so it is closed after each module: later tests may call asyncio.run() themselves.
    While it runs, Django's ORM would refuse to work in this thread, although nothing
    here is async, hence DJANGO_ALLOW_ASYNC_UNSAFE for just that time.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (run `make system-deps`)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def live_catalog(transactional_db):
    """A seeded catalog whose rows are committed, so the live server's thread sees them."""
    ensure_seeded()
