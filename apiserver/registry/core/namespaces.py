"""Namespaces: each learner's own aisle of the cluster."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes


def _default_namespace(obj: dict[str, Any], causes: Causes) -> None:
    name = obj["metadata"].get("name")
    labels = obj["metadata"].setdefault("labels", {})
    if isinstance(labels, dict) and name:
        labels["kubernetes.io/metadata.name"] = name
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {"phase": "Active"})


def _namespace_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [cells.name(obj), cells.status(obj).get("phase", "Active"), cells.created(obj, now)]


STRATEGY = Strategy(
    resource="/namespaces",
    columns=[cells.NAME, cells.col("Status"), cells.AGE],
    row=_namespace_row,
    default=_default_namespace,
    field_selectors=("status.phase",),
    name_is_dns_label=True,
    delete_returns_object=True,
    status_on_create=True,
)
