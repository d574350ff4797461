"""Resource quantities (``500m``, ``128Mi``) and what a Pod asks a node for."""

import re
from decimal import Decimal

_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")


def parse_quantity(value: str | int | float | None) -> Decimal:
    """A Kubernetes quantity as a number of base units (cores, bytes, pods)."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"quantities must match the regular expression {_QUANTITY.pattern}")
    return Decimal(match[1]) * _SUFFIX[match[2] or ""]


def pod_requests(pod: dict) -> dict[str, Decimal]:
    """CPU and memory a Pod requests: its containers' requests summed, init containers' max.

    A container that sets only limits requests its limits, as API defaulting does.
    """
    spec = pod.get("spec") or {}
    total = {"cpu": Decimal(0), "memory": Decimal(0)}
    for container in spec.get("containers") or []:
        for name, amount in _container_requests(container).items():
            total[name] += amount
    for container in spec.get("initContainers") or []:
        for name, amount in _container_requests(container).items():
            total[name] = max(total[name], amount)
    return total


def _container_requests(container: dict) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    return {
        name: parse_quantity(requests.get(name, limits.get(name))) for name in ("cpu", "memory")
    }
