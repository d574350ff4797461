"""The trouble the scenarios make at the API server's front door, for a room or one learner.

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
has an end time and ends by itself; ``stop_scenario()`` ends it at once.

A learner alone may start a **practice** version of each (``start_practice``), which
touches only their own requests: the door answers them 503, makes them wait, or squeezes
their share while a small flood sent as them (a runaway script of their own) drains it.
Everyone else, the control plane included, is served as usual. Practice runs are kept as
`ScenarioRun` rows named ``practice-<name>`` with the learner's name as `started_by`.

The room's state is one database row, so it applies to every server process; each
process re-reads it (and the practice runs) at most once a second, so the hot path costs
nothing most of the time.

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
from learning.models import Scenario, ScenarioRun

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


PRACTICE_SECONDS = (30, 60)
PRACTICE_CAPACITY = 0.1
PRACTICE_FLOOD_PER_SECOND = 5
PRACTICE_FLOOD_CLIENT = "flood"


def practice_name(name: str) -> str:
    """The `ScenarioRun` name of a learner's own practice run of scenario `name`."""
    return f"practice-{name}"


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
_practice_cache: tuple[float, dict[str, "Practice"]] = (-CACHE_SECONDS, {})


def _forget_cache() -> None:
    global _cached, _practice_cache
    with _cache_lock:
        _cached = (-CACHE_SECONDS, None)
        _practice_cache = (-CACHE_SECONDS, {})


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


def apply(lane: Lane, user: ClusterUser | None = None) -> float:
    """The pipeline's fault injector: 503, a delay, or the lane's capacity share.

    Called right after authentication; returns the share of normal capacity the caller
    has now (1.0 unless overloaded): the room's scenario first, then the caller's own
    practice run, if a learner has one in force.
    """
    capacity = _room(lane)
    if lane == Lane.LEARNER and user is not None:
        capacity = min(capacity, _practice(user.username))
    return capacity


def quiet() -> bool:
    """No slowdown in force, for the room or any learner: no request here will sleep."""
    scenario = active_scenario()
    if scenario is not None and scenario.name == Scenario.Name.SLOWDOWN:
        return False
    now = datetime.now(UTC)
    return not any(p.name == Scenario.Name.SLOWDOWN and p.ends > now for p in practices().values())


def _room(lane: Lane) -> float:
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


# --- a learner's own practice runs -----------------------------------------------------


class PracticeInForce(Exception):
    """The learner already has a practice run in force: one at a time."""


@dataclass(frozen=True)
class Practice:
    """A practice scenario one learner started for their own requests only."""

    name: str
    learner: str
    started: datetime
    ends: datetime

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.ends - datetime.now(UTC)).total_seconds()))


def practices() -> dict[str, Practice]:
    """Practice runs in force, by learner name; read at most once a second per process."""
    global _practice_cache
    now = time.monotonic()
    read_at, found = _practice_cache
    if now - read_at < CACHE_SECONDS:
        return found
    rows = ScenarioRun.objects.filter(
        name__in=[practice_name(n) for n in NAMES], ends__gt=datetime.now(UTC)
    ).values_list("name", "started_by", "started", "ends")
    found = {
        who: Practice(name.removeprefix("practice-"), who, started, ends)
        for name, who, started, ends in rows
    }
    with _cache_lock:
        _practice_cache = (now, found)
    return found


def practice_for(learner: str) -> Practice | None:
    """The practice run `learner` has in force now, or None."""
    found = practices().get(learner)
    return found if found is not None and found.ends > datetime.now(UTC) else None


def start_practice(
    name: str, seconds: int, learner: ClusterUser, *, flood: bool = True
) -> Practice:
    """Start the learner's own practice `name` for `seconds`, replacing any they had."""
    if name not in NAMES or int(seconds) not in PRACTICE_SECONDS:
        raise ValueError(f"unknown practice {name!r} or duration {seconds!r}")
    if practice_for(learner.username) is not None:
        raise PracticeInForce(learner.username)
    started = datetime.now(UTC)
    run = ScenarioRun.objects.create(
        name=practice_name(name),
        started=started,
        ends=started + timedelta(seconds=int(seconds)),
        started_by=learner.username,
    )
    _forget_cache()
    if name == Scenario.Name.OVERLOAD and flood:
        _start_practice_flood(learner, run.started, run.ends)
    return Practice(name, learner.username, run.started, run.ends)


def stop_practice(learner: ClusterUser) -> bool:
    """End the learner's practice run at once; True if one was in force."""
    ended = ScenarioRun.objects.filter(
        name__in=[practice_name(n) for n in NAMES],
        started_by=learner.username,
        ends__gt=datetime.now(UTC),
    ).update(ends=datetime.now(UTC))
    _forget_cache()
    return bool(ended)


def _practice(username: str) -> float:
    """What a learner's own practice run does to their request."""
    practice = practice_for(username)
    if practice is None:
        return 1.0
    if practice.name == Scenario.Name.OUTAGE:
        raise errors.ApiError(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request "
            f"(your own practice outage, {practice.seconds_left}s left)",
        )
    if practice.name == Scenario.Name.SLOWDOWN:
        time.sleep(DEFAULT_DELAY_MS / 1000)
        return 1.0
    return PRACTICE_CAPACITY


def practice_flood(learner: ClusterUser, started: datetime, until: datetime, limit: int) -> int:
    """Send up to `limit` lists as the learner, from a client named "flood", while the
    practice overload started at `started` lasts: their own runaway script, drawing on their
    own share. It stops when that run ends, so ending and starting again never adds one."""
    client = Client(learner, PRACTICE_FLOOD_CLIENT, user_agent="runaway-script/1.0")
    path = collection_path("", "v1", "pods", learner.namespace)
    sent = 0
    while sent < limit and datetime.now(UTC) < until:
        current = practice_for(learner.username)
        if current is None or current.started != started:
            break
        client.exchange("GET", path)
        sent += 1
        time.sleep(1 / PRACTICE_FLOOD_PER_SECOND)
    return sent


def _start_practice_flood(learner: ClusterUser, started: datetime, until: datetime) -> None:
    seconds = max(1.0, (until - datetime.now(UTC)).total_seconds())
    limit = int(seconds * PRACTICE_FLOOD_PER_SECOND)

    def run() -> None:
        try:
            practice_flood(learner, started, until, limit)
        except Exception:
            log.exception("the practice flood stopped")
        finally:
            connection.close()

    threading.Thread(target=run, name="practice-flood", daemon=True).start()


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
