"""The catalog as the API server sees it: an in-memory index of served kinds.

Kinds come from the catalog tables at request time, so CustomResourceDefinitions can add
some later. Every catalog change made by a CRD bumps one "catalog generation" counter row;
each process reads that single row at most every CHECK_SECONDS and rebuilds when it moved,
so a kind added through one server process is served by all of them within a moment.
The index is also rebuilt every CACHE_SECONDS (for edits made outside the API, such as
`seed_catalog`), and at once in this process after `invalidate()`.
"""

import threading
import time
from dataclasses import dataclass, field

from django.db.models import F

from apiserver.models import Counter
from catalog.models import ApiGroup, ResourceKind
from catalog.versions import version_rank

CACHE_SECONDS = 5.0
CHECK_SECONDS = 0.5
GENERATION = "catalogGeneration"


@dataclass(frozen=True)
class Kind:
    """One served resource at one group/version; an immutable snapshot of a catalog row."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    model_name: str = ""
    is_custom: bool = False
    schema: dict = field(default_factory=dict, compare=False, hash=False)
    printer_columns: tuple[dict, ...] = field(default=(), compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The storage key, shared by every version of the same resource."""
        return f"{self.group}/{self.plural}"

    @property
    def served_subresources(self) -> tuple[str, ...]:
        """The subresources this server really answers (status, scale, a Pod's binding,
        log and streams, a ServiceAccount's token)."""
        served = ("status", "scale", "binding", "token", "log", "exec", "attach", "portforward")
        return tuple(s for s in self.subresources if s in served)


# Served by the API server itself, whatever the catalog holds: the audit log as a resource
# (see `registry.auditevents`), the warehouse's own shelf, not one of Kubernetes'.
AUDIT_EVENTS = Kind(
    group="audit.warehouse.dev",
    version="v1",
    kind="AuditEvent",
    plural="auditevents",
    singular="auditevent",
    namespaced=True,
    verbs=("get", "list", "watch"),
    short_names=("audit",),
)
BUILT_IN = (AUDIT_EVENTS,)


@dataclass
class Index:
    """Lookups the hot path needs, built once per refresh."""

    kinds: list[Kind]
    by_path: dict[tuple[str, str, str], Kind]
    groups: list[tuple[str, list[str], str]]  # (group, versions, preferred version)
    by_resource: dict[str, Kind]  # "group/plural" -> preferred version's kind
    by_kind: dict[tuple[str, str], Kind]  # (apiVersion, Kind) -> kind
    # plural -> the one preferred-version kind with it, or None when groups share the plural
    by_plural: dict[str, Kind | None]


_lock = threading.Lock()
_index: Index | None = None
_built_at = 0.0
_checked_at = 0.0
_generation = -1
# How many times this process built the index: what the catalog pages' cache is keyed by.
_builds = 0


def invalidate() -> None:
    """Forget the index, e.g. after a CRD adds a kind or a test reseeds the catalog."""
    global _index
    with _lock:
        _index = None


def generation() -> int:
    """The catalog generation every process compares against: one row, one cheap query."""
    value = Counter.objects.filter(name=GENERATION).values_list("value", flat=True).first()
    return int(value or 0)


def bump_generation() -> None:
    """Tell every server process the catalog changed (call inside the changing transaction)."""
    if not Counter.objects.filter(name=GENERATION).update(value=F("value") + 1):
        Counter.objects.get_or_create(name=GENERATION, defaults={"value": 1})


def index() -> Index:
    """The current index; rebuilt after a catalog change anywhere, or when old."""
    global _index, _built_at, _checked_at, _generation, _builds
    now = time.monotonic()
    current = _index
    if current is not None and now - _checked_at < CHECK_SECONDS:
        return current
    seen = generation()
    with _lock:
        stale = _index is None or seen != _generation or now - _built_at >= CACHE_SECONDS
        if stale:
            _index = _build()
            _builds += 1
            _built_at = now
            _generation = seen
        _checked_at = now
        return _index


def build() -> int:
    """A number that moves whenever this process's index is rebuilt (after any catalog change,
    and every CACHE_SECONDS); costs what `index()` does."""
    index()
    return _builds


def known_build() -> int | None:
    """`build()` without touching the database (callable on the event loop): None when the
    index was invalidated or is due a check, which only `build()` can make."""
    if _index is None or time.monotonic() - _checked_at >= CHECK_SECONDS:
        return None
    return _builds


def lookup(group: str, version: str, plural: str) -> Kind | None:
    return index().by_path.get((group, version, plural))


def by_api_version_kind(api_version: str, kind: str) -> Kind | None:
    return index().by_kind.get((api_version, kind))


def _build() -> Index:
    rows = ResourceKind.objects.select_related("api_version__group").order_by(
        "api_version__group__name", "api_version__version", "plural"
    )
    kinds = [
        Kind(
            group=row.api_version.group.name,
            version=row.api_version.version,
            kind=row.kind,
            plural=row.plural,
            singular=row.singular,
            namespaced=row.namespaced,
            verbs=tuple(row.verbs),
            short_names=tuple(row.short_names or ()),
            categories=tuple(row.categories or ()),
            subresources=tuple(row.subresources or ()),
            model_name=row.model_name,
            is_custom=row.is_custom,
            schema=row.schema or {},
            printer_columns=tuple(row.printer_columns or ()),
        )
        for row in rows
    ]
    if kinds:  # an empty catalog serves nothing yet
        kinds.extend(BUILT_IN)
    preferred = dict(ApiGroup.objects.values_list("name", "preferred_version"))
    versions: dict[str, list[str]] = {}
    for kind in kinds:
        listed = versions.setdefault(kind.group, [])
        if kind.version not in listed:
            listed.append(kind.version)
    groups = []
    for group, listed in versions.items():
        best = preferred.get(group) or listed[-1]
        ordered = sorted(listed, key=lambda v: (v != best, version_rank(v)))
        groups.append((group, ordered, best))
    groups.sort(key=lambda g: (g[0] != "", g[0]))
    by_resource: dict[str, Kind] = {}
    for kind in kinds:
        current = by_resource.get(kind.resource)
        if current is None or kind.version == preferred.get(kind.group):
            by_resource[kind.resource] = kind
    by_plural: dict[str, Kind | None] = {}
    for kind in by_resource.values():
        by_plural[kind.plural] = None if kind.plural in by_plural else kind
    return Index(
        kinds=kinds,
        by_path={(k.group, k.version, k.plural): k for k in kinds},
        groups=groups,
        by_resource=by_resource,
        by_kind={(k.api_version, k.kind): k for k in kinds},
        by_plural=by_plural,
    )
