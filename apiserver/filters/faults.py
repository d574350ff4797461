"""A hook for classroom faults: another app may refuse, slow or squeeze requests by lane.

The API server itself injects no faults. The training centre registers an injector
(`learning.faults`, from `LearningConfig.ready()`, for its outage, slowdown and overload
exercises); the pipeline asks every registered injector right after a request is put in its lane,
naming the lane and the authenticated caller (None for one without working credentials). An
injector raises an `ApiError` to refuse the request (503 in an outage), may sleep to slow
it, and returns the share of normal capacity the lane has now (1.0: untouched).

An injector that may sleep registers a `quiet` check too: while any says no, reads are not
served on the event loop (`apiserver.onloop`), where a sleep would hold up every stream.
"""

from collections.abc import Callable

from apiserver.filters.fairness import Lane
from apiserver.models import ClusterUser

Injector = Callable[[Lane, ClusterUser | None], float]

_injectors: list[Injector] = []
_quiet_checks: dict[Injector, Callable[[], bool]] = {}


def register(injector: Injector, quiet: Callable[[], bool] | None = None) -> None:
    """Have the pipeline consult `injector` for every request (once per process); `quiet`
    says when it will surely not make a request sleep."""
    if injector not in _injectors:
        _injectors.append(injector)
    if quiet is not None:
        _quiet_checks[injector] = quiet


def unregister(injector: Injector) -> None:
    if injector in _injectors:
        _injectors.remove(injector)
    _quiet_checks.pop(injector, None)


def quiet() -> bool:
    """True when no injector can make a request sleep now; one without a check never is."""
    return all(injector in _quiet_checks and _quiet_checks[injector]() for injector in _injectors)


def apply(lane: Lane, user: ClusterUser | None = None) -> float:
    """Run the injectors for a request by `user` in `lane`; the smallest capacity they allow."""
    capacity = 1.0
    for injector in _injectors:
        capacity = min(capacity, injector(lane, user))
    return capacity
