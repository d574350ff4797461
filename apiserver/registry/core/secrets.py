"""Secrets: small pieces of private data, stored base64-encoded."""

import base64
import binascii
from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes


def _default_secret(obj: dict[str, Any], causes: Causes) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    data = obj.get("data")
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                causes.invalid(f"data[{key}]", "<secret contents redacted>", "illegal base64 data")
    if isinstance(string_data, dict):
        data = obj.setdefault("data", {}) if isinstance(data, dict) or data is None else {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()


def _secret_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    return [
        cells.name(obj),
        obj.get("type", "Opaque"),
        len(obj.get("data") or {}),
        cells.created(obj, now),
    ]


STRATEGY = Strategy(
    resource="/secrets",
    columns=[cells.NAME, cells.col("Type"), cells.col("Data", "integer"), cells.AGE],
    row=_secret_row,
    default=_default_secret,
    field_selectors=("type",),
)
