"""The service account controller: every namespace gets a `default` ServiceAccount.

A Pod that names no account runs as `default`, so kube-controller-manager makes one in
each namespace as it appears, and again should someone delete it.
"""

from datetime import datetime

from apiserver.client import ApiError
from controlplane.controllers.common import Controller, World

DEFAULT = "default"


class ServiceAccountsController(Controller):
    component = "service-account-controller"

    def sync(self, world: World, now: datetime) -> None:
        have = {
            (a["metadata"].get("namespace"), a["metadata"]["name"])
            for a in world.serviceaccounts
            if not a["metadata"].get("deletionTimestamp")
        }
        missing = [
            namespace
            for namespace in world.namespaces
            if (namespace["metadata"]["name"], DEFAULT) not in have
            and (namespace.get("status") or {}).get("phase") != "Terminating"
            and not namespace["metadata"].get("deletionTimestamp")
        ]
        self.each(missing, self._create_default, world, now)

    def _create_default(self, namespace: dict, world: World, now: datetime) -> None:
        name = namespace["metadata"]["name"]
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT, "namespace": name},
        }
        try:
            made = self.client.create("serviceaccounts", account, name)
        except ApiError as error:
            if error.code != 409:  # made meanwhile: what was wanted
                raise
            return
        world.put("serviceaccounts", made)
