"""Starting a lesson afresh: alice's objects from the lesson are deleted as alice, the control
plane finishes the job, her passes and hints there are forgotten, and made again the same
way her Pods come back under the same names. Bob's namespace and alice's own RoleBinding,
ServiceAccount and quota are never touched; strangers and unknown lessons are refused."""

import re
import time

import pytest

from apiserver import readmodel
from apiserver.client import Client
from learning import afresh, checks, lessons
from learning.models import StepProgress
from tests.learning.conftest import api, deployment, learner, pod
from tests.learning.test_lesson_steps import check

PODS = "/api/v1/namespaces/{}/pods"
DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"
REPLICASETS = "/apis/apps/v1/namespaces/alice/replicasets"
AFRESH = "/learn/lessons/{}/afresh/"


def names(path: str, user: str = "alice") -> list[str]:
    listed = api(learner(user), "GET", path)
    assert listed.status == 200, listed.body
    return sorted(item["metadata"]["name"] for item in listed.body["items"])


def start_afresh(client, lesson: str, htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(AFRESH.format(lesson), {"confirm": "yes"}, **headers)


def step_section(page: str, step: str) -> str:
    found = re.search(rf'<section id="step-{step}".*?</section>', page, re.S)
    assert found, step
    return found.group(0)


@pytest.fixture
def winding(control_plane, monkeypatch):
    """While afresh follows its watches, the hand-driven control plane is wound on a second
    at a time, so the garbage collector and the kubelets really finish the deletes and the
    watches bring their news."""

    def follow(watches, done, seconds):
        for _ in range(int(seconds)):
            if done():
                return
            control_plane.step(1)
        done()

    monkeypatch.setattr(afresh, "follow", follow)
    return control_plane


def test_afresh_empties_the_lesson_and_doing_it_again_gives_the_same_names(alice, bob, winding):
    alice_user = learner("alice")
    assert api(learner("bob"), "POST", PODS.format("bob"), pod("web")).status == 201
    assert api(alice_user, "POST", PODS.format("alice"), pod("parcel")).status == 201
    assert api(alice_user, "POST", DEPLOYMENTS, deployment("shop", 3)).status == 201
    winding.step(1, times=4)
    first = names(PODS.format("alice"))
    assert len(first) == 4 and "parcel" in first
    assert "Yes!" in check(alice, "anatomy-of-a-create", "deployment-three")
    alice.post("/learn/lessons/anatomy-of-a-create/whoami/hint/")
    page = alice.get("/learn/lessons/anatomy-of-a-create/").content.decode()
    assert "learn-tag--ok" in step_section(page, "deployment-three")
    assert "Show hint 2 of" in step_section(page, "whoami")

    response = start_afresh(alice, "anatomy-of-a-create")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "All gone" in fragment and "Deployment shop" in fragment and "Pod parcel" in fragment
    assert 'id="lesson-steps" hx-swap-oob="true"' in fragment
    assert "learn-tag--ok" not in step_section(fragment, "deployment-three")

    assert names(PODS.format("alice")) == names(DEPLOYMENTS) == names(REPLICASETS) == []
    assert names(PODS.format("bob"), "bob") == ["web"]
    kept = {
        "/apis/rbac.authorization.k8s.io/v1/namespaces/alice/rolebindings": "warehouse-learner",
        "/api/v1/namespaces/alice/serviceaccounts": "default",
    }
    for path, name in kept.items():
        assert name in names(path)
    assert names("/api/v1/namespaces/alice/resourcequotas")
    assert names("/api/v1/namespaces/alice/limitranges")
    deletes = readmodel.requests(user="alice", verb="delete", limit=10)
    assert {(d["resource"], d["status_code"]) for d in deletes} >= {
        ("apps/deployments", 200),
        ("pods", 200),
    }

    assert not StepProgress.objects.filter(learner=alice_user, lesson="anatomy-of-a-create")
    page = alice.get("/learn/lessons/anatomy-of-a-create/").content.decode()
    assert "learn-tag--ok" not in step_section(page, "deployment-three")
    assert "Show hint 1 of" in step_section(page, "whoami")
    assert "Not yet." in check(alice, "anatomy-of-a-create", "deployment-three")

    assert api(alice_user, "POST", PODS.format("alice"), pod("parcel")).status == 201
    assert api(alice_user, "POST", DEPLOYMENTS, deployment("shop", 3)).status == 201
    winding.step(1, times=4)
    assert names(PODS.format("alice")) == first
    assert "Yes!" in check(alice, "anatomy-of-a-create", "deployment-three")


def test_the_first_lesson_deletes_only_the_pod_named_web(alice, winding):
    alice_user = learner("alice")
    for name in ("web", "parcel"):
        assert api(alice_user, "POST", PODS.format("alice"), pod(name)).status == 201
    winding.step(1, times=3)
    assert "Yes!" in check(alice, "front-door", "order-web")

    response = start_afresh(alice, "front-door", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == "/learn/lessons/front-door/"  # its message is at the top
    assert names(PODS.format("alice")) == ["parcel"]
    page = alice.get("/learn/lessons/front-door/").content.decode()
    assert "Started afresh. Deleted, as you: Pod web." in page
    assert "learn-tag--ok" not in step_section(page, "order-web")


def test_when_the_control_plane_is_slow_the_page_says_what_is_still_going(
    alice, control_plane, monkeypatch
):
    # Nobody reconciles: afresh takes its watches' news once, and its time is up.
    monkeypatch.setattr(afresh, "follow", lambda watches, done, seconds: done())
    alice_user = learner("alice")
    assert api(alice_user, "POST", DEPLOYMENTS, deployment("shop", 2)).status == 201
    control_plane.step(1, times=3)
    pods = names(PODS.format("alice"))
    assert len(pods) == 2
    assert "Yes!" not in check(alice, "anatomy-of-a-create", "deployment-three")

    response = start_afresh(alice, "anatomy-of-a-create", htmx=False)
    assert response.status_code == 302
    page = alice.get(response["Location"]).content.decode()
    assert "Still going when the page stopped waiting:" in page
    for name in pods:
        assert f"Pod {name}" in page
    assert names(DEPLOYMENTS) == []
    assert not StepProgress.objects.filter(learner=alice_user, lesson="anatomy-of-a-create")

    control_plane.step(1, times=4)  # the garbage collector and the kubelets catch up
    assert names(PODS.format("alice")) == names(REPLICASETS) == []


def test_afresh_refuses_strangers_unknown_lessons_and_an_unconfirmed_press(alice, shopper):
    assert start_afresh(shopper, "front-door").status_code == 403
    assert start_afresh(shopper, "no-such-lesson").status_code == 404
    assert start_afresh(alice, "no-such-lesson").status_code == 404
    assert alice.get(AFRESH.format("front-door")).status_code == 405
    assert alice.post(AFRESH.format("front-door")).status_code == 400
    refused = alice.post(AFRESH.format("front-door"), HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert refused.content.decode().startswith('<p class="learn-no">Confirm with the button')


def test_the_lesson_page_offers_afresh_to_learners_only(alice, shopper):
    page = alice.get("/learn/lessons/anatomy-of-a-create/").content.decode()
    section = re.search(r'<section id="afresh".*?</section>', page, re.S).group(0)
    assert "<details" in section and "<summary>Start this lesson afresh" in section
    assert 'method="post" action="/learn/lessons/anatomy-of-a-create/afresh/"' in section
    assert 'hx-post="/learn/lessons/anatomy-of-a-create/afresh/"' in section
    assert "csrfmiddlewaretoken" in section
    assert "kubectl delete deployments --all" in section
    assert "A real cluster has no afresh" in section
    assert 'role="status"' in section
    assert 'id="afresh"' not in shopper.get("/learn/lessons/front-door/").content.decode()
    sellers = alice.get("/learn/lessons/third-party-sellers/").content.decode()
    assert "make nothing in your namespace" in sellers


def test_every_step_says_what_it_makes_and_only_lesson_kinds_are_deleted():
    known = {*afresh.NAMED_CHECKS, *afresh.KIND_CHECKS, *afresh.MAKE_NOTHING, "audit_request"}
    for lesson, step in lessons.checkable_steps():
        assert step.check in known, f"{lesson.slug}/{step.slug}: what does {step.check} make?"
        for key, _ in afresh.step_makes(step):
            # What a step makes outside the lesson kinds is a review the server never stores.
            assert key in afresh.LESSON_KINDS or key.endswith("reviews"), (step.slug, key)
    assert set(afresh.LESSON_KINDS) == {"pods", "apps/deployments"}
    made = {
        lesson.slug: [(t.kind.kind, t.name) for t in afresh.targets(lesson)]
        for lesson in lessons.all_lessons()
    }
    assert made["front-door"] == [("Pod", "web")]
    assert made["anatomy-of-a-create"] == [("Deployment", ""), ("Pod", "")]
    assert made["third-party-sellers"] == made["overload"] == []
    assert all(name in checks.CHECKS for name in afresh.NAMED_CHECKS + tuple(afresh.KIND_CHECKS))


def test_afresh_is_woken_by_a_change_its_watches_follow_not_by_a_timer(alice):
    """The real follower: it listens before it first asks, and a commit wakes it at once
    (its deadline here is a minute away)."""
    alice_user = learner("alice")
    created = api(alice_user, "POST", PODS.format("alice"), pod("web"))
    assert created.status == 201
    watched = Client(alice_user, afresh.CLIENT).watch(
        "pods", "alice", created.body["metadata"]["resourceVersion"]
    )
    news: list[tuple[str, str]] = []

    def done() -> bool:
        if not news:  # the first look: nothing yet, and a delete lands while it listens
            news.append(("asked", ""))
            assert api(alice_user, "DELETE", f"{PODS.format('alice')}/web").status == 200
            return False
        news.extend((kind, obj["metadata"]["name"]) for kind, obj in watched.poll())
        return ("DELETED", "web") in news

    started = time.monotonic()
    try:
        afresh._follow([watched], done, 60)
    finally:
        watched.close()

    assert ("DELETED", "web") in news
    assert time.monotonic() - started < 30, "it waited for its deadline, not the change"
