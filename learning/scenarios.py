"""The API server scenarios in the training centre: dashboard controls and lesson checks.

The instructor starts and ends outage, slowdown and overload from the workshop dashboard
(a panel registered with `workshops.register_panel`); `learning.faults` does the breaking,
through the API server's fault hook. Each run is written to `ScenarioRun` as well, because
`Scenario` only keeps the scenario in force now, and the steps always-open/outage and
overload/overload-scenario must later tell whether a learner's request fell inside one.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apiserver import readmodel
from apiserver.accounts import ClusterUser
from learning import checks, faults, workshops
from learning.checks import CheckResult
from learning.models import ScenarioRun, Workshop

PANEL_TEMPLATE = "learning/_scenarios.html"
DURATIONS = (30, 60, 120, 300)
DEFAULT_DURATION = 60
# Every server process re-reads the scenario within a second, so a request answered just
# after the end (or the instructor's "End now") may still have met it.
GRACE = timedelta(seconds=2)
OVERLOAD_SUCCESSES = 3


@dataclass(frozen=True)
class Choice:
    """A scenario the instructor can start, and what it shows the room."""

    name: str
    title: str
    teaches: str


CHOICES = (
    Choice(
        "outage",
        "Outage",
        "The front door shuts. Learners' kubectl gets 503 Service Unavailable, and the scheduler "
        "and kubelets are shut out too, so no order moves on and tracking pages stand still. "
        "When the door reopens nobody replays anything: the controllers compare what was "
        "ordered with what exists and catch up by themselves. You still get in, to show the room.",
    ),
    Choice(
        "slowdown",
        "Slowdown",
        f"Every learner request waits about {faults.DEFAULT_DELAY_MS / 1000:g} s at the door "
        "before it is served. Nothing fails, everything drags: kubectl, the shop pages and "
        "tracking all lag, which is why a slow API server slows every rollout in the cluster.",
    ),
    Choice(
        "overload",
        "Overload",
        "A noisy neighbour floods the door with requests and the learners' share of the server "
        "shrinks. Fairness keeps the flood in its own queue: the flooder, and anyone else who "
        "goes faster than their share, is told 429 Too Many Requests and when to retry, while "
        "everyone else keeps working, only a little slower.",
    ),
)
BY_NAME = {choice.name: choice for choice in CHOICES}


# Starting and ending ------------------------------------------------------------------


def start(name: str, seconds: int, identity: ClusterUser, workshop: Workshop | None) -> None:
    """Start `name` on the API server for `seconds` and remember the run."""
    if name not in BY_NAME or seconds not in DURATIONS:
        raise ValueError(f"unknown scenario {name!r} or duration {seconds!r}")
    _close_runs()
    active = faults.start_scenario(name, seconds, identity)
    _remember(active, identity.display_name or identity.username, workshop)


def stop() -> bool:
    """End the scenario in force at once; True if there was one."""
    _close_runs()
    return faults.stop_scenario()


def _remember(
    active: faults.ActiveScenario | None, started_by: str = "", workshop: Workshop | None = None
) -> ScenarioRun | None:
    """Keep a record of the scenario in force, even one started outside the dashboard."""
    if active is None:
        return None
    run, _ = ScenarioRun.objects.get_or_create(
        name=active.name,
        started=active.started,
        defaults={
            "ends": active.ends,
            "started_by": started_by or active.started_by,
            "workshop": workshop,
        },
    )
    return run


def _close_runs() -> None:
    """A run replaced or ended early ends now, not at its planned time."""
    now = datetime.now(UTC)
    ScenarioRun.objects.filter(ends__gt=now).update(ends=now)


# The dashboard panel ------------------------------------------------------------------


def panel_context(request: HttpRequest, workshop: Workshop) -> dict[str, Any]:
    """What the scenario panel shows: the scenario in force and the buttons to start one."""
    active = faults.active_scenario()
    run = _remember(active)
    refused = 0
    if active is not None:
        since = {"since": active.started}
        refused = readmodel.count_requests(status=503, **since)
        refused += readmodel.count_requests(status=429, **since)
    return {
        "active": active,
        "refused": refused,
        "started_by": run.started_by if run else "",
        "active_choice": BY_NAME.get(active.name) if active else None,
        "choices": CHOICES,
        "durations": DURATIONS,
        "default_duration": DEFAULT_DURATION,
        "status_url": reverse("learning:scenario", args=[workshop.code]),
        "start_url": reverse("learning:scenario-start", args=[workshop.code]),
        "stop_url": reverse("learning:scenario-stop", args=[workshop.code]),
        "stream_url": reverse("learning:scenario-events", args=[workshop.code]),
    }


def register_panel() -> None:
    workshops.register_panel(PANEL_TEMPLATE, panel_context)


# Lesson checks ------------------------------------------------------------------------


def _windows(name: str) -> list[tuple[datetime, datetime]]:
    """When scenario `name` was in force, by the recorded runs (the one in force included)."""
    _remember(faults.active_scenario())
    return [(run.started, run.ends + GRACE) for run in ScenarioRun.objects.filter(name=name)]


def _seen(record: dict[str, Any]) -> str:
    return (
        f"{record['method']} {record['path']} → {record['status_code']} "
        f"at {record['timestamp']:%H:%M:%S}"
    )


@checks.register("scenario-outage")
def outage(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when the learner met the shut door (503 in an outage) and came back after it.

    Read from the audit log, not asked of the API server, so it works during the outage.
    """
    windows = _windows("outage")
    mine = learner.username
    shut = readmodel.first_request(user=mine, status=503, windows=windows, order="timestamp")
    if shut is None:
        if not windows:
            message = "No outage has run yet. Wait for your instructor to shut the front door."
        else:
            message = (
                "None of your requests met the shut door. During the next outage, run "
                "kubectl get pods (or reload one of your tracking pages)."
            )
        return CheckResult(False, message, "audit log: no 503 answered to you")
    back = readmodel.first_request(user=mine, after=shut["timestamp"], status_below=400, order="id")
    if back is None:
        return CheckResult(
            False,
            f"You met the shut door ({_seen(shut)}). Now try again once it reopens.",
            f"audit log: {_seen(shut)}",
        )
    return CheckResult(
        True,
        f"You met the shut door ({_seen(shut)}) and got back in ({_seen(back)}).",
        f"audit log: {_seen(shut)}; then {_seen(back)}",
    )


@checks.register("scenario-overload")
def overload(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when, during an overload, the learner was told 429 or got several answers."""
    wanted = int(params.get("successes", OVERLOAD_SUCCESSES))
    windows = _windows("overload")
    if not windows:
        return CheckResult(
            False,
            "No overload has run yet. Wait for your instructor to start the flood.",
            "audit log: no overload recorded",
        )
    during = {"user": learner.username, "windows": windows}
    refused = readmodel.first_request(status=429, order="timestamp", **during)
    if refused is not None:
        return CheckResult(
            True,
            f"The server asked you to wait your turn ({_seen(refused)}): fairness at work.",
            f"audit log: {_seen(refused)}",
        )
    count = readmodel.count_requests(status_below=400, **during)
    evidence = f"audit log: {count} of your requests answered during an overload"
    if count >= wanted:
        return CheckResult(
            True,
            f"{count} of your requests were answered during the flood: the room kept working.",
            evidence,
        )
    return CheckResult(
        False,
        f"Found {count} of the {wanted} answered requests needed during the flood. "
        "Run kubectl get pods a few times while it lasts.",
        evidence,
    )
