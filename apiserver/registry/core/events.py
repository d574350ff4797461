"""Events: the notes components leave about what they did (both v1 and events.k8s.io)."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy


def _event_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    last = (
        obj.get("lastTimestamp") or obj.get("eventTime") or cells.meta(obj).get("creationTimestamp")
    )
    if isinstance(last, str) and "." in last:
        last = last.split(".")[0] + "Z"
    first = obj.get("firstTimestamp") or cells.meta(obj).get("creationTimestamp")
    source = obj.get("source") or {}
    return [
        cells.age(last, now),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        source.get("component") or obj.get("reportingComponent", ""),
        (obj.get("message") or obj.get("note") or "").strip(),
        cells.age(first, now),
        obj.get("count", 1),
        cells.name(obj),
    ]


STRATEGY = Strategy(
    resource="/events",
    columns=[
        cells.col("Last Seen"),
        cells.col("Type"),
        cells.col("Reason"),
        cells.col("Object"),
        cells.col("Subobject", priority=1),
        cells.col("Source", priority=1),
        cells.col("Message"),
        cells.col("First Seen", priority=1),
        cells.col("Count", "integer", priority=1),
        cells.col("Name", priority=1),
    ],
    row=_event_row,
    field_selectors=(
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
)

# events.k8s.io/v1 Events are the same notes in a newer shape.
EVENTS_K8S_IO = Strategy(**{**STRATEGY.__dict__, "resource": "events.k8s.io/events"})
