"""Actors for the reliability tests: the API server's learners, instructor and scheduler.

The fixtures come from tests/apiserver so both suites mean the same people; `limits`
turns rate limiting on (the test settings turn it off elsewhere) with a clean slate.
"""

from collections.abc import Iterator

import pytest

from apiserver.filters import fairness
from learning import faults
from tests.apiserver.conftest import (  # noqa: F401 - fixtures, registered by import
    _fresh_kind_index,
    _no_static_scan,
    _user,
    alice,
    api,
    bob,
    call,
    carol,
    scheduler,
)
from tests.e2e.conftest import browser, page  # noqa: F401 - real Chromium, for two hosts


@pytest.fixture
def mallory(db):
    """A learner who sends far too many requests."""
    return _user("mallory", namespace="mallory")


@pytest.fixture
def limits(settings) -> Iterator[None]:
    """Rate limits on, in process memory, at the defaults: 20 per second, bursts of 40."""
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    settings.WAREHOUSE_LEARNER_QPS = 20
    settings.WAREHOUSE_LEARNER_BURST = 40
    settings.WAREHOUSE_LEARNER_LANE_QPS = 500
    settings.WAREHOUSE_LEARNER_LANE_BURST = 1000
    fairness.reset()
    yield
    fairness.reset()


@pytest.fixture(autouse=True)
def _no_scenario_left() -> Iterator[None]:
    """A scenario cached by one test must not leak into the next."""
    faults._forget_cache()
    yield
    faults._forget_cache()
