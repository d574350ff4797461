"""Endpoints: the addresses behind a Service, kept by its controller."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy


def _endpoints_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    addresses = []
    for subset in obj.get("subsets") or ():
        ports = [p.get("port") for p in subset.get("ports") or ()] or [None]
        for address in subset.get("addresses") or ():
            for port in ports:
                ip = address.get("ip", "")
                addresses.append(f"{ip}:{port}" if port else ip)
    text = ",".join(addresses[:3]) + (
        f" + {len(addresses) - 3} more..." if len(addresses) > 3 else ""
    )
    return [cells.name(obj), text or "<none>", cells.created(obj, now)]


STRATEGY = Strategy(
    resource="/endpoints",
    columns=[cells.NAME, cells.col("Endpoints"), cells.AGE],
    row=_endpoints_row,
)
