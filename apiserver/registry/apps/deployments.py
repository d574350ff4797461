"""Deployments: a standing order for N identical Pods, rolled out through ReplicaSets."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.podspec import default_template, validate_workload
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes


def _default_deployment(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    )
    strategy = spec["strategy"]
    if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {})
        if isinstance(strategy["rollingUpdate"], dict):
            strategy["rollingUpdate"].setdefault("maxUnavailable", "25%")
            strategy["rollingUpdate"].setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_template(spec.get("template"))


def _deployment_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    return [
        cells.name(obj),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        cells.created(obj, now),
        *cells.wide_workload(obj),
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    validate_workload(obj, causes, "spec.template")


STRATEGY = Strategy(
    resource="apps/deployments",
    columns=[
        cells.NAME,
        cells.col("Ready"),
        cells.col("Up-to-date", "integer"),
        cells.col("Available", "integer"),
        cells.AGE,
        *cells.WIDE_CONTAINERS,
        cells.WIDE_SELECTOR,
    ],
    row=_deployment_row,
    default=_default_deployment,
    validate=_validate,
)
