"""The StatefulSet controller: numbered seats, filled in order, each Pod keeping its name.

Pods are `<set>-0` to `<set>-(N-1)`. With the default OrderedReady policy seat N is filled
only once seats 0..N-1 hold a Running and Ready Pod, and scaling down empties the highest
seat first, one at a time; `podManagementPolicy: Parallel` fills and empties them all at
once. A changed template replaces Pods from the highest ordinal down, one at a time.
"""

from datetime import datetime

from apiserver.client import ApiError
from controlplane.controllers.common import (
    Controller,
    World,
    owned,
    running_and_ready,
    template_hash,
)
from controlplane.controllers.revisions import REVISION_LABEL, keep_revision
from controlplane.scheduler import is_active

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
# The label a StatefulSet's ControllerRevisions carry their hash in.
REVISION_HASH_LABEL = "controller.kubernetes.io/hash"


def ordinal(sts: dict, pod: dict) -> int | None:
    """The seat number in a Pod's name, or None when the name is not `<set>-<n>`."""
    prefix = f"{sts['metadata']['name']}-"
    name = pod["metadata"]["name"]
    if not name.startswith(prefix):
        return None
    tail = name[len(prefix) :]
    return int(tail) if tail.isdigit() else None


def revision_hash(sts: dict) -> str:
    spec = sts.get("spec") or {}
    collisions = int((sts.get("status") or {}).get("collisionCount") or 0)
    return template_hash(spec.get("template") or {}, collisions)


def update_revision(sts: dict) -> str:
    """The name of the ControllerRevision the template asks for; Pods carry it as a label."""
    return f"{sts['metadata']['name']}-{revision_hash(sts)}"


def _seats(sts: dict, pods: list[dict]) -> dict[int, dict]:
    return {n: p for p in owned(pods, sts) if (n := ordinal(sts, p)) is not None}


def _terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def plan_statefulset(sts: dict, pods: list[dict]) -> tuple[list[int], list[dict]]:
    """The ordinals to create and the Pods to delete in this pass."""
    spec = sts.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
    seats = _seats(sts, pods)
    create: list[int] = []
    delete: list[dict] = []
    healthy = True
    for index in range(replicas):
        pod = seats.get(index)
        if pod is None:
            create.append(index)
        elif _terminating(pod):
            pass  # the seat is filled again once the old Pod is really gone
        elif not is_active(pod):
            delete.append(pod)  # a finished Pod is replaced under the same name
        elif running_and_ready(pod):
            continue
        healthy = False
        if ordered:
            return create, delete
    for index in sorted((n for n in seats if n >= replicas), reverse=True):
        pod = seats[index]
        if not _terminating(pod):
            delete.append(pod)
        if ordered:
            return create, delete
    strategy = spec.get("updateStrategy") or {}
    if healthy and not delete and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        wanted = update_revision(sts)
        for index in range(replicas - 1, partition - 1, -1):
            pod = seats[index]
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != wanted:
                delete.append(pod)
                break
    return create, delete


def statefulset_status(sts: dict, pods: list[dict]) -> dict:
    old = sts.get("status") or {}
    spec = sts.get("spec") or {}
    counted = [p for p in _seats(sts, pods).values() if not _terminating(p)]
    wanted = update_revision(sts)
    current = old.get("currentRevision") or wanted
    ready = sum(running_and_ready(p) for p in counted)

    def at(revision: str) -> int:
        return sum(
            (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision for p in counted
        )

    updated = at(wanted)
    rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    if rolling and updated == len(counted) == ready:
        current = wanted  # the update is complete: the new revision becomes the current one
    status = {
        "observedGeneration": sts["metadata"].get("generation", 1),
        "replicas": len(counted),
        "readyReplicas": ready,
        "currentReplicas": at(current),
        "updatedReplicas": updated,
        "availableReplicas": ready,
        "currentRevision": current,
        "updateRevision": wanted,
        "collisionCount": 0,
    }
    optional = ("readyReplicas", "currentReplicas", "updatedReplicas")
    return {k: v for k, v in status.items() if v or k not in optional}


def stateful_pod(sts: dict, index: int):
    """What makes a Pod one seat's own: its labels, hostname and subdomain."""
    name = f"{sts['metadata']['name']}-{index}"
    service = (sts.get("spec") or {}).get("serviceName")

    def shape(pod: dict) -> None:
        pod["metadata"]["labels"] |= {
            REVISION_LABEL: update_revision(sts),
            POD_NAME_LABEL: name,
            POD_INDEX_LABEL: str(index),
        }
        pod["spec"]["hostname"] = name
        if service:
            pod["spec"]["subdomain"] = service

    return name, shape


class StatefulSetController(Controller):
    kind = "StatefulSet"
    resource = "statefulsets"
    component = "statefulset-controller"

    def sync(self, world: World, now: datetime) -> None:
        self.each(world.statefulsets, self._sync_statefulset, world, now)

    def _sync_statefulset(self, sts: dict, world: World, now: datetime) -> None:
        labels = {REVISION_HASH_LABEL: revision_hash(sts)}
        keep_revision(self, sts, world, update_revision(sts), labels)
        create, delete = plan_statefulset(sts, world.pods)
        for index in create:
            name, shape = stateful_pod(sts, index)
            if self.create_pod(sts, world, now, name=name, shape=shape) is None:
                break
        for pod in delete:
            self.delete_pod(sts, pod, world, now)

    def pod_event(
        self, owner: dict, verb: str, name: str, now: datetime, error: ApiError | None = None
    ) -> None:
        """The statefulset controller's own words: "create Pod web-0 in StatefulSet web
        successful"."""
        sts = owner["metadata"]["name"]
        if error is None:
            message = f"{verb} Pod {name} in StatefulSet {sts} successful"
            self.record(owner, "Normal", f"Successful{verb.title()}", message, now)
        else:
            detail = error.status.get("message", "")
            message = f"{verb} Pod {name} in StatefulSet {sts} failed error: {detail}"
            self.record(owner, "Warning", f"Failed{verb.title()}", message, now)

    def sync_status(self, world: World, now: datetime) -> None:
        self.each(world.statefulsets, self._report, world, now, skip_deleting=False)

    def _report(self, sts: dict, world: World, now: datetime) -> None:
        status = statefulset_status(sts, world.pods)
        if status != (sts.get("status") or {}):
            self.write_status("statefulsets", sts, status, world)
