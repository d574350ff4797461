"""The garbage collector: dependents whose controlling owner is gone are deleted too.

Every kind a registered controller reconciles counts as an owner, so a new controller's
objects are cleaned up without a change here. An owner deleted with a cascading policy
carries a finalizer until the collector has done what the policy asks: `orphan` takes the
owner's reference off each dependent, which then stays; `foregroundDeletion` deletes the
dependents and waits until they are gone. Then the finalizer comes off and the delete
finishes. The pod GC beside it finishes terminating Pods that no kubelet will ever finish.
"""

from datetime import datetime

from apiserver.client import ApiError, Client
from controlplane.controllers.common import Controller, World

CASCADES = ("orphan", "foregroundDeletion")


class GarbageCollector(Controller):
    component = "garbage-collector-controller"

    def sync_status(self, world: World, now: datetime) -> None:
        """Delete dependents whose controlling owner no longer exists (background cascade)."""
        self._cascades(world, now)
        present = {
            kind: {o["metadata"]["uid"] for o in world.objects.get(resource, [])}
            for kind, resource in self.owners.items()
        }
        for resource, items in list(world.objects.items()):
            for obj in list(items):
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                self.retries.run(
                    obj, now, lambda r=resource, o=obj: self._orphaned(r, o, present, world), "gc"
                )

    def _cascades(self, world: World, now: datetime) -> None:
        """Owners being deleted with a cascading policy, each finished on its own."""
        for resource in self.owners.values():
            for owner in list(world.objects.get(resource, [])):
                meta = owner["metadata"]
                pending = [f for f in meta.get("finalizers") or [] if f in CASCADES]
                if not meta.get("deletionTimestamp") or not pending:
                    continue
                self.retries.run(
                    owner,
                    now,
                    lambda r=resource, o=owner, f=pending[0]: self._cascade(r, o, f, world),
                    "cascade",
                )

    def _cascade(self, resource: str, owner: dict, finalizer: str, world: World) -> None:
        meta = owner["metadata"]
        uid, namespace = meta["uid"], meta.get("namespace")
        dependents = [
            (kind, obj)
            for kind, items in world.objects.items()
            for obj in items
            if obj["metadata"].get("namespace") == namespace
            and any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])
        ]
        if finalizer == "orphan":
            for kind, obj in dependents:
                kept = [
                    r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
                ]
                self.client.patch(
                    kind,
                    obj["metadata"]["name"],
                    namespace,
                    {"metadata": {"ownerReferences": kept or None}},
                )
        else:
            for kind, obj in dependents:
                if not obj["metadata"].get("deletionTimestamp"):
                    self._collect(kind, obj, world, "Foreground")
            if dependents:
                return  # the owner waits until its dependents are really gone
        rest = [f for f in meta.get("finalizers") or [] if f != finalizer]
        self.client.patch(
            resource, meta["name"], namespace, {"metadata": {"finalizers": rest or None}}
        )

    def _orphaned(self, resource: str, obj: dict, present: dict[str, set], world: World) -> None:
        meta = obj["metadata"]
        for reference in meta.get("ownerReferences") or []:
            kind = reference.get("kind")
            if not reference.get("controller") or kind not in present:
                continue
            if reference.get("uid") in present[kind]:
                continue
            if self._owner_exists(self.owners[kind], reference, meta.get("namespace")):
                continue
            self._collect(resource, obj, world)
            return

    def _owner_exists(self, resource: str, reference: dict, namespace: str | None) -> bool:
        """Ask the API before deleting: the snapshot may just not have seen the owner yet."""
        try:
            owner = self.client.get(resource, reference["name"], namespace)
        except ApiError as error:
            if error.code != 404:
                raise
            return False
        return owner["metadata"]["uid"] == reference.get("uid")

    def _collect(self, resource: str, obj: dict, world: World, propagation: str = "") -> None:
        meta = obj["metadata"]
        try:
            deleted = self.client.delete(
                resource, meta["name"], meta["namespace"], uid=meta["uid"], propagation=propagation
            )
        except ApiError as error:
            if error.code not in (404, 409):
                raise
            world.drop(resource, meta["uid"])
            return
        if deleted.get("kind") and deleted.get("metadata", {}).get("deletionTimestamp"):
            world.put(resource, deleted)
        else:
            world.drop(resource, meta["uid"])


def finish_orphaned_pods(client: Client, world: World, nodes: set[str]) -> None:
    """Terminating Pods no kubelet will finish (never scheduled, or on no known node).

    The API server removes those at once in a real cluster; here the pod GC does.
    """
    for pod in list(world.pods):
        meta = pod["metadata"]
        node = (pod.get("spec") or {}).get("nodeName")
        if meta.get("deletionTimestamp") and (not node or node not in nodes):
            try:
                client.delete(
                    "pods", meta["name"], meta["namespace"], grace_period=0, uid=meta["uid"]
                )
            except ApiError as error:
                if error.code not in (404, 409):
                    raise
            world.drop("pods", meta["uid"])
