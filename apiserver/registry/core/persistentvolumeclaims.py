"""PersistentVolumeClaims: a request for storage."""

from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes


def _default_pvc(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {"phase": "Pending"})


def _pvc_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    capacity = (status.get("capacity") or {}).get("storage", "")
    modes = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    access = ",".join(modes.get(m, m) for m in status.get("accessModes") or ())
    return [
        cells.name(obj),
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        capacity,
        access,
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        cells.created(obj, now),
    ]


STRATEGY = Strategy(
    resource="/persistentvolumeclaims",
    columns=[
        cells.NAME,
        cells.col("Status"),
        cells.col("Volume"),
        cells.col("Capacity"),
        cells.col("Access Modes"),
        cells.col("StorageClass"),
        cells.col("VolumeAttributesClass"),
        cells.AGE,
    ],
    row=_pvc_row,
    default=_default_pvc,
    delete_returns_object=True,
)
