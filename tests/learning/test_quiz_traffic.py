"""Questions made from alice's own requests, read from her namespace's audit log as her."""

import re

from apiserver import readmodel
from apiserver.accounts import ClusterUser
from learning import quiztraffic
from tests.learning.conftest import api, deployment, learner, pod

PAGE = "/learn/your-requests-quiz/"
ARTICLE = re.compile(r'<article id="traffic-(\w+)-(\d+)".*?</article>', re.S)
RADIO = re.compile(r'name="choice" value="([\w-]+)"')


def asked(page: str) -> dict[str, tuple[str, list[str]]]:
    """Each question on the page by kind: its event and its choices' keys as shown."""
    return {m.group(1): (m.group(2), RADIO.findall(m.group(0))) for m in ARTICLE.finditer(page)}


def answer(client, kind: str, event: str, choice: str) -> str:
    url = f"{PAGE}{kind}/{event}/"
    return client.post(url, {"choice": choice}, HTTP_HX_REQUEST="true").content.decode()


def test_a_conflict_of_her_own_becomes_a_question_about_the_store(alice):
    body = pod("web")
    assert api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", body).status == 201
    assert api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", body).status == 409
    page = alice.get(PAGE).content.decode()
    assert "Your request <code>POST /api/v1/namespaces/alice/pods</code> was answered 409" in page
    event, keys = asked(page)["gate"]
    assert set(keys) == {"authentication", "fairness", "authorization", "admission", "store"}
    fragment = answer(alice, "gate", event, "store")
    assert "<html" not in fragment and "Right!" in fragment
    assert "409 when its name is taken" in fragment
    # The first answer counts, and the page remembers it on a reload.
    assert "Right!" in answer(alice, "gate", event, "admission")
    assert "Right!" in alice.get(PAGE).content.decode()


def test_an_invalid_pod_is_admission_and_a_wrong_answer_explains_every_stage(alice):
    empty = pod("hollow")
    empty["spec"]["containers"] = []
    assert api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", empty).status == 422
    event, _ = asked(alice.get(PAGE).content.decode())["gate"]
    fragment = answer(alice, "gate", event, "authorization")
    assert "Not quite." in fragment
    assert fragment.count("learn-tag--ok") == 1 and "your answer" in fragment
    assert "Admission answers 422 for an invalid object" in fragment
    assert "Authorization answers 403" in fragment


def test_verb_and_group_questions_follow_her_latest_successful_requests(alice):
    alice_user = learner("alice")
    made = api(alice_user, "POST", "/apis/apps/v1/namespaces/alice/deployments", deployment("s", 1))
    assert made.status == 201
    assert api(alice_user, "GET", "/api/v1/namespaces/alice/services").status == 200
    questions = asked(alice.get(PAGE).content.decode())
    verb_event, verb_keys = questions["verb"]
    assert set(verb_keys) == {"get", "list", "watch", "create"}
    assert "Right!" in answer(alice, "verb", verb_event, "list")
    group_event, group_keys = questions["group"]
    assert "apps" in group_keys
    assert "Right!" in answer(alice, "group", group_event, "apps")


def test_the_page_reads_her_audit_log_through_the_front_door(alice):
    before = readmodel.count_requests(user="alice", resource="audit.warehouse.dev/auditevents")
    alice.get(PAGE)
    after = readmodel.count_requests(user="alice", resource="audit.warehouse.dev/auditevents")
    assert after == before + 1


def test_choices_are_shuffled_per_learner_and_stable_on_reload(alice, bob):
    body = pod("web")
    for _ in range(2):
        api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", body)
    event, first = asked(alice.get(PAGE).content.decode())["gate"]
    assert asked(alice.get(PAGE).content.decode())["gate"][1] == first
    question = quiztraffic.rebuild(learner("alice"), "gate", event)
    assert [c.key for c in question.shown_to(learner("alice"))] == first
    # The same question shown to other learners: each gets an order of their own.
    others = {
        tuple(c.key for c in question.shown_to(ClusterUser(pk=pk, name=f"l{pk}")))
        for pk in range(1000, 1010)
    }
    assert len(others) > 1 and all(sorted(o) == sorted(first) for o in others)


def test_nobody_answers_about_someone_elses_request_or_with_a_made_up_choice(alice, bob):
    body = pod("web")
    api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", body)
    api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", body)
    event, _ = asked(alice.get(PAGE).content.decode())["gate"]
    assert bob.post(f"{PAGE}gate/{event}/", {"choice": "store"}).status_code == 404
    assert alice.post(f"{PAGE}nonsense/{event}/", {"choice": "store"}).status_code == 404
    assert alice.post(f"{PAGE}gate/not-a-number/", {"choice": "store"}).status_code == 404
    assert "Pick one of the answers first." in answer(alice, "gate", event, "the-kubelet")
    plain = alice.post(f"{PAGE}gate/{event}/", {})
    assert plain.status_code == 302
    assert "Pick one of the answers first." in alice.get(plain["Location"]).content.decode()
    assert "Right!" in answer(alice, "gate", event, "store")


def test_a_scheduled_pod_asks_who_chose_its_node(alice, control_plane):
    assert api(learner("alice"), "POST", "/api/v1/namespaces/alice/pods", pod("web")).status == 201
    control_plane.step(times=3)
    questions = asked(alice.get(PAGE).content.decode())
    event, keys = questions["binder"]
    assert set(keys) == {"scheduler", "kubelet", "controller", "kubectl"}
    fragment = answer(alice, "binder", event, "kubelet")
    assert "Not quite." in fragment and "posts its Binding" in fragment


def test_a_learner_with_no_traffic_is_told_what_to_do(alice):
    page = alice.get(PAGE).content.decode()
    assert "No questions yet" in page
    assert 'href="/learn/your-requests-quiz/"' in alice.get("/learn/quizzes/").content.decode()


def test_the_page_needs_a_learner(client):
    assert client.get(PAGE)["Location"].startswith("/learner/")
