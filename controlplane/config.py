"""Control plane settings, from Django settings when set there, else the environment."""

import os
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from controlplane.kubelet import Timing


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    return str(value) if value is not None else os.environ.get(name, default)


def _number(name: str, default: str, kind: type = float) -> float:
    text = _setting(name, default)
    try:
        value = kind(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {text!r}") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, not {text!r}")
    return value


@dataclass(frozen=True)
class Config:
    """How many nodes, how big, and how fast deliveries move."""

    nodes: int = 3
    node_cpu: str = "4"
    node_memory: str = "8Gi"
    node_pods: int = 110
    timing: Timing = field(default_factory=Timing)
    interval: float = 0.25
    # Seeds the generated names (with each owner, see controllers.common.Names), so a class
    # replayed on the same clock comes out the same; None draws a fresh seed each start.
    seed: int | None = None

    @classmethod
    def from_settings(cls) -> "Config":
        """WAREHOUSE_NODES, WAREHOUSE_NODE_CPU, WAREHOUSE_NODE_MEMORY, WAREHOUSE_NODE_PODS,
        WAREHOUSE_DELIVERY_SECONDS (seconds per kubelet step), WAREHOUSE_BACKOFF_SECONDS,
        WAREHOUSE_CONTROLPLANE_SEED (empty: a fresh seed each start)."""
        seed = _setting("WAREHOUSE_CONTROLPLANE_SEED", "")
        return cls(
            nodes=int(_number("WAREHOUSE_NODES", "3", int)),
            node_cpu=_setting("WAREHOUSE_NODE_CPU", "4"),
            node_memory=_setting("WAREHOUSE_NODE_MEMORY", "8Gi"),
            node_pods=int(_number("WAREHOUSE_NODE_PODS", "110", int)),
            timing=Timing(
                step=_number("WAREHOUSE_DELIVERY_SECONDS", "1.5"),
                backoff=_number("WAREHOUSE_BACKOFF_SECONDS", "10"),
            ),
            seed=int(_number("WAREHOUSE_CONTROLPLANE_SEED", "0", int)) if seed else None,
        )
