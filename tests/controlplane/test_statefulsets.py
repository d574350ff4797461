"""StatefulSets: numbered Pods, started in order once each is Ready, removed from the top."""

from controlplane.controllers.statefulset import ordinal

STATEFULSETS = "/apis/apps/v1/namespaces/alice/statefulsets"


def statefulset(name: str = "web", replicas: int = 3, image: str = "nginx:1.27", **spec) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def _running_and_ready(pod: dict) -> bool:
    ready = [c for c in pod["status"].get("conditions", []) if c["type"] == "Ready"]
    return pod["status"].get("phase") == "Running" and ready[0]["status"] == "True"


def _seats(cluster) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in cluster.pods("app=web")}


def test_pods_are_created_in_order_each_once_the_one_before_is_ready(cluster):
    cluster.api("POST", STATEFULSETS, statefulset(replicas=3))
    cluster.settle()
    assert list(_seats(cluster)) == ["web-0"]

    for _ in range(12):
        cluster.step(1)
        seats = _seats(cluster)
        for name in seats:
            index = int(name.rsplit("-", 1)[1])
            if index:
                assert _running_and_ready(seats[f"web-{index - 1}"]), (name, "came too early")
    seats = _seats(cluster)
    assert sorted(seats) == ["web-0", "web-1", "web-2"]
    assert all(_running_and_ready(p) for p in seats.values())

    sts = cluster.api("GET", f"{STATEFULSETS}/web")
    status = sts["status"]
    revision = status["updateRevision"]
    assert revision.startswith("web-")
    assert status == {
        "observedGeneration": sts["metadata"]["generation"],
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "availableReplicas": 3,
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    }
    pod = seats["web-1"]
    assert pod["metadata"]["labels"] == {
        "app": "web",
        "controller-revision-hash": revision,
        "statefulset.kubernetes.io/pod-name": "web-1",
        "apps.kubernetes.io/pod-index": "1",
    }
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-1", "web")
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("StatefulSet", "web", True)
    assert cluster.events("web", kind="StatefulSet") == [
        ("Normal", "SuccessfulCreate", f"create Pod web-{n} in StatefulSet web successful")
        for n in range(3)
    ]


def test_a_pod_that_never_gets_ready_holds_back_the_next_ones(cluster):
    cluster.api("POST", STATEFULSETS, statefulset(replicas=3, image="nginx:does-not-exist"))
    cluster.step(1, times=8)

    assert list(_seats(cluster)) == ["web-0"]
    status = cluster.api("GET", f"{STATEFULSETS}/web")["status"]
    assert (status["replicas"], status["availableReplicas"]) == (1, 0)
    assert "readyReplicas" not in status


def test_scaling_down_removes_the_highest_ordinal_first_one_at_a_time(cluster):
    cluster.api("POST", STATEFULSETS, statefulset(replicas=3))
    cluster.step(1, times=12)
    assert len(_seats(cluster)) == 3

    cluster.api("PATCH", f"{STATEFULSETS}/web", {"spec": {"replicas": 1}})
    cluster.settle()
    seats = _seats(cluster)
    assert seats["web-2"]["metadata"].get("deletionTimestamp")
    assert not seats["web-1"]["metadata"].get("deletionTimestamp")
    cluster.step(1, times=6)

    assert list(_seats(cluster)) == ["web-0"]
    deleted = [
        m for _, r, m in cluster.events("web", kind="StatefulSet") if r == "SuccessfulDelete"
    ]
    assert deleted == [
        "delete Pod web-2 in StatefulSet web successful",
        "delete Pod web-1 in StatefulSet web successful",
    ]
    assert cluster.api("GET", f"{STATEFULSETS}/web")["status"]["replicas"] == 1


def test_parallel_management_creates_every_pod_at_once(cluster):
    cluster.api("POST", STATEFULSETS, statefulset(replicas=3, podManagementPolicy="Parallel"))
    cluster.settle()

    assert sorted(_seats(cluster)) == ["web-0", "web-1", "web-2"]


def test_a_new_template_replaces_pods_from_the_top_down(cluster):
    cluster.api("POST", STATEFULSETS, statefulset(replicas=2))
    cluster.step(1, times=10)
    before = cluster.api("GET", f"{STATEFULSETS}/web")["status"]["updateRevision"]

    template = {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}
    cluster.api("PATCH", f"{STATEFULSETS}/web", {"spec": {"template": template}})
    cluster.settle()
    status = cluster.api("GET", f"{STATEFULSETS}/web")["status"]
    assert status["currentRevision"] == before != status["updateRevision"]
    assert _seats(cluster)["web-1"]["metadata"].get("deletionTimestamp")
    assert not _seats(cluster)["web-0"]["metadata"].get("deletionTimestamp")
    cluster.step(1, times=16)

    seats = _seats(cluster)
    assert {p["spec"]["containers"][0]["image"] for p in seats.values()} == {"nginx:1.28"}
    status = cluster.api("GET", f"{STATEFULSETS}/web")["status"]
    assert status["currentRevision"] == status["updateRevision"] != before
    assert status["updatedReplicas"] == status["readyReplicas"] == 2
    revisions = cluster.api("GET", "/apis/apps/v1/namespaces/alice/controllerrevisions")["items"]
    numbered = {r["metadata"]["name"]: r["revision"] for r in revisions}
    assert numbered == {before: 1, status["updateRevision"]: 2}
    newest = next(r for r in revisions if r["revision"] == 2)
    assert newest["data"]["spec"]["template"]["$patch"] == "replace"
    assert newest["metadata"]["ownerReferences"][0]["name"] == "web"

    cluster.api(
        "PATCH",
        f"{STATEFULSETS}/web",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}},
    )
    cluster.settle()
    revisions = cluster.api("GET", "/apis/apps/v1/namespaces/alice/controllerrevisions")["items"]
    assert {r["metadata"]["name"]: r["revision"] for r in revisions} == {
        before: 3,  # going back to an old template makes its revision the newest
        status["updateRevision"]: 2,
    }


def test_ordinals_come_from_the_pod_name():
    sts = {"metadata": {"name": "db"}}
    assert ordinal(sts, {"metadata": {"name": "db-12"}}) == 12
    assert ordinal(sts, {"metadata": {"name": "db-x"}}) is None
    assert ordinal(sts, {"metadata": {"name": "dbx-1"}}) is None


def test_deleting_a_statefulset_collects_its_pods(cluster):
    cluster.api("POST", STATEFULSETS, statefulset(replicas=2, podManagementPolicy="Parallel"))
    cluster.step(1, times=3)
    assert len(_seats(cluster)) == 2

    cluster.api("DELETE", f"{STATEFULSETS}/web")
    cluster.step(1, times=3)

    assert _seats(cluster) == {}
