"""A Deployment's rolling update, rewound on the order-history page in real Chromium.

The learner creates a Deployment and rolls it to a new image with real kubectl; the
history page then steps through every revision (over htmx, the page never reloads) and
names each writer: the learner for the spec, a controller for the status and the
ReplicaSet hand-over. `kubectl get --raw .../history` serves the same story.
"""

import os
import re
import secrets
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.learner import KUBECTL, kubectl, raw, sign_in
from tests.e2e.test_tracker_browser import PHONE, accessible, fits_the_screen

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl not found (set KUBECTL)"),
]

SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")
CONTROLLER = "A controller (kube-controller-manager)"


def rolled_out(kubeconfig: Path, home: Path, revision: str, seconds: float = 60) -> dict:
    """The Deployment once its rollout to `revision` is complete."""
    deadline = time.monotonic() + seconds
    while True:
        deploy = kubectl(kubeconfig, home, "get", "deployment", "shop")
        status, meta = deploy.get("status", {}), deploy["metadata"]
        done = (
            meta.get("annotations", {}).get("deployment.kubernetes.io/revision") == revision
            and status.get("observedGeneration") == meta["generation"]
            and status.get("updatedReplicas") == status.get("replicas") == 2
            and status.get("availableReplicas") == 2
        )
        if done or time.monotonic() > deadline:
            assert done, deploy.get("status")
            return deploy
        time.sleep(0.5)


def revisions_shown(page: Page) -> list[tuple[str, str, str]]:
    """Step to each revision in turn: (resourceVersion, writer, what the page says of it)."""
    seen = []
    versions = page.locator(".history-list__item").evaluate_all(
        "(items) => items.map((item) => item.dataset.version)"
    )
    for version in versions:
        page.locator(f'.history-list__item[data-version="{version}"] a').click()
        shown = page.locator(f'#revision[data-version="{version}"]')
        expect(shown).to_be_visible()
        seen.append((version, shown.locator(".history-writer").inner_text(), shown.inner_text()))
    return seen


def test_a_rolling_update_on_the_history_page_names_each_writer(live_cluster, page, tmp_path):
    base, name = live_cluster.web_url, f"rewind-{secrets.token_hex(3)}"
    sign_in(page, base, name)
    kubeconfig = live_cluster.kubeconfig(name)
    kubectl(
        kubeconfig, tmp_path, "create", "deployment", "shop", "--image=nginx:1.27", "--replicas=2"
    )
    rolled_out(kubeconfig, tmp_path, "1")
    kubectl(kubeconfig, tmp_path, "set", "image", "deployment/shop", "nginx=nginx:1.28")
    rolled_out(kubeconfig, tmp_path, "2")
    sets = kubectl(kubeconfig, tmp_path, "get", "replicasets", "-l", "app=shop")["items"]
    by_revision = {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs["metadata"]["name"]
        for rs in sets
    }
    old, new = by_revision["1"], by_revision["2"]

    page.goto(f"{base}/orders/{name}/apps/v1/deployments/shop/")
    page.get_by_role("link", name=re.compile("Order history")).click()
    expect(page).to_have_url(re.compile(rf"/orders/{name}/apps/v1/deployments/shop/history/$"))
    page.evaluate("window.stillTheSamePage = true")

    shown = revisions_shown(page)

    assert page.evaluate("window.stillTheSamePage") is True
    assert shown[0][1] == f"You ({name}) with kubectl"
    assert "ADDED" in shown[0][2]
    [image_change] = [s for s in shown if "nginx:1.28" in s[2] and "spec.template" in s[2]]
    assert image_change[1] == f"You ({name}) with kubectl"
    assert "nginx:1.27" in image_change[2]  # before → after
    writers = {writer for _, writer, _ in shown}
    assert writers == {f"You ({name}) with kubectl", CONTROLLER}
    handed_over = [s for s in shown if f'ReplicaSet "{new}" has successfully progressed' in s[2]]
    assert handed_over and handed_over[0][1] == CONTROLLER
    assert any(f'"{old}"' in text for _, _, text in shown[: shown.index(image_change)])
    bump = re.compile(r"deployment\.kubernetes\.io/revision \(changed\)\s+1\s+2")
    bumped = [writer for _, writer, text in shown if bump.search(text)]
    assert bumped == [CONTROLLER]
    page.locator("#revision").screenshot(path=f"{SCREENSHOT}/warehouse-history-deployment.png")

    history = raw(kubeconfig, tmp_path, f"/apis/apps/v1/namespaces/{name}/deployments/shop/history")
    assert [i["resourceVersion"] for i in history["items"]] == [s[0] for s in shown]
    assert history["items"][0]["writer"] == {"username": name, "client": "kubectl"}

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits_the_screen(page, ".history-steps")
    assert accessible(page, "main") == []
