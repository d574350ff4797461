"""The per-object retry: exponential backoff on the injected clock, one event per streak."""

from datetime import UTC, datetime, timedelta

import pytest

from apiserver.client import ApiError
from controlplane.workqueue import MAX_DELAY, Retries

START = datetime(2026, 1, 1, tzinfo=UTC)
POD = {"kind": "Pod", "metadata": {"name": "p", "namespace": "alice", "uid": "u-1"}}


class Notes:
    component = "test-controller"

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj, kind, reason, message, now, **_):
        self.events.append((kind, reason, message))


def _boom() -> None:
    raise ValueError("quantities must match")


def test_failures_back_off_doubling_to_five_minutes_and_are_recorded_once():
    notes = Notes()
    retries = Retries(notes)
    now = START
    delays = []
    for _ in range(12):
        assert retries.run(POD, now, _boom) is None
        due = retries.next_due()
        delays.append(due - now)
        assert retries.run(POD, due - timedelta(milliseconds=1), _boom) is None  # still waiting
        now = due

    assert [d.total_seconds() for d in delays[:9]] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert delays[9:] == [MAX_DELAY] * 3
    assert notes.events == [
        ("Warning", "FailedSync", "Error syncing Pod alice/p: ValueError: quantities must match")
    ]


def test_a_success_ends_the_streak():
    notes = Notes()
    retries = Retries(notes)
    retries.run(POD, START, _boom)

    assert retries.run(POD, START + timedelta(seconds=1), lambda: "done") == "done"
    assert retries.next_due() is None
    retries.run(POD, START + timedelta(seconds=2), _boom)
    assert len(notes.events) == 2  # a new streak is a new story


def test_other_objects_are_not_held_back():
    retries = Retries(Notes())
    retries.run(POD, START, _boom)
    other = {"kind": "Pod", "metadata": {"name": "q", "namespace": "bob", "uid": "u-2"}}

    assert retries.run(other, START, lambda: "delivered") == "delivered"


def test_an_api_server_in_trouble_concerns_everyone():
    retries = Retries(Notes())

    def unavailable() -> None:
        raise ApiError(503, {"reason": "ServiceUnavailable"})

    with pytest.raises(ApiError):
        retries.run(POD, START, unavailable)
    assert retries.next_due() is None


def test_a_failure_whose_object_is_gone_is_forgotten_after_the_pass():
    retries = Retries(Notes())
    retries.run(POD, START, _boom)

    retries.settle(START + timedelta(seconds=5))

    assert retries.next_due() is None
