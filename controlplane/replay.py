"""A class, exported and replayed: the learners' writes in order, on a seeded control plane
and a hand-wound clock, so a replay comes out the same every time.

`export` reads what learners wrote in some namespaces from the revision log (each revision
names its writer, and the audit log the request that wrote it) and keeps, for each write,
when it came, who sent it and the request to send again: a create with the object as it
was stored, an update or patch as a replacement of the learner's fields, a delete. What
the control plane wrote is left out, since the replay's control plane writes it again.

`replay` opens the learners' namespaces on a fresh database, then sends each write through
the front door at its time, moving a `FakeClock` on in small steps and letting a control
plane seeded with `seed` reconcile between them, as the live loop would. `histories` is
what two replays are compared by: every revision in the class's namespaces, in order, with
its writer and what it says (names, phases, events), leaving out the uids (fresh in every
run) and what is read from the wall clock (audit times). Generated names are compared: each
follows from the seed and its owner alone (`controllers.common.Names`).

Refused requests leave no revision, so a class's 403s and 409s are not part of its export;
the audit log keeps them, without their bodies.
"""

import random
from datetime import UTC, datetime
from typing import Any

from apiserver import accounts, readmodel
from apiserver.accounts import ClusterUser
from apiserver.client import Client
from controlplane.clock import FakeClock
from controlplane.config import Config
from controlplane.kubelet import Timing
from controlplane.runner import ControlPlane, Driver

FORMAT = "warehouse.dev/class-v1"
START = datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC)
TICK_SECONDS = 0.5  # how far the clock moves between two looks by the control plane
SETTLE_SECONDS = 30.0  # how long the replay runs on after the last write
# What the API server keeps or the control plane writes: never part of a learner's request.
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")
SERVER_FIELDS += ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink")


def _request_body(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as its writer would send it again: no status, no server-kept metadata."""
    body = {key: value for key, value in obj.items() if key != "status"}
    body["metadata"] = {
        key: value for key, value in (obj.get("metadata") or {}).items() if key not in SERVER_FIELDS
    }
    return body


def _object_path(path: str) -> str:
    """An object's own path, for a write that went to one of its subresources (status,
    scale): `/api/v1/namespaces/NS/pods/NAME/status` becomes `.../pods/NAME`."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    start = 2 if parts[0] == "api" else 3  # past the group and version
    if parts[start : start + 1] == ["namespaces"] and len(parts) > start + 3:
        start += 2
    return "/" + "/".join(parts[: start + 2])


def export(namespaces: list[str], config: Config | None = None) -> dict[str, Any]:
    """The learners' writes in `namespaces`, oldest first, as a replayable class."""
    writes = readmodel.class_writes(namespaces)
    started = writes[0]["time"] if writes else None
    steps: list[dict[str, Any]] = []
    for write in writes:
        obj, path = write["object"], write["path"]
        if not path:
            continue  # its request has left the audit log: nothing to send again
        step: dict[str, Any] = {
            "at": round((write["time"] - started).total_seconds(), 3),
            "user": write["writer"],
            "client": write["client"] or "kubectl",
        }
        leaving = (obj.get("metadata") or {}).get("deletionTimestamp")
        if write["type"] == "ADDED":
            step.update(method="POST", path=path.split("?", 1)[0])
            step["body"] = _request_body(obj)
        elif write["type"] == "DELETED" or leaving:
            step.update(method="DELETE", path=_object_path(path))
        else:
            step.update(method="PUT", path=_object_path(path), body=_request_body(obj))
        if steps and {**steps[-1], "at": 0} == {**step, "at": 0}:
            continue  # one request can write twice (a graceful delete's two revisions)
        steps.append(step)
    config = config or Config.from_settings()
    return {
        "format": FORMAT,
        "learners": sorted({write["writer"] for write in writes}),
        "nodes": config.nodes,
        "deliverySeconds": config.timing.step,
        "backoffSeconds": config.timing.backoff,
        "steps": steps,
    }


def _send(user: ClusterUser, step: dict[str, Any]) -> int:
    """One exported request, sent again through the front door as its learner."""
    client = Client(user, step["client"], f"{step['client']}/replay")
    return client.exchange(step["method"], step["path"], step.get("body")).response.status


def replay(scenario: dict[str, Any], seed: int) -> list[int]:
    """Run the class again on this (fresh) database; the status each write was answered."""
    if scenario.get("format") != FORMAT:
        raise ValueError(f"not a class export (format {scenario.get('format')!r})")
    clock = FakeClock(START)
    config = Config(
        nodes=int(scenario.get("nodes", 3)),
        timing=Timing(
            step=float(scenario.get("deliverySeconds", 1.5)),
            backoff=float(scenario.get("backoffSeconds", 10)),
        ),
        seed=seed,
    )
    accounts.write_default_policy()
    learners = {}
    for name in scenario.get("learners", []):
        learner, _ = ClusterUser.objects.get_or_create(
            name=name, defaults={"role": ClusterUser.Role.LEARNER, "namespace": name}
        )
        accounts.open_learner(learner)
        learners[learner.username] = learner
    driver = Driver(ControlPlane(clock=clock, config=config, rng=random.Random(seed)))
    _settle(driver)
    answers = []
    elapsed = 0.0
    for step in scenario.get("steps", []):
        elapsed = _run_until(driver, clock, elapsed, float(step["at"]))
        answers.append(_send(learners[step["user"]], step))
        _settle(driver)
    _run_until(driver, clock, elapsed, elapsed + SETTLE_SECONDS)
    return answers


def _run_until(driver: Driver, clock: FakeClock, elapsed: float, until: float) -> float:
    while elapsed + TICK_SECONDS <= until:
        clock.advance(TICK_SECONDS)
        elapsed += TICK_SECONDS
        _settle(driver)
    return elapsed


def _settle(driver: Driver) -> None:
    for _ in range(20):
        if not driver.tick():
            return


def _said(obj: dict[str, Any]) -> dict[str, Any]:
    """What a revision says, beyond its name: a phase, a ready count, an Event's reason."""
    status = obj.get("status") or {}
    said = {
        key: status[key]
        for key in ("phase", "replicas", "readyReplicas", "availableReplicas", "succeeded")
        if key in status
    }
    if obj.get("kind") == "Event" or "involvedObject" in obj or "regarding" in obj:
        said["reason"] = obj.get("reason", "")
        said["message"] = obj.get("message", obj.get("note", ""))
    spec = obj.get("spec") or {}
    if spec.get("nodeName"):
        said["node"] = spec["nodeName"]
    return said


def histories(namespaces: list[str]) -> list[dict[str, Any]]:
    """Every revision in `namespaces`, in order, as two replays are compared."""
    return [
        {
            "resourceVersion": row["resourceVersion"],
            "type": row["type"],
            "resource": row["resource"],
            "namespace": row["namespace"],
            "name": row["name"],
            "writer": row["writer"],
            **_said(row["object"]),
        }
        for row in readmodel.class_revisions(namespaces)
    ]
