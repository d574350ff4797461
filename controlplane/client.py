"""A small Kubernetes-style client over the API server's pipeline, in process.

Control plane components call the same `apiserver.pipeline.handle` that the REST views
call, so authentication, authorization, admission and audit apply to them too. Each
component acts as its own system user and names itself in the audit log's client column.
"""

import copy
import json
from collections.abc import Callable
from typing import Any

from apiserver.models import ClusterUser

# resource name as this package writes it -> (group, version, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("", "v1", False),
    "nodes": ("", "v1", False),
    "pods": ("", "v1", True),
    "services": ("", "v1", True),
    "endpoints": ("", "v1", True),
    "events": ("", "v1", True),
    "deployments": ("apps", "v1", True),
    "replicasets": ("apps", "v1", True),
    "jobs": ("batch", "v1", True),
    "endpointslices": ("discovery.k8s.io", "v1", True),
}
MERGE_PATCH = "application/merge-patch+json"
CONFLICT_RETRIES = 5
Mutation = Callable[[dict], dict | None]


class ApiError(Exception):
    """A non-2xx answer, carrying the server's Status object."""

    def __init__(self, code: int, status: dict | None) -> None:
        self.code = code
        self.status = status or {}
        self.reason = self.status.get("reason", "")
        super().__init__(f"{code} {self.reason}: {self.status.get('message', '')}")


def system_user(name: str) -> ClusterUser:
    """The system ClusterUser a component acts as, created on first use."""
    user, _ = ClusterUser.objects.get_or_create(
        name=name, defaults={"role": ClusterUser.Role.SYSTEM, "display_name": name}
    )
    return user


def path_for(resource: str, namespace: str | None = None, name: str | None = None) -> str:
    """The REST path, e.g. ``/apis/apps/v1/namespaces/shop/deployments/web``."""
    group, version, namespaced = RESOURCES[resource]
    parts = ["/api/v1" if not group else f"/apis/{group}/{version}"]
    if namespaced and namespace:
        parts.append(f"namespaces/{namespace}")
    parts.append(resource)
    if name:
        parts.append(name)
    return "/".join(parts)


class Client:
    """get/list/create/update/patch/delete returning plain dicts; errors raise ApiError."""

    def __init__(self, user: ClusterUser, client: str) -> None:
        self.user = user
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict:
        from apiserver.pipeline import ApiRequest, handle

        headers = {"accept": "application/json"}
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            headers["content-type"] = content_type
        response = handle(
            ApiRequest(
                method=method,
                path=path,
                query=query or {},
                headers=headers,
                body=raw,
                client=self.client,
                user=self.user,
            )
        )
        if response.status >= 400:
            raise ApiError(response.status, response.body)
        return response.body or {}

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict:
        return self.request("GET", path_for(resource, namespace, name))

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> dict:
        query = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        return self.request("GET", path_for(resource, namespace), query=query)

    def create(self, resource: str, obj: dict, namespace: str | None = None) -> dict:
        namespace = namespace or obj.get("metadata", {}).get("namespace")
        return self.request("POST", path_for(resource, namespace), obj)

    def replace(self, resource: str, obj: dict, subresource: str = "") -> dict:
        meta = obj["metadata"]
        path = path_for(resource, meta.get("namespace"), meta["name"])
        return self.request("PUT", f"{path}/{subresource}" if subresource else path, obj)

    def patch(
        self,
        resource: str,
        name: str,
        namespace: str | None,
        patch: dict,
        subresource: str = "",
        content_type: str = MERGE_PATCH,
    ) -> dict:
        path = path_for(resource, namespace, name)
        if subresource:
            path = f"{path}/{subresource}"
        return self.request("PATCH", path, patch, content_type=content_type)

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = None,
        grace_period: int | None = None,
        uid: str | None = None,
    ) -> dict:
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        if uid:
            options["preconditions"] = {"uid": uid}
        return self.request("DELETE", path_for(resource, namespace, name), options)

    def update(self, resource: str, name: str, namespace: str | None, mutate: Mutation) -> dict:
        """Read, change, write back with the read resourceVersion; re-read on 409."""
        return self._read_modify_write(resource, name, namespace, mutate, "")

    def update_status(
        self, resource: str, name: str, namespace: str | None, mutate: Mutation
    ) -> dict:
        """Like `update`, through the status subresource."""
        return self._read_modify_write(resource, name, namespace, mutate, "status")

    def bind(self, namespace: str, name: str, node: str, uid: str | None = None) -> dict:
        """Assign a Pod to a node with the binding subresource, as kube-scheduler does."""
        binding: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        if uid:
            binding["metadata"]["uid"] = uid
        return self.request("POST", f"{path_for('pods', namespace, name)}/binding", binding)

    def _read_modify_write(
        self, resource: str, name: str, namespace: str | None, mutate: Mutation, sub: str
    ) -> dict:
        for attempt in range(CONFLICT_RETRIES):
            current = self.get(resource, name, namespace)
            desired = mutate(copy.deepcopy(current))
            if desired is None or desired == current:
                return current
            try:
                return self.replace(resource, desired, sub)
            except ApiError as error:
                if error.code != 409 or attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")
