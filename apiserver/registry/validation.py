"""Field errors, collected the way kube-apiserver reports them: one 422 with every cause."""

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

    def invalid(self, field: str, value: Any, detail: str) -> None:
        message = f"Invalid value: {_show(value)}: {detail}"
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
