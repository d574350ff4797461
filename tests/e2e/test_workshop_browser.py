"""A workshop in real browsers: carol teaches, Ann and Ben join, carol's dashboard follows live.

Each person has their own browser context (their own cookies). In the first story Ann's Pod
is created through the API pipeline as Ann, as her kubectl would, and she presses Check on
the lesson page; it runs on Django's test server, which speaks WSGI and so cannot stream
events, and carol presses "Check again" to see the board. The second story runs against the
real server (`manage.py serve` with its control plane, under uvicorn): Ann downloads her
kubeconfig and uses the real kubectl, and carol's dashboard, watching her learners'
requests down its event stream, follows without a reload.
"""

import json
import os
import re
import secrets
import subprocess

import pytest
from playwright.sync_api import expect

from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, handle
from apiserver.registry import kinds
from learning.models import Workshop
from tests.e2e.test_kubectl import KUBECTL

pytestmark = pytest.mark.e2e

SCREENSHOT = os.environ.get("E2E_SCREENSHOT_DIR", "/tmp")


@pytest.fixture
def contexts(browser):
    """Three separate browsers' worth of cookies: carol, Ann and Ben."""
    opened = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    pages = [context.new_page() for context in opened]
    for page in pages:
        page.set_default_timeout(10_000)
    yield pages
    for context in opened:
        context.close()


def _join(page, base: str, code: str, name: str) -> None:
    page.goto(f"{base}/join/")
    page.get_by_label("Workshop code").fill(code)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text(f"Welcome to Cluster basics, {name}!")).to_be_visible()
    expect(page.get_by_role("link", name="Download your kubeconfig")).to_be_visible()


def test_an_instructor_sees_a_learner_pass_a_step_live(
    live_server, live_catalog, contexts, django_user_model
):
    kinds.invalidate()
    base = live_server.url
    carol, ann, ben = contexts
    django_user_model.objects.create_user("carol", "carol@example.com", "pw-carol", is_staff=True)

    carol.goto(f"{base}/learn/workshops/")
    expect(carol).to_have_url(re.compile(r"/admin/login/"))
    carol.get_by_label("Username").fill("carol")
    carol.get_by_label("Password").fill("pw-carol")
    carol.get_by_role("button", name="Log in").click()
    carol.get_by_label("Workshop title").fill("Cluster basics")
    carol.get_by_role("button", name="Create and get a join code").click()
    expect(carol.get_by_role("heading", level=1)).to_have_text("Cluster basics")
    code = carol.locator("#join-code").inner_text().strip()
    assert code == Workshop.objects.get().code
    expect(carol.locator("#joined-count")).to_have_text("0")

    _join(ann, base, code, "Ann")
    _join(ben, base, code, "Ben")
    carol.get_by_role("link", name="Check again").first.click()
    expect(carol.locator("#joined-count")).to_have_text("2")

    learner = ClusterUser.objects.get(display_name="Ann")
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }
    created = handle(
        ApiRequest(
            method="POST",
            path=f"/api/v1/namespaces/{learner.namespace}/pods",
            headers={"content-type": "application/json", "user-agent": "kubectl/v1.32.0"},
            body=json.dumps(body).encode(),
            user=learner,
        )
    )
    assert created.status == 201

    ann.goto(f"{base}/learn/lessons/front-door/")
    ann.evaluate("window.stillTheSamePage = true")
    step = ann.locator("#step-order-web")
    step.get_by_role("button", name="Check").click()
    expect(step.get_by_role("status")).to_contain_text(f"Found pods/web in {learner.namespace}")
    assert ann.evaluate("window.stillTheSamePage") is True

    carol.get_by_role("link", name="Check again").first.click()
    ann_row = carol.locator(f'tr[data-learner="{learner.name}"]')
    expect(ann_row.locator(".steps-passed")).to_have_text(re.compile(r"^1 / \d+$"))
    expect(ann_row).to_contain_text("Ann")
    ben_name = ClusterUser.objects.get(display_name="Ben").name
    expect(carol.locator(f'tr[data-learner="{ben_name}"] .steps-passed')).to_have_text(
        re.compile(r"^0 / ")
    )
    expect(carol.locator(".leaderboard li").first).to_have_text("Ann: 1 point")
    carol.screenshot(path=f"{SCREENSHOT}/warehouse-workshop-dashboard.png", full_page=True)
    ann.screenshot(path=f"{SCREENSHOT}/warehouse-lesson.png", full_page=True)


def _log_in_and_create_workshop(page, base: str, username: str, password: str) -> str:
    page.goto(f"{base}/learn/workshops/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Workshop title").fill("Cluster basics")
    page.get_by_role("button", name="Create and get a join code").click()
    return page.locator("#join-code").inner_text().strip()


def test_with_the_real_server_kubectl_requests_pass_steps_and_pods_run(
    live_cluster, contexts, tmp_path
):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    base = live_cluster.web_url
    carol, ann, _ = contexts
    username, password = f"carol-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    live_cluster.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({username!r}, password={password!r}, is_staff=True)",
    )
    code = _log_in_and_create_workshop(carol, base, username, password)
    carol.evaluate("window.stillTheSamePage = true")

    _join(ann, base, code, "Ann")
    expect(carol.locator("#joined-count")).to_have_text("1")  # her new namespace is news
    download = ann.request.get(f"{base}/learner/kubeconfig/")
    assert download.ok
    kubeconfig = tmp_path / "ann.kubeconfig"
    kubeconfig.write_bytes(download.body())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env["KUBECONFIG"] = str(kubeconfig)

    def kubectl(*args: str) -> str:
        done = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (args, done.stderr, live_cluster.log_tail(30))
        return done.stdout

    kubectl("get", "services")
    kubectl("run", "web", "--image=nginx:1.27")

    ann.goto(f"{base}/learn/lessons/front-door/")
    for step in ("list-services", "order-web"):
        section = ann.locator(f"#step-{step}")
        section.get_by_role("button", name="Check").click()
        expect(section.get_by_role("status")).to_contain_text("Yes!")

    row = carol.locator("tr[data-learner]").first
    expect(row.locator(".steps-passed")).to_have_text(re.compile(r"^2 / \d+$"))
    expect(row.locator(".pods-running")).to_have_text("1", timeout=30_000)
    assert carol.evaluate("window.stillTheSamePage") is True

    carol.goto(f"{base}/learn/grand-central/")
    expect(carol.locator(".gc-feed .gc--kubectl").first).to_be_visible()
    expect(carol.locator(".gc-feed .gc--scheduler").first).to_be_visible()
    carol.screenshot(path=f"{SCREENSHOT}/warehouse-grand-central.png", full_page=False)
