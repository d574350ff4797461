"""StatefulSets: numbered Pods (web-0, web-1...) started in order, each with its own identity."""

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
from apiserver.registry.validation import Causes, check_nonnegative, fill, immutable


def _default_statefulset(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        default_replicas(spec)
        fill(spec, "podManagementPolicy", "OrderedReady")
        fill(spec, "updateStrategy", {})
        strategy = spec["updateStrategy"]
        if isinstance(strategy, dict):
            if not strategy.get("type"):
                strategy["type"] = "RollingUpdate"
                fill(strategy, "rollingUpdate", {})
            if strategy["type"] == "RollingUpdate":
                fill(strategy.get("rollingUpdate"), "partition", 0)
        fill(spec, "revisionHistoryLimit", 10)
        fill(
            spec,
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        default_template(spec.get("template"))


def _statefulset_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    names, images = cells.containers(cells.template_spec(obj))
    return [
        cells.name(obj),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        cells.created(obj, now),
        names,
        images,
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    validate_workload(obj, causes, "spec.template")
    check_nonnegative(obj, "spec.updateStrategy.rollingUpdate.partition", causes)


STRATEGY = Strategy(
    resource="apps/statefulsets",
    columns=[cells.NAME, cells.col("Ready"), cells.AGE, *cells.WIDE_CONTAINERS],
    row=_statefulset_row,
    default=_default_statefulset,
    validate=_validate,
    int32_fields=(
        *workload_int32("StatefulSetSpec"),
        ("spec.updateStrategy.rollingUpdate.partition", "StatefulSetSpec"),
    ),
    validate_update=immutable("spec.selector", "spec.serviceName", "spec.podManagementPolicy"),
)
