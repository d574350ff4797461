"""DaemonSets: one Pod per node, placed by the scheduler through a node affinity."""

DAEMONSETS = "/apis/apps/v1/namespaces/alice/daemonsets"


def daemonset(name: str = "agent", node_selector: dict | None = None) -> dict:
    pod_spec: dict = {
        "containers": [{"name": "agent", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]
    }
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
        },
    }


def _label_node(cluster, node: str, labels: dict) -> None:
    """As an administrator would with kubectl label node (learners may not)."""
    client = cluster.plane.kubelets[0].client
    client.patch("nodes", node, None, {"metadata": {"labels": labels}})


def _placed(cluster) -> dict[str, str]:
    """Node name -> Pod name of the DaemonSet's Pods that are not being deleted."""
    pods = [p for p in cluster.pods("app=agent") if not p["metadata"].get("deletionTimestamp")]
    placed = {p["spec"].get("nodeName"): p["metadata"]["name"] for p in pods}
    assert len(placed) == len(pods), "two Pods on one node"
    return placed


def test_one_pod_per_node_bound_by_the_scheduler_through_node_affinity(cluster):
    cluster.api("POST", DAEMONSETS, daemonset())
    cluster.settle()
    cluster.step(1, times=4)

    pods = cluster.pods("app=agent")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-1", "node-2", "node-3"]
    for pod in pods:
        node = pod["spec"]["nodeName"]
        assert pod["metadata"]["name"].startswith("agent-")
        assert len(pod["metadata"]["name"]) == len("agent-") + 5
        terms = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        assert terms == [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
        ]
        assert (
            "Normal",
            "Scheduled",
            f"Successfully assigned alice/{pod['metadata']['name']} to {node}",
        ) in cluster.events(pod["metadata"]["name"])
        assert pod["status"]["phase"] == "Running"
    ds = cluster.api("GET", f"{DAEMONSETS}/agent")
    assert ds["status"] == {
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 3,
        "observedGeneration": ds["metadata"]["generation"],
        "updatedNumberScheduled": 3,
        "numberAvailable": 3,
    }
    created = [
        m for _, r, m in cluster.events("agent", kind="DaemonSet") if r == "SuccessfulCreate"
    ]
    assert sorted(created) == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)
    (revision,) = cluster.api("GET", "/apis/apps/v1/namespaces/alice/controllerrevisions")["items"]
    pod_hash = pods[0]["metadata"]["labels"]["controller-revision-hash"]
    assert revision["metadata"]["name"] == f"agent-{pod_hash}"
    assert revision["metadata"]["labels"]["controller-revision-hash"] == pod_hash
    assert revision["revision"] == 1


def test_the_node_selector_picks_the_nodes_and_follows_their_labels(cluster):
    _label_node(cluster, "node-2", {"disk": "ssd"})
    cluster.api("POST", DAEMONSETS, daemonset(node_selector={"disk": "ssd"}))
    cluster.step(1, times=3)
    assert list(_placed(cluster)) == ["node-2"]

    _label_node(cluster, "node-3", {"disk": "ssd"})
    cluster.step(1, times=3)
    assert sorted(_placed(cluster)) == ["node-2", "node-3"]

    _label_node(cluster, "node-2", {"disk": None})
    cluster.step(1, times=4)
    assert list(_placed(cluster)) == ["node-3"]
    status = cluster.api("GET", f"{DAEMONSETS}/agent")["status"]
    assert (status["desiredNumberScheduled"], status["numberMisscheduled"]) == (1, 0)


def test_a_cordoned_node_keeps_its_daemon_pod(cluster):
    client = cluster.plane.kubelets[0].client
    client.patch("nodes", "node-1", None, {"spec": {"unschedulable": True}})
    cluster.api("POST", DAEMONSETS, daemonset())
    cluster.step(1, times=3)

    assert sorted(_placed(cluster)) == ["node-1", "node-2", "node-3"]
