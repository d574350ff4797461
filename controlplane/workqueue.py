"""Per-object retries: one object that breaks a sync never holds up the rest of the pass.

kube-controller-manager takes objects off rate-limited work queues: a sync that fails puts
its key back with an exponential delay (client-go's ItemExponentialFailureRateLimiter),
while every other key goes on being processed. `Retries` does the same on the injected
clock for the controllers, the scheduler and the kubelets: the failure is logged, recorded
once as a Warning event on the object (not on every retry, so nothing floods), and the
object is tried again after 1 s, 2 s, 4 s ... up to 5 minutes, until a sync succeeds.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from apiserver.client import ApiError
from controlplane.events import EventRecorder

log = logging.getLogger("warehouse.controlplane")

T = TypeVar("T")

BASE_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=5)
FAILED_SYNC = "FailedSync"
# A conflict, a vanished object, a refused write or one the store found too large: the next
# pass simply tries again, and one learner's object never stalls everyone's.
RETRY_LATER = (404, 409, 413, 422)


def concerns_everyone(error: Exception) -> bool:
    """An API server that is failing or shedding load is no single object's fault: the
    step stops and the loop retries it whole."""
    return isinstance(error, ApiError) and (error.code >= 500 or error.code == 429)


class BackOff(Exception):
    """A sync the API refused for a reason already reported on the object (a quota full,
    say, told as a FailedCreate event): retry later with the usual backoff, no new event."""


@dataclass
class Failure:
    count: int
    due: datetime


class Retries:
    """The failures of one component, by object and by what it was doing with it."""

    def __init__(
        self,
        recorder: EventRecorder,
        component: str = "",
        base: timedelta = BASE_DELAY,
        cap: timedelta = MAX_DELAY,
    ) -> None:
        self.recorder = recorder
        self.component = component or recorder.component
        self.base = base
        self.cap = cap
        self.failures: dict[tuple[str, str], Failure] = {}

    def run(
        self, obj: dict, now: datetime, action: Callable[[], T], what: str = "sync"
    ) -> T | None:
        """`action()` for `obj`, unless it is backing off; None when skipped or failed."""
        key = (what, uid_of(obj))
        failure = self.failures.get(key)
        if failure is not None and now < failure.due:
            return None
        try:
            result = action()
        except BackOff as error:
            self._failed(key, obj, now, error, report=False)
            return None
        except ApiError as error:
            if error.code in RETRY_LATER:
                return None
            if concerns_everyone(error):
                raise
            self._failed(key, obj, now, error)
            return None
        except Exception as error:
            self._failed(key, obj, now, error)
            return None
        self.failures.pop(key, None)
        return result

    def next_due(self) -> datetime | None:
        """When the first object backing off is due its retry."""
        return min((f.due for f in self.failures.values()), default=None)

    def settle(self, now: datetime) -> None:
        """After a whole pass at `now`: a failure still due was not retried because its
        object is gone or no longer synced, so there is nothing left to wait for."""
        self.failures = {k: f for k, f in self.failures.items() if f.due > now}

    def delay(self, count: int) -> timedelta:
        if count > 40:
            return self.cap
        return min(self.base * 2 ** (count - 1), self.cap)

    def _failed(
        self,
        key: tuple[str, str],
        obj: dict,
        now: datetime,
        error: Exception,
        report: bool = True,
    ) -> None:
        previous = self.failures.get(key)
        count = previous.count + 1 if previous else 1
        delay = self.delay(count)
        self.failures[key] = Failure(count, now + delay)
        name = _describe(obj)
        log.log(
            logging.WARNING if report else logging.INFO,
            "%s: %s %s failed (attempt %d), retrying in %s: %r",
            self.component,
            key[0],
            name,
            count,
            delay,
            error,
            exc_info=report and count == 1,
        )
        if previous is not None or not report:
            return
        message = f"Error syncing {name}: {_text(error)}"
        try:
            self.recorder.record(
                obj, "Warning", FAILED_SYNC, message, now, component=self.component
            )
        except Exception:
            log.exception("%s: could not record the failure of %s", self.component, name)


def uid_of(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return str(meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}")


def _describe(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    kind = obj.get("kind") or "object"
    namespace = meta.get("namespace")
    name = f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))
    return f"{kind} {name}"


def _text(error: Exception) -> str:
    if isinstance(error, ApiError):
        return error.status.get("message") or str(error)
    return f"{type(error).__name__}: {error}"[:300]
