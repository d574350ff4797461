"""Lanes under attack: strangers with bad tokens and users with too many watches.

A flood of requests with bad tokens from one address is refused cheaply (429 with
Retry-After, few audit rows) while other addresses and signed-in learners carry on; each
user holds at most so many open watch streams, and a stream gives its seat back however
it ends.
"""

import json
from unittest import mock

import pytest
import redis
from asgiref.sync import async_to_sync
from django.db import OperationalError
from django.test import AsyncClient, Client

from apiserver import pipeline
from apiserver.filters import audit, fairness
from apiserver.filters.fairness import Lane
from apiserver.models import AuditRecord
from apiserver.pipeline import ApiRequest, ApiResponse
from support.databases import redis_url
from tests.apiserver.conftest import (  # noqa: F401 - autouse fixtures, registered by import
    _fresh_kind_index,
    _no_static_scan,
    _user,
)

PODS = "/api/v1/namespaces/{}/pods"
FLOODER = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"


@pytest.fixture
def alice(db):
    return _user("alice", namespace="alice")


@pytest.fixture
def carol(db):
    return _user("carol", role="instructor")


@pytest.fixture
def scheduler(db):
    return _user("scheduler", role="system")


@pytest.fixture
def limits(settings):
    """Rate limits on, in process memory, with a clean slate (the test settings turn them off).

    A stranger's bucket refills once in 100 s, so a slow machine cannot earn back a token
    in the middle of a counted flood; the burst is what these tests count.
    """
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    settings.WAREHOUSE_ANONYMOUS_QPS = 0.01
    fairness.reset()
    audit.forget_refusals()
    yield
    fairness.reset()


def _get(address: str, path: str, token: str = "", **headers: str):
    if token:
        headers["authorization"] = f"Bearer {token}"
    return Client(REMOTE_ADDR=address).get(path, headers=headers)


def test_a_flood_of_bad_tokens_from_one_address_gets_429_with_retry_after(limits):
    codes = [_get(FLOODER, PODS.format("alice"), "stolen").status_code for _ in range(30)]
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}
    refused = _get(FLOODER, PODS.format("alice"), "stolen")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    body = json.loads(refused.content)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "TooManyRequests", 429)


def test_no_token_at_all_is_limited_the_same_way(limits):
    codes = [_get(FLOODER, PODS.format("alice")).status_code for _ in range(25)]
    assert codes[:20] == [401] * 20
    assert codes[-1] == 429


def test_other_addresses_and_signed_in_learners_are_unaffected(limits, alice):
    for _ in range(40):
        _get(FLOODER, PODS.format("alice"), "stolen")
    assert _get(FLOODER, PODS.format("alice"), "stolen").status_code == 429
    assert _get(NEIGHBOUR, PODS.format("alice"), "stolen").status_code == 401
    assert _get(NEIGHBOUR, "/version").status_code == 200
    # alice sits behind the same address (a classroom NAT) and is not held back by it.
    assert {_get(FLOODER, PODS.format("alice"), alice.token).status_code for _ in range(5)} == {200}


def test_forwarded_for_is_not_trusted(limits):
    codes = [
        _get(FLOODER, PODS.format("alice"), "stolen", x_forwarded_for=f"10.0.0.{i}").status_code
        for i in range(25)
    ]
    assert codes[-1] == 429


def test_version_stays_open_to_anonymous_callers(limits):
    assert _get(NEIGHBOUR, "/version").status_code == 200
    assert _get(NEIGHBOUR, "/version").json()["major"]


def test_refused_strangers_are_sampled_in_the_audit_log(limits):
    for _ in range(120):
        _get(FLOODER, PODS.format("alice"), "stolen")
    refused = AuditRecord.objects.filter(status_code=429)
    assert 1 <= refused.count() <= 10
    assert set(refused.values_list("lane", flat=True)) == {"catch-all"}
    # The 401s are bounded by the address's bucket (its burst, then its refill rate).
    assert 20 <= AuditRecord.objects.filter(status_code=401).count() < 60


def test_learner_refusals_are_still_all_audited(limits, settings, alice):
    settings.WAREHOUSE_LEARNER_BURST = 1
    settings.WAREHOUSE_LEARNER_QPS = 0.01
    codes = [_get(FLOODER, PODS.format("alice"), alice.token).status_code for _ in range(4)]
    assert codes == [200, 429, 429, 429]
    assert AuditRecord.objects.filter(status_code=429, user="alice").count() == 3


def _watch_request(user, **query: str) -> ApiRequest:
    return ApiRequest(
        "GET",
        PODS.format(user.namespace) if user.namespace else "/api/v1/pods",
        query={"watch": "true", **query},
        user=user,
        client="kubectl",
    )


def test_a_learner_may_hold_only_so_many_watches(limits, settings, alice):
    settings.WAREHOUSE_MAX_WATCHES_PER_USER = 2
    settings.WAREHOUSE_LEARNER_BURST = 100
    first = pipeline.open_watch(_watch_request(alice))
    second = pipeline.open_watch(_watch_request(alice))
    assert first.seat is not None and second.seat is not None
    refused = pipeline.open_watch(_watch_request(alice))
    assert isinstance(refused, ApiResponse)
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.body["reason"] == "TooManyRequests"
    assert refused.body["details"]["retryAfterSeconds"] >= 1
    first.seat.release()
    first.seat.release()  # twice is harmless
    assert fairness.open_watches("alice") == 1
    third = pipeline.open_watch(_watch_request(alice))
    assert not isinstance(third, ApiResponse)


def test_instructors_have_a_higher_cap_and_the_control_plane_none(
    limits, settings, carol, scheduler
):
    settings.WAREHOUSE_MAX_WATCHES_PER_USER = 1
    settings.WAREHOUSE_MAX_WATCHES_PER_INSTRUCTOR = 3
    assert fairness.watch_limit(Lane.SYSTEM) == 0
    opened = [pipeline.open_watch(_watch_request(carol)) for _ in range(4)]
    assert [isinstance(o, ApiResponse) for o in opened] == [False, False, False, True]
    assert all(
        not isinstance(pipeline.open_watch(_watch_request(scheduler)), ApiResponse)
        for _ in range(5)
    )
    assert fairness.open_watches("scheduler") == 0


def _stream(user, read: int | None, **query: str) -> int:
    """Open a watch over HTTP, read `read` chunks (None: to the end), then hang up."""

    @async_to_sync
    async def run() -> int:
        response = await AsyncClient(REMOTE_ADDR=FLOODER).get(
            PODS.format(user.namespace),
            {"watch": "true", **query},
            headers={"authorization": f"Bearer {user.token}"},
        )
        if response.streaming:
            content = response.streaming_content
            if read is None:
                [chunk async for chunk in content]
            else:
                for _ in range(read):
                    await anext(content)
                await content.aclose()
            response.close()
        return response.status_code

    return run()


def test_the_seat_is_given_back_when_the_stream_times_out(limits, settings, alice):
    settings.WAREHOUSE_MAX_WATCHES_PER_USER = 1
    assert _stream(alice, None, timeoutSeconds="0") == 200
    assert fairness.open_watches("alice") == 0
    assert _stream(alice, None, timeoutSeconds="0") == 200


def test_the_seat_is_given_back_when_the_client_hangs_up(limits, settings, alice):
    settings.WAREHOUSE_MAX_WATCHES_PER_USER = 1
    assert _stream(alice, 1, sendInitialEvents="true", resourceVersion="0") == 200
    assert fairness.open_watches("alice") == 0
    assert _stream(alice, 0) == 200
    assert fairness.open_watches("alice") == 0


def test_a_busy_store_when_opening_a_watch_is_503_not_500(limits, alice):
    with mock.patch.object(pipeline.watch_handler, "handle", side_effect=OperationalError):
        response = pipeline.open_watch(_watch_request(alice))
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert fairness.open_watches("alice") == 0


def test_a_locked_store_over_http_is_503_with_retry_after(limits, alice):
    with mock.patch(
        "apiserver.filters.authentication._active_owner",
        side_effect=OperationalError("database is locked"),
    ):
        status = _stream(alice, None)
    assert status == 503


REDIS_TEST_URL = redis_url(14)


@pytest.fixture
def redis_seats(limits, settings):
    try:
        redis.Redis.from_url(REDIS_TEST_URL).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "redis"
    settings.REDIS_URL = REDIS_TEST_URL
    fairness.reset()
    yield redis.Redis.from_url(REDIS_TEST_URL)
    fairness.reset()


def test_watch_seats_are_shared_through_redis_and_expire(redis_seats, settings, alice):
    settings.WAREHOUSE_MAX_WATCHES_PER_USER = 2
    first = fairness.take_watch_seat(alice, Lane.LEARNER)
    # Another process's seat, in Redis only.
    with fairness._watch_lock:
        fairness._watching.clear()
    fairness.take_watch_seat(alice, Lane.LEARNER)
    with fairness._watch_lock:
        fairness._watching.clear()
    with pytest.raises(fairness.errors.ApiError) as refused:
        fairness.take_watch_seat(alice, Lane.LEARNER)
    assert refused.value.code == 429
    key = "warehouse:watches:alice"
    assert 0 < redis_seats.ttl(key) <= fairness.WATCH_SEAT_SECONDS
    assert redis_seats.zcard(key) == 2
    first.release()
    assert redis_seats.zcard(key) == 1


def test_a_crashed_process_seats_lapse(redis_seats, settings, alice):
    settings.WAREHOUSE_MAX_WATCHES_PER_USER = 1
    key = "warehouse:watches:alice"
    redis_seats.zadd(key, {"dead-process-seat": 1})  # expired long ago
    seat = fairness.take_watch_seat(alice, Lane.LEARNER)
    assert seat is not None
    assert redis_seats.zrange(key, 0, -1) != [b"dead-process-seat"]
