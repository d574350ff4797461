"""CronJobs: a Job at each schedule time of the hand-wound clock, as concurrency allows."""

from datetime import UTC, datetime

import pytest

from controlplane.controllers.cronjob import most_recent, next_after

CRONJOBS = "/apis/batch/v1/namespaces/alice/cronjobs"
JOBS = "/apis/batch/v1/namespaces/alice/jobs"
START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)  # where the FakeClock starts


def store_on(clock, monkeypatch) -> None:
    """Make the API server stamp creationTimestamp from the FakeClock, not the wall clock.

    A CronJob counts its schedule times from its creation, so both must tell the same time.
    """
    monkeypatch.setattr(
        "apiserver.registry.store.clock_now", lambda: clock.now().replace(microsecond=0)
    )


@pytest.fixture(autouse=True)
def store_on_the_clock(request, monkeypatch):
    if "cluster" in request.fixturenames:
        store_on(request.getfixturevalue("cluster").clock, monkeypatch)


def cronjob(name: str = "report", command: list[str] | None = None, **spec) -> dict:
    container = {"name": "report", "image": "busybox:1.36", "command": command or ["true"]}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {
                "metadata": {"labels": {"team": "books"}},
                "spec": {
                    "backoffLimit": 0,
                    "template": {"spec": {"containers": [container], "restartPolicy": "Never"}},
                },
            },
            **spec,
        },
    }


def _minutes(hour: int, minute: int) -> int:
    return int(datetime(2026, 1, 1, hour, minute, tzinfo=UTC).timestamp()) // 60


def _jobs(cluster) -> dict[str, dict]:
    items = cluster.api("GET", JOBS)["items"]
    return {j["metadata"]["name"]: j for j in items if not j["metadata"].get("deletionTimestamp")}


def _tick(cluster) -> None:
    """Wind the clock to the next minute; the loop must wake by itself, no write needed."""
    cluster.clock.advance(60)
    assert cluster.driver.tick(), "the schedule fell due but the loop did not step"
    cluster.settle()


def _status(cluster, name: str = "report") -> dict:
    return cluster.api("GET", f"{CRONJOBS}/{name}").get("status") or {}


def test_each_schedule_time_creates_one_job_named_after_it(cluster):
    cluster.api("POST", CRONJOBS, cronjob())
    cluster.settle()
    assert _jobs(cluster) == {}
    assert cluster.plane.next_due() == datetime(2026, 1, 1, 12, 1, tzinfo=UTC)
    assert not cluster.driver.tick()

    _tick(cluster)
    name = f"report-{_minutes(12, 1)}"
    (job,) = _jobs(cluster).values()
    assert job["metadata"]["name"] == name
    assert job["metadata"]["labels"]["team"] == "books"
    annotations = job["metadata"]["annotations"]
    assert annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2026-01-01T12:01:00Z"
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "report", True)
    status = _status(cluster)
    assert status["lastScheduleTime"] == "2026-01-01T12:01:00Z"
    (active,) = status["active"]
    assert (active["kind"], active["name"], active["uid"]) == ("Job", name, job["metadata"]["uid"])

    cluster.step(1, times=6)
    status = _status(cluster)
    assert "active" not in status
    finished = _jobs(cluster)[name]["status"]["completionTime"]
    assert status["lastSuccessfulTime"] == finished
    _tick(cluster)
    assert sorted(_jobs(cluster)) == [name, f"report-{_minutes(12, 2)}"]
    assert cluster.events("report", kind="CronJob") == [
        ("Normal", "SuccessfulCreate", f"Created job {name}"),
        ("Normal", "SawCompletedJob", f"Saw completed job: {name}, condition: Complete"),
        ("Normal", "SuccessfulCreate", f"Created job report-{_minutes(12, 2)}"),
    ]


def test_forbid_skips_a_run_while_the_last_one_is_still_going(cluster):
    cluster.api("POST", CRONJOBS, cronjob(command=["sleep", "90"], concurrencyPolicy="Forbid"))
    _tick(cluster)
    _tick(cluster)

    assert list(_jobs(cluster)) == [f"report-{_minutes(12, 1)}"]
    assert (
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    ) in cluster.events("report", kind="CronJob")
    assert _status(cluster)["lastScheduleTime"] == "2026-01-01T12:01:00Z"


def test_replace_deletes_the_running_job_for_the_new_one(cluster):
    cluster.api("POST", CRONJOBS, cronjob(command=["sleep", "90"], concurrencyPolicy="Replace"))
    _tick(cluster)
    _tick(cluster)

    first, second = f"report-{_minutes(12, 1)}", f"report-{_minutes(12, 2)}"
    assert list(_jobs(cluster)) == [second]
    assert [a["name"] for a in _status(cluster)["active"]] == [second]
    messages = [m for _, _, m in cluster.events("report", kind="CronJob")]
    assert messages == [f"Created job {first}", f"Deleted job {first}", f"Created job {second}"]
    cluster.step(1, times=2)
    owners = {p["metadata"]["ownerReferences"][0]["name"] for p in cluster.pods()}
    assert owners == {second}  # the replaced Job's Pod was collected with it


def test_allow_lets_runs_overlap(cluster):
    cluster.api("POST", CRONJOBS, cronjob(command=["sleep", "90"]))
    _tick(cluster)
    _tick(cluster)

    assert len(_status(cluster)["active"]) == 2
    assert len(_jobs(cluster)) == 2


def test_history_limits_keep_only_the_newest_finished_jobs(cluster):
    cluster.api("POST", CRONJOBS, cronjob(successfulJobsHistoryLimit=1))
    cluster.api("POST", CRONJOBS, cronjob("broken", command=["false"], failedJobsHistoryLimit=1))
    for _ in range(3):
        _tick(cluster)
        cluster.step(1, times=6)

    jobs = _jobs(cluster)
    assert sorted(jobs) == [f"broken-{_minutes(12, 3)}", f"report-{_minutes(12, 3)}"]
    verdicts = {
        name: [c["type"] for c in j["status"]["conditions"] if c["status"] == "True"]
        for name, j in jobs.items()
    }
    assert verdicts[f"report-{_minutes(12, 3)}"] == ["SuccessCriteriaMet", "Complete"]
    assert "Failed" in verdicts[f"broken-{_minutes(12, 3)}"]
    deleted = [m for _, r, m in cluster.events("report", kind="CronJob") if r == "SuccessfulDelete"]
    assert deleted == [
        f"Deleted job report-{_minutes(12, 1)}",
        f"Deleted job report-{_minutes(12, 2)}",
    ]


def test_a_suspended_cronjob_starts_nothing_then_catches_up_once(cluster):
    cluster.api("POST", CRONJOBS, cronjob(suspend=True))
    cluster.settle()
    assert cluster.plane.next_due() is None
    cluster.clock.advance(180)
    assert not cluster.driver.tick()
    assert _jobs(cluster) == {}

    cluster.api("PATCH", f"{CRONJOBS}/report", {"spec": {"suspend": False}})
    cluster.settle()

    # Only the most recent missed time runs, as the real controller does.
    assert list(_jobs(cluster)) == [f"report-{_minutes(12, 3)}"]


def test_schedule_arithmetic_honours_the_starting_deadline():
    cj = {
        "metadata": {"name": "r", "creationTimestamp": "2026-01-01T12:00:00Z"},
        "spec": {"schedule": "*/5 * * * *"},
    }
    assert next_after(cj, START) == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    at = datetime(2026, 1, 1, 12, 17, 30, tzinfo=UTC)
    assert most_recent(cj, at) == (datetime(2026, 1, 1, 12, 15, tzinfo=UTC), 3)
    assert most_recent(cj, datetime(2026, 1, 1, 12, 15, tzinfo=UTC))[0] == at.replace(
        minute=15, second=0
    )
    cj["spec"]["startingDeadlineSeconds"] = 60
    assert most_recent(cj, at) == (None, 0)  # 12:15 is more than a minute ago
    cj["spec"]["schedule"] = "@hourly"
    cj["spec"].pop("startingDeadlineSeconds")
    assert next_after(cj, START) == datetime(2026, 1, 1, 13, 0, tzinfo=UTC)
