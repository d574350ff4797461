"""The DaemonSet controller: one Pod on every depot (node) the template accepts.

Like the real controller since v1.12, it does not pick the node itself: each Pod gets a
required node affinity on `metadata.name` for its node and the scheduler binds it there.
A node counts when it is Ready and matches the template's nodeSelector and required node
affinity; cordoned nodes count too, as DaemonSet Pods tolerate the unschedulable taint.
"""

import json
from datetime import datetime

from controlplane.controllers.common import (
    Controller,
    World,
    int_or_percent,
    owned,
    pod_ready,
    template_hash,
)
from controlplane.controllers.revisions import REVISION_LABEL, keep_revision
from controlplane.nodes import node_ready
from controlplane.scheduler import is_active, node_matches

GENERATION_LABEL = "pod-template-generation"
# The tolerations every DaemonSet Pod gets, so node trouble does not evict it.
DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


def target_node(pod: dict) -> str | None:
    """The node a daemon Pod is for: where it runs, else what its affinity names."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In":
                return (field.get("values") or [None])[0]
    return None


def should_run(ds: dict, node: dict) -> bool:
    """Whether a new daemon Pod belongs on this node."""
    template = (ds.get("spec") or {}).get("template") or {}
    return node_ready(node) and node_matches({"spec": template.get("spec") or {}}, node)


def revision_hash(ds: dict) -> str:
    spec = ds.get("spec") or {}
    collisions = int((ds.get("status") or {}).get("collisionCount") or 0)
    return template_hash(spec.get("template") or {}, collisions)


def _by_node(ds: dict, pods: list[dict]) -> dict[str | None, list[dict]]:
    found: dict[str | None, list[dict]] = {}
    for pod in sorted(
        owned(pods, ds),
        key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]),
    ):
        found.setdefault(target_node(pod), []).append(pod)
    return found


def plan_daemonset(ds: dict, nodes: list[dict], pods: list[dict]) -> tuple[list[str], list[dict]]:
    """The nodes that need a Pod, and the Pods to delete, in this pass."""
    by_node = _by_node(ds, pods)
    create: list[str] = []
    delete: list[dict] = []
    keep: dict[str, dict] = {}
    desired = 0
    for node in nodes:
        name = node["metadata"]["name"]
        everything = by_node.pop(name, [])
        leaving = any(p["metadata"].get("deletionTimestamp") for p in everything)
        here = [p for p in everything if not p["metadata"].get("deletionTimestamp")]
        finished = [p for p in here if not is_active(p)]
        delete += finished
        here = [p for p in here if is_active(p)]
        if should_run(ds, node):
            desired += 1
            if here:
                keep[name] = here[0]
                delete += here[1:]  # one per node: the oldest stays
            elif not finished and not leaving:
                create.append(name)
        else:
            delete += here
    for stray in by_node.values():
        delete += [p for p in stray if not p["metadata"].get("deletionTimestamp")]
    delete += _rolling_update(ds, keep, desired)
    return create, delete


def _rolling_update(ds: dict, keep: dict[str, dict], desired: int) -> list[dict]:
    """Old-template Pods to replace now, never more unavailable than maxUnavailable."""
    spec = ds.get("spec") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return []
    wanted = revision_hash(ds)
    allowed = int_or_percent(
        (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), desired, round_up=True
    )
    unavailable = desired - sum(pod_ready(p) for p in keep.values())
    old = [p for p in keep.values() if _labels(p).get(REVISION_LABEL) != wanted]
    # Replacing a Pod that is not Ready costs no availability; Ready ones wait their turn.
    chosen = [p for p in old if not pod_ready(p)]
    return chosen + [p for p in old if pod_ready(p)][: max(0, max(allowed, 1) - unavailable)]


def _labels(pod: dict) -> dict:
    return pod["metadata"].get("labels") or {}


def daemonset_status(ds: dict, nodes: list[dict], pods: list[dict]) -> dict:
    by_node = _by_node(ds, pods)
    wanted = revision_hash(ds)
    desired = current = ready = updated = misscheduled = 0
    for node in nodes:
        here = [
            p
            for p in by_node.get(node["metadata"]["name"], [])
            if is_active(p) and not p["metadata"].get("deletionTimestamp")
        ]
        if should_run(ds, node):
            desired += 1
            if here:
                current += 1
                ready += pod_ready(here[0])
                updated += _labels(here[0]).get(REVISION_LABEL) == wanted
        elif here:
            misscheduled += 1
    status = {
        "currentNumberScheduled": current,
        "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": desired,
        "numberReady": ready,
        "observedGeneration": ds["metadata"].get("generation", 1),
        "updatedNumberScheduled": updated,
        "numberAvailable": ready,
        "numberUnavailable": desired - ready,
    }
    optional = ("updatedNumberScheduled", "numberAvailable", "numberUnavailable")
    return {k: v for k, v in status.items() if v or k not in optional}


def daemon_pod(ds: dict, node: str):
    """What ties a Pod to its node: the affinity, the tolerations and the revision labels."""

    def shape(pod: dict) -> None:
        pod["metadata"]["labels"] |= {
            REVISION_LABEL: revision_hash(ds),
            GENERATION_LABEL: str(ds["metadata"].get("generation", 1)),
        }
        spec = pod["spec"]
        affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        required = affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
        by_name = [{"key": "metadata.name", "operator": "In", "values": [node]}]
        terms = json.loads(json.dumps(required.get("nodeSelectorTerms") or [{}]))
        for term in terms:
            term["matchFields"] = by_name
        required["nodeSelectorTerms"] = terms
        tolerations = spec.setdefault("tolerations", [])
        present = {(t.get("key"), t.get("effect")) for t in tolerations}
        for key, effect in DAEMON_TOLERATIONS:
            if (key, effect) not in present:
                tolerations.append({"key": key, "operator": "Exists", "effect": effect})

    return shape


class DaemonSetController(Controller):
    kind = "DaemonSet"
    resource = "daemonsets"
    component = "daemonset-controller"

    def sync(self, world: World, now: datetime) -> None:
        self.each(world.daemonsets, self._sync_daemonset, world, now)

    def _sync_daemonset(self, ds: dict, world: World, now: datetime) -> None:
        wanted = revision_hash(ds)
        keep_revision(
            self, ds, world, f"{ds['metadata']['name']}-{wanted}", {REVISION_LABEL: wanted}
        )
        create, delete = plan_daemonset(ds, world.nodes, world.pods)
        for pod in delete:
            if (pod.get("status") or {}).get("phase") == "Failed":
                meta = pod["metadata"]
                node = target_node(pod)
                message = (
                    f"Found failed daemon pod {meta['namespace']}/{meta['name']} on node {node}, "
                    "will try to kill it"
                )
                self.record(ds, "Warning", "FailedDaemonPod", message, now)
            self.delete_pod(ds, pod, world, now)
        for node in create:
            if self.create_pod(ds, world, now, shape=daemon_pod(ds, node)) is None:
                break

    def sync_status(self, world: World, now: datetime) -> None:
        self.each(world.daemonsets, self._report, world, now, skip_deleting=False)

    def _report(self, ds: dict, world: World, now: datetime) -> None:
        status = daemonset_status(ds, world.nodes, world.pods)
        if status != (ds.get("status") or {}):
            self.write_status("daemonsets", ds, status, world)
