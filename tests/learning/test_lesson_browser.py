"""A learner alone in real Chromium and real kubectl: hints one at a time, a near miss, and
a practice outage that shuts the door to her kubectl only, with the page passing axe."""

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support.livecluster import LiveCluster, running_cluster
from tests.e2e.conftest import browser, page  # noqa: F401  (Chromium fixtures)
from tests.e2e.learner import KUBECTL, sign_in
from tests.e2e.test_tracker_browser import accessible

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[LiveCluster]:
    with running_cluster(tmp_path_factory.mktemp("lesson-cluster")) as cluster:
        yield cluster


def terminal(tab: Page, base: str, home: Path):
    """Run kubectl with the kubeconfig this browser's learner downloads; (code, output)."""
    download = tab.request.get(f"{base}/learner/kubeconfig/")
    assert download.ok
    config = home / "kubeconfig"
    config.write_bytes(download.body())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env["KUBECONFIG"] = str(config)

    def kubectl(*args: str) -> tuple[int, str]:
        done = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    return kubectl


def test_alone_she_reveals_hints_misses_closely_and_lives_through_her_own_outage(
    cluster,
    page,  # noqa: F811 - the Chromium fixture imported above
    tmp_path,
):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    base = cluster.web_url
    sign_in(page, base, f"solo-{secrets.token_hex(3)}")
    kubectl = terminal(page, base, tmp_path)

    page.goto(f"{base}/learn/lessons/front-door/")
    step = page.locator("#step-order-web")
    step.get_by_role("button", name="Show hint 1 of 3").click()
    expect(step.locator(".learn-hints li")).to_have_count(1)
    step.get_by_role("button", name="Show hint 2 of 3").click()
    expect(step.locator(".learn-hints li")).to_have_count(2)

    code, said = kubectl("run", "web", "--image=nginx:1.27", "-n", "default")
    assert code != 0 and "forbidden" in said.lower()
    step.get_by_role("button", name="Check").click()
    expect(step.get_by_role("status")).to_contain_text("went to the namespace default")
    expect(step.locator(".learn-hints li")).to_have_count(3)  # a miss reveals the next one
    expect(step.get_by_text("That was the last hint.")).to_be_visible()

    page.goto(f"{base}/learn/lessons/always-open/")
    outage = page.locator("#step-outage")
    outage.get_by_label("For").select_option("30")
    outage.get_by_role("button", name="Start my practice outage").click()
    expect(outage.locator("#practice-outage")).to_contain_text("is in force")
    code, said = kubectl("get", "pods")
    assert code != 0 and "your own practice outage" in said, said
    outage.get_by_role("button", name="Check").click()
    expect(outage.get_by_role("status")).to_contain_text("Now try again once it reopens")
    assert accessible(page, "#step-outage") == []

    outage.get_by_role("button", name="End it now").click()
    expect(outage.get_by_role("button", name="Start my practice outage")).to_be_visible()
    code, said = kubectl("get", "pods")
    assert code == 0, said
    outage.get_by_role("button", name="Check").click()
    expect(outage.get_by_role("status")).to_contain_text("Yes!")
    expect(outage.get_by_role("status")).to_contain_text("Passed")


def test_alone_she_starts_a_lesson_afresh_and_her_deployment_comes_back_the_same(
    cluster,
    page,  # noqa: F811 - the Chromium fixture imported above
    tmp_path,
):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    base = cluster.web_url
    sign_in(page, base, f"again-{secrets.token_hex(3)}")
    kubectl = terminal(page, base, tmp_path)

    def pods() -> list[str]:
        code, said = kubectl("get", "pods", "-o", "name")
        assert code == 0, said
        return sorted(said.split())

    def running(count: int) -> list[str]:
        code, said = kubectl("rollout", "status", "deployment/shop", "--timeout=45s")
        assert code == 0, said
        found = pods()
        assert len(found) == count, found
        return found

    code, said = kubectl("create", "deployment", "shop", "--image=nginx:1.27", "--replicas=3")
    assert code == 0, said
    first = running(3)
    page.goto(f"{base}/learn/lessons/anatomy-of-a-create/")
    step = page.locator("#step-deployment-three")
    step.get_by_role("button", name="Check").click()
    expect(step.get_by_role("status")).to_contain_text("Passed")

    section = page.locator("#afresh")
    section.get_by_text("Start this lesson afresh…").click()
    section.get_by_role("button", name="Yes, delete them and start afresh").click()
    expect(section.get_by_role("status")).to_contain_text("All gone", timeout=20_000)
    expect(page.locator("#step-deployment-three .learn-tag--ok")).to_have_count(0)
    assert pods() == []
    assert accessible(page, "#afresh") == []

    code, said = kubectl("create", "deployment", "shop", "--image=nginx:1.27", "--replicas=3")
    assert code == 0, said
    assert running(3) == first
