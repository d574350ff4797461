"""ReplicationControllers: the ReplicaSet's older cousin, kept for old manifests.

Filled in and printed like a ReplicaSet; its selector is a plain map, so the workload
checks (which expect a LabelSelector) do not apply.
"""

from apiserver.registry.apps import replicasets
from apiserver.registry.strategy import Strategy

STRATEGY = Strategy(
    resource="/replicationcontrollers",
    columns=replicasets.STRATEGY.columns,
    row=replicasets.STRATEGY.row,
    default=replicasets.STRATEGY.default,
)
