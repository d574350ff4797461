"""Field errors, collected the way kube-apiserver reports them: one 422 with every cause."""

import ipaddress
import re
from typing import Any

from apiserver import errors
from apiserver.registry.kinds import Kind

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


class Causes:
    """Collects field errors; raises one 422 Invalid at the end, like kube-apiserver."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def required(self, field: str, detail: str = "") -> None:
        message = "Required value" + (f": {detail}" if detail else "")
        self.items.append({"reason": "FieldValueRequired", "message": message, "field": field})

    def invalid(self, field: str, value: Any, detail: str, shown: str = "") -> None:
        """`shown`: the value as Kubernetes prints it, where that is not the usual form."""
        message = f"Invalid value: {shown or _show(value)}: {detail}"
        self.items.append({"reason": "FieldValueInvalid", "message": message, "field": field})

    def unsupported(self, field: str, value: Any, allowed: list[str]) -> None:
        choices = ", ".join(f'"{v}"' for v in allowed)
        message = f"Unsupported value: {_show(value)}: supported values: {choices}"
        self.items.append({"reason": "FieldValueNotSupported", "message": message, "field": field})

    def duplicate(self, field: str, value: Any) -> None:
        message = f"Duplicate value: {_show(value)}"
        self.items.append({"reason": "FieldValueDuplicate", "message": message, "field": field})

    def too_long(self, field: str, limit: int, unit: str = "bytes") -> None:
        message = f"Too long: must have at most {limit} {unit}"
        self.items.append({"reason": "FieldValueTooLong", "message": message, "field": field})

    def forbidden(self, field: str, detail: str) -> None:
        message = f"Forbidden: {detail}"
        self.items.append({"reason": "FieldValueForbidden", "message": message, "field": field})

    def raise_if_any(self, kind: Kind, name: str) -> None:
        if self.items:
            unique = []
            for item in self.items:
                if not any(
                    (item["field"], item["reason"]) == (u["field"], u["reason"]) for u in unique
                ):
                    unique.append(item)
            raise errors.invalid(kind.kind, name, unique, kind.group)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "{...}" if isinstance(value, dict) else "[...]"
    return str(value)


def at(obj: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(step)
    return obj


def immutable(*paths: str) -> Any:
    """An update check: each of `paths` keeps the value it was created with."""

    def check(old: dict[str, Any], new: dict[str, Any], causes: "Causes") -> None:
        for path in paths:
            if at(old, path) != at(new, path):
                causes.invalid(path, at(new, path), "field is immutable")

    return check


INT32_MAX = 2**31 - 1

NEGATIVE_MESSAGE = "must be greater than or equal to 0"

IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

PERCENT = re.compile(r"^[0-9]+%$")

PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


def fill(obj: Any, key: str, value: Any) -> None:
    """Default a field that is missing or null: JSON null decodes to an unset pointer, which
    the real API server's defaulting then fills."""
    if isinstance(obj, dict) and obj.get(key) is None:
        obj[key] = value


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_nonnegative(obj: Any, path: str, causes: Causes, prefix: str = "") -> None:
    """apimachinery's ValidateNonnegativeField, for the field at `path` (if it is set)."""
    value = at(obj, path)
    if is_integer(value) and value < 0:
        causes.invalid(f"{prefix}{path}", value, NEGATIVE_MESSAGE)


def percent_of(value: Any) -> int | None:
    """The integer an IntOrString stands for ("25%" is 25); None if it is neither."""
    if is_integer(value):
        return value
    if isinstance(value, str) and PERCENT.match(value):
        return int(value[:-1])
    return None


def check_int_or_percent(value: Any, path: str, causes: Causes) -> None:
    """ValidatePositiveIntOrPercent: a non-negative integer or a string like "25%"."""
    if value is None:
        return
    if isinstance(value, str):
        if not PERCENT.match(value):
            causes.invalid(path, value, PERCENT_MESSAGE)
    elif not is_integer(value):
        causes.invalid(path, value, "must be an integer or a string")
    elif value < 0:
        causes.invalid(path, value, NEGATIVE_MESSAGE)


def check_rolling_update(rolling: Any, path: str, causes: Causes) -> None:
    """maxUnavailable and maxSurge of a Deployment's or DaemonSet's rolling update."""
    if not isinstance(rolling, dict):
        return
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    check_int_or_percent(unavailable, f"{path}.maxUnavailable", causes)
    check_int_or_percent(surge, f"{path}.maxSurge", causes)
    if percent_of(unavailable) == 0 and percent_of(surge) in (0, None):
        causes.invalid(f"{path}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0")
    if isinstance(unavailable, str) and (percent_of(unavailable) or 0) > 100:
        causes.invalid(f"{path}.maxUnavailable", unavailable, "must not be greater than 100%")


def is_ip(value: Any) -> bool:
    """What kube-apiserver takes as an IP address (no IPv6 zone)."""
    if not isinstance(value, str) or "%" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def check_ips(status: dict[str, Any], single: str, plural: str, causes: Causes) -> None:
    """status.podIPs / status.hostIPs, after v1's podIP (hostIP) has been folded in, as the
    conversion to the internal type does: the single field wins when the two disagree."""
    listed = status.get(plural)
    entries = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    ips = [e.get("ip") for e in entries]
    first = status.get(single)
    if first and (not ips or ips[0] != first):
        ips = [first]
    elif ips and not first and plural == "hostIPs":
        causes.invalid(f"status.{plural}[0].ip", ips[0], "must be equal to `hostIP`")
    for position, ip in enumerate(ips):
        if not is_ip(ip):
            causes.invalid(f"status.{plural}[{position}]", ip, IP_MESSAGE)
    if len(ips) > 1 and all(is_ip(ip) for ip in ips):
        families = [ipaddress.ip_address(ip).version for ip in ips]
        if len(ips) > 2 or len(set(families)) != len(families):
            causes.invalid(
                f"status.{plural}", listed, "may specify no more than one IP for each IP family"
            )
