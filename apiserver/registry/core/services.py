"""Services: one stable address in front of the Pods a selector picks."""

import hashlib
import re
from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.podspec import PROTOCOLS
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes, is_integer

PORT_NAME = re.compile(r"[-a-z0-9]+")


def _cluster_ip(namespace: str, name: str) -> str:
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return f"10.96.{digest[0]}.{max(digest[1], 2) if digest[0] == 0 else digest[1]}"


SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _validate_service(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    service_type = spec.get("type", "ClusterIP")
    if service_type not in SERVICE_TYPES:
        causes.unsupported("spec.type", service_type, SERVICE_TYPES)
    ports = spec.get("ports") or []
    if not ports and service_type != "ExternalName" and spec.get("clusterIP") != "None":
        causes.required("spec.ports")
    seen: set[str] = set()
    for position, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        number = port.get("port")
        if isinstance(number, int) and not 0 < number < 65536:
            causes.invalid(
                f"spec.ports[{position}].port", number, "must be between 1 and 65535, inclusive"
            )
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.required(f"spec.ports[{position}].name")
        elif name in seen:
            causes.duplicate(f"spec.ports[{position}].name", name)
        elif name:
            seen.add(name)
        _check_target_port(port.get("targetPort"), f"spec.ports[{position}].targetPort", causes)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            causes.unsupported(f"spec.ports[{position}].protocol", protocol, PROTOCOLS)
    if service_type == "ExternalName" and not spec.get("externalName"):
        causes.required("spec.externalName")


def _check_target_port(target: Any, field: str, causes: Causes) -> None:
    """ValidatePortNumOrName: a port number, or an IANA service name the Pod's ports use."""
    if is_integer(target) and not 0 <= target < 65536:
        causes.invalid(field, target, "must be between 1 and 65535, inclusive")
    if not isinstance(target, str):
        return
    if len(target) > 15:
        causes.invalid(field, target, "must be no more than 15 characters")
    if not PORT_NAME.fullmatch(target):
        causes.invalid(
            field, target, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
        )
    elif not any(char.isalpha() for char in target):
        causes.invalid(field, target, "must contain at least one letter (a-z)")


def _default_service(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    service_type = spec["type"]
    if service_type != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        meta = obj["metadata"]
        if not spec.get("clusterIP"):
            spec["clusterIP"] = _cluster_ip(meta.get("namespace", ""), meta.get("name", ""))
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if service_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for position, port in enumerate(spec.get("ports") or ()):
        if not isinstance(port, dict):
            continue
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])
        if service_type in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            meta = obj["metadata"]
            seed = hashlib.sha256(
                f"{meta.get('namespace')}/{meta.get('name')}/{position}".encode()
            ).digest()
            port["nodePort"] = 30000 + int.from_bytes(seed[:2]) % 2768
    obj.setdefault("status", {"loadBalancer": {}})


def _service_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    service_type = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or ())
    for ingress in (status.get("loadBalancer") or {}).get("ingress") or ():
        external.append(ingress.get("ip") or ingress.get("hostname") or "")
    if service_type == "ExternalName":
        external_text = spec.get("externalName") or "<none>"
    elif external:
        external_text = ",".join(external)
    else:
        external_text = "<pending>" if service_type == "LoadBalancer" else "<none>"
    ports = []
    for port in spec.get("ports") or ():
        text = str(port.get("port"))
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        ports.append(f"{text}/{port.get('protocol', 'TCP')}")
    return [
        cells.name(obj),
        service_type,
        spec.get("clusterIP") or "<none>",
        external_text,
        ",".join(ports) or "<none>",
        cells.created(obj, now),
        cells.selector_text(spec.get("selector")) if spec.get("selector") else "<none>",
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    _validate_service(obj, causes)


def _validate_update(old: dict[str, Any], new: dict[str, Any], causes: Causes) -> None:
    """A Service keeps its cluster IP for life, as in Kubernetes (where kube-proxy has
    already programmed it on every node); only becoming an ExternalName, which has none,
    gives it up."""
    before = (old.get("spec") or {}).get("clusterIP")
    spec = new.get("spec") or {}
    after = spec.get("clusterIP")
    if before and after != before and spec.get("type") != "ExternalName":
        shown = f'[]string{{"{after}"}}' if after else "[]string(nil)"
        causes.invalid("spec.clusterIPs[0]", after, "may not change once set", shown)


STRATEGY = Strategy(
    resource="/services",
    columns=[
        cells.NAME,
        cells.col("Type"),
        cells.col("Cluster-IP"),
        cells.col("External-IP"),
        cells.col("Port(s)"),
        cells.AGE,
        cells.WIDE_SELECTOR,
    ],
    row=_service_row,
    default=_default_service,
    validate=_validate,
    validate_update=_validate_update,
    name_is_dns_label=True,
    delete_returns_object=True,
)
