"""The ReplicaSet controller: keeps exactly spec.replicas live Pods from its template."""

from datetime import datetime

from controlplane.controllers.common import Controller, World, live, owned, pod_ready


def plan_replicaset(rs: dict, pods: list[dict]) -> tuple[int, list[dict]]:
    """How many Pods to create, and which to delete, to reach spec.replicas."""
    mine = [p for p in owned(pods, rs) if live(p)]
    wanted = int((rs.get("spec") or {}).get("replicas", 1))
    if len(mine) < wanted:
        return wanted - len(mine), []

    def keep_score(pod: dict) -> tuple:
        status = pod.get("status") or {}
        return (
            bool(pod["spec"].get("nodeName")),
            status.get("phase") == "Running",
            pod_ready(pod),
            # Newer Pods go first, like the real controller's ranking.
            [-ord(c) for c in pod["metadata"].get("creationTimestamp", "")],
            pod["metadata"]["name"],
        )

    return 0, sorted(mine, key=keep_score)[: len(mine) - wanted]


def replicaset_status(rs: dict, pods: list[dict]) -> dict:
    mine = [p for p in owned(pods, rs) if live(p)]
    labels = ((rs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels", {})
    ready = sum(pod_ready(p) for p in mine)
    status = {
        "replicas": len(mine),
        "fullyLabeledReplicas": sum(
            all(p["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
            for p in mine
        ),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"].get("generation", 1),
    }
    return {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}


class ReplicaSetController(Controller):
    kind = "ReplicaSet"
    resource = "replicasets"
    component = "replicaset-controller"

    def sync(self, world: World, now: datetime) -> None:
        self.each(world.replicasets, self._sync_replicaset, world, now)

    def _sync_replicaset(self, rs: dict, world: World, now: datetime) -> None:
        to_create, to_delete = plan_replicaset(rs, world.pods)
        for _ in range(to_create):
            if self.create_pod(rs, world, now) is None:
                break
        for pod in to_delete:
            self.delete_pod(rs, pod, world, now)

    def sync_status(self, world: World, now: datetime) -> None:
        self.each(world.replicasets, self._report, world, now, skip_deleting=False)

    def _report(self, rs: dict, world: World, now: datetime) -> None:
        status = replicaset_status(rs, world.pods)
        if status != (rs.get("status") or {}):
            self.write_status("replicasets", rs, status, world)
