"""Priority and fairness: a noisy learner slows only themselves, never the room.

In the spirit of Kubernetes API Priority and Fairness, every request is put in a lane
right after authentication:

- ``system``: the control plane (scheduler, kubelets, controllers); never limited here.
- ``instructor``: never limited, so the person running the room can always act.
- ``learner``: each learner has a token bucket (``WAREHOUSE_LEARNER_QPS`` per second,
  ``WAREHOUSE_LEARNER_BURST`` at once), and the lane as a whole has one too
  (``WAREHOUSE_LEARNER_LANE_QPS``/``_BURST``), plus a cap on learner requests in flight
  per process (``WAREHOUSE_LEARNER_CONCURRENCY``), so learners can never take every thread.
- ``catch-all``: callers with no token or one that does not authenticate. Each client
  address has a bucket (``WAREHOUSE_ANONYMOUS_QPS``/``_BURST``) and the lane has one
  (``WAREHOUSE_CATCH_ALL_QPS``/``_BURST``), taken as soon as the token lookup fails and
  before routing, authorization or auditing in full, so a flood of bad tokens from one
  address is refused cheaply and nobody else notices.

Watch streams are long and hold server resources, so each user may have at most
``WAREHOUSE_MAX_WATCHES_PER_USER`` open at once (``WAREHOUSE_MAX_WATCHES_PER_INSTRUCTOR``
for instructors; the control plane is never capped). The seat is given back when the
stream ends, however it ends.

A refused request gets ``429 TooManyRequests`` with ``Retry-After``; client-go (kubectl)
waits that long and retries by itself. Buckets live in this process's memory by default
(right for one process), or in Redis with ``WAREHOUSE_RATE_LIMIT_BACKEND=redis`` so that
several server processes share them; ``off`` turns limiting (and the watch caps) off.
"""

import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from django.conf import settings

from apiserver import errors, onloop
from apiserver.models import ClusterUser

log = logging.getLogger(__name__)


class Lane(StrEnum):
    SYSTEM = "system"
    INSTRUCTOR = "instructor"
    LEARNER = "learner"
    CATCH_ALL = "catch-all"


LIMITED = {Lane.LEARNER, Lane.CATCH_ALL}


def lane_for(user: ClusterUser | None) -> Lane:
    """Which lane a caller's requests travel in."""
    if user is None:
        return Lane.CATCH_ALL
    if user.role == ClusterUser.Role.SYSTEM:
        return Lane.SYSTEM
    if user.role == ClusterUser.Role.INSTRUCTOR:
        return Lane.INSTRUCTOR
    return Lane.LEARNER


@dataclass(frozen=True)
class Bucket:
    """A token bucket: `rate` tokens per second, holding at most `burst`."""

    key: str
    rate: float
    burst: float


class Backend(Protocol):
    def take(self, buckets: list[Bucket]) -> float:
        """Take one token from every bucket, or from none; 0 if taken, else seconds to wait."""


class MemoryBackend:
    """Buckets in this process: exact and free, but each server process counts alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, buckets: list[Bucket]) -> float:
        now = time.monotonic()
        with self._lock:
            levels = []
            wait = 0.0
            for bucket in buckets:
                tokens, updated = self._state.get(bucket.key, (bucket.burst, now))
                tokens = min(bucket.burst, tokens + (now - updated) * bucket.rate)
                levels.append(tokens)
                if tokens < 1:
                    wait = max(wait, (1 - tokens) / bucket.rate)
            if wait:
                return wait
            for bucket, tokens in zip(buckets, levels, strict=True):
                self._state[bucket.key] = (tokens - 1, now)
            if len(self._state) > 10_000:
                self._forget_full(now, buckets)
            return 0.0

    def _forget_full(self, now: float, buckets: list[Bucket]) -> None:
        """Drop buckets idle long enough to be full again, so the dict stays small."""
        longest = max(b.burst / b.rate for b in buckets)
        self._state = {k: v for k, v in self._state.items() if now - v[1] < longest}

    def reset(self) -> None:
        with self._lock:
            self._state.clear()


# Token buckets in Redis, checked and taken in one atomic step. Time comes from the Redis
# server so that every process agrees on it. Returns the wait in milliseconds (0: taken).
_TAKE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 't', 'u')
  local tokens = tonumber(state[1]) or burst
  local updated = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
if wait > 0 then return math.ceil(wait * 1000) end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  redis.call('HSET', key, 't', tostring(levels[i] - 1), 'u', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
end
return 0
"""


class RedisBackend:
    """Buckets in Redis, shared by every server process; one round trip per request."""

    # After a failure, skip Redis this long rather than wait on it for every request.
    RETRY_SECONDS = 5.0

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self.client.register_script(_TAKE_SCRIPT)
        self._errors = (redis.RedisError, OSError)
        self._down_until = 0.0

    def take(self, buckets: list[Bucket]) -> float:
        """One atomic script call; when Redis is unreachable, let the request through."""
        if time.monotonic() < self._down_until:
            return 0.0
        args: list[float] = []
        for bucket in buckets:
            args.extend((bucket.rate, bucket.burst))
        keys = [f"warehouse:fairness:{b.key}" for b in buckets]
        try:
            return int(self._script(keys=keys, args=args)) / 1000
        except self._errors as error:
            self._down_until = time.monotonic() + self.RETRY_SECONDS
            log.warning("rate limiting off for %ss: Redis failed: %s", self.RETRY_SECONDS, error)
            return 0.0

    def reset(self) -> None:
        try:
            for pattern in ("warehouse:fairness:*", "warehouse:watches:*"):
                for key in self.client.scan_iter(pattern):
                    self.client.delete(key)
        except self._errors:
            pass
        self._down_until = 0.0


class OffBackend:
    """No limits at all (tests of other features, or a single trusted user)."""

    def take(self, buckets: list[Bucket]) -> float:
        return 0.0

    def reset(self) -> None:
        pass


_backends: dict[tuple[str, str], Backend] = {}
_backends_lock = threading.Lock()


def backend() -> Backend:
    """The configured backend, built once per (kind, URL) in this process."""
    name = getattr(settings, "WAREHOUSE_RATE_LIMIT_BACKEND", "memory")
    url = getattr(settings, "REDIS_URL", "redis://127.0.0.1:6379/0") if name == "redis" else ""
    key = (name, url)
    found = _backends.get(key)
    if found is not None:
        return found
    with _backends_lock:
        if key not in _backends:
            if name == "redis":
                _backends[key] = RedisBackend(url)
            elif name == "off":
                _backends[key] = OffBackend()
            elif name == "memory":
                _backends[key] = MemoryBackend()
            else:
                raise ValueError(f"unknown WAREHOUSE_RATE_LIMIT_BACKEND {name!r}")
        return _backends[key]


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def buckets_for(
    user: ClusterUser | None, lane: Lane, capacity: float = 1.0, address: str = ""
) -> list[Bucket]:
    """The buckets one request draws from; `capacity` below 1 shrinks them (overload)."""
    if lane == Lane.CATCH_ALL:
        qps = _setting("WAREHOUSE_ANONYMOUS_QPS", 5) * capacity
        burst = max(1.0, _setting("WAREHOUSE_ANONYMOUS_BURST", 20) * capacity)
        lane_qps = _setting("WAREHOUSE_CATCH_ALL_QPS", 50) * capacity
        lane_burst = max(1.0, _setting("WAREHOUSE_CATCH_ALL_BURST", 100) * capacity)
        return [
            Bucket(f"address:{address or 'local'}", qps, burst),
            Bucket("catch-all", lane_qps, lane_burst),
        ]
    if lane != Lane.LEARNER or user is None:
        return []
    qps = _setting("WAREHOUSE_LEARNER_QPS", 20) * capacity
    burst = max(1.0, _setting("WAREHOUSE_LEARNER_BURST", 40) * capacity)
    lane_qps = _setting("WAREHOUSE_LEARNER_LANE_QPS", 500) * capacity
    lane_burst = max(1.0, _setting("WAREHOUSE_LEARNER_LANE_BURST", 1000) * capacity)
    return [
        Bucket(f"user:{user.username}", qps, burst),
        Bucket("lane:learner", lane_qps, lane_burst),
    ]


def too_many_requests(wait: float, message: str = "") -> errors.ApiError:
    """429 like kube-apiserver's, with the wait both in the Status and in Retry-After."""
    seconds = max(1, math.ceil(wait))
    return errors.ApiError(
        429,
        "TooManyRequests",
        message or "Too many requests, please try again later.",
        {"retryAfterSeconds": seconds},
        {"retry-after": str(seconds)},
    )


def check_rate(
    user: ClusterUser | None, lane: Lane, capacity: float = 1.0, address: str = ""
) -> None:
    """Take this request's tokens, or raise 429. A Redis outage fails open, not closed."""
    buckets = buckets_for(user, lane, capacity, address)
    if not buckets:
        return
    wait = backend().take(buckets)
    if wait > 0:
        raise too_many_requests(wait)


_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _semaphore(size: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(size)
        return _slots[size]


def _learner_seats() -> threading.BoundedSemaphore:
    return _semaphore(max(1, int(_setting("WAREHOUSE_LEARNER_CONCURRENCY", 16))))


def seats_free() -> bool:
    """Whether a learner seat is free now (a glance, not a reservation)."""
    return _learner_seats()._value > 0


@contextmanager
def in_flight(lane: Lane) -> Iterator[None]:
    """Hold one of the learner lane's seats in this process while a request runs.

    A request that finds every seat taken waits briefly in line (like APF's queues),
    then gets 429; the system and instructor lanes have no cap and never wait.
    """
    if lane not in LIMITED:
        yield
        return
    seats = _learner_seats()
    # A read on the event loop must not wait there: it found a seat free a moment ago, so
    # only a race with a worker thread leaves it without one, and then it is 429 at once.
    if onloop.active():
        seated = seats.acquire(blocking=False)
    else:
        seated = seats.acquire(timeout=_setting("WAREHOUSE_LEARNER_QUEUE_SECONDS", 1.0))
    if not seated:
        raise too_many_requests(1, "Too many requests in flight, please try again later.")
    try:
        yield
    finally:
        seats.release()


# Watch seats in Redis: one sorted set per user, a member per open stream scored by when it
# expires, so the seats of a process that died without giving them back lapse by themselves.
_WATCH_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

# Longer than any watch may last (`endpoints.watch.MAX_TIMEOUT`), with a margin.
WATCH_SEAT_SECONDS = 3600 + 60

_watch_lock = threading.Lock()
_watching: dict[str, int] = {}


def watch_limit(lane: Lane) -> int:
    """How many watches one caller in `lane` may hold open; 0 means no cap."""
    if lane == Lane.SYSTEM or isinstance(backend(), OffBackend):
        return 0
    if lane == Lane.INSTRUCTOR:
        return int(_setting("WAREHOUSE_MAX_WATCHES_PER_INSTRUCTOR", 500))
    return int(_setting("WAREHOUSE_MAX_WATCHES_PER_USER", 50))


class WatchSeat:
    """One open watch stream's place in its user's count; `release()` may be called twice."""

    def __init__(self, user: str, redis_key: str = "", member: str = "") -> None:
        self.user = user
        self._redis_key = redis_key
        self._member = member
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        with _watch_lock:
            left = _watching.get(self.user, 0) - 1
            if left > 0:
                _watching[self.user] = left
            else:
                _watching.pop(self.user, None)
        if self._redis_key:
            found = backend()
            if isinstance(found, RedisBackend):
                try:
                    found.client.zrem(self._redis_key, self._member)
                except found._errors as error:
                    log.warning("could not give back a watch seat in Redis: %s", error)


def _take_redis_seat(found: RedisBackend, user: str, limit: int) -> tuple[str, str] | None:
    """A seat in the shared count, ("", "") if Redis is down (the process count stands), or
    None when the user already holds `limit` watches across every process."""
    if time.monotonic() < found._down_until:
        return "", ""
    key, member = f"warehouse:watches:{user}", uuid.uuid4().hex
    try:
        taken = found.client.eval(_WATCH_SCRIPT, 1, key, limit, WATCH_SEAT_SECONDS, member)
    except found._errors as error:
        found._down_until = time.monotonic() + found.RETRY_SECONDS
        log.warning("watch seats counted per process for now: Redis failed: %s", error)
        return "", ""
    return (key, member) if int(taken) else None


def take_watch_seat(user: ClusterUser | None, lane: Lane) -> WatchSeat | None:
    """A seat for one more open watch, None if the lane has no cap, or 429 when full."""
    limit = watch_limit(lane)
    if not limit:
        return None
    name = user.username if user is not None else ""
    with _watch_lock:
        if _watching.get(name, 0) >= limit:
            raise _too_many_watches(limit)
        _watching[name] = _watching.get(name, 0) + 1
    seat = WatchSeat(name)
    found = backend()
    if isinstance(found, RedisBackend):
        shared = _take_redis_seat(found, name, limit)
        if shared is None:
            seat.release()
            raise _too_many_watches(limit)
        seat._redis_key, seat._member = shared
    return seat


def _too_many_watches(limit: int) -> errors.ApiError:
    return too_many_requests(
        5, f"Too many open watches: at most {limit} per user, please close one and retry."
    )


def open_watches(user: str) -> int:
    """How many watches `user` has open in this process (for tests and the dashboard)."""
    with _watch_lock:
        return _watching.get(user, 0)


def reset() -> None:
    """Forget every bucket and watch seat (tests, and the end of an overload scenario)."""
    backend().reset()
    with _watch_lock:
        _watching.clear()
