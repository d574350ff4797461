"""The lesson step checked against an order's history: alice finds the revision where
`spec.nodeName` was first written (by the scheduler, not by her) and labels her Pod with it."""

from tests.learning.conftest import api, learner, pod
from tests.learning.test_lesson_steps import check, merge_patch

WEB = "/api/v1/namespaces/alice/pods/web"


def test_only_the_revision_that_bound_the_pod_passes(alice, control_plane):
    assert "no pods/web to look back on" in check(alice, "front-door", "who-bound-it")
    alice_user = learner("alice")
    assert api(alice_user, "POST", "/api/v1/namespaces/alice/pods", pod("web")).status == 201
    control_plane.step(1, times=3)
    history = api(alice_user, "GET", f"{WEB}/history").body["items"]
    bound = next(i for i in history if i["object"]["spec"].get("nodeName"))
    assert bound["writer"]["username"] == "system:kube-scheduler"

    assert "has no <code>bound-at</code> label yet" in check(alice, "front-door", "who-bound-it")

    created = history[0]["resourceVersion"]
    merge_patch(WEB, {"bound-at": created})
    wrong = check(alice, "front-door", "who-bound-it")
    assert f"Revision {created} was written by alice" in wrong
    assert "Not yet." in wrong

    merge_patch(WEB, {"bound-at": "1"})
    assert "names no revision of pods/web" in check(alice, "front-door", "who-bound-it")

    merge_patch(WEB, {"bound-at": bound["resourceVersion"]})
    right = check(alice, "front-door", "who-bound-it")
    assert f"revision {bound['resourceVersion']} set <code>spec.nodeName</code>" in right
    assert "system:kube-scheduler" in right
