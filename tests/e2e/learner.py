"""What a learner's browser and terminal do in the browser tests: pick a name, count the
page's Server-Sent Events, and run real kubectl with the learner's kubeconfig."""

import json
import os
import subprocess
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_kubectl import KUBECTL

__all__ = ["COUNT_SSE", "KUBECTL", "kubectl", "live_shot", "raw", "sign_in"]

# An init script: how many streams the page opened and how many messages they brought.
COUNT_SSE = """
window.sseOpened = 0; window.sseMessages = 0;
document.addEventListener('htmx:sseOpen', () => { window.sseOpened += 1; });
document.addEventListener('htmx:sseMessage', () => { window.sseMessages += 1; });
"""


def live_shot(region: Locator, path: str) -> None:
    """A screenshot of a live region. Its stream may swap the element for a fresh copy at
    any moment (a Pod in back-off is redrawn at each retry), and an element screenshot fails
    when that happens mid-shot; so the page is shot, clipped to where the region is."""
    # One script finds, scrolls to and measures the element at once, so no swap can come
    # between (Playwright's own scroll and screenshot fail if the element is replaced); an
    # element caught as it was swapped out measures nothing, and is measured again.
    page = region.page
    for _ in range(50):
        clip = region.evaluate(
            """(element) => {
                element.scrollIntoView({block: "nearest"});
                const box = element.getBoundingClientRect();
                return {x: box.x + window.scrollX, y: box.y + window.scrollY,
                        width: box.width, height: box.height};
            }"""
        )
        if clip["width"] > 0 and clip["height"] > 0:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the region never showed on the page")
    page.screenshot(path=path, clip=clip, full_page=True)


def _run(kubeconfig: Path, home: Path, *args: str) -> str:
    """Run kubectl as the learner, with their kubeconfig; what it printed."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def kubectl(kubeconfig: Path, home: Path, *args: str) -> dict:
    """Run kubectl as the learner, with their kubeconfig; the object it prints as JSON."""
    return json.loads(_run(kubeconfig, home, *args, "-o", "json"))


def raw(kubeconfig: Path, home: Path, path: str) -> dict:
    """`kubectl get --raw PATH` as the learner: the API's answer as the server sent it."""
    return json.loads(_run(kubeconfig, home, "get", "--raw", path))


def sign_in(page: Page, base: str, name: str) -> None:
    """Pick a learner name on the learner page, as a newcomer does."""
    page.goto(f"{base}/learner/")
    page.get_by_role("textbox", name="Learner name").fill(name)
    page.get_by_role("button", name="Start shopping").click()
    expect(page.locator(".shop-learner")).to_contain_text(name)
