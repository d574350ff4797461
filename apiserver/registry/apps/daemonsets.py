"""DaemonSets: one Pod on every node that qualifies."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.podspec import default_template, validate_workload, workload_int32
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes, at, check_rolling_update, fill, immutable


def _default_daemonset(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        fill(spec, "updateStrategy", {})
        strategy = spec["updateStrategy"]
        if isinstance(strategy, dict) and strategy.get("type") in (None, "", "RollingUpdate"):
            strategy["type"] = "RollingUpdate"
            fill(strategy, "rollingUpdate", {})
            fill(strategy["rollingUpdate"], "maxUnavailable", 1)
            fill(strategy["rollingUpdate"], "maxSurge", 0)
        fill(spec, "revisionHistoryLimit", 10)
        default_template(spec.get("template"))


def _daemonset_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    status = cells.status(obj)
    node_selector = cells.template_spec(obj).get("nodeSelector") or {}
    return [
        cells.name(obj),
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in node_selector.items()) or "<none>",
        cells.created(obj, now),
        *cells.wide_workload(obj),
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    validate_workload(obj, causes, "spec.template")
    path = "spec.updateStrategy.rollingUpdate"
    check_rolling_update(at(obj, path), path, causes)


STRATEGY = Strategy(
    resource="apps/daemonsets",
    columns=[
        cells.NAME,
        cells.col("Desired", "integer"),
        cells.col("Current", "integer"),
        cells.col("Ready", "integer"),
        cells.col("Up-to-date", "integer"),
        cells.col("Available", "integer"),
        cells.col("Node Selector"),
        cells.AGE,
        *cells.WIDE_CONTAINERS,
        cells.WIDE_SELECTOR,
    ],
    row=_daemonset_row,
    default=_default_daemonset,
    validate=_validate,
    int32_fields=workload_int32("DaemonSetSpec"),
    validate_update=immutable("spec.selector"),
)
