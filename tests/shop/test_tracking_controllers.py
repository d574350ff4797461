"""Tracking a StatefulSet, a DaemonSet and a CronJob: seats, depots and a subscription."""

import re
from datetime import UTC, datetime

import pytest

from shop import tracking
from tests.controlplane.test_cronjobs import cronjob, store_on
from tests.controlplane.test_daemonsets import daemonset
from tests.controlplane.test_statefulsets import statefulset
from tests.shop.test_tracking import order, plane, poll, steps  # noqa: F401  (fixture)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_a_statefulset_fills_its_seats_in_order_on_the_tracking_page(alice, plane):  # noqa: F811
    order(alice, statefulset(replicas=2), "/order/apps/v1/statefulsets/")
    url = "/orders/alice/apps/v1/statefulsets/web/track/"
    plane.settle()

    first = poll(alice, url)
    plane.step(1, times=10)
    done = poll(alice, url)

    assert steps(first)[3][0] == "Seat 0: Out for delivery"
    assert steps(first)[3][2] == "current"
    assert steps(first)[4] == ("Seat 1", "Pod web-1 Running and Ready", "waiting")
    assert "Filled only once seat 0 is Ready (OrderedReady)" in first.content.decode()
    assert first.context["status"] == tracking.Status("Out for delivery", "0/2 ready")
    assert done.status_code == 286
    assert done.context["status"] == tracking.Status("Delivered", "2/2 ready", "ok", final=True)
    assert steps(done)[3:] == [
        ("Seat 0 filled", "Pod web-0 Running and Ready", "done"),
        ("Seat 1 filled", "Pod web-1 Running and Ready", "done"),
        ("Delivered", "2/2 ready (readyReplicas)", "done"),
    ]
    events = {(row["object"], row["reason"]) for row in done.context["line"].events}
    assert ("StatefulSet/web", "SuccessfulCreate") in events
    assert "numbered seats" in alice.get(url).content.decode()


def test_a_daemonset_is_delivered_with_one_pod_per_depot(alice, plane):  # noqa: F811
    order(alice, daemonset(), "/order/apps/v1/daemonsets/")
    url = "/orders/alice/apps/v1/daemonsets/agent/track/"
    plane.settle()
    plane.step(1, times=4)

    done = poll(alice, url)

    assert done.context["status"] == tracking.Status(
        "Delivered", "3/3 nodes ready", "ok", final=True
    )
    assert steps(done)[3:] == [
        ("Packed", "One Pod for each of 3 nodes", "done"),
        ("Shipped", "3/3 Pods scheduled to nodes", "done"),
        ("Out for delivery", "3/3 Pods started", "done"),
        ("Delivered", "3/3 nodes have a Ready Pod (numberReady)", "done"),
    ]
    assert done.context["line"].steps[4].detail == "node-1, node-2, node-3"
    assert "one at every depot" in alice.get(url).content.decode()


def test_a_cronjob_is_a_subscription_with_one_line_per_order(alice, plane, monkeypatch):  # noqa: F811
    store_on(plane.clock, monkeypatch)
    order(alice, cronjob(), "/order/batch/v1/cronjobs/")
    url = "/orders/alice/batch/v1/cronjobs/report/track/"
    plane.settle()
    waiting = poll(alice, url)
    plane.clock.advance(60)
    plane.settle()
    running = poll(alice, url)

    assert waiting.context["status"] == tracking.Status(
        "Subscribed", "Waiting for the next schedule time (* * * * *)", "ok"
    )
    subscribed, (shop_words, next_job, state) = steps(waiting)[3:]
    assert subscribed == (
        "Subscribed",
        "Schedule * * * * * (the controller manager's time zone, UTC here)",
        "done",
    )
    assert (shop_words, state) == ("Next order", "current")
    assert re.fullmatch(r"The next Job, at \d{4}-\d\d-\d\d \d\d:\d\d UTC", next_job)
    assert running.context["status"].shop == "Out for delivery"
    (job,) = plane.api("GET", "/apis/batch/v1/namespaces/alice/jobs")["items"]
    name = job["metadata"]["name"]
    assert steps(running)[4] == (
        "Order out for delivery",
        f"Job {name}: Running (0/1 done)",
        "current",
    )
    events = {(row["object"], row["reason"]) for row in running.context["line"].events}
    assert ("CronJob/report", "SuccessfulCreate") in events
    assert (f"Job/{name}", "SuccessfulCreate") in events


@pytest.mark.parametrize(
    ("kind", "obj", "expected"),
    [
        ("StatefulSet", {"spec": {"replicas": 3}}, ("In the order book", "0/3 ready", False)),
        (
            "StatefulSet",
            {
                "spec": {"replicas": 2},
                "status": {"replicas": 2, "readyReplicas": 1, "observedGeneration": 1},
            },
            ("Out for delivery", "1/2 ready", False),
        ),
        ("DaemonSet", {"spec": {}}, ("In the order book", "0/0 nodes ready", False)),
        (
            "DaemonSet",
            {
                "status": {
                    "observedGeneration": 1,
                    "desiredNumberScheduled": 0,
                    "currentNumberScheduled": 0,
                    "numberReady": 0,
                    "numberMisscheduled": 0,
                }
            },
            # No node matches: nothing to deliver yet, and the page keeps watching for one.
            ("No depot qualifies", "0 nodes match", False),
        ),
        (
            "CronJob",
            {"spec": {"schedule": "@daily", "suspend": True}},
            ("Subscription paused", "Suspended (@daily)", False),
        ),
        (
            "CronJob",
            {"spec": {"schedule": "@daily"}, "status": {"active": [{"name": "a"}]}},
            ("Out for delivery", "1 active Job (@daily)", False),
        ),
    ],
)
def test_status_words_for_the_new_kinds(kind, obj, expected):
    status = tracking.status_of(kind, obj)

    assert (status.shop, status.kube, status.final) == expected


def test_a_suspended_cronjob_shows_the_pause_as_its_current_step():
    cj = {
        "metadata": {"name": "report", "creationTimestamp": "2026-01-01T11:00:00Z"},
        "spec": {"schedule": "0 * * * *", "suspend": True, "timeZone": "Europe/Paris"},
    }

    line = tracking.timeline("CronJob", cj, tracking.Related(), NOW)

    assert [(s.shop, s.api, s.state) for s in line.steps[3:]] == [
        ("Subscribed", "Schedule 0 * * * * (Europe/Paris)", "done"),
        ("Subscription paused", "suspend: true", "current"),
    ]
    assert not line.status.final
