"""The API server scenarios in the training centre: dashboard controls and lesson checks.

The instructor starts and ends outage, slowdown and overload from the workshop dashboard
(a panel registered with `workshops.register_panel`); `learning.faults` does the breaking,
through the API server's fault hook. Each run is written to `ScenarioRun` as well, because
`Scenario` only keeps the scenario in force now, and the steps always-open/outage and
overload/overload-scenario must later tell whether a learner's request fell inside one.

A learner alone may start a practice run of each for their own requests only (and invite
the practice seller, who registers a custom kind for them), so every lesson can be
finished without an instructor; the checks count the room's runs and the learner's own.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from apiserver import accounts, readmodel
from apiserver.accounts import ClusterUser
from apiserver.client import Client
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
    """A run replaced or ended early ends now, not at its planned time (a learner's own
    practice runs are theirs to end)."""
    now = datetime.now(UTC)
    ScenarioRun.objects.filter(ends__gt=now, name__in=BY_NAME).update(ends=now)


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


def _windows(name: str, learner: ClusterUser | None = None) -> list[tuple[datetime, datetime]]:
    """When scenario `name` was in force, by the recorded runs (the one in force included):
    the room's, and with `learner` also that learner's own practice runs."""
    _remember(faults.active_scenario())
    runs = Q(name=name)
    if learner is not None:
        runs |= Q(name=faults.practice_name(name), started_by=learner.username)
    return [(run.started, run.ends + GRACE) for run in ScenarioRun.objects.filter(runs)]


def _own(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The learner's own requests, leaving out those their practice flood sent as them."""
    return [r for r in records if r["client"] != faults.PRACTICE_FLOOD_CLIENT]


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
    windows = _windows("outage", learner)
    mine = learner.username
    shut = checks.first_request(user=mine, status=503, windows=windows, order="timestamp")
    if shut is None:
        if not windows:
            message = (
                "No outage has run yet. Close the door to your own requests with a practice "
                "outage below, or wait for your instructor's."
            )
        else:
            message = (
                "None of your requests met the shut door. While an outage lasts, run "
                "kubectl get pods (or reload one of your tracking pages)."
            )
        return CheckResult(False, message, "audit log: no 503 answered to you")
    back = checks.first_request(user=mine, after=shut["timestamp"], status_below=400, order="id")
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
    windows = _windows("overload", learner)
    if not windows:
        return CheckResult(
            False,
            "No overload has run yet. Start a practice flood of your own below, or wait for "
            "your instructor's.",
            "audit log: no overload recorded",
        )
    during = {"user": learner.username, "windows": windows}
    refused = _own(checks.requests(status=429, order="timestamp", limit=500, **during))
    if refused:
        return CheckResult(
            True,
            f"The server asked you to wait your turn ({_seen(refused[0])}): fairness at work.",
            f"audit log: {_seen(refused[0])}",
        )
    flood = faults.PRACTICE_FLOOD_CLIENT
    count = checks.count_requests(status_below=400, **during) - checks.count_requests(
        status_below=400, client=flood, **during
    )
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


SLOW_MS = 1000
FAST_MS = 500


@checks.register("scenario-slowdown")
def slowdown(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when a request of the learner's dragged through a slowdown (at least a
    second) and a later one was answered at normal speed: the difference a slow door makes."""
    windows = _windows("slowdown", learner)
    if not windows:
        return CheckResult(
            False,
            "No slowdown has run yet. Slow the door down for your own requests below.",
            "audit log: no slowdown recorded",
        )
    mine = {"user": learner.username, "status_below": 400}
    slow = next(
        (
            r
            for r in _own(checks.requests(windows=windows, order="timestamp", **mine))
            if r["latency_ms"] >= SLOW_MS
        ),
        None,
    )
    if slow is None:
        return CheckResult(
            False,
            "None of your requests has been slowed yet. While the slowdown lasts, run "
            "time kubectl get pods.",
            "audit log: no request of yours took a second or more during a slowdown",
        )
    later = checks.requests(after=slow["timestamp"], order="id", limit=200, **mine)
    fast = next((r for r in _own(later) if r["latency_ms"] < FAST_MS), None)
    took = f"{slow['latency_ms'] / 1000:.1f} s"
    if fast is None:
        return CheckResult(
            False,
            f"{_seen(slow)} took {took}. Now time one again once the slowdown is over.",
            f"audit log: {_seen(slow)} in {took}",
        )
    quick = f"{fast['latency_ms']:.0f} ms"
    return CheckResult(
        True,
        f"{_seen(slow)} took {took}; {_seen(fast)} took {quick}. Every controller's writes "
        "would drag the same way.",
        f"audit log: {took}, then {quick}",
    )


# A learner's own practice runs ----------------------------------------------------------

SELLER = "warehouse-seller"
PRACTICE_GROUP = "practice.warehouse.dev"
PRACTICE_PLURAL = "trinkets"
PRACTICE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PRACTICE_PLURAL}.{PRACTICE_GROUP}"},
    "spec": {
        "group": PRACTICE_GROUP,
        "scope": "Namespaced",
        "names": {
            "plural": PRACTICE_PLURAL,
            "singular": "trinket",
            "kind": "Trinket",
            "listKind": "TrinketList",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10}
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


def invite_seller() -> tuple[bool, str]:
    """Have the warehouse's practice seller register its kind, Trinket, unless it exists.

    Learners may not create a CustomResourceDefinition: it is cluster-scoped, and their
    rights are bound in their own namespace only. The seller is one of the cluster's own
    components (its identity is in system:masters), as an operator installed by an
    administrator would be; the kind it adds is shared by everyone, the Trinkets each
    learner makes stay in their namespace. Returns (created now, a sentence).
    """
    client = Client(accounts.system_user(SELLER), "seller", user_agent="practice-seller/1.0")
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    exchange = client.exchange("POST", path, PRACTICE_CRD)
    if exchange.status == 201:
        return True, "The practice seller registered Trinket (trinkets.practice.warehouse.dev)."
    if exchange.status == 409:
        return False, "The practice seller's Trinket is already in the catalog."
    return False, f"The practice seller could not register its kind ({exchange.status})."


def practice_in_force(learner: ClusterUser) -> faults.Practice | None:
    return faults.practice_for(learner.username)


def seller_kind_served() -> bool:
    """Whether the practice seller's kind is in the catalog now."""
    return readmodel.serves(PRACTICE_GROUP, "v1", PRACTICE_PLURAL)


PRACTICE_SECONDS = faults.PRACTICE_SECONDS


def start_practice(name: str, seconds: int, learner: ClusterUser) -> faults.Practice | None:
    """The learner's own outage, slowdown or overload, touching only their requests; None
    while another of theirs is in force (one at a time, so one flood at most)."""
    try:
        return faults.start_practice(name, seconds, learner)
    except faults.PracticeInForce:
        return None


def stop_practice(learner: ClusterUser) -> bool:
    return faults.stop_practice(learner)
