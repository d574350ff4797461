"""Which strategy serves which kind: one line per kind that has rules of its own.

A new built-in kind with defaults, checks or columns of its own is one module under
`registry/<group>/` and one line here. Custom kinds (from a CustomResourceDefinition)
take their columns from the definition's additionalPrinterColumns.
"""

from apiserver.registry import auditevents, cells, crds
from apiserver.registry.apps import daemonsets, deployments, replicasets, statefulsets
from apiserver.registry.autoscaling import horizontalpodautoscalers
from apiserver.registry.batch import cronjobs, jobs
from apiserver.registry.core import (
    configmaps,
    endpoints,
    events,
    namespaces,
    nodes,
    persistentvolumeclaims,
    persistentvolumes,
    pods,
    podtemplates,
    replicationcontrollers,
    resourcequotas,
    secrets,
    serviceaccounts,
    services,
)
from apiserver.registry.kinds import Kind
from apiserver.registry.rbac import policy
from apiserver.registry.strategy import Strategy

STRATEGIES: dict[str, Strategy] = {
    strategy.resource: strategy
    for strategy in (
        pods.STRATEGY,
        services.STRATEGY,
        secrets.STRATEGY,
        configmaps.STRATEGY,
        namespaces.STRATEGY,
        nodes.STRATEGY,
        events.STRATEGY,
        events.EVENTS_K8S_IO,
        endpoints.STRATEGY,
        serviceaccounts.STRATEGY,
        persistentvolumeclaims.STRATEGY,
        persistentvolumes.STRATEGY,
        podtemplates.STRATEGY,
        replicationcontrollers.STRATEGY,
        resourcequotas.STRATEGY,
        deployments.STRATEGY,
        replicasets.STRATEGY,
        statefulsets.STRATEGY,
        daemonsets.STRATEGY,
        jobs.STRATEGY,
        cronjobs.STRATEGY,
        horizontalpodautoscalers.STRATEGY,
        crds.STRATEGY,
        auditevents.STRATEGY,
        *policy.STRATEGIES,
    )
}
DEFAULT = Strategy()


def for_kind(kind: Kind) -> Strategy:
    """The rules for `kind`: its own, or the defaults."""
    return STRATEGIES.get(kind.resource, DEFAULT)


def printer_for(kind: Kind) -> tuple[list[cells.Column], cells.RowFn]:
    """The Table columns and row of `kind`; a custom kind's come from its definition.

    Kept apart from `for_kind` so that only printing pays for reading a definition's
    additionalPrinterColumns, not every admission and selector check.
    """
    if kind.printer_columns:
        return crds.printer(kind)
    return for_kind(kind).printer()
