"""What the API server publishes for other apps to read: its audit log and what it serves.

Grand Central, lesson checks, scenario checks and the tracking page read the audit log;
workshops ask which resources a namespace holds and the shop which kinds are served. They
read through these few functions, which answer with plain dicts and values, never the API
server's models or querysets, so the tables behind them may change freely. Objects
themselves are read through `apiserver.client`, as any client would.

Each function costs one query (the served kinds none: they come from the cached index).
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from apiserver.filters import audit
from apiserver.models import AuditRecord, ClusterUser, Revision, StoredObject
from apiserver.registry import kinds

__all__ = [
    "Scope",
    "catalog_state",
    "class_revisions",
    "class_writes",
    "client_counts",
    "count_requests",
    "custom_kinds",
    "first_request",
    "known_catalog_state",
    "newest_request_id",
    "requests",
    "resources_in_namespace",
    "serves",
]

# The columns of one audit record, as every reader gets it.
REQUEST_FIELDS = ("id", *audit.FIELDS)
ORDERS = ("-id", "id", "timestamp", "-timestamp")
Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Scope:
    """Whose requests a reader may see.

    `everyone` sees them all; otherwise the requests sent by `user` or into `namespace`,
    plus, with `system`, the control plane's cluster-wide ones.
    """

    everyone: bool = False
    user: str = ""
    namespace: str = ""
    system: bool = False

    def condition(self) -> Q | None:
        if self.everyone:
            return None
        seen = Q(pk__in=[])
        if self.namespace:
            seen |= Q(namespace=self.namespace)
        if self.user:
            seen |= Q(user=self.user)
        if self.system:
            seen |= Q(user__startswith="system:", namespace="")
        return seen


def _matching(
    scope: Scope | None = None,
    *,
    user: str | None = None,
    client: str | None = None,
    verb: str | None = None,
    resource: str | Iterable[str] | None = None,
    subresource: str | None = None,
    namespace: str | None = None,
    path: str | None = None,
    status: int | None = None,
    status_below: int | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    windows: Iterable[Window] | None = None,
) -> QuerySet:
    audit.settle()
    rows = AuditRecord.objects.all()
    condition = scope.condition() if scope is not None else None
    if condition is not None:
        rows = rows.filter(condition)
    exact = {
        "user": user,
        "client": client,
        "verb": verb,
        "subresource": subresource,
        "namespace": namespace,
        "path": path,
        "status_code": status,
    }
    rows = rows.filter(**{column: value for column, value in exact.items() if value is not None})
    if isinstance(resource, str):
        rows = rows.filter(resource=resource)
    elif resource is not None:
        rows = rows.filter(resource__in=list(resource))
    if status_below is not None:
        rows = rows.filter(status_code__lt=status_below)
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    if before is not None:
        rows = rows.filter(timestamp__lt=before)
    if after is not None:
        rows = rows.filter(timestamp__gt=after)
    if windows is not None:
        inside = Q(pk__in=[])
        for started, ends in windows:
            inside |= Q(timestamp__gte=started, timestamp__lte=ends)
        rows = rows.filter(inside)
    return rows


def requests(
    scope: Scope | None = None, *, order: str = "-id", limit: int | None = None, **match: Any
) -> list[dict[str, Any]]:
    """Audit records matching `match` (see `_matching`), newest first unless `order` says.

    `order` is one of "-id" (newest), "id" (oldest), "timestamp" or "-timestamp".
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    rows = _matching(scope, **match).order_by(order).values(*REQUEST_FIELDS)
    return list(rows[:limit] if limit is not None else rows)


def first_request(
    scope: Scope | None = None, *, order: str = "-id", **match: Any
) -> dict[str, Any] | None:
    """The first matching audit record in `order` (the newest by default), or None."""
    found = requests(scope, order=order, limit=1, **match)
    return found[0] if found else None


def newest_request_id() -> int:
    """The newest audit record's id: the resourceVersion a watch of AuditEvents from now
    starts at (the log is too long to list first)."""
    audit.settle()
    value = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first()
    return int(value or 0)


def count_requests(scope: Scope | None = None, **match: Any) -> int:
    """How many audit records match (the same filters as `requests`)."""
    return _matching(scope, **match).count()


def client_counts(scope: Scope | None = None, **match: Any) -> dict[str, int]:
    """How many matching requests each kind of client sent (browser, kubectl, kubelet...)."""
    rows = _matching(scope, **match).order_by().values_list("client").annotate(n=Count("id"))
    return dict(rows.values_list("client", "n"))


def resources_in_namespace(namespace: str) -> list[dict[str, Any]]:
    """The served kinds that have objects in `namespace`, by storage key ("group/plural").

    Each is {"resource", "group", "version", "plural", "namespaced", "verbs"}, at the group's
    preferred version; kinds no longer served are left out.
    """
    stored = (
        StoredObject.objects.filter(namespace=namespace)
        .order_by()
        .values_list("resource", flat=True)
        .distinct()
    )
    by_resource = kinds.index().by_resource
    found = [by_resource.get(resource) for resource in sorted(set(stored))]
    return [_kind(kind) for kind in found if kind is not None]


def serves(group: str, version: str, plural: str) -> bool:
    """Whether the API server serves this resource now (from its cached index)."""
    return kinds.lookup(group, version, plural) is not None


def catalog_state() -> int:
    """A number that changes when the catalog the server serves may have: after a CRD
    changes it (at once in this process, within a moment in others) and every few seconds
    for edits made outside the API. Pages built from the catalog are cached under it."""
    return kinds.build()


def known_catalog_state() -> int | None:
    """`catalog_state()` if this process checked it a moment ago, else None; no query, so
    safe on the event loop."""
    return kinds.known_build()


def custom_kinds() -> list[dict[str, Any]]:
    """The kinds CustomResourceDefinitions added and the server now serves."""
    return [_kind(kind) for kind in kinds.index().kinds if kind.is_custom]


def _kind(kind: kinds.Kind) -> dict[str, Any]:
    return {
        "resource": kind.resource,
        "group": kind.group,
        "version": kind.version,
        "kind": kind.kind,
        "plural": kind.plural,
        "namespaced": kind.namespaced,
        "verbs": list(kind.verbs),
    }


def class_writes(namespaces: Iterable[str]) -> list[dict[str, Any]]:
    """What learners wrote in `namespaces`, oldest first: each revision with its object,
    time, writer, client and the path of the request that wrote it ("" once the audit log
    has let that request go). What `controlplane.replay` exports a class from."""
    learners = ClusterUser.objects.filter(
        role=ClusterUser.Role.LEARNER, namespace__in=list(namespaces)
    ).values_list("name", flat=True)
    rows = list(
        Revision.objects.filter(namespace__in=list(namespaces), writer__in=list(learners))
        .order_by("id")
        .values_list("id", "event_type", "body", "created", "writer", "client")
    )
    paths = dict(
        AuditRecord.objects.filter(resource_version__in=[row[0] for row in rows]).values_list(
            "resource_version", "path"
        )
    )
    return [
        {
            "resourceVersion": revision,
            "type": event,
            "object": json.loads(body),
            "time": created,
            "writer": writer,
            "client": client,
            "path": paths.get(revision, ""),
        }
        for revision, event, body, created, writer, client in rows
    ]


def class_revisions(namespaces: Iterable[str]) -> list[dict[str, Any]]:
    """Every revision in `namespaces`, oldest first, with its writer and object."""
    rows = (
        Revision.objects.filter(namespace__in=list(namespaces))
        .order_by("id")
        .values_list("id", "event_type", "resource", "namespace", "name", "body", "writer")
    )
    return [
        {
            "resourceVersion": revision,
            "type": event,
            "resource": resource,
            "namespace": namespace,
            "name": name,
            "object": json.loads(body),
            "writer": writer,
        }
        for revision, event, resource, namespace, name, body, writer in rows
    ]
