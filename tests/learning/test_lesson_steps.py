"""The steps that make the chapter's missing facts real: alice does each through the API,
and only the real thing passes (an update, a delete, a watch, a 404 for an unknown kind,
a 409, the two questions to the authorizer)."""

import json

import pytest

from apiserver.pipeline import ApiRequest, ApiResponse, handle, open_watch
from learning.models import StepProgress
from tests.learning.conftest import api, learner, pod

PODS = "/api/v1/namespaces/alice/pods"
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def check(client, lesson: str, step: str) -> str:
    response = client.post(f"/learn/lessons/{lesson}/{step}/check/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def review(namespace: str) -> dict:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {"namespace": namespace, "verb": "create", "resource": "pods"}
        },
    }


def merge_patch(path: str, labels: dict) -> ApiResponse:
    """A PATCH as `kubectl label` sends it (a merge patch of the labels), as alice."""
    headers = {
        "accept": "application/json",
        "user-agent": "kubectl/test",
        "content-type": "application/merge-patch+json",
    }
    body = json.dumps({"metadata": {"labels": labels}}).encode()
    return handle(
        ApiRequest("PATCH", path, {}, headers, body, client="kubectl", user=learner("alice"))
    )


def test_can_i_asks_the_authorizer_twice_and_it_answers_from_the_bindings(alice):
    alice_user = learner("alice")
    mine = api(alice_user, "POST", REVIEWS, review("alice"))
    assert mine.status == 201 and mine.body["status"]["allowed"] is True
    assert "Not yet." in check(alice, "anatomy-of-a-create", "can-i")
    system = api(alice_user, "POST", REVIEWS, review("kube-system"))
    assert system.status == 201 and system.body["status"]["allowed"] is False
    assert "Yes!" in check(alice, "anatomy-of-a-create", "can-i")


def test_whoami_passes_only_after_a_self_subject_review(alice):
    assert "Not yet." in check(alice, "anatomy-of-a-create", "whoami")
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    answer = api(
        learner("alice"), "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body
    )
    assert answer.status == 201
    assert answer.body["status"]["userInfo"]["username"] == "alice"
    groups = answer.body["status"]["userInfo"]["groups"]
    assert "system:authenticated" in groups and "warehouse:learners" in groups
    assert "Yes!" in check(alice, "anatomy-of-a-create", "whoami")


def test_the_same_name_twice_is_a_409_and_passes_already_exists(alice):
    assert api(learner("alice"), "POST", PODS, pod("web")).status == 201
    assert "Not yet." in check(alice, "anatomy-of-a-create", "already-exists")
    again = api(learner("alice"), "POST", PODS, pod("web"))
    assert (again.status, again.body["reason"]) == (409, "AlreadyExists")
    assert "Yes!" in check(alice, "anatomy-of-a-create", "already-exists")


def test_only_a_real_watch_passes_the_watch_step(alice):
    api(learner("alice"), "GET", PODS)  # a list, not a watch
    fragment = check(alice, "the-analogy", "watch-order")
    assert "Not yet." in fragment
    assert "except its verb, which is list, not watch" in fragment

    request = ApiRequest(
        method="GET",
        path=PODS,
        query={"watch": "true"},
        headers={"accept": "application/json", "user-agent": "kubectl/test"},
        body=b"",
        client="kubectl",
        user=learner("alice"),
    )
    opened = open_watch(request)
    assert not isinstance(opened, ApiResponse)
    if opened.seat is not None:
        opened.seat.release()
    assert "Yes!" in check(alice, "the-analogy", "watch-order")


def test_deleting_a_pod_passes_the_delete_step_and_a_404_does_not(alice):
    assert api(learner("alice"), "DELETE", f"{PODS}/parcel").status == 404
    fragment = check(alice, "the-analogy", "delete-order")
    assert "Not yet." in fragment and "except its answer, which is 404, not 200" in fragment
    api(learner("alice"), "POST", PODS, pod("parcel", "nosuch/parcel:never"))
    assert api(learner("alice"), "DELETE", f"{PODS}/parcel").status == 200
    assert "Yes!" in check(alice, "the-analogy", "delete-order")


def test_labelling_web_is_an_update_that_the_step_sees(alice):
    assert "There is no pods/web to change yet." in check(alice, "reading-the-catalog", "label-web")
    api(learner("alice"), "POST", PODS, pod("web"))
    before = api(learner("alice"), "GET", f"{PODS}/web").body["metadata"]
    assert "has no tier label yet" in check(alice, "reading-the-catalog", "label-web")

    assert merge_patch(f"{PODS}/web", {"tier": "back"}).status == 200
    assert "has tier=back, not tier=front" in check(alice, "reading-the-catalog", "label-web")

    assert merge_patch(f"{PODS}/web", {"tier": "front"}).status == 200
    after = api(learner("alice"), "GET", f"{PODS}/web").body["metadata"]
    fragment = check(alice, "reading-the-catalog", "label-web")
    assert "Yes!" in fragment and f"resourceVersion is now {after['resourceVersion']}" in fragment
    assert after["uid"] == before["uid"]
    assert after["resourceVersion"] != before["resourceVersion"]


@pytest.mark.parametrize(
    "path",
    [
        "/apis/apps/v1/namespaces/alice/gizmos",
        "/apis/shop.example.com/v1/namespaces/alice/gizmos",
        "/api/v1/namespaces/alice/gizmos",
    ],
)
def test_a_404_for_a_kind_nobody_serves_passes_the_unknown_kind_step(alice, path):
    assert api(learner("alice"), "GET", f"{PODS}/nope").status == 404
    fragment = check(alice, "reading-the-catalog", "unknown-kind")
    assert "Not yet." in fragment and "missing object of a kind the server serves" in fragment
    assert api(learner("alice"), "GET", path).status == 404
    fragment = check(alice, "reading-the-catalog", "unknown-kind")
    assert "Yes!" in fragment and "gizmos" in fragment
    assert StepProgress.objects.get(learner__name="alice", step="unknown-kind").passed


def test_someone_elses_unknown_kind_does_not_pass_alices_step(alice, bob):
    assert api(learner("bob"), "GET", "/apis/apps/v1/namespaces/bob/gizmos").status == 404
    fragment = check(alice, "reading-the-catalog", "unknown-kind")
    assert "Not yet." in fragment and "No 404 for an unknown kind" in fragment
