"""ResourceQuotas: limits on what one namespace may hold."""

from apiserver.registry.strategy import Strategy

STRATEGY = Strategy(
    resource="/resourcequotas",
    delete_returns_object=True,
)
