"""PersistentVolumes: storage the cluster can hand out."""

from apiserver.registry.strategy import Strategy

STRATEGY = Strategy(
    resource="/persistentvolumes",
    delete_returns_object=True,
)
