"""Controllers: the warehouse staff who keep what was ordered in line with what exists.

Deployment -> ReplicaSets -> Pods, Jobs -> Pods, Services -> Endpoints and EndpointSlices,
and a garbage collector for objects whose owner is gone. The `plan_*` and `*_status`
functions are pure (dicts in, dicts out); the `Controllers` class does the writes through
the API and leaves the events a real controller manager would.
"""

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from apiserver.client import ApiError, Client
from controlplane.clock import stamp
from controlplane.events import EventRecorder
from controlplane.scheduler import is_active

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SLICE_MANAGER = "endpointslice-controller.k8s.io"
ENDPOINTS_TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


@dataclass
class World:
    """One consistent snapshot of what the controllers look at, updated as they write."""

    pods: list[dict] = field(default_factory=list)
    nodes: list[dict] = field(default_factory=list)
    deployments: list[dict] = field(default_factory=list)
    replicasets: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)
    endpointslices: list[dict] = field(default_factory=list)

    def put(self, resource: str, obj: dict) -> None:
        """Replace (or add) an object in the snapshot after a write."""
        items = getattr(self, resource)
        uid = obj["metadata"]["uid"]
        for position, existing in enumerate(items):
            if existing["metadata"]["uid"] == uid:
                items[position] = obj
                return
        items.append(obj)

    def drop(self, resource: str, uid: str) -> None:
        setattr(self, resource, [o for o in getattr(self, resource) if o["metadata"]["uid"] != uid])


def safe_encode(text: str) -> str:
    """apimachinery's SafeEncodeString: no vowels, no look-alike characters."""
    return "".join(SAFE_ALPHABET[ord(char) % len(SAFE_ALPHABET)] for char in text)


def template_hash(template: dict, collisions: int = 0) -> str:
    """The pod-template-hash: FNV-1a 32 over the template, encoded like the real controller."""
    clean = json.loads(json.dumps(template))
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    data = json.dumps(clean, sort_keys=True, separators=(",", ":")).encode()
    if collisions:
        data += str(collisions).encode()
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(value))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))


def owner_reference(owner: dict, block: bool = True) -> dict:
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


def controller_uid(obj: dict) -> str | None:
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid")
    return None


def owned(items: list[dict], owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [item for item in items if controller_uid(item) == uid]


def labels_match(selector: dict | None, labels: dict | None) -> bool:
    """A Service's plain selector, or a LabelSelector with matchLabels/matchExpressions.

    An empty selector matches nothing here: Services without one get no Endpoints.
    """
    if not selector:
        return False
    labels = labels or {}
    structured = "matchLabels" in selector or "matchExpressions" in selector
    equal = (selector.get("matchLabels") or {}) if structured else selector
    if any(labels.get(key) != value for key, value in equal.items()):
        return False
    for expression in (selector.get("matchExpressions") or []) if structured else []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def pod_ready(pod: dict) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def live(pod: dict) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted."""
    return is_active(pod) and not pod["metadata"].get("deletionTimestamp")


def _condition(
    previous: list[dict],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    update_time: bool = False,
) -> dict:
    """A condition that keeps its transition time while its status does not change."""
    before = next((c for c in previous if c.get("type") == kind), None)
    time = stamp(now)
    condition = {"type": kind, "status": status}
    if update_time:
        same_text = before and before.get("reason") == reason and before.get("message") == message
        condition["lastUpdateTime"] = before.get("lastUpdateTime", time) if same_text else time
    same = before and before.get("status") == status
    condition["lastTransitionTime"] = before.get("lastTransitionTime", time) if same else time
    condition["reason"] = reason
    condition["message"] = message
    return condition


def _int_or_percent(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        amount = int(value[:-1]) * total / 100
        return math.ceil(amount) if round_up else math.floor(amount)
    return int(value or 0)


# --- ReplicaSets -------------------------------------------------------------------------


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


def pod_from_template(owner: dict, name: str, extra_labels: dict | None = None) -> dict:
    template = json.loads(json.dumps((owner.get("spec") or {}).get("template") or {}))
    meta = template.get("metadata") or {}
    labels = dict(meta.get("labels") or {}) | (extra_labels or {})
    pod_meta = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations"):
        pod_meta["annotations"] = meta["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec")}


# --- Deployments -------------------------------------------------------------------------


def new_replicaset(deploy: dict, pod_hash: str, replicas: int, revision: int) -> dict:
    meta = deploy["metadata"]
    spec = deploy.get("spec") or {}
    template = json.loads(json.dumps(spec.get("template") or {}))
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
    selector = json.loads(json.dumps(spec.get("selector") or {}))
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    max_surge = _int_or_percent(
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


def _revision(rs: dict) -> int:
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
    for rs in sorted(old, key=_revision, reverse=True):
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
    max_unavailable = _int_or_percent(
        ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%"),
        desired,
        round_up=False,
    )
    previous = (deploy.get("status") or {}).get("conditions") or []
    if ready >= desired - max_unavailable:
        available = _condition(
            previous,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
            True,
        )
    else:
        available = _condition(
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
            _condition(previous, "Progressing", "True", *progressing, now, True),
        ],
    }
    return {k: v for k, v in status.items() if v or k == "observedGeneration"}


# --- Jobs ----------------------------------------------------------------------------------


def job_counts(job: dict, pods: list[dict]) -> dict[str, int]:
    mine = owned(pods, job)
    phases = [(p.get("status") or {}).get("phase") for p in mine]
    return {
        "active": sum(live(p) for p in mine),
        "succeeded": phases.count("Succeeded"),
        "failed": phases.count("Failed"),
        "ready": sum(live(p) and pod_ready(p) for p in mine),
        "terminating": sum(bool(p["metadata"].get("deletionTimestamp")) for p in mine),
    }


def plan_job(job: dict, pods: list[dict]) -> tuple[str, int]:
    """("complete"|"failed"|"run", Pods to create)."""
    spec = job.get("spec") or {}
    counts = job_counts(job, pods)
    completions = int(spec.get("completions") or 1)
    parallelism = int(spec.get("parallelism", 1))
    if counts["succeeded"] >= completions:
        return "complete", 0
    if counts["failed"] > int(spec.get("backoffLimit", 6)):
        return "failed", 0
    if spec.get("suspend"):
        return "run", 0
    wanted = min(parallelism, completions - counts["succeeded"])
    return "run", max(0, wanted - counts["active"])


# --- Services ------------------------------------------------------------------------------


def _target_port(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for container_port in container.get("ports") or []:
            if container_port.get("name") == target:
                return int(container_port["containerPort"])
    return None


def _service_pods(service: dict, pods: list[dict]) -> list[dict]:
    selector = (service.get("spec") or {}).get("selector")
    namespace = service["metadata"]["namespace"]
    return sorted(
        (
            p
            for p in pods
            if p["metadata"].get("namespace") == namespace
            and labels_match(selector, p["metadata"].get("labels"))
            and (p.get("status") or {}).get("podIP")
            and is_active(p)
        ),
        key=lambda p: tuple(int(x) for x in p["status"]["podIP"].split(".")),
    )


def _address(pod: dict) -> dict:
    meta = pod["metadata"]
    address = {
        "ip": pod["status"]["podIP"],
        "nodeName": pod["spec"].get("nodeName", ""),
        "targetRef": {
            "kind": "Pod",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
        },
    }
    return address


def endpoints_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """Endpoints' subsets: ready Pods in addresses, the rest in notReadyAddresses."""
    groups: dict[tuple, dict] = {}
    for pod in _service_pods(service, pods):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        ports = []
        for port in (service.get("spec") or {}).get("ports") or []:
            number = _target_port(port, pod)
            if number is None:
                continue
            entry = {"port": number, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry = {"name": port["name"], **entry}
            ports.append(entry)
        key = json.dumps(ports, sort_keys=True)
        subset = groups.setdefault(key, {"ports": ports})
        bucket = "addresses" if pod_ready(pod) else "notReadyAddresses"
        subset.setdefault(bucket, []).append(_address(pod))
    subsets = []
    for subset in groups.values():
        ordered = {k: subset[k] for k in ("addresses", "notReadyAddresses") if k in subset}
        subsets.append(ordered | {"ports": subset["ports"]})
    return subsets


def slice_endpoints(service: dict, pods: list[dict]) -> tuple[list[dict], list[dict]]:
    """EndpointSlice endpoints (with ready/serving/terminating) and ports."""
    endpoints = []
    ports: list[dict] = []
    for pod in _service_pods(service, pods):
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = pod_ready(pod)
        address = _address(pod)
        endpoints.append(
            {
                "addresses": [address["ip"]],
                "conditions": {
                    "ready": ready and not terminating,
                    "serving": ready,
                    "terminating": terminating,
                },
                "nodeName": address["nodeName"],
                "targetRef": address["targetRef"],
            }
        )
        if not ports:
            for port in (service.get("spec") or {}).get("ports") or []:
                number = _target_port(port, pod)
                if number is not None:
                    ports.append(
                        {
                            "name": port.get("name", ""),
                            "port": number,
                            "protocol": port.get("protocol", "TCP"),
                        }
                    )
    return endpoints, ports


class Controllers:
    """The controller manager: each `sync_*` reconciles one kind through the API."""

    def __init__(self, client: Client, recorder: EventRecorder, rng: random.Random) -> None:
        self.client = client
        self.recorder = recorder
        self.rng = rng

    def sync(self, world: World, now: datetime) -> None:
        self._safely(self.sync_deployments, world, now)
        self._safely(self.sync_replicasets, world, now)
        self._safely(self.sync_jobs, world, now)

    def sync_after_kubelets(self, world: World, now: datetime) -> None:
        """Status and endpoints, which follow what the kubelets just reported."""
        self._safely(self.sync_replicaset_status, world, now)
        self._safely(self.sync_deployment_status, world, now)
        self._safely(self.sync_job_status, world, now)
        self._safely(self.sync_services, world, now)
        self._safely(self.collect_garbage, world, now)

    def _safely(self, method, world: World, now: datetime) -> None:
        """A conflict or a vanished object just means: try again next step."""
        try:
            method(world, now)
        except ApiError as error:
            if error.code not in (404, 409, 422):
                raise

    # Deployments

    def sync_deployments(self, world: World, now: datetime) -> None:
        for deploy in list(world.deployments):
            if deploy["metadata"].get("deletionTimestamp"):
                continue
            self._sync_deployment(deploy, world, now)

    def _sync_deployment(self, deploy: dict, world: World, now: datetime) -> None:
        meta = deploy["metadata"]
        mine = owned(world.replicasets, deploy)
        collisions = int((deploy.get("status") or {}).get("collisionCount", 0))
        pod_hash = template_hash(deploy["spec"].get("template") or {}, collisions)
        new_rs = next(
            (rs for rs in mine if rs["metadata"]["labels"].get(HASH_LABEL) == pod_hash), None
        )
        old = [rs for rs in mine if rs is not new_rs]
        top = max((_revision(rs) for rs in mine), default=0)
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
        elif _revision(new_rs) < top:
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
        revision = str(_revision(new_rs))
        if (meta.get("annotations") or {}).get(REVISION) != revision:
            updated = self.client.patch(
                "deployments",
                meta["name"],
                meta["namespace"],
                {"metadata": {"annotations": {REVISION: revision}}},
            )
            world.put("deployments", updated)
        self._prune_history(deploy, world)

    def _scaled(self, deploy: dict, rs: dict, before: int, after: int, now: datetime) -> None:
        direction = "up" if after > before else "down"
        self.recorder.record(
            deploy,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {after}",
            now,
            component="deployment-controller",
        )

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
        for rs in sorted(idle, key=_revision)[: max(0, len(idle) - limit)]:
            self.client.delete("replicasets", rs["metadata"]["name"], rs["metadata"]["namespace"])
            world.drop("replicasets", rs["metadata"]["uid"])

    def sync_deployment_status(self, world: World, now: datetime) -> None:
        for deploy in world.deployments:
            mine = owned(world.replicasets, deploy)
            pod_hash = template_hash(
                deploy["spec"].get("template") or {},
                int((deploy.get("status") or {}).get("collisionCount", 0)),
            )
            new_rs = next(
                (rs for rs in mine if rs["metadata"]["labels"].get(HASH_LABEL) == pod_hash), None
            )
            old_status = deploy.get("status") or {}
            fresh = new_rs is not None and not (old_status.get("conditions"))
            status = deployment_status(deploy, new_rs, mine, world.pods, now, created=fresh)
            if "collisionCount" in old_status:
                status["collisionCount"] = old_status["collisionCount"]
            if status != old_status:
                self._write_status("deployments", deploy, status, world)

    # ReplicaSets

    def sync_replicasets(self, world: World, now: datetime) -> None:
        for rs in list(world.replicasets):
            if rs["metadata"].get("deletionTimestamp"):
                continue
            to_create, to_delete = plan_replicaset(rs, world.pods)
            for _ in range(to_create):
                if not self._create_pod(rs, world, now, "replicaset-controller"):
                    break
            for pod in to_delete:
                self._delete_pod(rs, pod, world, now, "replicaset-controller")

    def sync_replicaset_status(self, world: World, now: datetime) -> None:
        for rs in world.replicasets:
            status = replicaset_status(rs, world.pods)
            if status != (rs.get("status") or {}):
                self._write_status("replicasets", rs, status, world)

    def _create_pod(self, owner: dict, world: World, now: datetime, component: str) -> bool:
        """Create one Pod from the owner's template; False when the API refused it."""
        meta = owner["metadata"]
        for _ in range(5):
            name = f"{meta['name']}-{random_suffix(self.rng)}"
            try:
                pod = self.client.create("pods", pod_from_template(owner, name))
            except ApiError as error:
                if error.reason == "AlreadyExists":
                    continue
                if error.code in (403, 422):
                    self.recorder.record(
                        owner,
                        "Warning",
                        "FailedCreate",
                        f"Error creating: {error.status.get('message', '')}",
                        now,
                        component=component,
                    )
                    return False
                raise
            world.put("pods", pod)
            self.recorder.record(
                owner,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {name}",
                now,
                component=component,
            )
            return True
        return False

    def _delete_pod(
        self, owner: dict, pod: dict, world: World, now: datetime, component: str
    ) -> None:
        meta = pod["metadata"]
        try:
            deleted = self.client.delete("pods", meta["name"], meta["namespace"], uid=meta["uid"])
        except ApiError as error:
            if error.code != 404:
                raise
            world.drop("pods", meta["uid"])
            return
        if deleted.get("kind") == "Pod":
            world.put("pods", deleted)
        else:
            world.drop("pods", meta["uid"])
        self.recorder.record(
            owner,
            "Normal",
            "SuccessfulDelete",
            f"Deleted pod: {meta['name']}",
            now,
            component=component,
        )

    # Jobs

    def sync_jobs(self, world: World, now: datetime) -> None:
        for job in list(world.jobs):
            if job["metadata"].get("deletionTimestamp") or _job_finished(job):
                continue
            verdict, to_create = plan_job(job, world.pods)
            if verdict == "failed":
                for pod in owned(world.pods, job):
                    if live(pod):
                        self._delete_pod(job, pod, world, now, "job-controller")
            for _ in range(to_create):
                if not self._create_pod(job, world, now, "job-controller"):
                    break

    def sync_job_status(self, world: World, now: datetime) -> None:
        for job in world.jobs:
            old = job.get("status") or {}
            if _job_finished(job):
                continue
            verdict, _ = plan_job(job, world.pods)
            counts = job_counts(job, world.pods)
            status = {
                "startTime": old.get("startTime") or stamp(now),
                "active": counts["active"],
                "succeeded": counts["succeeded"],
                "failed": counts["failed"],
                "ready": counts["ready"],
                "terminating": counts["terminating"],
                "uncountedTerminatedPods": {},
            }
            status = {
                k: v
                for k, v in status.items()
                if v or k in ("ready", "terminating", "uncountedTerminatedPods")
            }
            if old.get("conditions"):
                status["conditions"] = old["conditions"]
            if verdict == "complete":
                message = "Reached expected number of succeeded pods"
                status["conditions"] = [
                    _condition(
                        [], "SuccessCriteriaMet", "True", "CompletionsReached", message, now
                    ),
                    _condition([], "Complete", "True", "CompletionsReached", message, now),
                ]
                for condition in status["conditions"]:
                    condition["lastProbeTime"] = stamp(now)
                status["completionTime"] = stamp(now)
            elif verdict == "failed" and not counts["active"]:
                message = "Job has reached the specified backoff limit"
                status["conditions"] = [
                    _condition([], "FailureTarget", "True", "BackoffLimitExceeded", message, now),
                    _condition([], "Failed", "True", "BackoffLimitExceeded", message, now),
                ]
                for condition in status["conditions"]:
                    condition["lastProbeTime"] = stamp(now)
            if status != old:
                self._write_status("jobs", job, status, world)
                if verdict == "complete":
                    self.recorder.record(
                        job, "Normal", "Completed", "Job completed", now, component="job-controller"
                    )
                elif "conditions" in status and verdict == "failed":
                    self.recorder.record(
                        job,
                        "Warning",
                        "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit",
                        now,
                        component="job-controller",
                    )

    # Services

    def sync_services(self, world: World, now: datetime) -> None:
        names = set()
        for service in world.services:
            meta = service["metadata"]
            names.add((meta["namespace"], meta["name"]))
            spec = service.get("spec") or {}
            if not spec.get("clusterIP") and spec.get("type") != "ExternalName":
                service = self._allocate_ip(service, world)
            if not spec.get("selector"):
                continue
            self._sync_endpoints(service, world, now)
            self._sync_slice(service, world)
        for endpoints in list(world.endpoints):
            meta = endpoints["metadata"]
            managed = ENDPOINTS_TRIGGER in (meta.get("annotations") or {})
            if managed and (meta["namespace"], meta["name"]) not in names:
                self.client.delete("endpoints", meta["name"], meta["namespace"])
                world.drop("endpoints", meta["uid"])

    def _allocate_ip(self, service: dict, world: World) -> dict:
        used = {(s.get("spec") or {}).get("clusterIP") for s in world.services}
        for number in range(11, 65534):
            candidate = f"10.96.{number // 256}.{number % 256}"
            if candidate not in used and number % 256 not in (0, 255):
                break
        meta = service["metadata"]
        updated = self.client.patch(
            "services",
            meta["name"],
            meta["namespace"],
            {"spec": {"clusterIP": candidate, "clusterIPs": [candidate]}},
        )
        world.put("services", updated)
        return updated

    def _sync_endpoints(self, service: dict, world: World, now: datetime) -> None:
        meta = service["metadata"]
        subsets = endpoints_subsets(service, world.pods)
        existing = next(
            (
                e
                for e in world.endpoints
                if e["metadata"]["namespace"] == meta["namespace"]
                and e["metadata"]["name"] == meta["name"]
            ),
            None,
        )
        labels = dict(meta.get("labels") or {})
        if existing is None:
            body = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "labels": labels,
                    "annotations": {ENDPOINTS_TRIGGER: stamp(now)},
                },
            }
            if subsets:
                body["subsets"] = subsets
            world.put("endpoints", self.client.create("endpoints", body))
            return
        if (existing.get("subsets") or []) == subsets:
            return

        def change(current: dict) -> dict:
            current["metadata"].setdefault("annotations", {})[ENDPOINTS_TRIGGER] = stamp(now)
            if subsets:
                current["subsets"] = subsets
            else:
                current.pop("subsets", None)
            return current

        world.put(
            "endpoints", self.client.update("endpoints", meta["name"], meta["namespace"], change)
        )

    def _sync_slice(self, service: dict, world: World) -> None:
        meta = service["metadata"]
        endpoints, ports = slice_endpoints(service, world.pods)
        existing = next(
            (
                s
                for s in world.endpointslices
                if s["metadata"]["namespace"] == meta["namespace"]
                and (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
                == meta["name"]
                and (s["metadata"].get("labels") or {}).get(
                    "endpointslice.kubernetes.io/managed-by"
                )
                == SLICE_MANAGER
            ),
            None,
        )
        if existing is None:
            body = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{meta['name']}-{random_suffix(self.rng)}",
                    "namespace": meta["namespace"],
                    "labels": dict(meta.get("labels") or {})
                    | {
                        "kubernetes.io/service-name": meta["name"],
                        "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER,
                    },
                    "generateName": f"{meta['name']}-",
                    "ownerReferences": [owner_reference(service)],
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            }
            world.put("endpointslices", self.client.create("endpointslices", body))
            return
        if existing.get("endpoints") == endpoints and existing.get("ports") == ports:
            return

        def change(current: dict) -> dict:
            current["endpoints"] = endpoints
            current["ports"] = ports
            return current

        name = existing["metadata"]["name"]
        world.put(
            "endpointslices",
            self.client.update("endpointslices", name, meta["namespace"], change),
        )

    def finish_orphaned_pods(self, world: World, nodes: set[str]) -> None:
        """Terminating Pods no kubelet will finish (never scheduled, or on no known node).

        The API server removes those at once in a real cluster; here the pod GC does.
        """
        for pod in list(world.pods):
            meta = pod["metadata"]
            node = (pod.get("spec") or {}).get("nodeName")
            if meta.get("deletionTimestamp") and (not node or node not in nodes):
                try:
                    self.client.delete(
                        "pods", meta["name"], meta["namespace"], grace_period=0, uid=meta["uid"]
                    )
                except ApiError as error:
                    if error.code not in (404, 409):
                        raise
                world.drop("pods", meta["uid"])

    # Garbage collection

    def collect_garbage(self, world: World, now: datetime) -> None:
        """Delete dependents whose controlling owner no longer exists (background cascade)."""
        owners = {
            "Deployment": ("deployments", world.deployments),
            "ReplicaSet": ("replicasets", world.replicasets),
            "Job": ("jobs", world.jobs),
            "Service": ("services", world.services),
        }
        for resource in ("replicasets", "pods", "endpointslices"):
            for obj in list(getattr(world, resource)):
                meta = obj["metadata"]
                if meta.get("deletionTimestamp"):
                    continue
                for reference in meta.get("ownerReferences") or []:
                    if not reference.get("controller") or reference.get("kind") not in owners:
                        continue
                    owner_resource, items = owners[reference["kind"]]
                    if any(o["metadata"]["uid"] == reference.get("uid") for o in items):
                        continue
                    try:
                        owner = self.client.get(
                            owner_resource, reference["name"], meta["namespace"]
                        )
                        if owner["metadata"]["uid"] == reference.get("uid"):
                            continue
                    except ApiError as error:
                        if error.code != 404:
                            raise
                    self._collect(resource, obj, world)

    def _collect(self, resource: str, obj: dict, world: World) -> None:
        meta = obj["metadata"]
        try:
            deleted = self.client.delete(resource, meta["name"], meta["namespace"], uid=meta["uid"])
        except ApiError as error:
            if error.code not in (404, 409):
                raise
            world.drop(resource, meta["uid"])
            return
        if deleted.get("kind") and deleted.get("metadata", {}).get("deletionTimestamp"):
            world.put(resource, deleted)
        else:
            world.drop(resource, meta["uid"])

    def _write_status(self, resource: str, obj: dict, status: dict, world: World) -> None:
        meta = obj["metadata"]

        def change(current: dict) -> dict:
            current["status"] = status
            return current

        world.put(
            resource, self.client.update_status(resource, meta["name"], meta["namespace"], change)
        )


def _with_replicas(rs: dict, replicas: int, deploy: dict) -> dict:
    rs["spec"]["replicas"] = replicas
    annotations = rs["metadata"].setdefault("annotations", {})
    annotations["deployment.kubernetes.io/desired-replicas"] = str(
        deploy["spec"].get("replicas", 1)
    )
    return rs


def _with_revision(rs: dict, revision: int) -> dict:
    rs["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
    return rs


def _job_finished(job: dict) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )
