"""The Deployment controller: a standing order kept by ReplicaSets, one per Pod template.

A new template gets a new ReplicaSet; RollingUpdate grows it as the old ones shrink,
Recreate empties the old ones first. Old ReplicaSets stay behind as revision history.
"""

import json
from datetime import datetime

from controlplane.controllers.common import (
    HASH_LABEL,
    Controller,
    World,
    condition,
    int_or_percent,
    live,
    owned,
    owner_reference,
    pod_ready,
    template_hash,
)
from controlplane.scheduler import is_active

REVISION = "deployment.kubernetes.io/revision"


def new_replicaset(deploy: dict, pod_hash: str, replicas: int, revision: int) -> dict:
    meta = deploy["metadata"]
    spec = deploy.get("spec") or {}
    template = json.loads(json.dumps(spec.get("template") or {}))
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
    selector = json.loads(json.dumps(spec.get("selector") or {}))
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    max_surge = int_or_percent(
        ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%"),
        int(spec.get("replicas", 1)),
        round_up=True,
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta['name']}-{pod_hash}",
            "namespace": meta["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 1)),
                "deployment.kubernetes.io/max-replicas": str(
                    int(spec.get("replicas", 1)) + max_surge
                ),
                REVISION: str(revision),
            },
            "ownerReferences": [owner_reference(deploy)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    }


def revision(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def plan_rollout(deploy: dict, new_rs: dict, old: list[dict], pods: list[dict]) -> dict[str, int]:
    """Replica counts per ReplicaSet name: the new one grows as old ones shrink.

    RollingUpdate here: the new ReplicaSet is asked for every replica at once and each old
    one gives back as many Pods as the new one has ready; Recreate empties the old ones
    first and starts the new one only when their Pods are gone.
    """
    spec = deploy.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
    plan = {new_rs["metadata"]["name"]: desired}
    old_active = [rs for rs in old if int(rs["spec"].get("replicas", 0)) > 0]
    if strategy == "Recreate":
        # Terminating Pods still count: Recreate waits until they are really gone.
        old_pods = any(is_active(p) for rs in old for p in owned(pods, rs))
        for rs in old:
            plan[rs["metadata"]["name"]] = 0
        if old_active or old_pods:
            plan[new_rs["metadata"]["name"]] = int(new_rs["spec"].get("replicas", 0))
        return plan
    new_ready = sum(pod_ready(p) for p in owned(pods, new_rs) if live(p))
    room = max(0, desired - new_ready)
    for rs in sorted(old, key=revision, reverse=True):
        keep = min(int(rs["spec"].get("replicas", 0)), room)
        plan[rs["metadata"]["name"]] = keep
        room -= keep
    return plan


def deployment_status(
    deploy: dict,
    new_rs: dict | None,
    replicasets: list[dict],
    pods: list[dict],
    now: datetime,
    created: bool = False,
) -> dict:
    spec = deploy.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    all_pods = [p for rs in replicasets for p in owned(pods, rs) if live(p)]
    new_pods = [p for p in owned(pods, new_rs) if live(p)] if new_rs else []
    ready = sum(pod_ready(p) for p in all_pods)
    max_unavailable = int_or_percent(
        ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%"),
        desired,
        round_up=False,
    )
    previous = (deploy.get("status") or {}).get("conditions") or []
    if ready >= desired - max_unavailable:
        available = condition(
            previous,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
            True,
        )
    else:
        available = condition(
            previous,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
            True,
        )
    rs_name = new_rs["metadata"]["name"] if new_rs else ""
    new_ready = sum(pod_ready(p) for p in new_pods)
    done = len(new_pods) == desired == new_ready and len(all_pods) == desired
    if done:
        progressing = (
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs_name}" has successfully progressed.',
        )
    elif created:
        progressing = ("NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
    else:
        progressing = ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    status = {
        "observedGeneration": deploy["metadata"].get("generation", 1),
        "replicas": len(all_pods),
        "updatedReplicas": len(new_pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(0, desired - ready),
        "conditions": [
            available,
            condition(previous, "Progressing", "True", *progressing, now, True),
        ],
    }
    return {k: v for k, v in status.items() if v or k == "observedGeneration"}


def _new_replicaset_of(deploy: dict, mine: list[dict]) -> dict | None:
    pod_hash = template_hash(
        deploy["spec"].get("template") or {},
        int((deploy.get("status") or {}).get("collisionCount", 0)),
    )
    return next((rs for rs in mine if rs["metadata"]["labels"].get(HASH_LABEL) == pod_hash), None)


class DeploymentController(Controller):
    kind = "Deployment"
    resource = "deployments"
    component = "deployment-controller"

    def sync(self, world: World, now: datetime) -> None:
        self.each(world.deployments, self._sync_deployment, world, now)

    def _sync_deployment(self, deploy: dict, world: World, now: datetime) -> None:
        meta = deploy["metadata"]
        mine = owned(world.replicasets, deploy)
        collisions = int((deploy.get("status") or {}).get("collisionCount", 0))
        pod_hash = template_hash(deploy["spec"].get("template") or {}, collisions)
        new_rs = _new_replicaset_of(deploy, mine)
        old = [rs for rs in mine if rs is not new_rs]
        top = max((revision(rs) for rs in mine), default=0)
        if new_rs is None:
            rolling = any(int(rs["spec"].get("replicas", 0)) for rs in old)
            strategy = (deploy["spec"].get("strategy") or {}).get("type", "RollingUpdate")
            start = (
                0 if rolling and strategy == "Recreate" else int(deploy["spec"].get("replicas", 1))
            )
            new_rs = self.client.create(
                "replicasets", new_replicaset(deploy, pod_hash, start, top + 1)
            )
            world.put("replicasets", new_rs)
            if start:
                self._scaled(deploy, new_rs, 0, start, now)
        elif revision(new_rs) < top:
            new_rs = self.client.update(
                "replicasets",
                new_rs["metadata"]["name"],
                meta["namespace"],
                lambda rs: _with_revision(rs, top + 1),
            )
            world.put("replicasets", new_rs)
        plan = plan_rollout(deploy, new_rs, old, world.pods)
        for rs in [new_rs, *old]:
            target = plan.get(rs["metadata"]["name"])
            current = int(rs["spec"].get("replicas", 0))
            if target is None or target == current:
                continue
            updated = self.client.update(
                "replicasets",
                rs["metadata"]["name"],
                meta["namespace"],
                lambda obj, n=target: _with_replicas(obj, n, deploy),
            )
            world.put("replicasets", updated)
            self._scaled(deploy, updated, current, target, now)
        wanted = str(revision(new_rs))
        if (meta.get("annotations") or {}).get(REVISION) != wanted:
            updated = self.client.patch(
                "deployments",
                meta["name"],
                meta["namespace"],
                {"metadata": {"annotations": {REVISION: wanted}}},
            )
            world.put("deployments", updated)
        self._prune_history(deploy, world)

    def _scaled(self, deploy: dict, rs: dict, before: int, after: int, now: datetime) -> None:
        direction = "up" if after > before else "down"
        name = rs["metadata"]["name"]
        message = f"Scaled {direction} replica set {name} from {before} to {after}"
        self.record(deploy, "Normal", "ScalingReplicaSet", message, now)

    def _prune_history(self, deploy: dict, world: World) -> None:
        limit = int(deploy["spec"].get("revisionHistoryLimit", 10))
        idle = [
            rs
            for rs in owned(world.replicasets, deploy)
            if int(rs["spec"].get("replicas", 0)) == 0
            and not any(live(p) for p in owned(world.pods, rs))
            and (rs["metadata"].get("annotations") or {}).get(REVISION)
            != (deploy["metadata"].get("annotations") or {}).get(REVISION)
        ]
        for rs in sorted(idle, key=revision)[: max(0, len(idle) - limit)]:
            self.client.delete("replicasets", rs["metadata"]["name"], rs["metadata"]["namespace"])
            world.drop("replicasets", rs["metadata"]["uid"])

    def sync_status(self, world: World, now: datetime) -> None:
        self.each(world.deployments, self._report, world, now, skip_deleting=False)

    def _report(self, deploy: dict, world: World, now: datetime) -> None:
        mine = owned(world.replicasets, deploy)
        new_rs = _new_replicaset_of(deploy, mine)
        old_status = deploy.get("status") or {}
        fresh = new_rs is not None and not (old_status.get("conditions"))
        status = deployment_status(deploy, new_rs, mine, world.pods, now, created=fresh)
        if "collisionCount" in old_status:
            status["collisionCount"] = old_status["collisionCount"]
        if status != old_status:
            self.write_status("deployments", deploy, status, world)


def _with_replicas(rs: dict, replicas: int, deploy: dict) -> dict:
    rs["spec"]["replicas"] = replicas
    annotations = rs["metadata"].setdefault("annotations", {})
    annotations["deployment.kubernetes.io/desired-replicas"] = str(
        deploy["spec"].get("replicas", 1)
    )
    return rs


def _with_revision(rs: dict, number: int) -> dict:
    rs["metadata"].setdefault("annotations", {})[REVISION] = str(number)
    return rs
