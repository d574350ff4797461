"""history: one object's revisions, oldest first, each with who wrote it and through which
request: `GET <object's path>/history`, read with the `get` right on `<resource>/history`.

kube-apiserver serves only the present (and a watch from a recent resourceVersion); etcd
keeps past revisions until compaction, but no API hands them out. This subresource is the
warehouse's own, so `kubectl get --raw` and the order-history page can rewind an object.
It is not in discovery, so no client mistakes it for a Kubernetes one.

The log is compacted like etcd's (WAREHOUSE_REVISION_KEEP_SECONDS and _ROWS), and each
object keeps at most its newest WAREHOUSE_REVISION_KEEP_PER_OBJECT: an object whose first
revision has gone says so (`compacted`), rather than seeming to start later, and says how
many went while the store still knows. `limit` keeps the newest revisions only (default
and most: `LIMIT_MAX`).
"""

import json
from typing import Any

from django.conf import settings

from apiserver import errors
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters.requestinfo import Route
from apiserver.models import AuditRecord, Revision
from apiserver.registry import auditevents, store

SUBRESOURCE = "history"
API_VERSION = "history.warehouse.dev/v1"
KIND = "ObjectHistory"
LIMIT_MAX = 500


def _limit(query: dict[str, str]) -> int:
    text = query.get("limit", "")
    if not text:
        return LIMIT_MAX
    if not text.isdigit() or int(text) < 1:
        raise errors.bad_request(f"limit must be a positive whole number, not {text!r}")
    return min(int(text), LIMIT_MAX)


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    limit = _limit(request.query)
    namespace = (target.namespace or "") if kind.namespaced else ""
    found = (
        Revision.objects.filter(resource=kind.resource, namespace=namespace, name=target.name)
        .order_by("-id")
        .values_list("id", "event_type", "body", "created", "writer", "client")[:LIMIT_MAX]
    )
    # Each stored body parsed once: the uid picks the incarnation, the item shows the object.
    rows = [(rv, event, json.loads(body), *rest) for rv, event, body, *rest in found]
    uid = _current_uid(kind, namespace, target.name, rows)
    mine = [row for row in rows if row[2]["metadata"].get("uid") == uid]
    if not mine:
        raise errors.not_found(kind.plural, target.name, kind.group)
    mine.reverse()
    shown = mine[-limit:]
    requests = _requests({row[0] for row in shown})
    items = [_item(kind, row, requests.get(row[0])) for row in shown]
    removed_earlier = mine[0][1] != Revision.EventType.ADDED
    history: dict[str, Any] = {
        "kind": KIND,
        "apiVersion": API_VERSION,
        "metadata": {"resourceVersion": str(store.current_revision())},
        "object": {
            "apiVersion": kind.api_version,
            "kind": kind.kind,
            "name": target.name,
            "uid": uid,
            **({"namespace": namespace} if kind.namespaced else {}),
        },
        "compacted": _compacted(kind, namespace, target.name, removed_earlier),
        "items": items,
    }
    if len(shown) < len(mine):
        history["metadata"]["remainingItemCount"] = len(mine) - len(shown)
    return ApiResponse(200, history)


def _compacted(kind: Any, namespace: str, name: str, removed_earlier: bool) -> dict[str, Any]:
    """What compaction removed from the start of this history. `earlierRevisionsRemoved`:
    its creation is gone from the log, removed, not never written. `removedByKeepPerObject`:
    how many of its revisions the per-object bound removed, while the store still knows;
    `earlierRevisionsCounted`: those are all that is missing (its creation among them), not
    the newest of a longer run whose start the time window took first."""
    compacted: dict[str, Any] = {
        "earlierRevisionsRemoved": removed_earlier,
        "oldestResourceVersion": str(store.oldest_revision()),
        "keepSeconds": settings.WAREHOUSE_REVISION_KEEP_SECONDS,
        "keepRevisions": settings.WAREHOUSE_REVISION_KEEP_ROWS,
        "keepPerObject": settings.WAREHOUSE_REVISION_KEEP_PER_OBJECT,
    }
    trimmed = store.trimmed_history(kind.resource, namespace, name) if removed_earlier else None
    if trimmed is not None and trimmed.removed:
        compacted["removedByKeepPerObject"] = trimmed.removed
        compacted["earlierRevisionsCounted"] = trimmed.from_creation
    return compacted


def _current_uid(kind: Any, namespace: str, name: str, rows: list[tuple]) -> str:
    """The object's uid now; once it is gone, its last incarnation's (a name can be reused,
    and each incarnation has a history of its own)."""
    try:
        return store.get(kind, namespace, name)["metadata"]["uid"]
    except errors.ApiError as error:
        if error.code != 404 or not rows:
            raise
    return rows[0][2]["metadata"].get("uid", "")


def _requests(revisions: set[int]) -> dict[int, dict[str, Any]]:
    """The audited request that wrote each revision, where the audit log still has it."""
    found = AuditRecord.objects.filter(resource_version__in=revisions).values_list(
        "resource_version", "id", "verb", "status_code", "path", "client", "user"
    )
    return {
        written: {
            "auditID": str(audit_id),
            "verb": verb,
            "code": code,
            "requestURI": path,
            "client": client,
            "user": user,
        }
        for written, audit_id, verb, code, path, client, user in found
    }


def _item(kind: Any, row: tuple, request: dict[str, Any] | None) -> dict[str, Any]:
    revision, event, stored, created, writer, client = row
    obj = common.served(kind, stored)
    item: dict[str, Any] = {
        "resourceVersion": str(revision),
        "type": event,
        "time": _stamp(created),
        "writer": {"username": writer, "client": client},
        "object": obj,
    }
    if request is not None:
        item["request"] = request
    return item


def _stamp(moment: Any) -> str:
    return auditevents.stamp(moment)[:19] + "Z"
