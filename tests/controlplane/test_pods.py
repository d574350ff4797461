"""A Pod's delivery, step by step, through the API server."""

import pytest

from apiserver.models import AuditRecord
from tests.controlplane.conftest import pod_manifest, without_share

PODS = "/api/v1/namespaces/alice/pods"


def test_a_pod_goes_from_pending_to_running_with_the_real_events(cluster):
    cluster.api("POST", PODS, pod_manifest("web"))
    assert cluster.pod("web")["status"]["phase"] == "Pending"

    cluster.settle()
    pod = cluster.pod("web")
    assert pod["spec"]["nodeName"].startswith("node-")
    assert pod["status"]["phase"] == "Pending"
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ContainerCreating"

    cluster.step(1)
    assert cluster.pod("web")["status"]["phase"] == "Pending"
    cluster.step(1)

    pod = cluster.pod("web")
    status = pod["status"]
    assert status["phase"] == "Running"
    assert status["podIP"].startswith("10.244.")
    assert status["hostIP"].startswith("192.168.49.")
    assert status["startTime"]
    container = status["containerStatuses"][0]
    assert container["ready"] and container["started"]
    assert "running" in container["state"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {
        "PodScheduled": "True",
        "Initialized": "True",
        "PodReadyToStartContainers": "True",
        "ContainersReady": "True",
        "Ready": "True",
    }
    node = pod["spec"]["nodeName"]
    assert cluster.events("web") == [
        ("Normal", "Scheduled", f"Successfully assigned alice/web to {node}"),
        ("Normal", "Pulling", 'Pulling image "nginx:1.27"'),
        (
            "Normal",
            "Pulled",
            'Successfully pulled image "nginx:1.27" in 1.000s '
            "(1.000s including waiting). Image size: 72099410 bytes.",
        ),
        ("Normal", "Created", "Created container: web"),
        ("Normal", "Started", "Started container web"),
    ]
    sources = {e["reason"]: e["source"] for e in cluster.event_objects("web")}
    assert sources["Scheduled"] == {"component": "default-scheduler"}
    assert sources["Started"] == {"component": "kubelet", "host": node}


def test_the_control_plane_is_a_client_in_the_audit_log(cluster):
    cluster.api("POST", PODS, pod_manifest("web"))
    cluster.step(1, times=3)
    rows = AuditRecord.objects.filter(namespace="alice")
    scheduler = rows.filter(client="scheduler")
    binding = scheduler.filter(user="system:kube-scheduler", name="web", subresource="binding")
    assert binding.filter(verb="create", status_code=201).exists()
    assert scheduler.filter(verb="create", resource="events").exists()
    kubelet = rows.filter(client="kubelet", subresource="status", name="web")
    assert kubelet.filter(verb="update", user__startswith="system:node:node-").exists()
    assert AuditRecord.objects.filter(client="controller", verb="list", resource="pods").exists()


def _waiting(cluster, name: str) -> dict:
    return cluster.pod(name)["status"]["containerStatuses"][0]["state"].get("waiting", {})


def test_a_pod_too_big_for_any_node_stays_pending_with_failed_scheduling(cluster):
    without_share()
    cluster.api("POST", PODS, pod_manifest("huge", resources={"requests": {"cpu": "64"}}))
    cluster.settle()

    pod = cluster.pod("huge")
    assert "nodeName" not in pod["spec"]
    assert pod["status"]["phase"] == "Pending"
    message = "0/3 nodes are available: 3 Insufficient cpu."
    scheduled = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (scheduled["status"], scheduled["reason"], scheduled["message"]) == (
        "False",
        "Unschedulable",
        message,
    )
    assert cluster.events("huge") == [("Warning", "FailedScheduling", message)]

    cluster.step(5, times=3)
    assert [e["count"] for e in cluster.event_objects("huge")] == [1]
    cluster.step(60)
    assert [e["count"] for e in cluster.event_objects("huge")] == [2]
    assert "nodeName" not in cluster.pod("huge")["spec"]


def test_scheduler_names_every_reason_a_node_was_refused(cluster):
    without_share()
    cluster.api(
        "POST",
        PODS,
        pod_manifest(
            "picky", resources={"requests": {"memory": "64Gi"}}, nodeSelector={"disk": "ssd"}
        ),
    )
    cluster.settle()
    assert cluster.events("picky") == [
        (
            "Warning",
            "FailedScheduling",
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
        )
    ]


def test_an_image_that_does_not_exist_goes_err_image_pull_then_back_off(cluster):
    cluster.api("POST", PODS, pod_manifest("typo", image="nginx:does-not-exist"))
    cluster.settle()
    cluster.step(1)
    assert _waiting(cluster, "typo")["reason"] == "ErrImagePull"
    assert cluster.pod("typo")["status"]["phase"] == "Pending"

    cluster.step(1)
    waiting = _waiting(cluster, "typo")
    assert waiting == {
        "reason": "ImagePullBackOff",
        "message": 'Back-off pulling image "nginx:does-not-exist"',
    }
    full = "docker.io/library/nginx:does-not-exist"
    reasons = cluster.events("typo")
    assert reasons[1:] == [
        ("Normal", "Pulling", 'Pulling image "nginx:does-not-exist"'),
        (
            "Warning",
            "Failed",
            f'Failed to pull image "nginx:does-not-exist": rpc error: code = '
            f'NotFound desc = failed to pull and unpack image "{full}": failed'
            f' to resolve reference "{full}": {full}: not found',
        ),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", 'Back-off pulling image "nginx:does-not-exist"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]

    cluster.step(10)
    cluster.step(1)
    counts = {e["message"]: e["count"] for e in cluster.event_objects("typo")}
    assert counts['Pulling image "nginx:does-not-exist"'] == 2
    assert counts["Error: ErrImagePull"] == 2
    assert cluster.pod("typo")["status"]["phase"] == "Pending"


def test_a_crashing_container_restarts_into_crash_loop_back_off(cluster):
    cluster.api(
        "POST", PODS, pod_manifest("crash", image="busybox:1.36", command=["sh", "-c", "exit 1"])
    )
    cluster.settle()
    cluster.step(1, times=2)
    status = cluster.pod("crash")["status"]
    assert status["phase"] == "Running"
    assert "running" in status["containerStatuses"][0]["state"]

    cluster.step(1)
    container = cluster.pod("crash")["status"]["containerStatuses"][0]
    assert container["state"]["terminated"]["exitCode"] == 1
    assert container["state"]["terminated"]["reason"] == "Error"
    assert container["restartCount"] == 0

    cluster.step(1)
    container = cluster.pod("crash")["status"]["containerStatuses"][0]
    assert container["restartCount"] == 1
    assert "running" in container["state"]
    assert container["lastState"]["terminated"]["exitCode"] == 1

    cluster.step(1, times=2)
    pod = cluster.pod("crash")
    container = pod["status"]["containerStatuses"][0]
    assert container["restartCount"] == 1
    key = f"crash_alice({pod['metadata']['uid']})"
    assert container["state"]["waiting"] == {
        "reason": "CrashLoopBackOff",
        "message": f"back-off 10s restarting failed container=web pod={key}",
    }
    assert pod["status"]["phase"] == "Running"
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert cluster.events("crash")[-1] == (
        "Warning",
        "BackOff",
        f"Back-off restarting failed container web in pod {key}",
    )

    cluster.step(10)
    assert cluster.pod("crash")["status"]["containerStatuses"][0]["restartCount"] == 2
    cluster.step(1, times=2)
    waiting = _waiting(cluster, "crash")
    assert waiting["message"].startswith("back-off 20s ")
    started = [e for e in cluster.event_objects("crash") if e["reason"] == "Started"]
    assert [e["count"] for e in started] == [3]


@pytest.mark.parametrize(
    ("pull_policy", "pulls", "present"), [("IfNotPresent", 1, 1), ("Always", 2, 0)]
)
def test_a_restart_pulls_again_only_when_the_policy_is_always(cluster, pull_policy, pulls, present):
    manifest = pod_manifest("crash", image="busybox:1.36", command=["sh", "-c", "exit 1"])
    manifest["spec"]["containers"][0]["imagePullPolicy"] = pull_policy
    cluster.api("POST", PODS, manifest)
    cluster.settle()
    cluster.step(1, times=4)  # pulled, started, exited, started again
    assert cluster.pod("crash")["status"]["containerStatuses"][0]["restartCount"] == 1

    events = cluster.event_objects("crash")
    pulling = [e["count"] for e in events if e["reason"] == "Pulling"]
    already = [e for e in events if "already present on machine" in e["message"]]
    assert (sum(pulling), len(already)) == (pulls, present)
    assert [e["count"] for e in events if e["reason"] == "Started"] == [2]


def test_a_container_that_exits_zero_under_never_succeeds(cluster):
    cluster.api(
        "POST",
        PODS,
        pod_manifest(
            "once", image="busybox", command=["sh", "-c", "sleep 3; exit 0"], restartPolicy="Never"
        ),
    )
    cluster.settle()
    cluster.step(1, times=2)
    assert cluster.pod("once")["status"]["phase"] == "Running"
    cluster.step(1, times=2)
    assert cluster.pod("once")["status"]["phase"] == "Running"
    cluster.step(1)
    status = cluster.pod("once")["status"]
    assert status["phase"] == "Succeeded"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")


def test_a_container_that_fails_under_never_fails_the_pod(cluster):
    cluster.api(
        "POST",
        PODS,
        pod_manifest("oops", image="busybox", command=["false"], restartPolicy="Never"),
    )
    cluster.settle()
    cluster.step(1, times=3)
    status = cluster.pod("oops")["status"]
    assert status["phase"] == "Failed"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
    assert status["containerStatuses"][0]["restartCount"] == 0


def test_deleting_a_running_pod_terminates_it_gracefully(cluster):
    cluster.api("POST", PODS, pod_manifest("web"))
    cluster.settle()
    cluster.step(1, times=2)
    assert cluster.pod("web")["status"]["phase"] == "Running"

    cluster.api("DELETE", f"{PODS}/web")
    pod = cluster.pod("web")
    assert pod["metadata"]["deletionTimestamp"]
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30

    cluster.settle()
    assert cluster.events("web")[-1] == ("Normal", "Killing", "Stopping container web")
    assert cluster.call("GET", f"{PODS}/web").status == 200

    cluster.step(1)
    assert cluster.call("GET", f"{PODS}/web").status == 404
    final = AuditRecord.objects.filter(client="kubelet", verb="delete", name="web")
    assert final.filter(status_code=200).exists()


def test_a_second_pod_with_the_same_image_on_a_node_skips_the_pull(cluster):
    selector = {"kubernetes.io/hostname": "node-2"}
    cluster.api("POST", PODS, pod_manifest("first", nodeSelector=selector))
    cluster.step(1, times=3)
    cluster.api("POST", PODS, pod_manifest("second", nodeSelector=selector))
    cluster.settle()
    assert cluster.events("second")[1] == (
        "Normal",
        "Pulled",
        'Container image "nginx:1.27" already present on machine',
    )
    cluster.step(1)
    assert cluster.pod("second")["status"]["phase"] == "Running"
    assert cluster.pod("first")["status"]["podIP"] != cluster.pod("second")["status"]["podIP"]


def test_every_container_of_a_pod_is_delivered_and_the_pod_waits_for_the_slowest(cluster):
    manifest = pod_manifest("pair")
    manifest["spec"]["containers"].append(
        {"name": "helper", "image": "ghcr.io/nowhere/helper:1", "command": ["sleep", "infinity"]}
    )
    cluster.api("POST", PODS, manifest)
    cluster.settle()
    cluster.step(1, times=2)
    status = cluster.pod("pair")["status"]
    states = {c["name"]: c["state"] for c in status["containerStatuses"]}
    assert "running" in states["web"]
    assert states["helper"]["waiting"]["reason"] == "ImagePullBackOff"
    assert status["phase"] == "Pending"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["message"] == "containers with unready status: [helper]"


def test_init_containers_run_to_completion_before_the_app_container_starts(cluster):
    manifest = pod_manifest("layered")
    manifest["spec"]["initContainers"] = [
        {"name": "setup", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 2"]}
    ]
    cluster.api("POST", PODS, manifest)
    cluster.settle()
    status = cluster.pod("layered")["status"]
    assert status["phase"] == "Pending"
    initialized = next(c for c in status["conditions"] if c["type"] == "Initialized")
    assert (initialized["status"], initialized["reason"], initialized["message"]) == (
        "False",
        "ContainersNotInitialized",
        "containers with incomplete status: [setup]",
    )
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}

    cluster.step(1, times=2)
    assert "running" in cluster.pod("layered")["status"]["initContainerStatuses"][0]["state"]
    cluster.step(1, times=2)
    status = cluster.pod("layered")["status"]
    setup = status["initContainerStatuses"][0]
    assert setup["state"]["terminated"]["reason"] == "Completed"
    assert setup["ready"] is True
    cluster.step(1, times=2)
    assert cluster.pod("layered")["status"]["phase"] == "Running"
    paths = [
        (e["reason"], e["involvedObject"].get("fieldPath"))
        for e in sorted(
            cluster.event_objects("layered"),
            key=lambda e: int(e["metadata"]["name"].rsplit(".", 1)[1], 16),
        )
    ]
    assert paths == [
        ("Scheduled", None),
        ("Pulling", "spec.initContainers{setup}"),
        ("Pulled", "spec.initContainers{setup}"),
        ("Created", "spec.initContainers{setup}"),
        ("Started", "spec.initContainers{setup}"),
        ("Pulling", "spec.containers{web}"),
        ("Pulled", "spec.containers{web}"),
        ("Created", "spec.containers{web}"),
        ("Started", "spec.containers{web}"),
    ]


def test_a_failing_init_container_under_never_fails_the_pod(cluster):
    manifest = pod_manifest("broken", restartPolicy="Never")
    manifest["spec"]["initContainers"] = [
        {"name": "setup", "image": "busybox:1.36", "command": ["false"]}
    ]
    cluster.api("POST", PODS, manifest)
    cluster.settle()
    cluster.step(1, times=3)
    status = cluster.pod("broken")["status"]
    assert status["phase"] == "Failed"
    assert status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
    assert "Pulling" not in [r for _, r, m in cluster.events("broken") if "nginx" in m]


def test_after_an_api_outage_the_control_plane_catches_up_by_itself(cluster):
    import pytest

    from apiserver.client import ApiError
    from learning import faults

    cluster.api("POST", PODS, pod_manifest("web"))
    faults.start_scenario("outage", 60, "teacher")
    try:
        with pytest.raises(ApiError) as refused:
            cluster.driver.tick()
        assert refused.value.code == 503
    finally:
        faults.stop_scenario()
    cluster.settle()
    cluster.step(1, times=2)
    assert cluster.pod("web")["status"]["phase"] == "Running"
