"""Table cells: how `kubectl get` columns read an object, shared by every kind's printer.

Columns follow kube-apiserver's printers (priority 1 columns show only with `-o wide`).
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Column = tuple[str, str, str, int]  # name, type, format, priority
RowFn = Callable[[dict[str, Any], datetime], list[Any]]


def timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with second precision, as Kubernetes serializes metav1.Time."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


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


def age(value: Any, now: datetime) -> str:
    moment = parse_timestamp(value) if isinstance(value, str) else None
    return human_duration((now - moment).total_seconds()) if moment else "<unknown>"


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def status(obj: dict[str, Any]) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def name(obj: dict[str, Any]) -> str:
    return meta(obj).get("name", "")


def created(obj: dict[str, Any], now: datetime) -> str:
    return age(meta(obj).get("creationTimestamp"), now)


def selector_text(selector: Any) -> str:
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


def containers(template_spec: dict[str, Any]) -> tuple[str, str]:
    containers = [c for c in template_spec.get("containers") or () if isinstance(c, dict)]
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def template_spec(obj: dict[str, Any]) -> dict[str, Any]:
    template = spec(obj).get("template") or {}
    return template.get("spec") or {} if isinstance(template, dict) else {}


def col(name: str, type_: str = "string", priority: int = 0, format_: str = "") -> Column:
    return (name, type_, format_, priority)


NAME = col("Name", format_="name")
AGE = col("Age")
WIDE_CONTAINERS = [col("Containers", priority=1), col("Images", priority=1)]
WIDE_SELECTOR = col("Selector", priority=1)


def wide_workload(obj: dict[str, Any]) -> list[Any]:
    """The `-o wide` cells every workload ends with: containers, images, selector."""
    names, images = containers(template_spec(obj))
    return [names, images, selector_text(spec(obj).get("selector"))]


def name_and_age(obj: dict[str, Any], now: datetime) -> list[Any]:
    """The row every kind without a printer of its own gets."""
    return [name(obj), created(obj, now)]
