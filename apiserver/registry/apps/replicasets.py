"""ReplicaSets: keep N Pods from one template alive."""

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
from apiserver.registry.validation import Causes, immutable


def _default_replicaset(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        default_replicas(spec)
        default_template(spec.get("template"))


def _replicaset_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    return [
        cells.name(obj),
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        cells.created(obj, now),
        *cells.wide_workload(obj),
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    validate_workload(obj, causes, "spec.template")


STRATEGY = Strategy(
    resource="apps/replicasets",
    columns=[
        cells.NAME,
        cells.col("Desired", "integer"),
        cells.col("Current", "integer"),
        cells.col("Ready", "integer"),
        cells.AGE,
        *cells.WIDE_CONTAINERS,
        cells.WIDE_SELECTOR,
    ],
    row=_replicaset_row,
    default=_default_replicaset,
    validate=_validate,
    field_selectors=("status.replicas",),
    int32_fields=workload_int32("ReplicaSetSpec"),
    validate_update=immutable("spec.selector"),
)
