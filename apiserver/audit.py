"""The audit log: one row per request, cheap to write, read by the Grand Central view."""

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apiserver.models import AuditRecord

if TYPE_CHECKING:
    from apiserver.pipeline import ApiRequest, Prepared


def record(request: "ApiRequest", prepared: "Prepared", status: int, started: float) -> None:
    """Write one audit row (a single INSERT); never lets a logging failure fail the request."""
    target = prepared.target
    kind = target.kind if target is not None else None
    try:
        AuditRecord.objects.create(
            timestamp=datetime.now(UTC),
            user=prepared.user.username if prepared.user is not None else "",
            client=(request.client or "other")[:20],
            verb=prepared.verb or request.method.lower(),
            resource=kind.resource.lstrip("/") if kind else "",
            subresource=target.subresource if target is not None else "",
            namespace=(target.namespace or "") if kind and kind.namespaced else "",
            name=(target.name if kind else "")[:253],
            method=request.method[:10],
            path=request.path[:1000],
            status_code=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            lane=str(getattr(prepared, "lane", ""))[:20],
        )
    except Exception:  # noqa: BLE001 - auditing must not break serving
        import logging

        logging.getLogger(__name__).exception("could not write the audit record")


def recent(
    limit: int = 50, since_id: int = 0, namespace: str | None = None
) -> list[dict[str, Any]]:
    """The newest audit records first, optionally only those after `since_id` or in a namespace."""
    rows = AuditRecord.objects.filter(id__gt=since_id)
    if namespace is not None:
        rows = rows.filter(namespace=namespace)
    return list(
        rows.order_by("-id").values(
            "id",
            "timestamp",
            "user",
            "client",
            "verb",
            "resource",
            "subresource",
            "namespace",
            "name",
            "method",
            "path",
            "status_code",
            "latency_ms",
            "lane",
        )[:limit]
    )
