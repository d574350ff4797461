"""The delivery tracker's stops, problems and advice, from hand-made objects.

Each object goes through `tracking.timeline` first, exactly as the page does, so these
tests hold the tracker to the timeline's own reading of the object.
"""

from datetime import UTC, datetime, timedelta

import pytest

from shop import tracker, tracking
from tests.shop.test_tracking import _deployment as deployment_manifest
from tests.shop.test_tracking import order, plane, poll  # noqa: F401  (fixture)

PLACED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SOON = PLACED + timedelta(seconds=20)
STOPS = ["ordered", "checked", "stored", "shipped", "out", "delivered"]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(
    name: str = "web",
    node: str = "",
    waiting: str = "",
    running: bool = False,
    ready: bool = False,
    restarts: int = 0,
    image: str = "nginx:1.27",
    owner: dict | None = None,
    unschedulable: str = "",
    **meta: object,
) -> dict:
    """A Pod as the API server would hand it back, at one point of its journey."""
    conditions = []
    if node:
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": _time(PLACED)}
        )
    elif unschedulable:
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": unschedulable,
            }
        )
    conditions.append({"type": "Ready", "status": "True" if ready else "False"})
    state: dict = {}
    if waiting:
        state = {"waiting": {"reason": waiting, "message": "not found"}}
    elif running:
        state = {"running": {"startedAt": _time(PLACED)}}
    statuses = []
    if node:
        statuses = [
            {
                "name": "main",
                "image": image,
                "state": state,
                "restartCount": restarts,
                "started": running,
            }
        ]
    metadata = {
        "name": name,
        "namespace": "alice",
        "uid": f"uid-{name}",
        "creationTimestamp": _time(PLACED),
        "resourceVersion": "10",
        **meta,
    }
    if owner:
        metadata["ownerReferences"] = [owner]
    spec: dict = {"containers": [{"name": "main", "image": image}]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "phase": "Running" if running else "Pending",
            "conditions": conditions,
            "containerStatuses": statuses,
        },
    }


def workload(
    kind: str, name: str = "web", replicas: int = 1, current: int | None = None, **status: object
) -> dict:
    """A workload wanting `replicas` Pods, with `current` of them in its status."""
    if current is not None:
        status["replicas"] = current
    return {
        "apiVersion": "batch/v1" if kind == "Job" else "apps/v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "alice",
            "uid": f"uid-{name}",
            "creationTimestamp": _time(PLACED),
            "generation": 1,
            "resourceVersion": "10",
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
        "status": {"observedGeneration": 1, **status},
    }


def owned_by(obj: dict) -> dict:
    return {
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
    }


def replicaset(deploy: dict, suffix: str, revision: int, ready: int = 0) -> dict:
    rs = workload("ReplicaSet", f"web-{suffix}", replicas=1, current=1, readyReplicas=ready)
    rs["metadata"]["ownerReferences"] = [owned_by(deploy)]
    rs["metadata"]["annotations"] = {tracker.REVISION: str(revision)}
    return rs


def track(kind: str, obj: dict, related=None, now: datetime = SOON, gone: bool = False):
    related = related or tracking.Related()
    line = tracking.timeline(kind, obj, related, now)
    return tracker.build(kind, line, now, obj, related, gone=gone)


def states(found: tracker.Tracker) -> list[tuple[str, str]]:
    return [(stop.key, stop.state) for stop in found.stops]


def commands(found: tracker.Tracker) -> list[str]:
    assert found.problem is not None
    return [advice.command for advice in found.problem.advice if advice.command]


# --- each stop ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "here", "news"),
    [
        (pod(), "shipped", "Waiting for the scheduler"),
        (pod(node="node-2"), "out", "Pulling the image, creating the container"),
        (pod(node="node-2", running=True), "delivered", "Running, not Ready yet"),
        (pod(node="node-2", running=True, ready=True), "delivered", ""),
    ],
    ids=["waiting-for-the-scheduler", "pulling", "running-not-ready", "running-and-ready"],
)
def test_a_pod_moves_along_the_six_stops(obj, here, news):
    found = track("Pod", obj)

    assert [stop.key for stop in found.stops] == STOPS
    assert found.now.key == here
    assert found.problem is None and not found.off_route
    at = STOPS.index(here)
    assert [state for _, state in states(found)[:at]] == ["done"] * at
    assert all(state == "waiting" for _, state in states(found)[at + 1 :])
    assert found.now.news == news
    if at > 3:
        assert found.stops[3].news == "Scheduled to node node-2"


def test_a_delivered_pod_stays_at_the_last_stop_marked_done():
    found = track("Pod", pod(node="node-2", running=True, ready=True))

    assert found.here == 5
    assert states(found)[-1] == ("delivered", "done")
    assert found.now.kube == "Running and Ready"


def test_each_stop_says_its_kubernetes_step():
    found = track("Pod", pod())

    words = {stop.key: stop.kube for stop in found.stops}
    assert "POST" in words["ordered"]
    assert "admitted" in words["checked"]
    assert "cluster store" in words["stored"]
    assert "spec.nodeName" in words["shipped"]
    assert "kubelet" in words["out"]
    assert words["delivered"] == "Running and Ready"


def test_a_kind_that_runs_nothing_has_no_shipping_stops():
    config = {"kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "alice"}}

    found = track("ConfigMap", config)

    assert states(found) == [
        ("ordered", "done"),
        ("checked", "done"),
        ("stored", "done"),
        ("delivered", "done"),
    ]
    assert found.now.kube == tracker.STORED_IS_DELIVERED


def test_a_deployment_waiting_for_its_replicaset_is_still_in_the_order_book():
    found = track("Deployment", workload("Deployment", replicas=2))

    assert found.now.key == "stored"
    assert found.now.state == "current"
    assert found.now.news == "Waiting for the deployment controller"


def test_a_deployment_half_started_is_out_for_delivery():
    deploy = workload("Deployment", replicas=2, current=0)
    rs = replicaset(deploy, "abc", 1)
    pods = [
        pod("web-abc-1", node="node-1", running=True, ready=True, owner=owned_by(rs)),
        pod("web-abc-2", node="node-2", owner=owned_by(rs)),
    ]

    found = track("Deployment", deploy, tracking.Related(pods=pods, replicasets=[rs]))

    assert found.now.key == "out"
    assert found.now.news == "1/2 Pods started"
    assert found.stops[3].state == "done"


# --- the problem state and what to do next --------------------------------------------------


def test_a_pod_whose_image_cannot_be_pulled_stops_out_for_delivery_with_the_fix():
    found = track("Pod", pod(node="node-2", waiting="ImagePullBackOff", image="nginx:nope"))

    assert found.now.key == "out" and found.now.state == "problem"
    assert found.stops[-1].state == "waiting"
    assert found.problem is not None
    assert (found.problem.kind, found.problem.shop) == ("image", "Supplier problem")
    assert found.problem.kube.startswith("ImagePullBackOff")
    assert commands(found) == [
        "kubectl set image pod/web main=IMAGE -n alice",
        "kubectl delete pod web -n alice",
    ]
    assert "nginx:nope" in found.problem.advice[0].text


def test_a_crashing_pod_stops_before_delivered_and_points_at_the_previous_log():
    found = track("Pod", pod(node="node-2", waiting="CrashLoopBackOff", restarts=3))

    assert found.now.key == "delivered" and found.now.state == "problem"
    assert found.stops[4].state == "done"
    assert found.problem is not None and found.problem.kind == "crash"
    assert commands(found)[0] == "kubectl logs web -c main --previous -n alice"
    assert "kubectl describe pod web -n alice" in commands(found)


def test_an_unschedulable_pod_stops_at_shipping_with_the_schedulers_words():
    message = "0/3 nodes are available: 3 Insufficient cpu."

    found = track("Pod", pod(unschedulable=message))

    assert found.now.key == "shipped" and found.now.state == "problem"
    assert found.problem is not None and found.problem.kind == "unschedulable"
    assert found.problem.detail == message
    assert commands(found) == [
        "kubectl describe pod web -n alice",
        "kubectl delete pod web -n alice",
    ]


def test_a_pod_pending_too_long_without_a_verdict_becomes_a_problem():
    patient = track("Pod", pod(), now=PLACED + timedelta(seconds=30))
    late = track("Pod", pod(), now=PLACED + tracker.PENDING_PATIENCE + timedelta(minutes=1))

    assert patient.problem is None and patient.now.state == "current"
    assert late.now.key == "shipped" and late.now.state == "problem"
    assert late.problem is not None and late.problem.kind == "pending"
    assert "3 minutes" in late.problem.kube
    assert commands(late) == ["kubectl describe pod web -n alice"]


def test_a_deployment_with_a_bad_image_is_told_to_set_the_image_and_follow_the_rollout():
    deploy = workload("Deployment", replicas=1)
    old, new = replicaset(deploy, "old", 1, ready=1), replicaset(deploy, "new", 2)
    pods = [pod("web-new-1", node="node-1", waiting="ErrImagePull", owner=owned_by(new))]

    found = track("Deployment", deploy, tracking.Related(pods=pods, replicasets=[old, new]))

    assert found.now.key == "out" and found.now.state == "problem"
    assert commands(found) == [
        "kubectl set image deployment/web main=IMAGE -n alice",
        "kubectl rollout undo deployment/web -n alice",
        "kubectl rollout status deployment/web -n alice",
    ]


def test_a_first_rollout_has_nothing_to_undo():
    deploy = workload("Deployment", replicas=1)
    rs = replicaset(deploy, "new", 1)
    pods = [pod("web-new-1", node="node-1", waiting="ErrImagePull", owner=owned_by(rs))]

    found = track("Deployment", deploy, tracking.Related(pods=pods, replicasets=[rs]))

    assert not any("rollout undo" in command for command in commands(found))


def test_a_replicaset_owned_by_a_deployment_sends_the_fix_to_its_owner():
    deploy = workload("Deployment")
    rs = replicaset(deploy, "abc", 1)
    pods = [pod("web-abc-1", node="node-1", waiting="ErrImagePull", owner=owned_by(rs))]

    found = track("ReplicaSet", rs, tracking.Related(pods=pods))

    assert found.problem is not None
    assert "Deployment web" in found.problem.advice[0].text
    assert commands(found)[0] == "kubectl set image deployment/web main=IMAGE -n alice"


def test_a_bare_replicaset_must_also_lose_its_broken_pods():
    rs = workload("ReplicaSet", "shelf", replicas=1, current=1)
    pods = [pod("shelf-x1", node="node-1", waiting="ErrImagePull", owner=owned_by(rs))]

    found = track("ReplicaSet", rs, tracking.Related(pods=pods))

    assert commands(found) == [
        "kubectl set image replicaset/shelf main=IMAGE -n alice",
        "kubectl delete pod shelf-x1 -n alice",
    ]


def test_a_job_with_a_bad_image_is_deleted_and_created_again():
    job = workload("Job", "pi")
    pods = [pod("pi-x1", node="node-1", waiting="ErrImagePull", owner=owned_by(job))]

    found = track("Job", job, tracking.Related(pods=pods))

    assert commands(found) == ["kubectl delete job pi -n alice"]


def test_a_stalled_deployment_is_a_problem_even_when_no_step_says_so():
    deploy = workload(
        "Deployment",
        replicas=2,
        conditions=[{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate"}],
    )

    found = track("Deployment", deploy)

    assert found.now.state == "problem"
    assert found.problem is not None and found.problem.kind == "stalled"
    assert "kubectl describe quota -n alice" in commands(found)


def test_a_gone_order_has_its_last_stops_but_no_advice():
    line = tracking.timeline(
        "Pod", pod(node="node-2", waiting="ErrImagePull"), tracking.Related(), SOON
    )
    remembered = tracking.recall(tracking.remember(line))
    assert remembered is not None

    found = tracker.build("Pod", remembered, SOON, gone=True)

    assert found.off_route == "gone"
    assert "404" in found.off_route_words
    assert found.problem is None
    assert found.stops[4].state == "problem"


def test_a_cancelled_order_leaves_the_route():
    found = track("Pod", pod(node="node-2", deletionTimestamp=_time(SOON)))

    assert found.off_route == "cancelled"
    assert found.off_route_words.startswith("Deleted: Terminating")
    assert found.problem is None


def test_a_statefulset_seat_stuck_on_its_image_is_a_problem_out_for_delivery():
    sts = workload("StatefulSet", "db", replicas=2, current=1)
    pods = [
        pod("db-0", node="node-1", running=True, ready=True, owner=owned_by(sts)),
        pod("db-1", node="node-2", waiting="ErrImagePull", owner=owned_by(sts)),
    ]

    found = track("StatefulSet", sts, tracking.Related(pods=pods))

    assert found.now.key == "out" and found.now.state == "problem"
    assert found.problem is not None and found.problem.shop == "Supplier problem"
    assert "kubectl delete pod db-1 -n alice" in commands(found)


# --- a workload's family --------------------------------------------------------------------


def test_a_deployments_tree_lists_its_replicasets_newest_first_with_their_pods():
    deploy = workload("Deployment", replicas=1, readyReplicas=1, current=1)
    old, new = replicaset(deploy, "old", 1), replicaset(deploy, "new", 2, ready=1)
    pods = [
        pod("web-new-1", node="node-3", running=True, ready=True, owner=owned_by(new)),
        pod(
            "web-old-1", node="node-1", waiting="CrashLoopBackOff", restarts=2, owner=owned_by(old)
        ),
        pod("stranger", node="node-1", running=True, ready=True),
    ]

    root = tracker.tree("Deployment", deploy, tracking.Related(pods=pods, replicasets=[old, new]))

    assert root is not None
    assert (root.kind, root.name, root.group, root.plural) == (
        "Deployment",
        "web",
        "apps",
        "deployments",
    )
    assert [(rs.name, rs.note, rs.words) for rs in root.children] == [
        ("web-new", "revision 2", "1/1 ready"),
        ("web-old", "revision 1", "0/1 ready"),
    ]
    (fresh,), (broken,) = (rs.children for rs in root.children)
    assert (fresh.name, fresh.words, fresh.tone, fresh.note) == (
        "web-new-1",
        "Running",
        "ok",
        "on node-3",
    )
    assert (broken.words, broken.tone, broken.note) == (
        "CrashLoopBackOff",
        "problem",
        "on node-1, 2 restarts",
    )


def test_a_replicaset_hangs_under_the_deployment_that_owns_it():
    deploy = workload("Deployment")
    rs = replicaset(deploy, "abc", 1)
    pods = [pod("web-abc-1", owner=owned_by(rs))]

    root = tracker.tree("ReplicaSet", rs, tracking.Related(pods=pods))

    assert root is not None
    assert (root.kind, root.name, root.words, root.note) == ("Deployment", "web", "", "its owner")
    (child,) = root.children
    assert (child.kind, child.name) == ("ReplicaSet", "web-abc")
    assert [(p.name, p.note) for p in child.children] == [("web-abc-1", "not scheduled yet")]


def test_only_workloads_have_a_tree():
    assert tracker.tree("Pod", pod(), tracking.Related()) is None
    assert tracker.tree("Service", {"metadata": {"name": "web"}}, tracking.Related()) is None


# --- on the tracking page, with a control plane on a hand-wound clock -----------------------


def test_the_tracking_page_draws_the_tracker_and_a_deployments_family(alice, plane):  # noqa: F811
    order(alice, deployment_manifest(replicas=2), "/order/apps/v1/deployments/")
    url = "/orders/alice/apps/v1/deployments/web/track/"
    plane.settle()

    early = poll(alice, url)
    plane.step(1, times=2)
    done = poll(alice, url)

    assert early.context["tracker"].now.key in ("shipped", "out")
    assert done.context["tracker"].now.key == "delivered"
    (rs,) = plane.api("GET", "/apis/apps/v1/namespaces/alice/replicasets")["items"]
    root = done.context["tree"]
    assert [child.name for child in root.children] == [rs["metadata"]["name"]]
    assert {pod.words for pod in root.children[0].children} == {"Running"}
    fragment = done.content.decode()
    assert 'data-stop="delivered"' in fragment
    assert f'href="/orders/alice/apps/v1/replicasets/{rs["metadata"]["name"]}/track/"' in fragment
    assert fragment.count('data-kind="Pod"') == 2


def test_a_replicaset_is_tracked_with_its_pods_under_its_deployment(alice, plane):  # noqa: F811
    order(alice, deployment_manifest(replicas=1), "/order/apps/v1/deployments/")
    plane.settle()
    plane.step(1, times=2)
    (rs,) = plane.api("GET", "/apis/apps/v1/namespaces/alice/replicasets")["items"]
    name = rs["metadata"]["name"]

    page = alice.get(f"/orders/alice/apps/v1/replicasets/{name}/track/")

    assert page.status_code == 200
    assert page.context["status"] == tracking.Status("Delivered", "1/1 ready", "ok", final=True)
    assert page.context["tracker"].now.key == "delivered"
    root = page.context["tree"]
    assert (root.kind, root.name) == ("Deployment", "web")
    (child,) = root.children
    assert child.name == name and len(child.children) == 1
    assert "shelf kept at a fixed count" in page.content.decode()
