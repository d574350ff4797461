"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for.

Each kind's columns and cells come from its registry strategy; this module only lays the
rows out the way kubectl expects.
"""

from datetime import UTC, datetime
from typing import Any

from apiserver.registry import cells, strategies
from apiserver.registry.kinds import Kind


def column_definitions(columns: list[cells.Column]) -> list[dict[str, Any]]:
    definitions = []
    for name, type_, format_, priority in columns:
        description = {"Name": cells.NAME_DESCRIPTION, "Age": cells.AGE_DESCRIPTION}.get(name, name)
        definitions.append(
            {
                "name": name,
                "type": type_,
                "format": format_,
                "description": description,
                "priority": priority,
            }
        )
    return definitions


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": cells.meta(obj),
    }


def table(
    kind: Kind,
    objects: list[dict[str, Any]],
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    """A Table of `objects`; each row carries the object as metadata, in full, or not at all."""
    columns, row_fn = strategies.printer_for(kind)
    now = datetime.now(UTC)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": row_fn(obj, now)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    result: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": column_definitions(columns) if with_columns else [],
        "rows": rows,
    }
    return result
