"""The trouble the scenarios make at the API server's front door, started by an instructor.

- ``outage``: the API server answers ``503 ServiceUnavailable`` to learners, anonymous
  callers and the control plane alike. Only instructors still get through, so they can
  show the room what happened. Stalling the control plane too is deliberate: with the
  API server down nothing is scheduled and no status is reported, so tracking pages
  freeze; at recovery the controllers compare wanted and actual state and catch up by
  themselves (level-triggered reconciliation), which is the lesson.
- ``slowdown``: every learner request waits ``delay_ms`` first (default 1.5 s).
- ``overload``: the learner lane shrinks to ``capacity`` (default a tenth) and a synthetic
  noisy learner, ``noisy-neighbour``, floods the API through the loopback client in the
  background. Learners who go faster than their share get 429s (kubectl waits and
  retries); fairness keeps the flood to its own bucket, so the room keeps working, slowly.

The control plane and instructors are untouched by slowdown and overload. Every scenario
has an end time and ends by itself; ``stop_scenario()`` ends it at once. The state is one
database row, so it applies to every server process; each process re-reads it at most
once a second, so the hot path costs nothing most of the time.

The API server injects no faults of its own: `apply` enters its pipeline only through the
`apiserver.filters.faults` hook, registered by the training centre's AppConfig.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from apiserver import accounts, errors
from apiserver.accounts import ClusterUser
from apiserver.client import Client, collection_path
from apiserver.filters import fairness
from apiserver.filters.fairness import Lane
from learning.models import Scenario

log = logging.getLogger(__name__)

NAMES = tuple(Scenario.Name.values)
CACHE_SECONDS = 1.0
MAX_SECONDS = 3600
DEFAULT_DELAY_MS = 1500
DEFAULT_CAPACITY = 0.1
NOISY_USER = accounts.NOISY_NEIGHBOUR
FLOOD_PER_SECOND = 25
# Lanes an outage stops; instructors keep working so they can show the room.
OUTAGE_LANES = {Lane.LEARNER, Lane.CATCH_ALL, Lane.SYSTEM}


@dataclass(frozen=True)
class ActiveScenario:
    """A scenario in force, as the pipeline and the dashboard see it."""

    name: str
    started: datetime
    ends: datetime
    started_by: str
    delay_ms: int
    capacity: float

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.ends - datetime.now(UTC)).total_seconds()))


_cache_lock = threading.Lock()
_cached: tuple[float, ActiveScenario | None] = (-CACHE_SECONDS, None)


def _forget_cache() -> None:
    global _cached
    with _cache_lock:
        _cached = (-CACHE_SECONDS, None)


def _read() -> ActiveScenario | None:
    row = Scenario.objects.filter(ends__gt=datetime.now(UTC)).order_by("-id").first()
    if row is None:
        return None
    return ActiveScenario(
        row.name, row.started, row.ends, row.started_by, row.delay_ms, row.capacity
    )


def active_scenario() -> ActiveScenario | None:
    """The scenario in force now, or None; read from the database at most once a second."""
    global _cached
    now = time.monotonic()
    read_at, found = _cached
    if now - read_at < CACHE_SECONDS and (found is None or found.ends > datetime.now(UTC)):
        return found
    found = _read()
    with _cache_lock:
        _cached = (now, found)
    return found


def start_scenario(
    name: str,
    seconds: int,
    by_user: ClusterUser | str,
    *,
    delay_ms: int = DEFAULT_DELAY_MS,
    capacity: float = DEFAULT_CAPACITY,
    flood: bool = True,
) -> ActiveScenario:
    """Start `name` for `seconds` (replacing any scenario in force); returns it.

    `by_user` is the instructor starting it (a ClusterUser or a name, for the record).
    `delay_ms` applies to slowdown, `capacity` and `flood` to overload.
    """
    if name not in NAMES:
        raise ValueError(f"unknown scenario {name!r}: choose one of {', '.join(NAMES)}")
    if not 1 <= int(seconds) <= MAX_SECONDS:
        raise ValueError(f"seconds must be between 1 and {MAX_SECONDS}")
    if not 0 < capacity <= 1:
        raise ValueError("capacity must be above 0 and at most 1")
    started = datetime.now(UTC)
    who = by_user.username if isinstance(by_user, ClusterUser) else str(by_user)
    Scenario.objects.all().delete()
    row = Scenario.objects.create(
        name=name,
        started=started,
        ends=started + timedelta(seconds=int(seconds)),
        started_by=who[:100],
        delay_ms=max(0, int(delay_ms)) if name == Scenario.Name.SLOWDOWN else 0,
        capacity=capacity if name == Scenario.Name.OVERLOAD else 1.0,
    )
    _forget_cache()
    log.warning("scenario %s started by %s for %ss", name, who, seconds)
    if name == Scenario.Name.OVERLOAD and flood:
        _start_flood(row.ends)
    return active_scenario() or ActiveScenario(
        row.name, row.started, row.ends, row.started_by, row.delay_ms, row.capacity
    )


def stop_scenario() -> bool:
    """End the scenario in force at once (a flood stops within a second); True if one was."""
    deleted, _ = Scenario.objects.all().delete()
    _forget_cache()
    fairness.reset()
    return bool(deleted)


def apply(lane: Lane) -> float:
    """The pipeline's fault injector: 503, a delay, or the lane's capacity share.

    Called right after authentication; returns the share of normal capacity the learner
    lane has now (1.0 unless overloaded).
    """
    scenario = active_scenario()
    if scenario is None or lane == Lane.INSTRUCTOR:
        return 1.0
    if scenario.name == Scenario.Name.OUTAGE:
        if lane in OUTAGE_LANES:
            raise errors.ApiError(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request "
                f"(an instructor's outage exercise, {scenario.seconds_left}s left)",
            )
        return 1.0
    if lane == Lane.SYSTEM:
        return 1.0
    if scenario.name == Scenario.Name.SLOWDOWN and scenario.delay_ms:
        time.sleep(scenario.delay_ms / 1000)
    if scenario.name == Scenario.Name.OVERLOAD:
        return scenario.capacity
    return 1.0


# --- the synthetic noisy learner ------------------------------------------------------


def noisy_user() -> ClusterUser:
    """The synthetic learner whose flood the overload scenario sends."""
    user, created = ClusterUser.objects.get_or_create(
        name=NOISY_USER,
        defaults={"role": ClusterUser.Role.LEARNER, "namespace": NOISY_USER},
    )
    if created:
        accounts.open_learner(user)  # its lists are answered like any learner's, not 403
    return user


def flood(until: datetime, limit: int, per_second: float = FLOOD_PER_SECOND) -> int:
    """Send up to `limit` list requests as the noisy learner until `until` or a stop.

    Bounded in count and time; returns how many it sent (most get 429 by design). They go
    through the front door like any learner's kubectl, so fairness sees them as such.
    """
    client = Client(noisy_user(), "flood", user_agent="noisy-neighbour/1.0")
    path = collection_path("", "v1", "pods", NOISY_USER)
    sent = 0
    pause = 1 / per_second
    while sent < limit and datetime.now(UTC) < until:
        current = active_scenario()
        if current is None or current.name != Scenario.Name.OVERLOAD:
            break
        client.exchange("GET", path)
        sent += 1
        time.sleep(pause)
    return sent


def _start_flood(until: datetime) -> None:
    seconds = max(1.0, (until - datetime.now(UTC)).total_seconds())
    limit = int(min(seconds, MAX_SECONDS) * FLOOD_PER_SECOND)

    def run() -> None:
        try:
            flood(until, limit)
        except Exception:
            log.exception("the overload flood stopped")
        finally:
            connection.close()

    threading.Thread(target=run, name="overload-flood", daemon=True).start()
