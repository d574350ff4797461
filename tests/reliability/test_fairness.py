"""Priority and fairness: a noisy learner gets 429s while everyone else keeps working."""

import threading
import time

import pytest
import redis
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from apiserver.filters import fairness
from apiserver.filters.fairness import Bucket, Lane, RedisBackend
from apiserver.models import AuditRecord
from support.databases import redis_url
from tests.apiserver.conftest import configmap

PODS = "/api/v1/namespaces/{}/pods"


def _flood(call, user, count: int) -> list[int]:
    return [call("GET", PODS.format(user.namespace), user).status for _ in range(count)]


def test_a_noisy_learner_gets_429_with_retry_after_and_a_status(limits, settings, mallory, api):
    settings.WAREHOUSE_LEARNER_QPS = 0.5
    codes = _flood_http(api, mallory, 45)
    assert codes[:40] == [200] * 40
    assert 429 in codes[40:]

    response = api.get(PODS.format("mallory"), mallory)
    assert response.status_code == 429
    assert response["Retry-After"] == "2"
    assert response.json_body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Too many requests, please try again later.",
        "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": 2},
        "code": 429,
    }


def _flood_http(api, user, count: int) -> list[int]:
    return [api.get(PODS.format(user.namespace), user).status_code for _ in range(count)]


def test_other_learners_instructors_and_the_control_plane_keep_working(
    limits, mallory, alice, carol, scheduler, call
):
    assert 429 in _flood(call, mallory, 60)

    assert set(_flood(call, alice, 30)) == {200}
    assert {call("GET", PODS.format("mallory"), carol).status for _ in range(100)} == {200}
    assert {call("GET", "/api/v1/pods", scheduler).status for _ in range(100)} == {200}


def test_the_bucket_refills_at_the_learner_rate(limits, settings, mallory, call):
    settings.WAREHOUSE_LEARNER_QPS = 50
    settings.WAREHOUSE_LEARNER_BURST = 5
    assert _flood(call, mallory, 6)[-1] == 429
    time.sleep(0.1)  # 50 per second: five tokens back
    assert set(_flood(call, mallory, 4)) == {200}


def test_the_learner_lane_as_a_whole_is_capped_but_instructors_are_not(
    limits, settings, alice, bob, carol, call
):
    settings.WAREHOUSE_LEARNER_LANE_QPS = 1
    settings.WAREHOUSE_LEARNER_LANE_BURST = 10
    codes = _flood(call, alice, 6) + _flood(call, bob, 6)
    assert codes.count(200) == 10
    assert codes[-1] == 429
    assert {call("GET", PODS.format("alice"), carol).status for _ in range(20)} == {200}


def test_rejections_are_in_the_audit_log_with_their_lane(
    limits, settings, mallory, scheduler, call
):
    settings.WAREHOUSE_LEARNER_QPS = 0.5
    _flood(call, mallory, 45)
    call("GET", "/api/v1/nodes", scheduler)

    refused = AuditRecord.objects.filter(user="mallory", status_code=429)
    assert refused.count() == 5
    assert set(refused.values_list("lane", flat=True)) == {"learner"}
    assert refused.first().verb == "list"
    assert AuditRecord.objects.filter(user="system:scheduler").get().lane == "system"


def _open_watch(user) -> int:
    @async_to_sync
    async def run() -> int:
        response = await AsyncClient().get(
            PODS.format(user.namespace),
            {"watch": "true", "timeoutSeconds": "0"},
            headers={"authorization": f"Bearer {user.token}"},
        )
        if response.streaming:
            [chunk async for chunk in response.streaming_content]
        return response.status_code

    return run()


def test_a_watch_counts_once_when_opened(limits, settings, alice, api):
    settings.WAREHOUSE_LEARNER_BURST = 2
    settings.WAREHOUSE_LEARNER_QPS = 0.01
    assert _open_watch(alice) == 200
    assert api.get(PODS.format("alice"), alice).status_code == 200
    assert _open_watch(alice) == 429
    assert AuditRecord.objects.filter(verb="watch", status_code=429, lane="learner").count() == 1


def test_requests_in_flight_are_capped_per_process(limits, settings):
    settings.WAREHOUSE_LEARNER_CONCURRENCY = 1
    settings.WAREHOUSE_LEARNER_QUEUE_SECONDS = 0.05
    held, release = threading.Event(), threading.Event()

    def hold_the_seat() -> None:
        with fairness.in_flight(Lane.LEARNER):
            held.set()
            release.wait(5)

    worker = threading.Thread(target=hold_the_seat)
    worker.start()
    try:
        assert held.wait(5)
        with pytest.raises(fairness.errors.ApiError) as refused, fairness.in_flight(Lane.LEARNER):
            pass
        assert refused.value.code == 429
        with fairness.in_flight(Lane.SYSTEM), fairness.in_flight(Lane.INSTRUCTOR):
            pass
    finally:
        release.set()
        worker.join()
    with fairness.in_flight(Lane.LEARNER):
        pass


def test_lanes_follow_the_role(alice, carol, scheduler):
    assert fairness.lane_for(alice) == Lane.LEARNER
    assert fairness.lane_for(carol) == Lane.INSTRUCTOR
    assert fairness.lane_for(scheduler) == Lane.SYSTEM
    assert fairness.lane_for(None) == Lane.CATCH_ALL


def test_anonymous_callers_share_the_catch_all_bucket(limits, api):
    codes = [api.get("/version", None).status_code for _ in range(25)]
    assert codes[:20] == [200] * 20
    assert codes[-1] == 429


REDIS_TEST_URL = redis_url(15)


@pytest.fixture
def redis_limits(limits, settings):
    try:
        redis.Redis.from_url(REDIS_TEST_URL).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "redis"
    settings.REDIS_URL = REDIS_TEST_URL
    fairness.reset()
    yield
    fairness.reset()


def test_redis_buckets_are_shared_by_every_process(redis_limits):
    # Two backends with their own connections stand for two server processes.
    first, second = RedisBackend(REDIS_TEST_URL), RedisBackend(REDIS_TEST_URL)
    bucket = [Bucket("user:shared", 0.001, 4)]
    waits = [backend.take(bucket) for backend in (first, second, first, second, first)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4] > 1


def test_redis_takes_from_all_buckets_or_none(redis_limits):
    backend = RedisBackend(REDIS_TEST_URL)
    user, lane = Bucket("user:a", 0.001, 5), Bucket("lane:x", 0.001, 1)
    assert backend.take([user, lane]) == 0
    assert backend.take([user, lane]) > 0
    # The refused request took nothing from the user's own bucket.
    assert [backend.take([user]) for _ in range(4)] == [0, 0, 0, 0]
    assert backend.take([user]) > 0


def test_the_pipeline_limits_through_redis(redis_limits, mallory, alice, call):
    assert 429 in _flood(call, mallory, 45)
    assert set(_flood(call, alice, 10)) == {200}


def test_a_redis_outage_lets_requests_through(limits, settings, mallory, call):
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert set(_flood(call, mallory, 45)) == {200}


def test_writes_are_limited_like_reads(limits, settings, mallory, call):
    settings.WAREHOUSE_LEARNER_BURST = 3
    settings.WAREHOUSE_LEARNER_QPS = 0.01
    codes = [
        call("POST", "/api/v1/namespaces/mallory/configmaps", mallory, configmap(f"c{i}")).status
        for i in range(4)
    ]
    assert codes == [201, 201, 201, 429]
