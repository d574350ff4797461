"""The controller manager: the warehouse staff who keep what was ordered in line with what exists.

`REGISTRY` is the one table of controllers and the kinds each one watches. The informer
lists and watches exactly those kinds, and the World snapshot holds one list per kind, so
adding a controller is one new module and one line here.
"""

from dataclasses import dataclass
from datetime import datetime

from apiserver.client import ApiError, Client
from controlplane.controllers.common import RETRY_LATER, Controller, Names, World
from controlplane.controllers.cronjob import CronJobController
from controlplane.controllers.daemonset import DaemonSetController
from controlplane.controllers.deployment import DeploymentController
from controlplane.controllers.endpoints import EndpointsController
from controlplane.controllers.garbagecollector import GarbageCollector, finish_orphaned_pods
from controlplane.controllers.job import JobController
from controlplane.controllers.replicaset import ReplicaSetController
from controlplane.controllers.serviceaccounts import ServiceAccountsController
from controlplane.controllers.statefulset import StatefulSetController
from controlplane.events import EventRecorder

__all__ = ["REGISTRY", "WATCHED", "Controller", "ControllerManager", "World"]


@dataclass(frozen=True)
class Registration:
    """A controller and the kinds it lists and watches, as the client names them."""

    controller: type[Controller]
    watches: tuple[str, ...]


# In the order they run within each half of a step: owners before what they make, so a
# Deployment's ReplicaSet, or a CronJob's Job, gets its Pods in the same step.
REGISTRY = (
    Registration(DeploymentController, ("deployments", "replicasets", "pods")),
    Registration(ReplicaSetController, ("replicasets", "pods")),
    Registration(StatefulSetController, ("statefulsets", "controllerrevisions", "pods")),
    Registration(DaemonSetController, ("daemonsets", "controllerrevisions", "pods", "nodes")),
    Registration(CronJobController, ("cronjobs", "jobs")),
    Registration(JobController, ("jobs", "pods")),
    Registration(EndpointsController, ("services", "endpoints", "endpointslices", "pods")),
    Registration(ServiceAccountsController, ("namespaces", "serviceaccounts")),
    Registration(GarbageCollector, ("pods",)),
)

WATCHED = tuple(dict.fromkeys(kind for entry in REGISTRY for kind in entry.watches))


class ControllerManager:
    """Runs every registered controller; one that fails never stops the others' turn."""

    def __init__(self, client: Client, recorder: EventRecorder, names: Names) -> None:
        self.client = client
        owners = {
            entry.controller.kind: entry.controller.resource
            for entry in REGISTRY
            if entry.controller.kind
        }
        self.controllers = [entry.controller(client, recorder, names, owners) for entry in REGISTRY]

    def sync(self, world: World, now: datetime) -> None:
        self._each("sync", world, now)

    def sync_after_kubelets(self, world: World, now: datetime) -> None:
        """Status and endpoints, which follow what the kubelets just reported."""
        self._each("sync_status", world, now)

    def finish_orphaned_pods(self, world: World, nodes: set[str]) -> None:
        finish_orphaned_pods(self.client, world, nodes)

    def next_due(self) -> datetime | None:
        """The earliest time a controller must act with no write to announce it (an
        object's retry after a failure included)."""
        times = [c.next_due() for c in self.controllers]
        times += [c.retries.next_due() for c in self.controllers]
        return min((t for t in times if t is not None), default=None)

    def settle(self, now: datetime) -> None:
        for controller in self.controllers:
            controller.retries.settle(now)

    def _each(self, half: str, world: World, now: datetime) -> None:
        """Every controller gets its turn; the first unexpected failure is raised after."""
        failure: Exception | None = None
        for controller in self.controllers:
            try:
                self._safely(getattr(controller, half), world, now)
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure

    def _safely(self, method, world: World, now: datetime) -> None:
        """A conflict or a vanished object just means: try again next step."""
        try:
            method(world, now)
        except ApiError as error:
            if error.code not in RETRY_LATER:
                raise
