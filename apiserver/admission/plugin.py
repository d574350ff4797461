"""What a plug-in sees, and what it declares: its stage, the kinds and operations it handles."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apiserver.models import ClusterUser
from apiserver.registry.kinds import Kind
from apiserver.registry.validation import Causes

CREATE = "CREATE"
UPDATE = "UPDATE"


@dataclass
class Attributes:
    """One object on its way to the store, as every plug-in in the chain sees it."""

    kind: Kind
    obj: dict[str, Any]
    old: dict[str, Any] | None
    field_validation: str
    user: ClusterUser | None = None  # who asks; None for the store's own writes
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required fields the body lacks

    @property
    def operation(self) -> str:
        return UPDATE if self.old is not None else CREATE


@dataclass(frozen=True)
class Plugin:
    """A step of the chain. `resources` empty means every kind."""

    name: str
    stage: str  # decoding, mutating, validation or validating
    run: Callable[[Attributes, Causes], None]
    resources: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset({CREATE, UPDATE})

    def handles(self, attributes: Attributes) -> bool:
        wanted = not self.resources or attributes.kind.resource in self.resources
        return wanted and attributes.operation in self.operations
