"""The scheduler: the dispatcher that picks a depot (node) for every new order (Pod).

`pick_node` is pure: it weighs one Pod against the nodes and the Pods already placed, and
returns a node or the scheduler's explanation. `schedule` does the writes through the API:
bind, PodScheduled condition, and the Scheduled / FailedScheduling events.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from apiserver.client import ApiError, Client
from controlplane.clock import stamp
from controlplane.events import EventRecorder
from controlplane.nodes import node_ready
from controlplane.resources import parse_quantity, pod_requests, requests_or_none
from controlplane.workqueue import Retries

SCHEDULER_NAME = "default-scheduler"
# An unschedulable Pod is retried when capacity changes, or after this long anyway.
RETRY_UNSCHEDULABLE = timedelta(seconds=60)
# The taint a cordoned node (spec.unschedulable) carries; DaemonSet Pods tolerate it.
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


@dataclass(frozen=True)
class Decision:
    node: str | None
    message: str = ""


def is_active(pod: dict) -> bool:
    """Whether a Pod still holds its node's capacity (not finished, not being deleted)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed")


def needs_scheduling(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and not pod["metadata"].get("deletionTimestamp")
        and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
        and is_active(pod)
    )


def _requirement_met(requirement: dict, value: str | None) -> bool:
    """One NodeSelectorRequirement against a node's label (or field) value."""
    operator = requirement.get("operator")
    values = requirement.get("values") or []
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            mine, limit = int(value), int(values[0])
        except ValueError:
            return False
        return mine > limit if operator == "Gt" else mine < limit
    return False


def node_matches(pod: dict, node: dict) -> bool:
    """Whether the Pod's nodeSelector and required node affinity both accept the node.

    Affinity terms are ORed; inside a term every matchExpressions (on labels) and
    matchFields (on metadata.name, the one field Kubernetes allows) entry must hold, and a
    term with neither matches nothing.
    """
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(key) != value for key, value in (spec.get("nodeSelector") or {}).items()):
        return False
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return True
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in required.get("nodeSelectorTerms") or []:
        expressions = term.get("matchExpressions") or []
        by_field = term.get("matchFields") or []
        if not (expressions or by_field):
            continue
        if all(_requirement_met(r, labels.get(r.get("key"))) for r in expressions) and all(
            _requirement_met(r, fields.get(r.get("key"))) for r in by_field
        ):
            return True
    return False


def tolerates(pod: dict, key: str, effect: str) -> bool:
    """Whether one of the Pod's tolerations covers a taint with this key and effect."""
    for toleration in (pod.get("spec") or {}).get("tolerations") or []:
        if toleration.get("effect") not in (None, "", effect):
            continue
        if toleration.get("operator") == "Exists" and not toleration.get("key"):
            return True
        exists = toleration.get("operator") == "Exists" or not toleration.get("value")
        if toleration.get("key") == key and exists:
            return True
    return False


def pick_node(pod: dict, nodes: list[dict], placed: list[dict]) -> Decision:
    """Filter the nodes that fit, then score them: the least allocated one wins.

    `placed` holds every Pod already bound, including ones bound earlier in this pass.
    """
    wanted = pod_requests(pod)
    reasons: Counter[str] = Counter()
    fits: list[tuple[Decimal, int, str]] = []
    for node in nodes:
        name = node["metadata"]["name"]
        if not node_ready(node):
            reasons["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"] += 1
            continue
        cordoned = (node.get("spec") or {}).get("unschedulable")
        if cordoned and not tolerates(pod, UNSCHEDULABLE_TAINT, "NoSchedule"):
            reasons["node(s) were unschedulable"] += 1
            continue
        if not node_matches(pod, node):
            reasons["node(s) didn't match Pod's node affinity/selector"] += 1
            continue
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        on_node = [p for p in placed if p["spec"].get("nodeName") == name and is_active(p)]
        used = {"cpu": Decimal(0), "memory": Decimal(0)}
        for other in on_node:
            for resource, amount in requests_or_none(other).items():
                used[resource] += amount
        short = False
        if len(on_node) + 1 > parse_quantity(allocatable.get("pods", "110")):
            reasons["Too many pods"] += 1
            short = True
        for resource in ("cpu", "memory"):
            limit = parse_quantity(allocatable.get(resource, "0"))
            if wanted[resource] and used[resource] + wanted[resource] > limit:
                reasons[f"Insufficient {resource}"] += 1
                short = True
        if short:
            continue
        free = Decimal(0)
        for resource in ("cpu", "memory"):
            limit = parse_quantity(allocatable.get(resource, "0")) or Decimal(1)
            free += (limit - used[resource] - wanted[resource]) / limit
        fits.append((-free, len(on_node), name))
    if fits:
        return Decision(min(fits)[2])
    return Decision(None, unschedulable_message(len(nodes), reasons))


def unschedulable_message(total: int, reasons: Counter[str]) -> str:
    """kube-scheduler's summary, e.g. ``0/3 nodes are available: 3 Insufficient cpu.``"""
    if not total:
        return "no nodes available to schedule pods"
    parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
    return f"0/{total} nodes are available: {', '.join(parts)}."


class Scheduler:
    """Binds pending Pods to nodes through the API, remembering whom it could not place."""

    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder
        self._waiting: dict[str, tuple[str, datetime]] = {}
        self.binding_supported = True
        self.retries = Retries(recorder)

    def schedule(self, pods: list[dict], nodes: list[dict], now: datetime) -> list[dict]:
        """Place every Pod that needs a node; return the Pods as they are after binding."""
        placed = [p for p in pods if (p.get("spec") or {}).get("nodeName")]
        capacity = _fingerprint(nodes, placed)
        changed: list[dict] = []
        live = set()
        for pod in sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp", "")):
            if not needs_scheduling(pod):
                continue
            uid = pod["metadata"]["uid"]
            live.add(uid)
            seen = self._waiting.get(uid)
            if seen and seen[0] == capacity and now - seen[1] < RETRY_UNSCHEDULABLE:
                continue
            bound = self.retries.run(
                pod, now, lambda pod=pod, at=capacity: self._place(pod, nodes, placed, at, now)
            )
            if bound is not None:
                placed.append(bound)
                changed.append(bound)
                capacity = _fingerprint(nodes, placed)
        for uid in set(self._waiting) - live:
            del self._waiting[uid]
        return changed

    def _place(
        self, pod: dict, nodes: list[dict], placed: list[dict], capacity: str, now: datetime
    ) -> dict | None:
        """Bind one Pod, or say why it waits; the Pod as bound, or None."""
        uid = pod["metadata"]["uid"]
        decision = pick_node(pod, nodes, placed)
        if decision.node is None:
            self._waiting[uid] = (capacity, now)
            self._unschedulable(pod, decision.message, now)
            return None
        self._waiting.pop(uid, None)
        return self._bind(pod, decision.node, now)

    def next_retry(self) -> datetime | None:
        """When the longest-waiting unschedulable Pod, or one whose scheduling failed, is due
        another attempt anyway."""
        times = [at + RETRY_UNSCHEDULABLE for _, at in self._waiting.values()]
        failed = self.retries.next_due()
        return min([*times, failed] if failed else times, default=None)

    def _bind(self, pod: dict, node: str, now: datetime) -> dict | None:
        meta = pod["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        try:
            self._assign(namespace, name, node, meta["uid"])
            bound = self.client.update_status(
                "pods", name, namespace, lambda p: _set_scheduled(p, True, "", "", now)
            )
        except ApiError as error:
            if error.code in (404, 409, 413):  # 413: the learner grew it to the store's limit
                return None
            raise
        self.recorder.record(
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {namespace}/{name} to {node}",
            now,
            action="Binding",
        )
        return bound

    def _assign(self, namespace: str, name: str, node: str, uid: str) -> None:
        """POST pods/<name>/binding, or PATCH spec.nodeName where the server lacks binding."""
        if self.binding_supported:
            try:
                self.client.bind(namespace, name, node, uid=uid)
                return
            except ApiError as error:
                if not (error.code in (404, 405) and "details" not in error.status):
                    raise
                self.binding_supported = False
        self.client.patch("pods", name, namespace, {"spec": {"nodeName": node}})

    def _unschedulable(self, pod: dict, message: str, now: datetime) -> None:
        meta = pod["metadata"]
        try:
            updated = self.client.update_status(
                "pods",
                meta["name"],
                meta["namespace"],
                lambda p: _set_scheduled(p, False, "Unschedulable", message, now),
            )
        except ApiError as error:
            if error.code in (404, 413):
                return
            raise
        self.recorder.record(
            updated, "Warning", "FailedScheduling", message, now, action="Scheduling"
        )


def _set_scheduled(pod: dict, ok: bool, reason: str, message: str, now: datetime) -> dict | None:
    """Set the PodScheduled condition; None when it already says exactly this."""
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    conditions = status.setdefault("conditions", [])
    wanted = {"type": "PodScheduled", "status": "True" if ok else "False"}
    if not ok:
        wanted |= {"reason": reason, "message": message}
    for condition in conditions:
        if condition.get("type") == "PodScheduled":
            same = all(condition.get(k) == v for k, v in wanted.items())
            if same:
                return None
            if condition.get("status") != wanted["status"]:
                condition["lastTransitionTime"] = stamp(now)
            condition.pop("reason", None)
            condition.pop("message", None)
            condition.update(wanted)
            condition.setdefault("lastProbeTime", None)
            return pod
    conditions.append({"lastProbeTime": None, "lastTransitionTime": stamp(now), **wanted})
    return pod


def _fingerprint(nodes: list[dict], placed: list[dict]) -> str:
    """Something that changes whenever free capacity might have."""
    node_part = sorted(
        (n["metadata"]["name"], n["metadata"].get("resourceVersion", "")) for n in nodes
    )
    pod_part = sorted(p["metadata"]["uid"] for p in placed if is_active(p))
    return repr((node_part, pod_part))


def schedule(
    client: Client, recorder: EventRecorder, pods: list[dict], nodes: list[dict], now: datetime
) -> list[dict]:
    """One scheduling pass without memory between calls (the loop keeps a `Scheduler`)."""
    return Scheduler(client, recorder).schedule(pods, nodes, now)
