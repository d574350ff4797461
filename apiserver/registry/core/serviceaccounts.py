"""ServiceAccounts: identities for the software in Pods."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy


def _serviceaccount_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [cells.name(obj), len(obj.get("secrets") or ()), cells.created(obj, now)]


STRATEGY = Strategy(
    resource="/serviceaccounts",
    columns=[cells.NAME, cells.col("Secrets", "integer"), cells.AGE],
    row=_serviceaccount_row,
    delete_returns_object=True,
)
