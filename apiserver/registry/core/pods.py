"""Pods: the parcel itself, the one kind the scheduler and kubelets act on."""

import copy
from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.podspec import default_pod_spec, qos_class, validate_pod_spec
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes, check_ips

_MUTABLE_POD_FIELDS = {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"}


def validate_pod_update(old: dict[str, Any], new: dict[str, Any], causes: Causes) -> None:
    """Pods are mostly immutable: images may change, and nodeName may be set once. A status
    written (by a kubelet, or a learner) must name real IP addresses."""
    old_spec = copy.deepcopy(old.get("spec") or {})
    new_spec = copy.deepcopy(new.get("spec") or {})
    if not old_spec.get("nodeName"):
        old_spec.pop("nodeName", None)
        new_spec.pop("nodeName", None)
    for spec in (old_spec, new_spec):
        for field in _MUTABLE_POD_FIELDS:
            spec.pop(field, None)
        for group in ("containers", "initContainers"):
            for container in spec.get(group) or ():
                if isinstance(container, dict):
                    container.pop("image", None)
    status = new.get("status")
    if isinstance(status, dict):
        check_ips(status, "podIP", "podIPs", causes)
        check_ips(status, "hostIP", "hostIPs", causes)
    if old_spec != new_spec:
        causes.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
            "`spec.tolerations` (only additions to existing tolerations),"
            "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
            "previously negative)",
        )


def _default_pod(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    default_pod_spec(spec)
    if isinstance(spec, dict):
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault(
            "tolerations",
            [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
        )
    obj.setdefault("status", {})
    if isinstance(obj["status"], dict):
        obj["status"].setdefault("phase", "Pending")
        obj["status"].setdefault("qosClass", qos_class(spec))


def _pod_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    containers = spec.get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if isinstance(s, dict) and s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses if isinstance(s, dict))
    reason = status.get("reason") or status.get("phase") or "Pending"
    for container in statuses:
        state = container.get("state") or {} if isinstance(container, dict) else {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            code = terminated.get("exitCode", 0)
            reason = (
                f"Signal:{terminated['signal']}"
                if terminated.get("signal")
                else (f"ExitCode:{code}")
            )
    if cells.meta(obj).get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
        passed = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_text = f"{passed}/{len(gates)}"
    else:
        gates_text = "<none>"
    return [
        cells.name(obj),
        f"{ready}/{len(containers)}",
        reason,
        restarts,
        cells.created(obj, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    validate_pod_spec(obj.get("spec"), "spec", causes)


def _grace_seconds(obj: dict[str, Any], requested: int | None) -> int:
    """How long a delete waits: a Pod on a node gets its grace period to stop."""
    spec = obj.get("spec") or {}
    phase = (obj.get("status") or {}).get("phase")
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    if requested is None:
        requested = spec.get("terminationGracePeriodSeconds", 30)
    return max(int(requested or 0), 0)


STRATEGY = Strategy(
    resource="/pods",
    columns=[
        cells.NAME,
        cells.col("Ready"),
        cells.col("Status"),
        cells.col("Restarts", "integer"),
        cells.AGE,
        cells.col("IP", priority=1),
        cells.col("Node", priority=1),
        cells.col("Nominated Node", priority=1),
        cells.col("Readiness Gates", priority=1),
    ],
    row=_pod_row,
    default=_default_pod,
    validate=_validate,
    field_selectors=(
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    delete_returns_object=True,
    validate_update=validate_pod_update,
    grace_seconds=_grace_seconds,
)
