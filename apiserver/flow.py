"""The stages of the request flow, defined once: the pipeline records them, the pages draw them.

`pipeline.py` marks each request's way through these stages (which it passed, which one
refused it, how long each took) and hands the result over as a `Trail` on the response;
the shop's receipts, the lessons and Grand Central draw the same list, so the picture
cannot drift from the code. Each stage names the HTTP codes it answers with, which is also
how a row of the audit log (a status code, nothing more) is placed on the picture.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stage:
    """One step of the way through the API server."""

    key: str
    name: str  # what Kubernetes calls it
    shop: str  # what the shop calls it (the receipts' words)
    codes: tuple[int, ...] = ()  # what it answers with when it turns a request away
    gate: bool = True  # a check in front of the store; False: the store and what follows


STAGES: tuple[Stage, ...] = (
    Stage("requestinfo", "request info", "Reading the form's address"),
    Stage("authentication", "authentication", "Signed in", (401,)),
    # 503: an instructor's outage exercise answers here, through the fault hook.
    Stage("fairness", "priority and fairness", "The queue at the door", (429, 503)),
    Stage("authorization", "authorization", "Allowed", (403,)),
    # 400 a body that does not decode, 403 quota or policy, 413/415 at decoding, 422 invalid.
    Stage("admission", "admission", "Order form checked", (400, 403, 413, 415, 422)),
    Stage(
        "store",
        "registry and storage",
        "In the order book",
        (404, 405, 406, 409, 410, 413, 500, 503),
        gate=False,
    ),
    Stage("audit", "audit", "Noted on the till roll", gate=False),
    Stage("watchers", "watchers", "Anyone tracking told", gate=False),
)

KEYS: tuple[str, ...] = tuple(stage.key for stage in STAGES)
BY_KEY: dict[str, Stage] = {stage.key: stage for stage in STAGES}
INDEX: dict[str, int] = {key: number for number, key in enumerate(KEYS)}

REQUEST_INFO, AUTHENTICATION, FAIRNESS, AUTHORIZATION, ADMISSION, STORE, AUDIT, WATCHERS = range(
    len(STAGES)
)
# Marks the end of the last timed stage in a trail's marks.
END = -1

# What a stage's part in one request was.
PASSED, REFUSED, SKIPPED, UNREACHED = "passed", "refused", "skipped", "unreached"

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def stage_for_status(status: int) -> Stage:
    """Where a request with this answer stopped: the earliest stage answering with the code
    (403 is authorization's before admission's), or the store for an answer it gave."""
    if status >= 400:
        for stage in STAGES:
            if status in stage.codes:
                return stage
    return STAGES[STORE]


def refused_after_gates(status: int) -> int:
    """Which stage refused a request the gates let through: admission or the store."""
    return ADMISSION if status in STAGES[ADMISSION].codes else STORE


class Trail:
    """One request's way through the stages, as the pipeline measured it.

    `marks` is the flat list the pipeline filled as it went: a stage's index, then the
    `perf_counter()` when it entered it, ending with `END` and the time it finished. A
    stage entered twice (the path is resolved after authentication) adds up. Admission runs
    inside the writing handlers, so its time comes apart from the store's: `admitted` is
    its seconds, or None when the request was never admitted (reads are not). Nothing here
    is computed until a page asks.
    """

    __slots__ = ("admitted", "marks", "method", "refused_at", "status")

    def __init__(
        self,
        marks: list[float],
        status: int,
        refused_at: int | None,
        method: str,
        admitted: float | None,
    ) -> None:
        self.marks = marks
        self.status = status
        self.refused_at = refused_at
        self.method = method
        self.admitted = admitted

    def seconds(self) -> dict[int, float]:
        """Seconds spent in each stage entered, by stage index."""
        spent: dict[int, float] = {}
        marks = self.marks
        for at in range(0, len(marks) - 2, 2):
            stage = int(marks[at])
            spent[stage] = spent.get(stage, 0.0) + marks[at + 3] - marks[at + 1]
        if self.admitted is not None and STORE in spent:
            if self.refused_at == ADMISSION:
                # Refused while being admitted: the handler never got to the store.
                spent[ADMISSION] = spent.pop(STORE)
            else:
                spent[ADMISSION] = self.admitted
                spent[STORE] = max(0.0, spent[STORE] - self.admitted)
        elif self.refused_at == ADMISSION and STORE in spent:
            spent[ADMISSION] = spent.pop(STORE)  # refused before the chain (a bad body)
        return spent

    def as_data(self) -> dict[str, Any]:
        """Plain data for a page or the session: every stage's part and milliseconds."""
        spent = self.seconds()
        refused = self.refused_at
        stages = []
        for number, stage in enumerate(STAGES):
            if number == refused:
                state = REFUSED
            elif number == WATCHERS:
                told = refused is None and self.status < 300 and self.method in WRITES
                state = PASSED if told else (UNREACHED if refused is not None else SKIPPED)
            elif number in spent:
                state = PASSED
            elif refused is not None and number > refused and number != AUDIT:
                state = UNREACHED
            else:
                state = SKIPPED
            milliseconds = spent.get(number)
            stages.append(
                {
                    "key": stage.key,
                    "state": state,
                    "ms": None if milliseconds is None else round(milliseconds * 1000, 3),
                }
            )
        return {
            "status": self.status,
            "refused": STAGES[refused].key if refused is not None else "",
            "stages": stages,
        }
