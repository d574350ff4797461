"""The endpoints and EndpointSlice controllers: a Service's list of Ready Pod addresses.

Each Service with a selector gets an Endpoints object of the same name and one
EndpointSlice; Services without a cluster IP get one allocated first.
"""

import json
from datetime import datetime

from apiserver.labels import selector_matches
from controlplane.clock import stamp
from controlplane.controllers.common import (
    Controller,
    World,
    owner_reference,
    pod_ready,
)
from controlplane.scheduler import is_active

SLICE_MANAGER = "endpointslice-controller.k8s.io"
ENDPOINTS_TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def _target_port(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isascii() and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for container_port in container.get("ports") or []:
            if container_port.get("name") == target:
                return int(container_port["containerPort"])
    return None


def _service_pods(service: dict, pods: list[dict]) -> list[dict]:
    selector = (service.get("spec") or {}).get("selector")
    namespace = service["metadata"]["namespace"]
    return sorted(
        (
            p
            for p in pods
            if p["metadata"].get("namespace") == namespace
            and selector_matches(selector, p["metadata"].get("labels"))
            and (p.get("status") or {}).get("podIP")
            and is_active(p)
        ),
        key=lambda p: tuple(int(x) for x in p["status"]["podIP"].split(".")),
    )


def _address(pod: dict) -> dict:
    meta = pod["metadata"]
    address = {
        "ip": pod["status"]["podIP"],
        "nodeName": pod["spec"].get("nodeName", ""),
        "targetRef": {
            "kind": "Pod",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
        },
    }
    return address


def endpoints_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """Endpoints' subsets: ready Pods in addresses, the rest in notReadyAddresses."""
    groups: dict[tuple, dict] = {}
    for pod in _service_pods(service, pods):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        ports = []
        for port in (service.get("spec") or {}).get("ports") or []:
            number = _target_port(port, pod)
            if number is None:
                continue
            entry = {"port": number, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry = {"name": port["name"], **entry}
            ports.append(entry)
        key = json.dumps(ports, sort_keys=True)
        subset = groups.setdefault(key, {"ports": ports})
        bucket = "addresses" if pod_ready(pod) else "notReadyAddresses"
        subset.setdefault(bucket, []).append(_address(pod))
    subsets = []
    for subset in groups.values():
        ordered = {k: subset[k] for k in ("addresses", "notReadyAddresses") if k in subset}
        subsets.append(ordered | {"ports": subset["ports"]})
    return subsets


def slice_endpoints(service: dict, pods: list[dict]) -> tuple[list[dict], list[dict]]:
    """EndpointSlice endpoints (with ready/serving/terminating) and ports."""
    endpoints = []
    ports: list[dict] = []
    for pod in _service_pods(service, pods):
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = pod_ready(pod)
        address = _address(pod)
        endpoints.append(
            {
                "addresses": [address["ip"]],
                "conditions": {
                    "ready": ready and not terminating,
                    "serving": ready,
                    "terminating": terminating,
                },
                "nodeName": address["nodeName"],
                "targetRef": address["targetRef"],
            }
        )
        if not ports:
            for port in (service.get("spec") or {}).get("ports") or []:
                number = _target_port(port, pod)
                if number is not None:
                    ports.append(
                        {
                            "name": port.get("name", ""),
                            "port": number,
                            "protocol": port.get("protocol", "TCP"),
                        }
                    )
    return endpoints, ports


class EndpointsController(Controller):
    kind = "Service"
    resource = "services"
    component = "endpoint-controller"

    def sync_status(self, world: World, now: datetime) -> None:
        """Endpoints follow the Pods' readiness, so they are written after the kubelets."""
        names = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in world.services}
        self.each(world.services, self._sync_service, world, now, skip_deleting=False)
        for endpoints in list(world.endpoints):
            meta = endpoints["metadata"]
            managed = ENDPOINTS_TRIGGER in (meta.get("annotations") or {})
            if managed and (meta["namespace"], meta["name"]) not in names:
                self.retries.run(
                    endpoints, now, lambda e=endpoints: self._remove(e, world), "remove"
                )

    def _sync_service(self, service: dict, world: World, now: datetime) -> None:
        spec = service.get("spec") or {}
        if not spec.get("clusterIP") and spec.get("type") != "ExternalName":
            service = self._allocate_ip(service, world)
        if not spec.get("selector"):
            return
        self._sync_endpoints(service, world, now)
        self._sync_slice(service, world)

    def _remove(self, endpoints: dict, world: World) -> None:
        """Endpoints whose Service is gone go with it."""
        meta = endpoints["metadata"]
        self.client.delete("endpoints", meta["name"], meta["namespace"])
        world.drop("endpoints", meta["uid"])

    def _allocate_ip(self, service: dict, world: World) -> dict:
        used = {(s.get("spec") or {}).get("clusterIP") for s in world.services}
        for number in range(11, 65534):
            candidate = f"10.96.{number // 256}.{number % 256}"
            if candidate not in used and number % 256 not in (0, 255):
                break
        meta = service["metadata"]
        updated = self.client.patch(
            "services",
            meta["name"],
            meta["namespace"],
            {"spec": {"clusterIP": candidate, "clusterIPs": [candidate]}},
        )
        world.put("services", updated)
        return updated

    def _sync_endpoints(self, service: dict, world: World, now: datetime) -> None:
        meta = service["metadata"]
        subsets = endpoints_subsets(service, world.pods)
        existing = next(
            (
                e
                for e in world.endpoints
                if e["metadata"]["namespace"] == meta["namespace"]
                and e["metadata"]["name"] == meta["name"]
            ),
            None,
        )
        labels = dict(meta.get("labels") or {})
        if existing is None:
            body = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "labels": labels,
                    "annotations": {ENDPOINTS_TRIGGER: stamp(now)},
                },
            }
            if subsets:
                body["subsets"] = subsets
            world.put("endpoints", self.client.create("endpoints", body))
            return
        if (existing.get("subsets") or []) == subsets:
            return

        def change(current: dict) -> dict:
            current["metadata"].setdefault("annotations", {})[ENDPOINTS_TRIGGER] = stamp(now)
            if subsets:
                current["subsets"] = subsets
            else:
                current.pop("subsets", None)
            return current

        world.put(
            "endpoints", self.client.update("endpoints", meta["name"], meta["namespace"], change)
        )

    def _sync_slice(self, service: dict, world: World) -> None:
        meta = service["metadata"]
        endpoints, ports = slice_endpoints(service, world.pods)
        existing = next(
            (
                s
                for s in world.endpointslices
                if s["metadata"]["namespace"] == meta["namespace"]
                and (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
                == meta["name"]
                and (s["metadata"].get("labels") or {}).get(
                    "endpointslice.kubernetes.io/managed-by"
                )
                == SLICE_MANAGER
            ),
            None,
        )
        if existing is None:
            body = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{meta['name']}-{self.names.suffix(service)}",
                    "namespace": meta["namespace"],
                    "labels": dict(meta.get("labels") or {})
                    | {
                        "kubernetes.io/service-name": meta["name"],
                        "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER,
                    },
                    "generateName": f"{meta['name']}-",
                    "ownerReferences": [owner_reference(service)],
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            }
            world.put("endpointslices", self.client.create("endpointslices", body))
            return
        if existing.get("endpoints") == endpoints and existing.get("ports") == ports:
            return

        def change(current: dict) -> dict:
            current["endpoints"] = endpoints
            current["ports"] = ports
            return current

        name = existing["metadata"]["name"]
        world.put(
            "endpointslices",
            self.client.update("endpointslices", name, meta["namespace"], change),
        )
