"""Nodes: the depots Pods are delivered to."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy


def _node_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    status = cells.status(obj)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    ready = "Ready" if conditions.get("Ready") == "True" else "NotReady"
    if cells.spec(obj).get("unschedulable"):
        ready += ",SchedulingDisabled"
    labels = cells.meta(obj).get("labels") or {}
    roles = sorted(
        key.split("/", 1)[1]
        for key in labels
        if key.startswith("node-role.kubernetes.io/") and "/" in key
    )
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or ()}
    return [
        cells.name(obj),
        ready,
        ",".join(roles) or "<none>",
        cells.created(obj, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage", "<unknown>"),
        info.get("kernelVersion", "<unknown>"),
        info.get("containerRuntimeVersion", "<unknown>"),
    ]


STRATEGY = Strategy(
    resource="/nodes",
    columns=[
        cells.NAME,
        cells.col("Status"),
        cells.col("Roles"),
        cells.AGE,
        cells.col("Version"),
        cells.col("Internal-IP", priority=1),
        cells.col("External-IP", priority=1),
        cells.col("OS-Image", priority=1),
        cells.col("Kernel-Version", priority=1),
        cells.col("Container-Runtime", priority=1),
    ],
    row=_node_row,
    field_selectors=("spec.unschedulable",),
)
