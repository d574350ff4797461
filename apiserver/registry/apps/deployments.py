"""Deployments: a standing order for N identical Pods, rolled out through ReplicaSets."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.podspec import (
    default_replicas,
    default_template,
    validate_workload,
    workload_int32,
)
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import (
    Causes,
    at,
    check_nonnegative,
    check_rolling_update,
    fill,
    immutable,
)

STRATEGY_TYPES = ["Recreate", "RollingUpdate"]


def _default_deployment(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    default_replicas(spec)
    fill(spec, "strategy", {})
    strategy = spec["strategy"]
    if isinstance(strategy, dict) and strategy.get("type") in (None, "", "RollingUpdate"):
        strategy["type"] = "RollingUpdate"
        fill(strategy, "rollingUpdate", {})
        fill(strategy["rollingUpdate"], "maxUnavailable", "25%")
        fill(strategy["rollingUpdate"], "maxSurge", "25%")
    fill(spec, "revisionHistoryLimit", 10)
    fill(spec, "progressDeadlineSeconds", 600)
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
    check_nonnegative(obj, "spec.progressDeadlineSeconds", causes)
    strategy = at(obj, "spec.strategy")
    if not isinstance(strategy, dict):
        return
    kind = strategy.get("type")
    if kind not in STRATEGY_TYPES:
        causes.unsupported("spec.strategy.type", kind, STRATEGY_TYPES)
    elif kind == "Recreate" and strategy.get("rollingUpdate") is not None:
        causes.forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )
    else:
        check_rolling_update(strategy.get("rollingUpdate"), "spec.strategy.rollingUpdate", causes)


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
    int32_fields=(
        *workload_int32("DeploymentSpec"),
        ("spec.progressDeadlineSeconds", "DeploymentSpec"),
    ),
    validate_update=immutable("spec.selector"),
)
