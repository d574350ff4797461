"""Alice tracks her orders while a control plane on a hand-wound clock delivers them.

Orders are placed through the shop's order form; the control plane (scheduler, kubelets,
controllers) steps only when a test moves the FakeClock, so every timeline is exact.
"""

import json
import random
from datetime import UTC, datetime

import pytest

from apiserver.pipeline import ApiResponse
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver
from shop import tracking
from tests.controlplane.conftest import Cluster, pod_manifest, without_share
from tests.shop.conftest import learner

HTMX = {"HX-Request": "true"}
TRACK_WEB = "/orders/alice/core/v1/pods/web/track/"
POD_FORM = "/order/core/v1/pods/"


@pytest.fixture
def plane(alice) -> Cluster:
    return alices_cluster()


def alices_cluster() -> Cluster:
    """Alice's cluster: three nodes, deliveries one second per kubelet step, a fixed seed."""
    clock = FakeClock()
    config = Config(nodes=3, timing=Timing(step=1.0, backoff=10.0))
    control = ControlPlane(clock=clock, config=config, rng=random.Random(7))
    control.start()
    return Cluster(plane=control, clock=clock, alice=learner("alice"), driver=Driver(control))


def order(client, manifest: dict, url: str = POD_FORM) -> None:
    """Place an order through the shop's form, as alice would (JSON is YAML too)."""
    response = client.post(url, {"manifest": json.dumps(manifest)})
    assert response.status_code == 302, response.content.decode()[:3000]


def poll(client, url: str = TRACK_WEB, seen: str = ""):
    """What htmx fetches every second."""
    query = f"?seen={seen}" if seen else ""
    return client.get(url + query, headers=HTMX)


def steps(response) -> list[tuple[str, str, str]]:
    """(shop step, Kubernetes step, state) of each line of the timeline."""
    return [(s.shop, s.api, s.state) for s in response.context["line"].steps]


def test_a_new_pod_is_tracked_from_the_post_to_running_and_ready(alice, plane):
    order(alice, pod_manifest("web"))

    page = alice.get(TRACK_WEB)

    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" in html
    assert page.context["status"].shop == "In the order book"
    assert steps(page)[:3] == [
        ("Order placed", "POST accepted", "done"),
        ("Checks passed", "Authenticated, authorized, admitted", "done"),
        ("In the order book", "Persisted to the cluster store", "done"),
    ]
    assert steps(page)[3] == ("Shipped", "Scheduled to a node", "current")
    assert 'sse-connect="/orders/alice/core/v1/pods/web/track/events/"' in html
    assert "hx-trigger" not in html  # watched, not polled
    assert "kubectl get pods web -n alice --watch" in html
    assert 'aria-live="polite"' in html
    assert "sent by alice (browser)" in html
    first = page.context["line"].steps[2].detail
    assert first.startswith("Written to the cluster store at resourceVersion ")

    plane.settle()
    shipped = poll(alice)
    node = plane.pod("web")["spec"]["nodeName"]
    assert shipped.status_code == 200
    assert steps(shipped)[3] == ("Shipped", f"Scheduled to node {node}", "done")
    assert steps(shipped)[4][0] == "Out for delivery"
    assert shipped.context["status"].kube == "ContainerCreating"

    plane.step(1, times=2)
    delivered = poll(alice)

    fragment = delivered.content.decode()
    assert delivered.status_code == 286
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div class="tracker-layout">')
    assert '<section id="tracker"' in fragment and 'data-stop="delivered"' in fragment
    assert '<section id="timeline"' in fragment
    assert 'data-final="true"' in fragment
    assert steps(delivered)[-1] == ("Delivered", "Running and Ready", "done")
    assert delivered.context["status"] == tracking.Status(
        "Delivered", "Running and Ready", "ok", final=True
    )
    assert [row["reason"] for row in delivered.context["line"].events] == [
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    ]
    assert "Successfully assigned alice/web to node-" in fragment
    assert "Check again" in fragment
    assert 'id="object-yaml" class="shop-pre" hx-swap-oob="true"' in fragment
    assert "phase: Running" in fragment


def test_the_full_page_and_the_htmx_fragment(alice, plane):
    order(alice, pod_manifest("web"))

    full = alice.get(TRACK_WEB).content.decode()
    fragment = poll(alice).content.decode()

    assert "<html" in full and "Where the analogy breaks" in full
    assert "restarted where it stands by the kubelet" in full
    assert "kubectl get pods web -n alice --watch" in full
    assert f'href="{TRACK_WEB}"' in full
    assert 'sse-swap="ADDED,MODIFIED,DELETED,SYNC"' in full
    assert "<html" not in fragment
    assert "Where the analogy breaks" not in fragment
    assert 'id="current-step"' in fragment and 'hx-swap-oob="innerHTML"' in fragment


def test_the_current_step_is_announced_only_when_it_changed(alice, plane):
    order(alice, pod_manifest("web"))
    signature = alice.get(TRACK_WEB).context["status"].signature

    unchanged = poll(alice, seen=signature).content.decode()
    plane.settle()
    changed = poll(alice, seen=signature).content.decode()

    assert 'id="current-step"' not in unchanged
    assert 'id="current-step"' in changed
    assert "Out for delivery" in changed


def test_a_pod_too_big_for_every_node_is_delayed_with_the_schedulers_message(alice, plane):
    without_share("alice")  # 64 CPUs is past any learner's quota, let alone a node
    order(alice, pod_manifest("web", resources={"requests": {"cpu": "64"}}))
    plane.settle()

    response = poll(alice)

    assert response.status_code == 200
    assert response.context["status"].shop == "Delayed"
    assert steps(response)[3] == ("Delayed", "Unschedulable (FailedScheduling)", "problem")
    line = response.context["line"]
    assert line.steps[3].detail == "0/3 nodes are available: 3 Insufficient cpu."
    assert [(e["type"], e["reason"]) for e in line.events] == [("Warning", "FailedScheduling")]


def test_a_bad_image_is_an_address_problem_not_yet_final(alice, plane):
    order(alice, pod_manifest("web", image="nginx:does-not-exist"))
    plane.settle()
    plane.step(1)

    first = poll(alice)
    plane.step(1)
    later = poll(alice)

    assert first.context["status"] == tracking.Status("Supplier problem", "ErrImagePull", "problem")
    assert later.context["status"].kube == "ImagePullBackOff"
    shop, api_step, state = steps(later)[4]
    assert (shop, state) == ("Supplier problem", "problem")
    assert api_step.startswith("ImagePullBackOff")
    assert "not found" in later.context["line"].steps[4].detail
    assert later.status_code == 200
    reasons = {row["reason"] for row in later.context["line"].events}
    assert {"Pulling", "Failed", "BackOff"} <= reasons


def test_a_crashing_container_is_returned_damaged_with_its_restart_count(alice, plane):
    order(alice, pod_manifest("web", image="busybox:1.36", command=["sh", "-c", "exit 1"]))
    plane.settle()
    plane.step(1, times=6)

    response = poll(alice)

    status = response.context["status"]
    assert (status.shop, status.kube) == ("Returned damaged", "CrashLoopBackOff (1 restarts)")
    assert steps(response)[-1] == (
        "Returned damaged",
        "CrashLoopBackOff: restarted 1 time",
        "problem",
    )
    assert "Back-off restarting failed container web" in response.context["line"].steps[-1].detail
    assert response.status_code == 200


def test_a_cancelled_pod_terminates_then_is_shown_gone_with_its_last_state(alice, plane):
    order(alice, pod_manifest("web"))
    plane.settle()
    plane.step(1, times=2)
    alice.get(TRACK_WEB)
    alice.post("/orders/alice/core/v1/pods/web/delete/")

    terminating = poll(alice)
    plane.settle()
    plane.step(1)
    gone_fragment = poll(alice)
    gone_page = alice.get(TRACK_WEB)

    assert terminating.status_code == 200
    assert terminating.context["status"] == tracking.Status("Cancelled", "Terminating", "gone")
    shop, api_step, state = steps(terminating)[-1]
    assert (shop, state) == ("Cancelled", "current")
    assert api_step == "Deleted: Terminating (grace period 30s)"
    assert gone_fragment.status_code == 286
    assert gone_page.status_code == 404
    html = gone_page.content.decode()
    assert "This order no longer exists." in html
    assert "the last state this browser saw" in html
    assert "Cancelled and gone" in html
    assert "Deleted (NotFound)" in html
    assert ("Cancelled", "Deleted: Terminating (grace period 30s)", "current") in steps(gone_page)


def test_an_order_never_seen_here_is_gone_without_a_last_state(alice, plane):
    response = alice.get("/orders/alice/core/v1/pods/never/track/")

    assert response.status_code == 404
    assert "This order no longer exists." in response.content.decode()
    assert response.context["line"] is None


def _deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def test_a_deployment_is_packed_shipped_and_delivered_then_scaled(alice, plane):
    order(alice, _deployment(2), "/order/apps/v1/deployments/")
    url = "/orders/alice/apps/v1/deployments/web/track/"
    plane.settle()

    packed = poll(alice, url)
    plane.step(1, times=2)
    delivered = poll(alice, url)
    plane.api("PATCH", "/apis/apps/v1/namespaces/alice/deployments/web", {"spec": {"replicas": 3}})
    plane.settle()
    scaling = poll(alice, url)
    plane.step(1, times=2)
    scaled = poll(alice, url)

    (rs,) = plane.api("GET", "/apis/apps/v1/namespaces/alice/replicasets")["items"]
    rs_name = rs["metadata"]["name"]
    placed = packed.context["line"].steps[0].detail
    assert placed.startswith("POST /apis/apps/v1/namespaces/alice/deployments → 201 Created")
    assert steps(packed)[3] == ("Packed", f"ReplicaSet {rs_name} created", "done")
    assert steps(packed)[4] == ("Shipped", "2/2 Pods scheduled to nodes", "done")
    assert steps(packed)[5] == ("Out for delivery", "0/2 Pods started", "current")
    assert packed.context["status"].kube == "0/2 ready"
    assert delivered.status_code == 286
    assert steps(delivered)[-1] == ("Delivered", "2/2 available (availableReplicas)", "done")
    assert scaling.status_code == 200
    assert scaling.context["status"] == tracking.Status("Out for delivery", "2/3 ready")
    assert steps(scaling)[4] == ("Shipped", "3/3 Pods scheduled to nodes", "done")
    assert scaled.status_code == 286
    assert scaled.context["status"].kube == "3/3 available"
    events = {(row["object"], row["reason"]) for row in scaled.context["line"].events}
    assert ("Deployment/web", "ScalingReplicaSet") in events
    assert (f"ReplicaSet/{rs_name}", "SuccessfulCreate") in events
    assert any(obj.startswith("Pod/web-") and r == "Started" for obj, r in events)
    assert "standing order" in alice.get(url).content.decode()


def test_a_job_is_delivered_when_complete(alice, plane):
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "work", "image": "busybox:1.36", "command": ["sh", "-c", "exit 0"]}
                    ],
                }
            }
        },
    }
    order(alice, job, "/order/batch/v1/jobs/")
    url = "/orders/alice/batch/v1/jobs/pi/track/"
    plane.settle()

    running = poll(alice, url)
    plane.step(1, times=5)
    done = poll(alice, url)

    assert running.context["status"].shop in ("In the order book", "Out for delivery")
    assert steps(running)[3] == ("Packed", "1 Pod(s) created", "done")
    assert done.status_code == 286
    assert done.context["status"] == tracking.Status(
        "Delivered", "Complete (1/1)", "ok", final=True
    )
    assert steps(done)[-1] == ("Delivered", "Complete: 1/1 succeeded", "done")
    assert ("Job/pi", "Completed") in {
        (row["object"], row["reason"]) for row in done.context["line"].events
    }


def test_a_service_gets_an_address_then_ready_endpoints(alice, plane):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shopfront"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    order(alice, service, "/order/core/v1/services/")
    url = "/orders/alice/core/v1/services/shopfront/track/"
    plane.settle()

    waiting = poll(alice, url)
    order(alice, pod_manifest("web"))
    plane.settle()
    plane.step(1, times=2)
    ready = poll(alice, url)

    ip = plane.api("GET", "/api/v1/namespaces/alice/services/shopfront")["spec"]["clusterIP"]
    assert steps(waiting)[3] == ("Counter number assigned", f"Cluster IP {ip} assigned", "done")
    assert steps(waiting)[4] == ("Waiting for stock", "No ready endpoints", "current")
    assert waiting.status_code == 200
    assert ready.status_code == 286
    assert steps(ready)[4] == ("Delivered", "Endpoints ready: 1 Pod address(es)", "done")
    rows = {row["name"]: row for row in alice.get("/orders/").context["rows"]}
    assert (rows["shopfront"]["step"], rows["shopfront"]["status"]) == (
        "Delivered",
        "1 endpoint(s) ready",
    )


def test_your_orders_uses_the_tracking_words_and_links_to_tracking(alice, plane):
    order(alice, pod_manifest("web"))
    order(alice, _deployment(1), "/order/apps/v1/deployments/")
    plane.settle()
    plane.step(1, times=2)

    response = alice.get("/orders/")

    rows = {(row["kind"], row["name"]): row for row in response.context["rows"]}
    pod = rows[("Pod", "web")]
    assert (pod["step"], pod["status"]) == ("Delivered", "Running and Ready")
    tracked = alice.get(pod["track_url"]).context["status"]
    assert (tracked.shop, tracked.kube) == (pod["step"], pod["status"])
    page = response.content.decode()
    assert f'href="{TRACK_WEB}"' in page
    assert 'href="/orders/alice/apps/v1/deployments/web/track/"' in page
    assert (rows[("Deployment", "web")]["step"], rows[("Deployment", "web")]["status"]) == (
        "Delivered",
        "1/1 available",
    )
    receipt = alice.get("/orders/alice/core/v1/pods/web/").content.decode()
    assert f'href="{TRACK_WEB}"' in receipt
    assert "Delivered" in receipt


def test_bob_gets_a_friendly_refusal_for_alices_order(alice, bob, plane):
    order(alice, pod_manifest("web"))

    page = bob.get(TRACK_WEB)
    fragment = poll(bob)

    assert page.status_code == 403
    html = page.content.decode()
    assert "This is not your order." in html
    assert "namespace <code>bob</code>" in html
    assert "web" not in page.context["object_yaml"]
    assert page.context["line"] is None
    assert fragment.status_code == 286
    assert "<html" not in fragment.content.decode()
    assert "hx-trigger" not in fragment.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(shopper):
    response = shopper.get(TRACK_WEB)

    assert response.status_code == 302
    assert response["Location"].startswith("/learner/?next=")


def test_an_unknown_product_is_a_plain_404(alice):
    assert alice.get("/orders/alice/core/v1/widgets/web/track/").status_code == 404


def test_an_api_outage_keeps_the_last_timeline(alice, plane, monkeypatch):
    order(alice, pod_manifest("web"))
    alice.get(TRACK_WEB)
    busy = {"kind": "Status", "status": "Failure", "reason": "ServiceUnavailable", "code": 503}
    monkeypatch.setattr("apiserver.pipeline.handle", lambda request: ApiResponse(503, busy))

    page = alice.get(TRACK_WEB)
    fragment = poll(alice)

    assert page.status_code == 200
    assert "could not check on this order just now" in page.content.decode()
    assert steps(page)[0] == ("Order placed", "POST accepted", "done")
    assert fragment.status_code == 200


def test_user_supplied_text_is_escaped(alice, plane):
    order(alice, pod_manifest("web", labels={"note": "x"}, image="<b>bold</b>"))
    plane.settle()
    plane.step(1)

    html = alice.get(TRACK_WEB).content.decode()

    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("kind", "obj", "expected"),
    [
        ("Pod", {"status": {"phase": "Succeeded"}}, ("Delivered", "Succeeded", True)),
        (
            "Pod",
            {
                "status": {
                    "phase": "Failed",
                    "containerStatuses": [
                        {"state": {"terminated": {"reason": "Error", "exitCode": 1}}}
                    ],
                }
            },
            ("Returned", "Failed (Error)", True),
        ),
        ("Pod", {"metadata": {"deletionTimestamp": "x"}}, ("Cancelled", "Terminating", False)),
        ("Pod", {}, ("In the order book", "Pending", False)),
        ("Service", {"spec": {"type": "ExternalName"}}, ("Delivered", "ExternalName", True)),
        (
            "Service",
            {"spec": {"clusterIP": "10.96.0.9"}},
            ("Delivered", "No selector (endpoints are yours to fill)", True),
        ),
        (
            "Job",
            {
                "status": {
                    "conditions": [{"type": "Failed", "status": "True", "reason": "Deadline"}]
                }
            },
            ("Returned", "Failed (Deadline)", True),
        ),
        ("Deployment", {"spec": {"replicas": 0}}, ("Delivered", "0/0 available", True)),
        ("ConfigMap", {"data": {}}, ("In the order book", "Stored", True)),
        ("", {"spec": {}}, ("In the order book", "Stored", True)),
    ],
)
def test_status_words_from_hand_made_objects(kind, obj, expected):
    status = tracking.status_of(kind, obj)

    assert (status.shop, status.kube, status.final) == expected


def test_a_remembered_timeline_survives_a_broken_session_value():
    assert tracking.recall({"status": "nonsense"}) is None
    assert tracking.recall(None) is None


@pytest.mark.parametrize(
    ("phase", "state", "last"),
    [
        (
            "Succeeded",
            {"terminated": {"reason": "Completed", "exitCode": 0}},
            ("Delivered", "done"),
        ),
        ("Failed", {"terminated": {"reason": "Error", "exitCode": 1}}, ("Returned", "problem")),
    ],
)
def test_a_finished_pod_from_hand_made_objects(phase, state, last):
    pod = {
        "metadata": {"creationTimestamp": "2026-01-01T12:00:00Z", "resourceVersion": "9"},
        "spec": {"nodeName": "node-2"},
        "status": {
            "phase": phase,
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastTransitionTime": "2026-01-01T12:00:01Z",
                }
            ],
            "containerStatuses": [{"name": "main", "state": state, "restartCount": 0}],
        },
    }

    line = tracking.timeline("Pod", pod, tracking.Related(), datetime.now(UTC))

    assert [(s.shop, s.state) for s in line.steps[3:]] == [
        ("Shipped", "done"),
        ("Out for delivery", "done"),
        last,
    ]
    assert line.steps[3].when == datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)
    assert line.status.final


def test_a_pods_tracking_page_shows_what_its_container_says(alice, plane):
    order(alice, pod_manifest("web"))

    waiting = alice.get(TRACK_WEB).content.decode()
    assert "What the container says" in waiting
    assert "kubectl logs web -n alice" in waiting
    assert "is waiting to start: ContainerCreating" in waiting

    plane.settle()
    plane.step(1, times=2)
    running = alice.get(TRACK_WEB).content.decode()
    assert plane.pod("web")["status"]["phase"] == "Running"
    assert "start worker processes" in running
    assert page_log(running) == plane_log(plane)


def page_log(html: str) -> str:
    start = html.index('<div id="pod-log"')
    return html[html.index("<code>", start) + 6 : html.index("</code>", start)]


def plane_log(plane) -> str:
    """The same log through the API as kubectl logs reads it, HTML-escaped as the page is."""
    from django.utils.html import escape

    from apiserver.pipeline import ApiRequest, handle

    response = handle(
        ApiRequest(
            method="GET",
            path="/api/v1/namespaces/alice/pods/web/log",
            query={"tailLines": "20"},
            user=learner("alice"),
        )
    )
    return escape(response.content().decode())
