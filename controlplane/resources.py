"""What a Pod asks a node for, in quantities read by the API server's own parser."""

from decimal import Decimal

from apiserver.quantities import parse_quantity

__all__ = ["parse_quantity", "pod_requests", "requests_or_none"]


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


def requests_or_none(pod: dict) -> dict[str, Decimal]:
    """What an already placed Pod holds; nothing if its quantities cannot be read.

    Admission refuses such Pods, but one written around it must not stop the scheduler
    from weighing every other Pod bound to the same node.
    """
    try:
        return pod_requests(pod)
    except ValueError:
        return {"cpu": Decimal(0), "memory": Decimal(0)}
