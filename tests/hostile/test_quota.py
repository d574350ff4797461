"""Fair shares: each learner's namespace opens with a ResourceQuota and a LimitRange.

Two learners asking for 100000 replicas each get their share of Pods and no more, with a
FailedCreate event and a controller that backs off; a third learner's Pod is still
delivered. Refusals carry kube-apiserver's own wording, `kubectl describe quota` reads a
status.used that follows creates, deletes and finished Pods, and the lessons' examples
fit in the smallest share.
"""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from apiserver import accounts
from apiserver.models import ClusterUser
from apiserver.registry import kinds, store
from apiserver.server.kubeconfig import ensure_user
from catalog.shelf import WELL_KNOWN
from tests.apiserver.conftest import set_hard
from tests.controlplane.test_workloads import deployment
from tests.hostile.conftest import bobs_pod_ready, call_as, corrupt, order_bobs_pod, pod_manifest

PODS = "/api/v1/namespaces/alice/pods"
DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"
QUOTA = "/api/v1/namespaces/alice/resourcequotas/warehouse-quota"
LIMIT_RANGE = "/api/v1/namespaces/alice/limitranges/warehouse-defaults"


def _learner(name: str) -> ClusterUser:
    user = ClusterUser.objects.create(name=name, namespace=name)
    accounts.open_learner(user)
    return user


def _used(cluster) -> dict[str, str]:
    """status.used, the Used column of `kubectl describe quota`."""
    return cluster.api("GET", QUOTA)["status"]["used"]


def _refusal(cluster, body: dict, path: str = PODS) -> str:
    response = cluster.call("POST", path, body)
    assert response.status == 403, response.body
    assert response.body["reason"] == "Forbidden"
    return response.body["message"]


def _live_pods(cluster, namespace: str, user: ClusterUser) -> list[dict]:
    items = call_as(user, "GET", f"/api/v1/namespaces/{namespace}/pods").body["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


# The share itself -----------------------------------------------------------------------


def test_a_learners_namespace_opens_with_a_quota_and_limit_range(cluster):
    quota = cluster.api("GET", QUOTA)
    limits = cluster.api("GET", LIMIT_RANGE)

    # 3 nodes of 4 CPUs, 8Gi and 110 Pods, shared by the 30 learners expected.
    assert quota["spec"]["hard"] == {
        "pods": "11",
        "requests.cpu": "400m",
        "requests.memory": "819Mi",
        "limits.cpu": "1100m",
        "limits.memory": "1638Mi",
        "count/events": "1k",
        "warehouse.example/objects": "200",
    }
    assert quota["status"]["hard"] == quota["spec"]["hard"]
    assert quota["status"]["used"]["pods"] == "0"
    assert (
        quota["status"]["used"]["warehouse.example/objects"] == "3"
    )  # itself, the LimitRange, her RoleBinding
    assert limits["spec"]["limits"] == [
        {
            "type": "Container",
            "default": {"cpu": "100m", "memory": "128Mi"},
            "defaultRequest": {"cpu": "25m", "memory": "64Mi"},
        }
    ]


def test_the_share_follows_the_nodes_and_the_room_expected(settings):
    settings.WAREHOUSE_EXPECTED_LEARNERS = 3
    settings.WAREHOUSE_NODES = 2
    assert accounts.learner_hard()["pods"] == "73"
    assert accounts.learner_hard()["requests.cpu"] == "2666m"

    settings.WAREHOUSE_EXPECTED_LEARNERS = 10_000
    smallest = accounts.learner_hard()
    assert smallest["pods"] == str(accounts.LESSON_PODS)
    assert smallest["requests.cpu"] == "250m"  # ten Pods at the default request


def test_learners_get_a_share_and_instructors_do_not(cluster):
    ensure_user("dana")
    ensure_user("erin", instructor=True)

    assert [q["metadata"]["name"] for q in store.namespace_objects("/resourcequotas", "dana")] == [
        "warehouse-quota"
    ]
    assert store.namespace_objects("/resourcequotas", "erin") == []


def test_a_namespace_that_already_existed_is_left_as_it_was(cluster):
    accounts.ensure_namespace("demo", share=False)
    assert accounts.ensure_namespace("demo") is False

    assert store.namespace_objects("/resourcequotas", "demo") == []
    assert store.namespace_objects("/limitranges", "demo") == []


def test_namespaces_opened_before_shares_get_theirs_by_command(cluster):
    ClusterUser.objects.create(name="old", namespace="old")
    ClusterUser.objects.create(name="never", namespace="never")  # no namespace yet
    accounts.ensure_namespace("old", share=False)
    out = StringIO()

    call_command("learner_shares", stdout=out)
    call_command("learner_shares", stdout=out)

    assert out.getvalue() == "old: 2 object(s) created\n"
    assert len(store.namespace_objects("/resourcequotas", "old")) == 1
    assert len(store.namespace_objects("/limitranges", "old")) == 1


# Kubernetes' refusals -------------------------------------------------------------------


def test_a_pod_past_the_cpu_share_is_refused_in_kube_apiservers_words(cluster):
    hog = pod_manifest("hog", resources={"requests": {"cpu": "1"}, "limits": {"cpu": "1"}})

    assert _refusal(cluster, hog) == (
        'pods "hog" is forbidden: exceeded quota: warehouse-quota, '
        "requested: requests.cpu=1, used: requests.cpu=0, limited: requests.cpu=400m"
    )


def test_the_pod_past_the_pod_count_names_only_what_it_exceeds(cluster):
    set_hard("alice", {"pods": "2"})
    for name in ("one", "two"):
        cluster.api("POST", PODS, pod_manifest(name))

    assert _refusal(cluster, pod_manifest("three")) == (
        'pods "three" is forbidden: exceeded quota: warehouse-quota, '
        "requested: pods=1, used: pods=2, limited: pods=2"
    )


def test_every_exceeded_amount_is_listed_in_order(cluster):
    set_hard("alice", {"pods": "1", "requests.memory": "100Mi"})
    cluster.api("POST", PODS, pod_manifest("one"))
    big = pod_manifest("big", resources={"requests": {"memory": "64Mi"}})

    assert _refusal(cluster, big) == (
        'pods "big" is forbidden: exceeded quota: warehouse-quota, '
        "requested: pods=1,requests.memory=64Mi, used: pods=1,requests.memory=64Mi, "
        "limited: pods=1,requests.memory=100Mi"
    )


def test_without_a_limit_range_a_pod_must_state_what_the_quota_limits(cluster):
    store.delete(kinds.lookup("", "v1", "limitranges"), "alice", accounts.LIMIT_RANGE_NAME)

    assert _refusal(cluster, pod_manifest("bare")) == (
        'pods "bare" is forbidden: failed quota: warehouse-quota: must specify '
        "limits.cpu,limits.memory,requests.cpu,requests.memory"
    )
    half = pod_manifest("half", resources={"limits": {"cpu": "100m", "memory": "64Mi"}})
    # A limit stands for the request it leaves out, as API defaulting makes it.
    assert cluster.call("POST", PODS, half).status == 201
    some = pod_manifest("some", resources={"requests": {"cpu": "10m"}})
    assert _refusal(cluster, some).endswith("must specify limits.cpu,limits.memory,requests.memory")


def test_events_have_their_own_count(cluster):
    set_hard("alice", {"count/events": "1"})
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "note"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "alice"},
        "reason": "Noted",
        "message": "a note",
        "type": "Normal",
    }
    cluster.api("POST", "/api/v1/namespaces/alice/events", event)
    event["metadata"]["name"] = "another"

    assert _refusal(cluster, event, "/api/v1/namespaces/alice/events") == (
        'events "another" is forbidden: exceeded quota: warehouse-quota, '
        "requested: count/events=1, used: count/events=1, limited: count/events=1"
    )


# LimitRange defaults --------------------------------------------------------------------


def test_the_limit_range_fills_in_what_containers_leave_out(cluster):
    body = pod_manifest("web")
    body["spec"]["initContainers"] = [
        {"name": "setup", "image": "busybox:1.36", "resources": {"requests": {"cpu": "50m"}}}
    ]
    pod = cluster.api("POST", PODS, body)

    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "25m", "memory": "64Mi"},
        "limits": {"cpu": "100m", "memory": "128Mi"},
    }
    assert pod["spec"]["initContainers"][0]["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "100m", "memory": "128Mi"},
    }
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: memory request for init container setup; cpu, memory limit "
        "for init container setup; cpu, memory request for container web; cpu, memory limit "
        "for container web"
    )


def test_a_stated_limit_is_the_request_it_leaves_out(cluster):
    body = pod_manifest("web", resources={"limits": {"cpu": "200m"}})
    pod = cluster.api("POST", PODS, body)

    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "200m", "memory": "64Mi"},
        "limits": {"cpu": "200m", "memory": "128Mi"},
    }


# describe quota: Used against Hard ------------------------------------------------------


def test_status_used_follows_creates_deletes_and_finished_pods(cluster):
    cluster.api("POST", PODS, pod_manifest("a"))
    cluster.api("POST", PODS, pod_manifest("b", resources={"requests": {"cpu": "100m"}}))
    cluster.api("POST", "/api/v1/namespaces/alice/configmaps", {"metadata": {"name": "c"}})

    used = _used(cluster)
    assert {k: used[k] for k in ("pods", "requests.cpu", "requests.memory", "limits.cpu")} == {
        "pods": "2",
        "requests.cpu": "125m",
        "requests.memory": "128Mi",
        "limits.cpu": "200m",
    }
    # With the quota, the LimitRange and her RoleBinding:
    assert used["warehouse.example/objects"] == "6"

    cluster.api("DELETE", f"{PODS}/b")
    used = _used(cluster)
    assert (used["pods"], used["requests.cpu"], used["warehouse.example/objects"]) == (
        "1",
        "25m",
        "5",
    )

    def finished(pod: dict) -> dict:
        pod["status"] = {"phase": "Succeeded"}
        return pod

    corrupt("", "v1", "pods", "alice", "a", finished)
    used = _used(cluster)
    # A finished Pod holds no compute and no Pod slot, but is still an object.
    assert (used["pods"], used["requests.cpu"], used["warehouse.example/objects"]) == (
        "0",
        "0",
        "5",
    )


def test_status_used_is_measured_whatever_a_writer_claims(cluster):
    cluster.api("POST", PODS, pod_manifest("a"))
    quota = cluster.api("GET", QUOTA)
    quota["status"]["used"]["pods"] = "0"
    kind = kinds.lookup("", "v1", "resourcequotas")

    written, _ = store.update(kind, "alice", "warehouse-quota", lambda current: quota)

    assert written["status"]["used"]["pods"] == "1"


# The squeeze ----------------------------------------------------------------------------


def test_two_learners_asking_for_100000_replicas_leave_a_third_room(cluster, bob):
    mallory = _learner("mallory")
    cluster.api("POST", DEPLOYMENTS, deployment("flood", replicas=100_000))
    flood = deployment("flood", replicas=100_000)
    answer = call_as(mallory, "POST", "/apis/apps/v1/namespaces/mallory/deployments", flood)
    assert answer.status == 201, answer.body

    cluster.settle()
    cluster.step(1.0, times=3)
    order_bobs_pod(bob)
    cluster.step(1.0, times=6)

    assert bobs_pod_ready(bob)
    assert len(_live_pods(cluster, "alice", cluster.alice)) == 11
    assert len(_live_pods(cluster, "mallory", mallory)) == 11
    failures = [
        e
        for e in cluster.api("GET", "/api/v1/namespaces/alice/events")["items"]
        if e["reason"] == "FailedCreate"
    ]
    assert failures and failures[0]["involvedObject"]["kind"] == "ReplicaSet"
    # Eleven Pods at the default limit use up limits.cpu too: both are named.
    assert re.fullmatch(
        r'Error creating: pods "flood-\w+-\w+" is forbidden: exceeded quota: warehouse-quota, '
        r"requested: limits.cpu=100m,pods=1, used: limits.cpu=1100m,pods=11, "
        r"limited: limits.cpu=1100m,pods=11",
        failures[0]["message"],
    )


def test_a_controller_refused_by_a_quota_backs_off_instead_of_spinning(cluster):
    set_hard("alice", {"pods": "1"})
    cluster.api("POST", DEPLOYMENTS, deployment("web", replicas=3))
    cluster.settle()
    replicasets = cluster.plane.controllers.controllers[1]
    assert replicasets.kind == "ReplicaSet"

    refused = _refused_creates(cluster)
    cluster.step(1.0, times=30)

    # Tried again after 1 s, 2 s, 4 s ... : a handful of times in 30 s, not 30 or more.
    again = _refused_creates(cluster) - refused
    assert 1 <= again <= 6
    assert max(f.count for f in replicasets.retries.failures.values()) >= 4


def _refused_creates(cluster) -> int:
    events = cluster.api("GET", "/api/v1/namespaces/alice/events")["items"]
    return sum(e.get("count", 1) for e in events if e["reason"] == "FailedCreate")


def test_room_freed_by_a_delete_is_taken_up_after_the_backoff(cluster):
    set_hard("alice", {"pods": "2"})
    cluster.api("POST", PODS, pod_manifest("mine"))
    cluster.api("POST", DEPLOYMENTS, deployment("web", replicas=2))
    cluster.settle()
    assert len(cluster.pods("app=web")) == 1

    cluster.api("DELETE", f"{PODS}/mine", gracePeriodSeconds="0")
    cluster.step(1.0, times=40)

    assert len([p for p in cluster.pods("app=web") if p["status"].get("phase")]) == 2


# The lessons fit ------------------------------------------------------------------------


def _lesson_examples() -> list[tuple[str, dict]]:
    """The lessons' objects (a Deployment of 3, the web Pod, a bad image) and the shop's
    well-known examples, all at once in one namespace."""
    bad = pod_manifest("bad", image="nginx:does-not-exist")
    examples = [("/apis/apps/v1/namespaces/alice/deployments", deployment("shop", 3))]
    examples.append((PODS, bad))
    for (api_version, kind), manifest in WELL_KNOWN.items():
        if kind == "Namespace":
            continue
        plural = kinds.by_api_version_kind(api_version, kind).plural
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        body = {**manifest, "metadata": {**manifest["metadata"], "namespace": "alice"}}
        examples.append((f"{prefix}/namespaces/alice/{plural}", body))
    return examples


@pytest.mark.parametrize("learners", [30, 10_000])
def test_every_lessons_example_fits_in_a_share(cluster, settings, learners):
    settings.WAREHOUSE_EXPECTED_LEARNERS = learners
    set_hard("alice", accounts.learner_hard())
    for path, body in _lesson_examples():
        cluster.api("POST", path, body)

    cluster.step(1.0, times=8)

    events = cluster.api("GET", "/api/v1/namespaces/alice/events")["items"]
    assert [e["message"] for e in events if e["reason"] == "FailedCreate"] == []
    assert [e["message"] for e in events if e["reason"] == "FailedScheduling"] == []
