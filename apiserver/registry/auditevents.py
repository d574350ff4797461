"""AuditEvent: the audit log served as a read-only resource, `audit.warehouse.dev/v1`.

Each request through the front door leaves one audit row (`filters.audit.record`); this
shelf hands those rows out as objects shaped after Kubernetes' own `audit.k8s.io/v1` Event,
so Grand Central, the dashboard and kubectl can list and watch the traffic itself. An
event lives in the namespace its request named (a cluster-wide request's has none, and
only a cluster-wide list shows it); its name and resourceVersion are the row's id.

Where the analogy breaks: a real cluster does not serve its audit log. kube-apiserver
writes audit events to a log file or sends them to a webhook, and the `audit.k8s.io` kinds
exist only in those. This shelf is the warehouse's own, made so the traffic can be watched.
"""

from datetime import UTC, datetime
from typing import Any

from django.db import connection

from apiserver.filters import audit
from apiserver.models import AuditRecord
from apiserver.registry import cells, kinds
from apiserver.registry.store import dumps
from apiserver.registry.strategy import Strategy

KIND = kinds.AUDIT_EVENTS
RESOURCE = KIND.resource

# A list answers the newest this many events unless `limit` asks for fewer (or more, up
# to LIMIT_MAX): the log keeps a day of traffic, far more than a page can show.
LIST_DEFAULT = 500
LIMIT_MAX = 5000
# How many events a watch's own catch-up read, or the shared feed, takes at once.
BATCH = 500

_COLUMNS = ("id", "timestamp", "user", "client", "verb", "resource", "subresource")
_COLUMNS += ("namespace", "name", "method", "path", "status_code", "latency_ms", "lane")
_COLUMNS += ("resource_version",)
# The annotation naming the revision a write produced (its object's resourceVersion), which
# links a request to its step in the object's history.
WROTE = "audit.warehouse.dev/resource-version"


def stamp(moment: datetime | str) -> str:
    if isinstance(moment, str):  # SQLite hands raw SQL the text it stored
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_object(row: tuple) -> dict[str, Any]:
    """One audit row as an AuditEvent (fields named as in audit.k8s.io/v1 Event)."""
    rid, moment, user, client, verb, resource, sub, namespace, name, method, path = row[:11]
    status, latency, lane, written = row[11:]
    group, _, plural = resource.rpartition("/")
    when = stamp(moment)
    meta: dict[str, Any] = {
        "name": str(rid),
        "resourceVersion": str(rid),
        "creationTimestamp": when[:19] + "Z",
        "annotations": {
            "audit.warehouse.dev/client": client,
            "audit.warehouse.dev/lane": lane,
            "audit.warehouse.dev/latency-ms": f"{latency:g}",
            "audit.warehouse.dev/method": method,
        },
    }
    if written:
        meta["annotations"][WROTE] = str(written)
    if namespace:
        meta["namespace"] = namespace
    ref: dict[str, str] = {}
    if plural:
        ref = {"resource": plural, "apiGroup": group, "namespace": namespace, "name": name}
        if sub:
            ref["subresource"] = sub
        ref = {key: value for key, value in ref.items() if value}
    event: dict[str, Any] = {
        "kind": KIND.kind,
        "apiVersion": KIND.api_version,
        "metadata": meta,
        "auditID": str(rid),
        "level": "Metadata",
        "stage": "ResponseComplete",
        "verb": verb,
        "requestURI": path,
        "user": {"username": user} if user else {},
        "client": client,
        "responseStatus": {"code": status},
        "stageTimestamp": when,
        "latencyMilliseconds": latency,
        "lane": lane,
    }
    if ref:
        event["objectRef"] = ref
    return event


def _rows(where: str, params: list[Any], order: str, limit: int) -> list[tuple]:
    table = AuditRecord._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(AuditRecord._meta.get_field(c).column) for c in _COLUMNS)
    sql = f"SELECT {columns} FROM {quote(table)} WHERE {where} ORDER BY id {order} LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return cursor.fetchall()


def _in(namespace: str | None) -> tuple[str, list[Any]]:
    if namespace is None:
        return "", []
    return f" AND {connection.ops.quote_name('namespace')} = %s", [namespace]


def newest_id() -> int:
    """The newest event's id: a list's resourceVersion, where a watch from now starts."""
    audit.settle()
    value = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first()
    return int(value or 0)


def oldest_id() -> int:
    value = AuditRecord.objects.order_by("id").values_list("id", flat=True).first()
    return int(value or 0)


def recent(namespace: str | None, limit: int = LIST_DEFAULT) -> tuple[list[dict[str, Any]], int]:
    """The newest `limit` events (in `namespace`, or everywhere), oldest first, and the
    newest id of the whole log, read first so that a watch from it misses nothing."""
    current = newest_id()
    where, params = _in(namespace)
    rows = _rows(f"id <= %s{where}", [current, *params], "DESC", limit)
    return [to_object(row) for row in reversed(rows)], current


def get(namespace: str, name: str) -> dict[str, Any] | None:
    if not (name.isascii() and name.isdigit()):
        return None
    audit.settle()
    rows = _rows("id = %s AND namespace = %s", [int(name), namespace], "ASC", 1)
    return to_object(rows[0]) if rows else None


def events_after(
    after: int, resource: str, namespace: str | None, limit: int = BATCH
) -> list[tuple[int, str, str]]:
    """(id, "ADDED", AuditEvent JSON) of events after `after`: a watch catching up."""
    where, params = _in(namespace)
    rows = _rows(f"id > %s{where}", [after, *params], "ASC", limit)
    return [(row[0], "ADDED", dumps(to_object(row))) for row in rows]


def all_events_after(after: int, limit: int = BATCH) -> list[tuple]:
    """(id, resource, namespace, "ADDED", JSON) of every event after `after`: the feed's read."""
    rows = _rows("id > %s", [after], "ASC", limit)
    return [(row[0], RESOURCE, row[7], "ADDED", dumps(to_object(row))) for row in rows]


def _row(obj: dict[str, Any], now: datetime) -> list[Any]:
    ref = obj.get("objectRef") or {}
    target = ref.get("resource", "")
    if ref.get("subresource"):
        target += "/" + ref["subresource"]
    if ref.get("name"):
        target += "/" + ref["name"]
    meta = obj.get("metadata") or {}
    return [
        cells.name(obj),
        obj.get("verb", ""),
        (obj.get("user") or {}).get("username", ""),
        obj.get("client", ""),
        target,
        (obj.get("responseStatus") or {}).get("code", 0),
        f"{obj.get('latencyMilliseconds', 0):.1f}ms",
        obj.get("lane", ""),
        obj.get("requestURI", ""),
        cells.age(meta.get("creationTimestamp"), now),
    ]


STRATEGY = Strategy(
    resource=RESOURCE,
    columns=[
        cells.NAME,
        cells.col("Verb"),
        cells.col("User"),
        cells.col("Client"),
        cells.col("Target"),
        cells.col("Code", "integer"),
        cells.col("Latency"),
        cells.col("Lane", priority=1),
        cells.col("URI", priority=1),
        cells.AGE,
    ],
    row=_row,
    field_selectors=("verb", "user.username", "client", "lane", "objectRef.resource"),
)
