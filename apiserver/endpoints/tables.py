"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

Columns follow kube-apiserver's printers for the common kinds (priority 1 columns show only
with `-o wide`); any other kind gets NAME and AGE.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apiserver.registry.kinds import Kind
from apiserver.registry.store import parse_timestamp

Column = tuple[str, str, str, int]  # name, type, format, priority
RowFn = Callable[[dict[str, Any], datetime], list[Any]]

NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated."
)
AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC."
)


def human_duration(seconds: float) -> str:
    """kubectl's short age format: 5s, 3m20s, 2h, 4d, 2y30d."""
    if seconds < -1:
        return "<invalid>"
    seconds = max(int(seconds), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    if years < 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def _age(value: Any, now: datetime) -> str:
    moment = parse_timestamp(value) if isinstance(value, str) else None
    return human_duration((now - moment).total_seconds()) if moment else "<unknown>"


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _name(obj: dict[str, Any]) -> str:
    return _meta(obj).get("name", "")


def _created(obj: dict[str, Any], now: datetime) -> str:
    return _age(_meta(obj).get("creationTimestamp"), now)


def _selector_text(selector: Any) -> str:
    if not isinstance(selector, dict) or not selector:
        return "<none>"
    parts = [
        f"{k}={v}"
        for k, v in (selector.get("matchLabels") or selector).items()
        if isinstance(v, str)
    ]
    for expression in selector.get("matchExpressions") or ():
        values = ",".join(expression.get("values") or ())
        parts.append(f"{expression.get('key')} {expression.get('operator', '').lower()} ({values})")
    return ",".join(parts) or "<none>"


def _containers(template_spec: dict[str, Any]) -> tuple[str, str]:
    containers = [c for c in template_spec.get("containers") or () if isinstance(c, dict)]
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def _template_spec(obj: dict[str, Any]) -> dict[str, Any]:
    template = _spec(obj).get("template") or {}
    return template.get("spec") or {} if isinstance(template, dict) else {}


# --- per-kind rows -----------------------------------------------------------------------


def _pod_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    containers = spec.get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if isinstance(s, dict) and s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses if isinstance(s, dict))
    reason = status.get("reason") or status.get("phase") or "Pending"
    for container in statuses:
        state = container.get("state") or {} if isinstance(container, dict) else {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            code = terminated.get("exitCode", 0)
            reason = (
                f"Signal:{terminated['signal']}"
                if terminated.get("signal")
                else (f"ExitCode:{code}")
            )
    if _meta(obj).get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
        passed = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_text = f"{passed}/{len(gates)}"
    else:
        gates_text = "<none>"
    return [
        _name(obj),
        f"{ready}/{len(containers)}",
        reason,
        restarts,
        _created(obj, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


def _deployment_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    names, images = _containers(_template_spec(obj))
    return [
        _name(obj),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _created(obj, now),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _replicaset_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    names, images = _containers(_template_spec(obj))
    return [
        _name(obj),
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _created(obj, now),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _statefulset_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    names, images = _containers(_template_spec(obj))
    return [
        _name(obj),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        _created(obj, now),
        names,
        images,
    ]


def _daemonset_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    names, images = _containers(_template_spec(obj))
    node_selector = _template_spec(obj).get("nodeSelector") or {}
    return [
        _name(obj),
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in node_selector.items()) or "<none>",
        _created(obj, now),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _service_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
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
        _name(obj),
        service_type,
        spec.get("clusterIP") or "<none>",
        external_text,
        ",".join(ports) or "<none>",
        _created(obj, now),
        _selector_text(spec.get("selector")) if spec.get("selector") else "<none>",
    ]


def _job_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif conditions.get("Suspended") == "True":
        state = "Suspended"
    elif conditions.get("FailureTarget") == "True":
        state = "FailureTarget"
    else:
        state = "Running"
    completions = spec.get("completions")
    done = status.get("succeeded", 0)
    completions_text = f"{done}/{completions}" if completions is not None else f"{done}/1 of 1"
    start = parse_timestamp(status.get("startTime") or "")
    end = parse_timestamp(status.get("completionTime") or "") or now
    duration = human_duration((end - start).total_seconds()) if start else ""
    names, images = _containers(_template_spec(obj))
    return [
        _name(obj),
        state,
        completions_text,
        duration,
        _created(obj, now),
        names,
        images,
        _selector_text(spec.get("selector")),
    ]


def _cronjob_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    last = status.get("lastScheduleTime")
    template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    names, images = _containers(template.get("spec") or {})
    return [
        _name(obj),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "True" if spec.get("suspend") else "False",
        len(status.get("active") or ()),
        _age(last, now) if last else "<none>",
        _created(obj, now),
        names,
        images,
        "<none>",
    ]


def _configmap_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_name(obj), count, _created(obj, now)]


def _secret_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), obj.get("type", "Opaque"), len(obj.get("data") or {}), _created(obj, now)]


def _namespace_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), _status(obj).get("phase", "Active"), _created(obj, now)]


def _node_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    status = _status(obj)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    ready = "Ready" if conditions.get("Ready") == "True" else "NotReady"
    if _spec(obj).get("unschedulable"):
        ready += ",SchedulingDisabled"
    labels = _meta(obj).get("labels") or {}
    roles = sorted(
        key.split("/", 1)[1]
        for key in labels
        if key.startswith("node-role.kubernetes.io/") and "/" in key
    )
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or ()}
    return [
        _name(obj),
        ready,
        ",".join(roles) or "<none>",
        _created(obj, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage", "<unknown>"),
        info.get("kernelVersion", "<unknown>"),
        info.get("containerRuntimeVersion", "<unknown>"),
    ]


def _event_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or _meta(obj).get("creationTimestamp")
    if isinstance(last, str) and "." in last:
        last = last.split(".")[0] + "Z"
    first = obj.get("firstTimestamp") or _meta(obj).get("creationTimestamp")
    source = obj.get("source") or {}
    return [
        _age(last, now),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        source.get("component") or obj.get("reportingComponent", ""),
        (obj.get("message") or obj.get("note") or "").strip(),
        _age(first, now),
        obj.get("count", 1),
        _name(obj),
    ]


def _serviceaccount_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), len(obj.get("secrets") or ()), _created(obj, now)]


def _endpoints_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    addresses = []
    for subset in obj.get("subsets") or ():
        ports = [p.get("port") for p in subset.get("ports") or ()] or [None]
        for address in subset.get("addresses") or ():
            for port in ports:
                ip = address.get("ip", "")
                addresses.append(f"{ip}:{port}" if port else ip)
    text = ",".join(addresses[:3]) + (
        f" + {len(addresses) - 3} more..." if len(addresses) > 3 else ""
    )
    return [_name(obj), text or "<none>", _created(obj, now)]


def _pvc_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    capacity = (status.get("capacity") or {}).get("storage", "")
    modes = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    access = ",".join(modes.get(m, m) for m in status.get("accessModes") or ())
    return [
        _name(obj),
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        capacity,
        access,
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        _created(obj, now),
    ]


def _default_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [_name(obj), _created(obj, now)]


def _col(name: str, type_: str = "string", priority: int = 0, format_: str = "") -> Column:
    return (name, type_, format_, priority)


NAME = _col("Name", format_="name")
AGE = _col("Age")
WIDE_CONTAINERS = [_col("Containers", priority=1), _col("Images", priority=1)]
WIDE_SELECTOR = _col("Selector", priority=1)

PRINTERS: dict[str, tuple[list[Column], RowFn]] = {
    "/pods": (
        [
            NAME,
            _col("Ready"),
            _col("Status"),
            _col("Restarts", "integer"),
            AGE,
            _col("IP", priority=1),
            _col("Node", priority=1),
            _col("Nominated Node", priority=1),
            _col("Readiness Gates", priority=1),
        ],
        _pod_row,
    ),
    "apps/deployments": (
        [
            NAME,
            _col("Ready"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            AGE,
            *WIDE_CONTAINERS,
            WIDE_SELECTOR,
        ],
        _deployment_row,
    ),
    "apps/replicasets": (
        [
            NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            AGE,
            *WIDE_CONTAINERS,
            WIDE_SELECTOR,
        ],
        _replicaset_row,
    ),
    "/replicationcontrollers": (
        [
            NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            AGE,
            *WIDE_CONTAINERS,
            WIDE_SELECTOR,
        ],
        _replicaset_row,
    ),
    "apps/statefulsets": ([NAME, _col("Ready"), AGE, *WIDE_CONTAINERS], _statefulset_row),
    "apps/daemonsets": (
        [
            NAME,
            _col("Desired", "integer"),
            _col("Current", "integer"),
            _col("Ready", "integer"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _col("Node Selector"),
            AGE,
            *WIDE_CONTAINERS,
            WIDE_SELECTOR,
        ],
        _daemonset_row,
    ),
    "/services": (
        [
            NAME,
            _col("Type"),
            _col("Cluster-IP"),
            _col("External-IP"),
            _col("Port(s)"),
            AGE,
            WIDE_SELECTOR,
        ],
        _service_row,
    ),
    "batch/jobs": (
        [
            NAME,
            _col("Status"),
            _col("Completions"),
            _col("Duration"),
            AGE,
            *WIDE_CONTAINERS,
            WIDE_SELECTOR,
        ],
        _job_row,
    ),
    "batch/cronjobs": (
        [
            NAME,
            _col("Schedule"),
            _col("Timezone"),
            _col("Suspend", "boolean"),
            _col("Active", "integer"),
            _col("Last Schedule"),
            AGE,
            *WIDE_CONTAINERS,
            WIDE_SELECTOR,
        ],
        _cronjob_row,
    ),
    "/configmaps": ([NAME, _col("Data", "integer"), AGE], _configmap_row),
    "/secrets": ([NAME, _col("Type"), _col("Data", "integer"), AGE], _secret_row),
    "/namespaces": ([NAME, _col("Status"), AGE], _namespace_row),
    "/nodes": (
        [
            NAME,
            _col("Status"),
            _col("Roles"),
            AGE,
            _col("Version"),
            _col("Internal-IP", priority=1),
            _col("External-IP", priority=1),
            _col("OS-Image", priority=1),
            _col("Kernel-Version", priority=1),
            _col("Container-Runtime", priority=1),
        ],
        _node_row,
    ),
    "/events": (
        [
            _col("Last Seen"),
            _col("Type"),
            _col("Reason"),
            _col("Object"),
            _col("Subobject", priority=1),
            _col("Source", priority=1),
            _col("Message"),
            _col("First Seen", priority=1),
            _col("Count", "integer", priority=1),
            _col("Name", priority=1),
        ],
        _event_row,
    ),
    "/serviceaccounts": ([NAME, _col("Secrets", "integer"), AGE], _serviceaccount_row),
    "/endpoints": ([NAME, _col("Endpoints"), AGE], _endpoints_row),
    "/persistentvolumeclaims": (
        [
            NAME,
            _col("Status"),
            _col("Volume"),
            _col("Capacity"),
            _col("Access Modes"),
            _col("StorageClass"),
            _col("VolumeAttributesClass"),
            AGE,
        ],
        _pvc_row,
    ),
}
PRINTERS["events.k8s.io/events"] = PRINTERS["/events"]
# `kubectl get crd` shows when each third-party seller registered, as a timestamp.
PRINTERS["apiextensions.k8s.io/customresourcedefinitions"] = (
    [NAME, _col("Created At", "date")],
    lambda obj, now: [_name(obj), _meta(obj).get("creationTimestamp")],
)
DEFAULT_PRINTER: tuple[list[Column], RowFn] = ([NAME, AGE], _default_row)


def _printer(kind: Kind) -> tuple[list[Column], RowFn]:
    """The built-in printer for the resource; a CRD's kind uses its additionalPrinterColumns."""
    if kind.printer_columns:
        from apiserver.registry import crds  # crds builds on this module, so it is imported late

        return crds.printer(kind)
    return PRINTERS.get(kind.resource, DEFAULT_PRINTER)


def column_definitions(kind: Kind) -> list[dict[str, Any]]:
    columns, _ = _printer(kind)
    definitions = []
    for name, type_, format_, priority in columns:
        description = {"Name": NAME_DESCRIPTION, "Age": AGE_DESCRIPTION}.get(name, name)
        definitions.append(
            {
                "name": name,
                "type": type_,
                "format": format_,
                "description": description,
                "priority": priority,
            }
        )
    return definitions


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": _meta(obj),
    }


def table(
    kind: Kind,
    objects: list[dict[str, Any]],
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    """A Table of `objects`; each row carries the object as metadata, in full, or not at all."""
    _, row_fn = _printer(kind)
    now = datetime.now(UTC)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": row_fn(obj, now)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    result: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": column_definitions(kind) if with_columns else [],
        "rows": rows,
    }
    return result
