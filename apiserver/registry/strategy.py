"""A strategy per kind: everything the API server knows about one resource, in one place.

kube-apiserver gives each resource a registry strategy (pkg/registry/<group>/<kind>);
ours holds the same knowledge: the defaults a real cluster fills, the checks it makes on
create and update, the Table columns `kubectl get` shows, the fields a field selector may
name, how long a delete waits, and what a delete answers. Kinds without a module of their
own get `Strategy()`: name and age columns, no defaults, metadata checks only.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apiserver.registry import cells
from apiserver.registry.validation import Causes

Check = Callable[[dict[str, Any], Causes], None]
UpdateCheck = Callable[[dict[str, Any], dict[str, Any], Causes], None]
Grace = Callable[[dict[str, Any], int | None], int]


def _nothing(obj: dict[str, Any], causes: Causes) -> None:
    return None


def _no_update_rules(old: dict[str, Any], new: dict[str, Any], causes: Causes) -> None:
    return None


def _no_grace(obj: dict[str, Any], requested: int | None) -> int:
    return 0


@dataclass(frozen=True)
class Strategy:
    """One kind's rules; every hook has a harmless default."""

    resource: str = ""
    columns: list[cells.Column] = field(default_factory=lambda: [cells.NAME, cells.AGE])
    row: cells.RowFn = cells.name_and_age
    default: Check = _nothing
    validate: Check = _nothing
    validate_update: UpdateCheck = _no_update_rules
    field_selectors: tuple[str, ...] = ()
    name_is_dns_label: bool = False
    # RBAC names are any path segment (`system:discovery`), not DNS subdomains.
    name_is_path_segment: bool = False
    delete_returns_object: bool = False
    # A create may set the status only where the server itself fills it (a Namespace's
    # phase); elsewhere status belongs to controllers and kubelets.
    status_on_create: bool = False
    grace_seconds: Grace = _no_grace
    # Counts the real type holds in an int32, with the Go struct that holds each:
    # ("spec.replicas", "DeploymentSpec").
    int32_fields: tuple[tuple[str, str], ...] = ()

    def printer(self) -> tuple[list[cells.Column], cells.RowFn]:
        return self.columns, self.row
