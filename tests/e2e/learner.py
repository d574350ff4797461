"""What a learner's browser and terminal do in the browser tests: pick a name, count the
page's Server-Sent Events, and run real kubectl with the learner's kubeconfig."""

import json
import os
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.test_kubectl import KUBECTL

__all__ = ["COUNT_SSE", "KUBECTL", "kubectl", "raw", "sign_in"]

# An init script: how many streams the page opened and how many messages they brought.
COUNT_SSE = """
window.sseOpened = 0; window.sseMessages = 0;
document.addEventListener('htmx:sseOpen', () => { window.sseOpened += 1; });
document.addEventListener('htmx:sseMessage', () => { window.sseMessages += 1; });
"""


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
