"""A container's log is written from what it was told to run and when each run ran."""

from datetime import UTC, datetime, timedelta

import pytest

from apiserver.errors import NotReadable
from controlplane import logs

START = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _pod(container: dict, state: dict, last: dict | None = None, name: str = "web") -> dict:
    status = {"name": container["name"], "state": state, "lastState": {}}
    if last:
        status["lastState"] = {"terminated": last}
    return {
        "metadata": {"name": name, "namespace": "alice"},
        "spec": {"containers": [container]},
        "status": {"containerStatuses": [status]},
    }


def _running(since: datetime = START) -> dict:
    return {"running": {"startedAt": _stamp(since)}}


def _texts(lines) -> list[str]:
    return [text for _, text in lines]


def test_a_server_image_prints_its_start_up_lines_at_start():
    pod = _pod({"name": "web", "image": "nginx:1.27"}, _running())
    lines = logs.read(pod, "web", False, START + timedelta(minutes=5))
    assert "/docker-entrypoint.sh: Configuration complete; ready for start up" in _texts(lines)
    assert any("nginx/1.27" in text for text in _texts(lines))
    assert {at for at, _ in lines} == {START}


def test_a_loop_prints_on_its_own_clock_until_now():
    script = "echo starting; while true; do echo tick $(hostname); sleep 5; done"
    pod = _pod({"name": "c", "image": "busybox", "command": ["sh", "-c", script]}, _running())
    lines = logs.read(pod, "c", False, START + timedelta(seconds=12))
    assert _texts(lines) == ["starting", "tick web", "tick web", "tick web"]
    assert [at for at, _ in lines] == [
        START,
        START,
        START + timedelta(seconds=5),
        START + timedelta(seconds=10),
    ]


def test_the_previous_run_shows_what_came_before_the_crash():
    container = {
        "name": "c",
        "image": "busybox",
        "command": ["sh", "-c", "echo reading config; date; exit 3"],
        "env": [{"name": "MODE", "value": "strict"}],
    }
    ended = {
        "exitCode": 3,
        "reason": "Error",
        "startedAt": _stamp(START),
        "finishedAt": _stamp(START + timedelta(seconds=1)),
    }
    waiting = {"waiting": {"reason": "CrashLoopBackOff"}}
    pod = _pod(container, waiting, last=ended)
    now = START + timedelta(minutes=1)
    # Waiting to restart: the last run is what `kubectl logs` shows, and `--previous` too.
    assert _texts(logs.read(pod, "c", False, now)) == [
        "reading config",
        "Mon Nov 30 09:00:00 UTC 2026",
    ]
    assert _texts(logs.read(pod, "c", True, now))[0] == "reading config"


def test_env_shows_the_literal_environment():
    container = {
        "name": "c",
        "image": "busybox",
        "command": ["env"],
        "env": [{"name": "GREETING", "value": "hello"}],
    }
    texts = _texts(logs.read(_pod(container, _running()), "c", False, START))
    assert "GREETING=hello" in texts
    assert "HOSTNAME=web" in texts


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"waiting": {"reason": "ContainerCreating"}}, "is waiting to start: ContainerCreating"),
        ({"waiting": {"reason": "ErrImagePull"}}, "is waiting to start: image can't be pulled"),
        (
            {"waiting": {"reason": "ImagePullBackOff"}},
            "is waiting to start: trying and failing to pull image",
        ),
    ],
)
def test_a_container_not_started_has_no_log_yet(state, message):
    pod = _pod({"name": "c", "image": "nginx:nope"}, state)
    with pytest.raises(NotReadable, match=message):
        logs.read(pod, "c", False, START)


def test_no_previous_run_and_unknown_containers_are_refused():
    pod = _pod({"name": "c", "image": "nginx"}, _running())
    with pytest.raises(NotReadable, match='previous terminated container "c" in pod "web"'):
        logs.read(pod, "c", True, START)
    with pytest.raises(NotReadable, match="container sidecar is not valid for pod web"):
        logs.read(pod, "sidecar", False, START)


def test_a_tool_image_with_no_command_prints_nothing():
    pod = _pod({"name": "c", "image": "busybox:1.36"}, _running())
    assert logs.read(pod, "c", False, START + timedelta(hours=1)) == []
