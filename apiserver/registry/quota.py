"""Resource quota: what one namespace holds, measured and refused as kube-apiserver does.

A namespace's ResourceQuota objects name hard limits (`pods`, `requests.cpu`,
`count/events`, ...). The store charges every create against them inside its write
transaction, after locking the namespace's quota rows, so concurrent creates queue up
behind one another and can never overshoot a limit. Usage is measured from the stored
rows under that lock (the measure is the truth; status.used is what `kubectl describe
quota` shows of it), and written back to status.used by the same transaction.

This module measures and words; the store does the locking and the writes.
"""

import json
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import connection

from apiserver import errors
from apiserver.models import StoredObject
from apiserver.quantities import parse_quantity
from apiserver.registry.kinds import Kind

QUOTAS = "/resourcequotas"
PODS = "/pods"
EVENT_RESOURCES = ("/events", "events.k8s.io/events")
# Kubernetes has no spelling for "every object in the namespace"; a domain-prefixed name
# is how a ResourceQuota names a resource of its own.
OBJECTS = "warehouse.example/objects"
EVENTS = "count/events"
# The object counts quota knew by bare names before count/<resource> existed.
LEGACY_COUNTS = {
    "services": "/services",
    "secrets": "/secrets",
    "configmaps": "/configmaps",
    "replicationcontrollers": "/replicationcontrollers",
    "resourcequotas": "/resourcequotas",
    "persistentvolumeclaims": "/persistentvolumeclaims",
}
# What a Pod uses, and the subset every container must state when a quota limits it.
POD_RESOURCES = frozenset(
    {
        "pods",
        "count/pods",
        "cpu",
        "memory",
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    }
)
MUST_STATE = frozenset(
    {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
)
BYTES = frozenset({"memory", "requests.memory", "limits.memory"})


# Measuring ----------------------------------------------------------------------------


def count_key(kind: Kind) -> str:
    """count/<resource>.<group>, as a ResourceQuota names an object count."""
    return f"count/{kind.plural}.{kind.group}" if kind.group else f"count/{kind.plural}"


def pod_counts(pod: dict[str, Any]) -> bool:
    """A finished Pod no longer holds quota, as in Kubernetes' pod evaluator."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _container_amounts(container: dict[str, Any]) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    amounts = {}
    for name in ("cpu", "memory"):
        # A limit without a request requests the limit, as API defaulting makes it.
        if name in requests or name in limits:
            amounts[f"requests.{name}"] = amount(requests.get(name, limits.get(name)))
        if name in limits:
            amounts[f"limits.{name}"] = amount(limits[name])
    return amounts


def amount(value: Any) -> Decimal:
    """A quantity as stored; one that does not parse holds nothing."""
    try:
        return parse_quantity(value)
    except ValueError:
        return Decimal(0)


def pod_usage(pod: dict[str, Any]) -> dict[str, Decimal]:
    """A Pod's charge: its containers' requests and limits summed, init containers' max."""
    if not pod_counts(pod):
        return {}
    spec = pod.get("spec") or {}
    total: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        for name, amount in _container_amounts(container).items():
            total[name] = total.get(name, Decimal(0)) + amount
    for container in spec.get("initContainers") or []:
        for name, amount in _container_amounts(container).items():
            total[name] = max(total.get(name, Decimal(0)), amount)
    usage = {"pods": Decimal(1), "count/pods": Decimal(1), **total}
    for name in ("cpu", "memory"):
        if f"requests.{name}" in total:
            usage[name] = total[f"requests.{name}"]
    return usage


def usage(kind: Kind, obj: dict[str, Any]) -> dict[str, Decimal]:
    """What storing `obj` charges against a quota, in every name a quota may use."""
    if kind.resource in EVENT_RESOURCES:
        return {EVENTS: Decimal(1)}
    charge = {OBJECTS: Decimal(1), count_key(kind): Decimal(1)}
    for name, resource in LEGACY_COUNTS.items():
        if resource == kind.resource:
            charge[name] = Decimal(1)
    if kind.resource == PODS:
        charge.pop("count/pods")
        charge.update(pod_usage(obj))
    return charge


def _count_resource(key: str) -> str | None:
    """The stored resource an object count names: count/deployments.apps -> apps/deployments."""
    if key in LEGACY_COUNTS:
        return LEGACY_COUNTS[key]
    if key.startswith("count/"):
        plural, _, group = key[len("count/") :].partition(".")
        return f"{group}/{plural}"
    return None


def measure(namespace: str, keys: set[str]) -> dict[str, Decimal]:
    """What the namespace holds now, for each of `keys`, read from the stored rows.

    Plain SQL, one count per resource in one statement: every create and delete in a
    namespace with a quota measures, under the quota's lock."""
    table = StoredObject._meta.db_table
    used: dict[str, Decimal] = {}
    with connection.cursor() as cursor:
        if keys & POD_RESOURCES:
            cursor.execute(
                f"SELECT body FROM {table} WHERE namespace = %s AND resource = %s",
                [namespace, PODS],
            )
            pods: dict[str, Decimal] = {}
            for (body,) in cursor.fetchall():
                for name, amount in pod_usage(json.loads(body)).items():
                    pods[name] = pods.get(name, Decimal(0)) + amount
            used.update({key: pods.get(key, Decimal(0)) for key in keys & POD_RESOURCES})
        counted = keys - POD_RESOURCES
        if not counted:
            return used
        cursor.execute(
            f"SELECT resource, COUNT(*) FROM {table} WHERE namespace = %s GROUP BY resource",
            [namespace],
        )
        held = dict(cursor.fetchall())
    for key in counted:
        if key == EVENTS:
            count = sum(held.get(resource, 0) for resource in EVENT_RESOURCES)
        elif key == OBJECTS:
            count = sum(n for resource, n in held.items() if resource not in EVENT_RESOURCES)
        elif (resource := _count_resource(key)) is not None:
            count = held.get(resource, 0)
        else:
            count = 0  # a resource nothing here consumes (storage, say)
        used[key] = Decimal(count)
    return used


# Checking -----------------------------------------------------------------------------


def hard_of(quota: dict[str, Any]) -> dict[str, Decimal]:
    hard = (quota.get("spec") or {}).get("hard") or {}
    return {name: amount(value) for name, value in hard.items()}


def _missing_requests(pod: dict[str, Any], required: set[str]) -> list[str]:
    """Which constrained amounts some container leaves unstated (Kubernetes' Constraints)."""
    missing: set[str] = set()
    spec = pod.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        stated = set(_container_amounts(container))
        stated |= {name for name in ("cpu", "memory") if f"requests.{name}" in stated}
        missing |= required - stated
    return sorted(missing)


def forbidden(kind: Kind, name: str, message: str) -> errors.ApiError:
    return errors.forbidden(
        f'{kind.plural} "{name}" is forbidden: {message}', kind.plural, name, kind.group
    )


def check_constraints(kind: Kind, obj: dict[str, Any], quotas: list[dict[str, Any]]) -> None:
    """A Pod must state every amount a quota limits: "must specify requests.cpu"."""
    if kind.resource != PODS or not pod_counts(obj):
        return
    for quota in quotas:
        required = set(hard_of(quota)) & MUST_STATE
        missing = _missing_requests(obj, required) if required else []
        if missing:
            raise forbidden(
                kind,
                obj["metadata"]["name"],
                f"failed quota: {quota['metadata']['name']}: must specify {','.join(missing)}",
            )


def check_room(
    kind: Kind,
    name: str,
    quota: dict[str, Any],
    requested: dict[str, Decimal],
    used: dict[str, Decimal],
) -> None:
    """Refuse the charge if it takes any limited amount past its hard limit, naming only those."""
    hard = hard_of(quota)
    exceeded = sorted(
        key
        for key, amount in requested.items()
        if key in hard and amount > 0 and used.get(key, Decimal(0)) + amount > hard[key]
    )
    if not exceeded:
        return

    def listed(amounts: dict[str, Decimal]) -> str:
        return ",".join(f"{key}={format_quantity(key, amounts.get(key, 0))}" for key in exceeded)

    raise forbidden(
        kind,
        name,
        f"exceeded quota: {quota['metadata']['name']}, requested: {listed(requested)}, "
        f"used: {listed(used)}, limited: {listed(hard)}",
    )


def status(quota: dict[str, Any], used: dict[str, Decimal]) -> dict[str, Any]:
    """status.hard and status.used as `kubectl describe quota` reads them."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    return {
        "hard": dict(hard),
        "used": {key: format_quantity(key, used.get(key, Decimal(0))) for key in hard},
    }


# Wording ------------------------------------------------------------------------------

_BINARY = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_DECIMAL = (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))


def format_quantity(key: str, value: Decimal | int) -> str:
    """A quantity in Kubernetes' canonical form: 500m, 4, 64Mi, 1500M."""
    value = Decimal(value)
    if value == 0:
        return "0"
    if value == value.to_integral_value():
        whole = int(value)
        if key in BYTES:
            for suffix, size in _BINARY:
                if whole % size == 0:
                    return f"{whole // size}{suffix}"
        for suffix, size in _DECIMAL:
            if whole % size == 0:
                return f"{whole // size}{suffix}"
        return str(whole)
    millis = (value * 1000).to_integral_value(rounding=ROUND_CEILING)
    if millis == value * 1000:
        return f"{int(millis)}m"
    nanos = (value * 10**9).to_integral_value(rounding=ROUND_CEILING)
    if nanos % 1000 == 0:
        return f"{int(nanos) // 1000}u"
    return f"{int(nanos)}n"
