"""Starting a lesson afresh and the request log: the log keeps alice's old requests, but the
lesson's steps checked from it count only what she sends after afresh, so the lesson runs
again as it ran the first time. Afresh's own deletes never pass a step; bob, her other
lessons and the quizzes still see every request."""

import pytest

from apiserver import readmodel
from learning import checks, lessons, progress
from learning.models import LessonAfresh, Question
from tests.learning.conftest import api, learner, pod
from tests.learning.test_afresh import start_afresh, winding  # noqa: F401  (fixture)
from tests.learning.test_lesson_steps import REVIEWS, check, review

PODS = "/api/v1/namespaces/alice/pods"
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
SERVICES = "/api/v1/namespaces/{}/services"


def whoami(user: str = "alice") -> None:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    assert api(learner(user), "POST", WHOAMI, body).status == 201


def can_i(namespace: str) -> None:
    assert api(learner("alice"), "POST", REVIEWS, review(namespace)).status == 201


def test_after_afresh_the_request_steps_wait_for_the_requests_again(alice):
    whoami()
    can_i("alice")
    can_i("kube-system")
    assert "Yes!" in check(alice, "anatomy-of-a-create", "whoami")
    assert "Yes!" in check(alice, "anatomy-of-a-create", "can-i")

    assert start_afresh(alice, "anatomy-of-a-create").status_code == 200
    assert (
        readmodel.count_requests(
            user="alice", verb="create", resource="authentication.k8s.io/selfsubjectreviews"
        )
        == 1
    )  # still in the log
    fragment = check(alice, "anatomy-of-a-create", "whoami")
    assert "Not yet." in fragment and "since you started this lesson afresh" in fragment
    can_i("alice")
    fragment = check(alice, "anatomy-of-a-create", "can-i")
    assert "Not yet." in fragment and "Found 1 of the 2" in fragment

    can_i("kube-system")
    whoami()
    assert "Yes!" in check(alice, "anatomy-of-a-create", "can-i")
    assert "Yes!" in check(alice, "anatomy-of-a-create", "whoami")
    page = " ".join(alice.get("/learn/lessons/anatomy-of-a-create/").content.decode().split())
    assert "count only the requests you send after starting afresh" in page
    assert "find the old ones and pass again" not in page


def test_afresh_marks_its_moment_again_each_time(alice):
    alice_user = learner("alice")
    lesson = lessons.get("front-door")
    assert progress.started_afresh(alice_user, lesson) is None
    start_afresh(alice, "front-door")
    first = progress.started_afresh(alice_user, lesson)
    api(alice_user, "GET", SERVICES.format("alice"))
    assert "Yes!" in check(alice, "front-door", "list-services")

    start_afresh(alice, "front-door")
    again = progress.started_afresh(alice_user, lesson)
    assert first is not None and again > first
    assert LessonAfresh.objects.filter(learner=alice_user).count() == 1
    assert "Not yet." in check(alice, "front-door", "list-services")


def test_afreshs_own_deletes_do_not_pass_the_delete_step(alice, winding):  # noqa: F811
    alice_user = learner("alice")
    assert api(alice_user, "POST", PODS, pod("parcel", "nosuch/parcel:never")).status == 201
    assert api(alice_user, "DELETE", f"{PODS}/parcel").status == 200
    assert "Yes!" in check(alice, "the-analogy", "delete-order")
    assert api(alice_user, "POST", PODS, pod("parcel", "nosuch/parcel:never")).status == 201
    winding.step(1, times=3)

    fragment = start_afresh(alice, "the-analogy").content.decode()
    assert "Pod parcel" in fragment
    deletes = readmodel.requests(user="alice", verb="delete", resource="pods", status=200)
    assert [d["client"] for d in deletes] == ["browser", "kubectl"]  # afresh's, then hers
    assert "Not yet." in check(alice, "the-analogy", "delete-order")

    assert api(alice_user, "POST", PODS, pod("parcel", "nosuch/parcel:never")).status == 201
    assert api(alice_user, "DELETE", f"{PODS}/parcel").status == 200
    assert "Yes!" in check(alice, "the-analogy", "delete-order")


def test_the_unknown_kind_step_and_the_burst_count_from_afresh_too(alice):
    alice_user = learner("alice")
    assert api(alice_user, "GET", "/apis/apps/v1/namespaces/alice/gizmos").status == 404
    assert "Yes!" in check(alice, "reading-the-catalog", "unknown-kind")
    for _ in range(20):
        api(alice_user, "GET", PODS)
    assert "Yes!" in check(alice, "overload", "burst")

    start_afresh(alice, "reading-the-catalog")
    start_afresh(alice, "overload")
    fragment = check(alice, "reading-the-catalog", "unknown-kind")
    assert (
        "Not yet." in fragment and "No 404 for an unknown kind in your requests since" in fragment
    )
    assert "Found 0 of the 20" in check(alice, "overload", "burst")

    assert api(alice_user, "GET", "/apis/apps/v1/namespaces/alice/gizmos").status == 404
    assert "Yes!" in check(alice, "reading-the-catalog", "unknown-kind")
    for _ in range(18):  # with the 404 above, 19 kubectl requests since afresh
        api(alice_user, "GET", PODS)
    assert "Found 19 of the 20" in check(alice, "overload", "burst")
    api(alice_user, "GET", PODS)
    assert "Yes!" in check(alice, "overload", "burst")


def test_a_learner_who_never_started_afresh_is_unaffected(alice, bob):
    whoami("bob")
    api(learner("bob"), "GET", SERVICES.format("bob"))
    api(learner("alice"), "GET", SERVICES.format("alice"))
    whoami("alice")

    start_afresh(alice, "anatomy-of-a-create")
    assert "Yes!" in check(bob, "anatomy-of-a-create", "whoami")
    assert "Yes!" in check(bob, "front-door", "list-services")
    assert progress.started_afresh(learner("bob"), lessons.get("anatomy-of-a-create")) is None
    # Alice's other lessons still count all of her requests: afresh is per lesson.
    assert "Yes!" in check(alice, "front-door", "list-services")
    assert "Not yet." in check(alice, "anatomy-of-a-create", "whoami")


def test_another_learners_afresh_does_not_change_alices_results(alice, bob):
    whoami("alice")
    api(learner("alice"), "GET", SERVICES.format("alice"))
    assert "Yes!" in check(alice, "anatomy-of-a-create", "whoami")

    start_afresh(bob, "anatomy-of-a-create")
    start_afresh(bob, "front-door")
    assert "Yes!" in check(alice, "anatomy-of-a-create", "whoami")
    assert "Yes!" in check(alice, "front-door", "list-services")
    assert "Not yet." in check(bob, "front-door", "list-services")


@pytest.mark.usefixtures("quizzes")
def test_a_quiz_question_checked_from_the_log_counts_every_request(alice):
    api(learner("alice"), "GET", SERVICES.format("alice"))
    start_afresh(alice, "front-door")
    assert "Not yet." in check(alice, "front-door", "list-services")
    q = Question.objects.get(quiz__slug="front-door", slug="list-services")
    fragment = alice.post(f"/learn/quizzes/front-door/{q.pk}/", {}, HTTP_HX_REQUEST="true")
    assert "Right!" in fragment.content.decode()


def test_a_check_without_a_window_reads_the_whole_log(alice):
    whoami()
    params = lessons.get("anatomy-of-a-create").step("whoami").params
    start_afresh(alice, "anatomy-of-a-create")
    since = progress.started_afresh(learner("alice"), lessons.get("anatomy-of-a-create"))
    assert checks.run("audit_request", learner("alice"), params).passed
    assert not checks.run("audit_request", learner("alice"), params, since=since).passed
    assert checks.run("audit_request", learner("alice"), params).passed  # the window is gone
