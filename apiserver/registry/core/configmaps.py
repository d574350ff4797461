"""ConfigMaps: plain settings a Pod reads."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy


def _configmap_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [cells.name(obj), count, cells.created(obj, now)]


STRATEGY = Strategy(
    resource="/configmaps",
    columns=[cells.NAME, cells.col("Data", "integer"), cells.AGE],
    row=_configmap_row,
)
