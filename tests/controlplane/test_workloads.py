"""Deployments, ReplicaSets, Jobs and Services, reconciled through the API server."""

import re

from apiserver.models import AuditRecord
from tests.apiserver.conftest import set_hard

DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"
JOBS = "/apis/batch/v1/namespaces/alice/jobs"


def deployment(name: str = "web", replicas: int = 3, image: str = "nginx:1.27") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "ports": [{"containerPort": 80, "name": "http"}],
                        }
                    ]
                },
            },
        },
    }


def _replicasets(cluster) -> list[dict]:
    return cluster.api("GET", "/apis/apps/v1/namespaces/alice/replicasets")["items"]


def _live(pods: list[dict]) -> list[dict]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def test_a_deployment_makes_a_replicaset_that_makes_running_pods(cluster):
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=3))
    cluster.settle()

    (rs,) = _replicasets(cluster)
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{6,10}", pod_hash)
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    owner = rs["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Deployment", "web", True)
    pods = cluster.pods("app=web")
    assert len(pods) == 3
    for pod in pods:
        assert re.fullmatch(
            rf"web-{pod_hash}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", pod["metadata"]["name"]
        )
        assert pod["metadata"]["labels"]["pod-template-hash"] == pod_hash
        assert pod["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]

    cluster.step(1, times=2)
    assert {p["status"]["phase"] for p in cluster.pods("app=web")} == {"Running"}
    deploy = cluster.api("GET", f"{DEPLOYMENTS}/web")
    status = deploy["status"]
    assert (
        status["replicas"],
        status["readyReplicas"],
        status["availableReplicas"],
        status["updatedReplicas"],
    ) == (3, 3, 3, 3)
    assert status["observedGeneration"] == deploy["metadata"]["generation"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    rs_name = rs["metadata"]["name"]
    assert cluster.events("web", kind="Deployment") == [
        ("Normal", "ScalingReplicaSet", f"Scaled up replica set {rs_name} from 0 to 3")
    ]
    created = cluster.events(rs_name, kind="ReplicaSet")
    assert sorted(created) == sorted(
        ("Normal", "SuccessfulCreate", f"Created pod: {p['metadata']['name']}") for p in pods
    )
    assert (
        AuditRecord.objects.filter(
            client="controller",
            verb="create",
            resource="pods",
            user="system:kube-controller-manager",
        ).count()
        == 3
    )


def test_scaling_a_deployment_three_five_one(cluster):
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=3))
    cluster.step(1, times=3)
    (rs,) = _replicasets(cluster)
    rs_name = rs["metadata"]["name"]

    cluster.api("PATCH", f"{DEPLOYMENTS}/web", {"spec": {"replicas": 5}})
    cluster.settle()
    assert len(cluster.pods("app=web")) == 5
    cluster.step(1, times=2)
    assert cluster.api("GET", f"{DEPLOYMENTS}/web")["status"]["readyReplicas"] == 5

    cluster.api("PATCH", f"{DEPLOYMENTS}/web", {"spec": {"replicas": 1}})
    cluster.settle()
    pods = cluster.pods("app=web")
    assert len(_live(pods)) == 1
    assert len(pods) == 5  # four are Terminating until their kubelets finish
    cluster.step(1)
    assert len(cluster.pods("app=web")) == 1

    scaling = [m for _, r, m in cluster.events("web", kind="Deployment")]
    assert scaling == [
        f"Scaled up replica set {rs_name} from 0 to 3",
        f"Scaled up replica set {rs_name} from 3 to 5",
        f"Scaled down replica set {rs_name} from 5 to 1",
    ]
    rs_events = cluster.events(rs_name, kind="ReplicaSet")
    assert sum(r == "SuccessfulCreate" for _, r, _ in rs_events) == 5
    assert sum(r == "SuccessfulDelete" for _, r, _ in rs_events) == 4
    status = cluster.api("GET", f"{DEPLOYMENTS}/web")["status"]
    assert (status["replicas"], status["readyReplicas"]) == (1, 1)


def test_a_template_change_rolls_out_a_new_replicaset(cluster):
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=2))
    cluster.step(1, times=3)
    (old,) = _replicasets(cluster)

    cluster.api(
        "PATCH",
        f"{DEPLOYMENTS}/web",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
    )
    cluster.step(1, times=4)

    replicasets = {rs["metadata"]["name"]: rs for rs in _replicasets(cluster)}
    assert len(replicasets) == 2
    new = next(rs for name, rs in replicasets.items() if name != old["metadata"]["name"])
    assert new["spec"]["replicas"] == 2
    assert replicasets[old["metadata"]["name"]]["spec"]["replicas"] == 0
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = cluster.pods("app=web")
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}
    assert all(p["status"]["phase"] == "Running" for p in pods)
    status = cluster.api("GET", f"{DEPLOYMENTS}/web")["status"]
    assert (status["updatedReplicas"], status["readyReplicas"]) == (2, 2)
    messages = [m for _, _, m in cluster.events("web", kind="Deployment")]
    assert f"Scaled up replica set {new['metadata']['name']} from 0 to 2" in messages
    assert messages[-1].startswith(f"Scaled down replica set {old['metadata']['name']} from ")


def test_deleting_a_deployment_collects_its_replicasets_and_pods(cluster):
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=2))
    cluster.step(1, times=3)
    cluster.api("DELETE", f"{DEPLOYMENTS}/web")
    cluster.step(1, times=2)
    assert _replicasets(cluster) == []
    assert cluster.pods("app=web") == []


def test_service_endpoints_follow_ready_pods(cluster):
    cluster.api(
        "POST",
        "/api/v1/namespaces/alice/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    )
    cluster.settle()
    endpoints = cluster.api("GET", "/api/v1/namespaces/alice/endpoints/web")
    assert "subsets" not in endpoints
    service = cluster.api("GET", "/api/v1/namespaces/alice/services/web")
    assert service["spec"]["clusterIP"].startswith("10.96.")

    cluster.api("POST", DEPLOYMENTS, deployment(replicas=2))
    cluster.settle()
    cluster.step(1)
    (subset,) = cluster.api("GET", "/api/v1/namespaces/alice/endpoints/web")["subsets"]
    assert "addresses" not in subset
    assert len(subset["notReadyAddresses"]) == 2
    assert subset["ports"] == [{"name": "http", "port": 80, "protocol": "TCP"}]

    cluster.step(1)
    pods = cluster.pods("app=web")
    (subset,) = cluster.api("GET", "/api/v1/namespaces/alice/endpoints/web")["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == sorted(
        p["status"]["podIP"] for p in pods
    )
    assert {a["targetRef"]["name"] for a in subset["addresses"]} == {
        p["metadata"]["name"] for p in pods
    }
    (endpoint_slice,) = cluster.api(
        "GET",
        "/apis/discovery.k8s.io/v1/namespaces/alice/endpointslices",
        labelSelector="kubernetes.io/service-name=web",
    )["items"]
    assert endpoint_slice["addressType"] == "IPv4"
    assert [e["conditions"]["ready"] for e in endpoint_slice["endpoints"]] == [True, True]
    assert endpoint_slice["ports"] == [{"name": "http", "port": 80, "protocol": "TCP"}]

    cluster.api("PATCH", f"{DEPLOYMENTS}/web", {"spec": {"replicas": 1}})
    cluster.settle()
    (subset,) = cluster.api("GET", "/api/v1/namespaces/alice/endpoints/web")["subsets"]
    assert len(subset["addresses"]) == 1
    (endpoint_slice,) = cluster.api(
        "GET", "/apis/discovery.k8s.io/v1/namespaces/alice/endpointslices"
    )["items"]
    assert sorted(e["conditions"]["terminating"] for e in endpoint_slice["endpoints"]) == [
        False,
        True,
    ]

    cluster.api("DELETE", "/api/v1/namespaces/alice/services/web")
    cluster.settle()
    assert cluster.call("GET", "/api/v1/namespaces/alice/endpoints/web").status == 404
    assert (
        cluster.api("GET", "/apis/discovery.k8s.io/v1/namespaces/alice/endpointslices")["items"]
        == []
    )


def job(
    name: str = "pi",
    command: str = "sleep 2; exit 0",
    completions: int = 1,
    parallelism: int = 1,
    backoff_limit: int = 6,
) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "completions": completions,
            "parallelism": parallelism,
            "backoffLimit": backoff_limit,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "work", "image": "busybox:1.36", "command": ["sh", "-c", command]}
                    ],
                }
            },
        },
    }


def test_a_job_runs_its_pods_to_completion(cluster):
    cluster.api("POST", JOBS, job(completions=2, parallelism=1))
    cluster.settle()
    (pod,) = cluster.pods("job-name=pi")
    assert re.fullmatch(r"pi-[bcdfghjklmnpqrstvwxz2456789]{5}", pod["metadata"]["name"])
    status = cluster.api("GET", f"{JOBS}/pi")["status"]
    assert status["active"] == 1 and status["startTime"]

    cluster.step(1, times=4)
    assert cluster.pod(pod["metadata"]["name"])["status"]["phase"] == "Succeeded"
    pods = cluster.pods("job-name=pi")
    assert len(pods) == 2
    cluster.step(1, times=4)

    status = cluster.api("GET", f"{JOBS}/pi")["status"]
    assert status["succeeded"] == 2
    assert "active" not in status
    assert status["completionTime"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions["Complete"] == ("True", "CompletionsReached")
    events = cluster.events("pi", kind="Job")
    assert [r for _, r, _ in events] == ["SuccessfulCreate", "SuccessfulCreate", "Completed"]
    assert events[-1] == ("Normal", "Completed", "Job completed")

    cluster.step(1, times=3)
    assert len(cluster.pods("job-name=pi")) == 2
    assert len(cluster.events("pi", kind="Job")) == 3


def test_a_job_whose_pods_keep_failing_hits_its_backoff_limit(cluster):
    cluster.api("POST", JOBS, job(name="bad", command="exit 2", backoff_limit=1))
    cluster.step(1, times=8)
    status = cluster.api("GET", f"{JOBS}/bad")["status"]
    assert status["failed"] == 2
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions["Failed"] == ("True", "BackoffLimitExceeded")
    assert cluster.events("bad", kind="Job")[-1] == (
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )


def test_a_full_quota_gives_failed_create_events_not_a_busy_loop(cluster):
    set_hard("alice", {"pods": "1"})
    cluster.api("POST", DEPLOYMENTS, deployment(replicas=3))
    cluster.settle()
    assert len(cluster.pods("app=web")) == 1
    (rs,) = _replicasets(cluster)

    def failures() -> list[dict]:
        events = cluster.event_objects(rs["metadata"]["name"])
        return [e for e in events if e["reason"] == "FailedCreate"]

    assert re.fullmatch(
        r'Error creating: pods "web-\w+-\w+" is forbidden: exceeded quota: warehouse-quota, '
        r"requested: pods=1, used: pods=1, limited: pods=1",
        failures()[0]["message"],
    )
    recorded = len(failures())
    assert not cluster.driver.tick()  # its own event writes do not wake it again
    assert len(failures()) == recorded


def test_a_recreate_rollout_empties_the_old_replicaset_first(cluster):
    manifest = deployment(replicas=2)
    manifest["spec"]["strategy"] = {"type": "Recreate"}
    cluster.api("POST", DEPLOYMENTS, manifest)
    cluster.step(1, times=3)
    (old,) = _replicasets(cluster)

    cluster.api(
        "PATCH",
        f"{DEPLOYMENTS}/web",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
    )
    cluster.settle()
    counts = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in _replicasets(cluster)}
    new_name = next(name for name in counts if name != old["metadata"]["name"])
    assert counts == {old["metadata"]["name"]: 0, new_name: 0}

    cluster.step(1)
    cluster.step(1, times=3)
    counts = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in _replicasets(cluster)}
    assert counts == {old["metadata"]["name"]: 0, new_name: 2}
    assert {p["spec"]["containers"][0]["image"] for p in cluster.pods("app=web")} == {"nginx:1.28"}
    messages = [m for _, _, m in cluster.events("web", kind="Deployment")]
    assert messages[1:] == [
        f"Scaled down replica set {old['metadata']['name']} from 2 to 0",
        f"Scaled up replica set {new_name} from 0 to 2",
    ]
