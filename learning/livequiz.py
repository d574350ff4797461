"""The room's live quiz: one question at a time, kept in API objects the whole room watches.

The live question is the ConfigMap `live-question` in the workshop's own namespace (its
room), written by the instructor through the front door. A RoleBinding there, one per
joined learner, lets them read and watch the room's ConfigMaps and nothing else: so only
the room sees the question, and a stranger gets a 403 from RBAC, not from this module.

An answer is a ConfigMap the learner creates in their own namespace, named after the
workshop and the round. Names are unique in a namespace, so a second answer is refused
with 409 AlreadyExists: counted once by construction. Other learners may not read it,
because RBAC grants learners no rights in each other's namespaces; the instructor, bound to
cluster-admin, may. The instructor tallies answers with one list across every namespace,
by label, and counts only those the server stamped before the deadline.
"""

import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.urls import reverse

from apiserver.accounts import ClusterUser
from apiserver.client import Client, Exchange, collection_path, object_path
from learning import grading, workshops
from learning.models import Participant, Question, Workshop
from shop import live

USER_AGENT = "warehouse-live-quiz"
QUESTION = "live-question"
SCORES = "live-scores"
ROLE = "live-quiz-player"
BINDING_PREFIX = "player-"
# The room's namespace starts with a prefix no learner name may take, so no learner can
# claim it before the workshop does.
ROOM_PREFIX = "warehouse-workshop-"
LABEL_WORKSHOP = "live.warehouse.dev/workshop"
LABEL_ROUND = "live.warehouse.dev/round"
TIMERS = (10, 20, 30, 60)
DEFAULT_TIMER = 20
FULL_POINTS = 1000
LEADERS = 10
RBAC = "rbac.authorization.k8s.io"
# A request refused with 429 is sent at most this many times (client-go retries ten).
RETRIES = 10


class Refused(Exception):
    """Why an answer or an instructor's action was not taken, in words for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def now() -> datetime:
    """The clock answers and deadlines are read on (the server's, in UTC)."""
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def room(workshop: Workshop) -> str:
    """The workshop's own namespace, where its live question is kept."""
    return f"{ROOM_PREFIX}{workshop.code.lower()}"


def answer_name(workshop: Workshop, round_number: int) -> str:
    """The name of a learner's answer to one round: one per namespace, so one per learner."""
    return f"live-answer-{workshop.code.lower()}-{round_number}"


def _client(user: ClusterUser) -> Client:
    return Client(user, "browser", USER_AGENT)


def _send(user: ClusterUser, method: str, path: str, body: Any = None, **query: str) -> Exchange:
    """One request through the front door; a 429 is retried after its Retry-After, as
    client-go does, since a whole room answering in the same second fills the queue."""
    sent = _client(user).exchange(method, path, body, query or None)
    for _ in range(RETRIES - 1):
        if sent.status != 429:
            break
        wait = sent.response.headers.get("retry-after", "1")
        time.sleep(min(float(wait), 1.0) if wait.isdigit() else 1.0)
        sent = _client(user).exchange(method, path, body, query or None)
    return sent


def _configmaps(namespace: str = "") -> str:
    return collection_path("", "v1", "configmaps", namespace)


def _configmap(namespace: str, name: str) -> str:
    return object_path("", "v1", "configmaps", namespace, name)


def _ok_or_exists(exchange: Exchange) -> None:
    if not exchange.ok and exchange.status != 409:
        raise Refused(f"The API server answered {exchange.status}: {exchange.message}", 503)


# The room -----------------------------------------------------------------------------


def open_room(instructor: ClusterUser, workshop: Workshop) -> None:
    """The room's namespace and the Role its players get, made as the instructor."""
    namespace = room(workshop)
    _ok_or_exists(
        _send(
            instructor,
            "POST",
            collection_path("", "v1", "namespaces"),
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {LABEL_WORKSHOP: workshop.code}},
            },
        )
    )
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": ROLE, "namespace": namespace},
        "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
        ],
    }
    _ok_or_exists(_send(instructor, "POST", collection_path(RBAC, "v1", "roles", namespace), role))


def _binding(workshop: Workshop, learner: ClusterUser) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{BINDING_PREFIX}{learner.name}", "namespace": room(workshop)},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": ROLE},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": learner.username}],
    }


def seat(instructor: ClusterUser, workshop: Workshop, learners: list[ClusterUser]) -> int:
    """Bind each learner to the room's Role unless bound already; how many were new."""
    path = collection_path(RBAC, "v1", "rolebindings", room(workshop))
    listed = _send(instructor, "GET", path)
    bound = {b["metadata"]["name"] for b in listed.body.get("items", [])} if listed.ok else set()
    added = 0
    for learner in learners:
        if f"{BINDING_PREFIX}{learner.name}" in bound:
            continue
        sent = _send(instructor, "POST", path, _binding(workshop, learner))
        _ok_or_exists(sent)
        added += sent.ok
    return added


def admit(workshop: Workshop, learner: ClusterUser) -> bool:
    """Let a new joiner into the room, as the workshop's instructor would; False if the API
    refused for now (starting the next question seats everyone who joined)."""
    instructor = workshops.instructor_identity(workshop.instructor)
    try:
        open_room(instructor, workshop)
        seat(instructor, workshop, [learner])
    except Refused:
        return False
    return True


# The question -------------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    """The live question as the room's ConfigMap carries it."""

    round: int
    question_id: int
    prompt: str
    options: list[str]
    started: datetime
    deadline: datetime
    seconds: int
    state: str  # open or revealed
    correct: int | None = None  # the right option's position, once revealed
    counts: list[int] = field(default_factory=list)  # answers per option, once revealed

    @property
    def revealed(self) -> bool:
        return self.state == "revealed"

    def is_open(self, moment: datetime) -> bool:
        return self.state == "open" and moment <= self.deadline

    def seconds_left(self, moment: datetime) -> int:
        return max(0, int((self.deadline - moment).total_seconds() + 0.999))

    @classmethod
    def read(cls, obj: dict[str, Any] | None) -> "Live | None":
        """The live question from its ConfigMap, or None if it is not one."""
        data = (obj or {}).get("data") or {}
        started, deadline = _parse(data.get("started")), _parse(data.get("deadline"))
        try:
            options = json.loads(data.get("options", "[]"))
            counts = json.loads(data.get("counts", "[]"))
            number, question_id = int(data["round"]), int(data["question"])
            seconds = int(data.get("seconds", DEFAULT_TIMER))
            correct = int(data["correct"]) if data.get("correct", "") != "" else None
        except (KeyError, TypeError, ValueError):
            return None
        if started is None or deadline is None or not isinstance(options, list):
            return None
        return cls(
            round=number,
            question_id=question_id,
            prompt=str(data.get("prompt", "")),
            options=[str(o) for o in options],
            started=started,
            deadline=deadline,
            seconds=seconds,
            state=str(data.get("state", "open")),
            correct=correct,
            counts=[int(c) for c in counts] if isinstance(counts, list) else [],
        )


def live_questions():
    """The questions a room can play: multiple choice, from the quiz bank."""
    return Question.objects.filter(type=Question.Type.CHOICE).select_related("quiz")


def shown_order(workshop: Workshop, round_number: int, question: Question) -> list[int]:
    """The choices' indexes in the order the room sees them, shuffled per round with a key
    only the server holds, so the right answer's place says nothing."""
    count = len((question.data or {}).get("choices", []))
    key = f"{workshop.code}:{round_number}:{question.pk}".encode()
    seed = hmac.new(settings.SECRET_KEY.encode(), key, hashlib.sha256).hexdigest()
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


def current(user: ClusterUser, workshop: Workshop) -> Live | None:
    """The live question, read through the front door as `user`; None if there is none.

    A learner without a RoleBinding in the room is refused by RBAC: Refused(403).
    """
    got = _send(user, "GET", _configmap(room(workshop), QUESTION))
    if got.status in (403, 401):
        raise Refused("Only learners who joined this workshop may see its live quiz.", 403)
    return Live.read(got.body) if got.ok else None


def _question_body(workshop: Workshop, data: dict[str, str], rv: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": QUESTION,
        "namespace": room(workshop),
        "labels": {LABEL_WORKSHOP: workshop.code},
    }
    if rv:
        meta["resourceVersion"] = rv
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def start(instructor: ClusterUser, workshop: Workshop, question: Question, seconds: int) -> Live:
    """Put `question` to the room for `seconds`: every watcher of the room sees it at once."""
    if question.type != Question.Type.CHOICE or grading.problem_with(question.type, question.data):
        raise Refused("Only a multiple-choice question with one right answer can be played live.")
    if seconds not in TIMERS:
        raise Refused("Choose one of the timers offered.")
    open_room(instructor, workshop)
    learners = [p.learner for p in workshop.participants.select_related("learner")]
    seat(instructor, workshop, learners)
    path = _configmap(room(workshop), QUESTION)
    for _ in range(5):
        got = _send(instructor, "GET", path)
        previous = Live.read(got.body) if got.ok else None
        number = previous.round + 1 if previous else 1
        choices = question.data["choices"]
        begun = now().replace(microsecond=0)
        data = {
            "round": str(number),
            "question": str(question.pk),
            "prompt": question.prompt,
            "options": json.dumps(
                [choices[i]["text"] for i in shown_order(workshop, number, question)]
            ),
            "started": _stamp(begun),
            "deadline": _stamp(begun + timedelta(seconds=seconds)),
            "seconds": str(seconds),
            "state": "open",
        }
        if got.ok:
            rv = str(got.metadata.get("resourceVersion", ""))
            sent = _send(instructor, "PUT", path, _question_body(workshop, data, rv))
        else:
            sent = _send(
                instructor, "POST", _configmaps(room(workshop)), _question_body(workshop, data)
            )
        if sent.ok:
            return Live.read(sent.body)  # type: ignore[return-value]
        if sent.status != 409:  # 409: someone wrote it meanwhile; read it again
            raise Refused(f"The API server answered {sent.status}: {sent.message}", 503)
    raise Refused("The live question kept changing under us. Try again.", 409)


def end(instructor: ClusterUser, workshop: Workshop) -> bool:
    """Take the question down; True if there was one."""
    return _send(instructor, "DELETE", _configmap(room(workshop), QUESTION)).ok


# Answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """One learner's answer to one round, as the instructor's list found it."""

    namespace: str
    position: int
    elapsed: float


def answer(learner: ClusterUser, workshop: Workshop, round_number: int, position: Any) -> Exchange:
    """Create the learner's answer through the front door, as the learner.

    Refused (with words for the page) when the room is not theirs, the round is over or
    not the live one, or the choice is not offered. A second answer reaches the API server,
    which refuses it with 409 AlreadyExists: the exchange comes back for the page to show.
    """
    live = current(learner, workshop)
    if live is None:
        raise Refused("There is no live question right now.", 409)
    if live.round != round_number:
        raise Refused("That question is over: the room has moved on to another one.", 409)
    if not live.is_open(now()):
        raise Refused("Time is up: answers to this question are closed.", 409)
    try:
        picked = int(position)
    except (TypeError, ValueError):
        picked = -1
    if not 0 <= picked < len(live.options):
        raise Refused("Pick one of the answers first.")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": answer_name(workshop, live.round),
            "namespace": learner.namespace,
            "labels": {LABEL_WORKSHOP: workshop.code, LABEL_ROUND: str(live.round)},
        },
        "data": {"question": str(live.question_id), "choice": str(picked)},
    }
    return _send(learner, "POST", _configmaps(learner.namespace), body)


def own_answer(learner: ClusterUser, workshop: Workshop, round_number: int) -> int | None:
    """The position this learner picked in a round, read as the learner; None if none."""
    got = _send(learner, "GET", _configmap(learner.namespace, answer_name(workshop, round_number)))
    if not got.ok:
        return None
    try:
        return int((got.body.get("data") or {}).get("choice", ""))
    except ValueError:
        return None


def _last_written(obj: dict[str, Any]) -> datetime | None:
    """When the server last stamped the object: created, or changed by any field manager."""
    meta = obj.get("metadata") or {}
    times = [_parse(meta.get("creationTimestamp"))]
    times += [_parse(m.get("time")) for m in meta.get("managedFields") or [] if isinstance(m, dict)]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def answers(instructor: ClusterUser, workshop: Workshop, live: Live) -> list[Given]:
    """Every counted answer to the live round: one per joined learner's namespace, written
    while the round was open (by the server's own timestamps, which a learner cannot set)."""
    selector = f"{LABEL_WORKSHOP}={workshop.code},{LABEL_ROUND}={live.round}"
    listed = _send(instructor, "GET", _configmaps(), labelSelector=selector)
    if not listed.ok:
        return []
    joined = set(
        Participant.objects.filter(workshop=workshop).values_list("learner__namespace", flat=True)
    )
    found: dict[str, Given] = {}
    for obj in listed.body.get("items", []):
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace", ""))
        written = _last_written(obj)
        if namespace not in joined or meta.get("name") != answer_name(workshop, live.round):
            continue
        if written is None or not live.started <= written <= live.deadline:
            continue
        try:
            position = int((obj.get("data") or {}).get("choice", ""))
        except ValueError:
            continue
        if 0 <= position < len(live.options):
            elapsed = max(0.0, (written - live.started).total_seconds())
            found[namespace] = Given(namespace, position, elapsed)
    return list(found.values())


def histogram(live: Live, given: list[Given]) -> list[int]:
    counts = [0] * len(live.options)
    for each in given:
        counts[each.position] += 1
    return counts


def points_for(live: Live, elapsed: float) -> int:
    """A right answer's points: all of them at once, half of them at the buzzer."""
    share = min(max(elapsed / max(live.seconds, 1), 0.0), 1.0)
    return round(FULL_POINTS * (1 - share / 2))


def reveal(instructor: ClusterUser, workshop: Workshop) -> Live:
    """Close the round, mark the right answer and add each learner's points to the scores."""
    path = _configmap(room(workshop), QUESTION)
    got = _send(instructor, "GET", path)
    live = Live.read(got.body) if got.ok else None
    if live is None:
        raise Refused("There is no live question to reveal.", 409)
    if live.revealed:
        return live
    question = Question.objects.filter(pk=live.question_id).first()
    if question is None:
        raise Refused("That question is no longer in the quiz bank.", 409)
    closed = min(live.deadline, now().replace(microsecond=0))
    live = Live(**{**live.__dict__, "deadline": closed})
    given = answers(instructor, workshop, live)
    order = shown_order(workshop, live.round, question)
    right = next(
        pos for pos, index in enumerate(order) if question.data["choices"][index].get("correct")
    )
    earned: dict[str, int] = {}
    for each in given:
        verdict = grading.grade(
            "choice", question.data, QueryDict(f"choice={order[each.position]}")
        )
        if verdict.correct:
            earned[each.namespace] = points_for(live, each.elapsed)
    _add_scores(instructor, workshop, live.round, earned, {g.namespace for g in given})
    data = dict(got.body.get("data") or {})
    data.update(
        state="revealed",
        deadline=_stamp(closed),
        correct=str(right),
        counts=json.dumps(histogram(live, given)),
    )
    rv = str(got.metadata.get("resourceVersion", ""))
    sent = _send(instructor, "PUT", path, _question_body(workshop, data, rv))
    if not sent.ok:
        raise Refused(f"The API server answered {sent.status}: {sent.message}", 409)
    return Live.read(sent.body)  # type: ignore[return-value]


def _add_scores(
    instructor: ClusterUser,
    workshop: Workshop,
    round_number: int,
    earned: dict[str, int],
    answered: set[str],
) -> None:
    """Add a round's points to the room's `live-scores`, once per round however often asked."""
    path = _configmap(room(workshop), SCORES)
    for _ in range(5):
        got = _send(instructor, "GET", path)
        data = dict(got.body.get("data") or {}) if got.ok else {}
        key = f"round-{round_number}"
        if key in data:
            return
        for namespace in answered:
            score = _score(data.get(namespace))
            score["points"] += earned.get(namespace, 0)
            score["right"] += namespace in earned
            score["answered"] += 1
            data[namespace] = json.dumps(score)
        data[key] = "counted"
        if got.ok:
            rv = str(got.metadata.get("resourceVersion", ""))
            body = _question_body(workshop, data, rv)
            body["metadata"]["name"] = SCORES
            sent = _send(instructor, "PUT", path, body)
        else:
            body = _question_body(workshop, data)
            body["metadata"]["name"] = SCORES
            sent = _send(instructor, "POST", _configmaps(room(workshop)), body)
        if sent.ok:
            return
        if sent.status != 409:
            raise Refused(f"The API server answered {sent.status}: {sent.message}", 503)


def _score(raw: Any) -> dict[str, int]:
    try:
        score = json.loads(raw) if raw else {}
    except ValueError:
        score = {}
    if not isinstance(score, dict):
        score = {}
    return {k: int(score.get(k, 0)) for k in ("points", "right", "answered")}


@dataclass(frozen=True)
class Leader:
    name: str
    points: int
    right: int
    answered: int


def leaderboard(scores: dict[str, Any] | None, workshop: Workshop) -> list[Leader]:
    """The room's best, from the `live-scores` ConfigMap: display names, most points first."""
    data = (scores or {}).get("data") or {}
    names = {
        p.learner.namespace: p.learner.display_name or p.learner.name
        for p in workshop.participants.select_related("learner")
    }
    rows = []
    for namespace, raw in data.items():
        if namespace in names:
            score = _score(raw)
            rows.append(
                Leader(names[namespace], score["points"], score["right"], score["answered"])
            )
    rows.sort(key=lambda r: (-r.points, -r.right, r.name))
    return rows[:LEADERS]


def scores(instructor: ClusterUser, workshop: Workshop) -> dict[str, Any] | None:
    got = _send(instructor, "GET", _configmap(room(workshop), SCORES))
    return got.body if got.ok else None


# What the pages draw --------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One option on the big screen's histogram."""

    letter: str
    text: str
    count: int
    share: int  # percent of the answers, for the bar's length
    right: bool


LETTERS = "ABCDEFGH"


def bars(live: Live, counts: list[int]) -> list[Bar]:
    total = sum(counts) or 1
    return [
        Bar(
            LETTERS[i] if i < len(LETTERS) else str(i + 1),
            text,
            counts[i] if i < len(counts) else 0,
            round(100 * (counts[i] if i < len(counts) else 0) / total),
            live.revealed and live.correct == i,
        )
        for i, text in enumerate(live.options)
    ]


def options(live: Live, mine: int | None = None) -> list[dict[str, Any]]:
    """The options as a learner's page lists them: letter, text, and marks once revealed."""
    return [
        {
            "position": i,
            "letter": LETTERS[i] if i < len(LETTERS) else str(i + 1),
            "text": text,
            "right": live.revealed and live.correct == i,
            "mine": mine == i,
        }
        for i, text in enumerate(live.options)
    ]


def board(instructor: ClusterUser, workshop: Workshop) -> dict[str, Any]:
    """What the big screen shows: the live question, its answers so far, the leaders."""
    got = _send(instructor, "GET", _configmap(room(workshop), QUESTION))
    live = Live.read(got.body) if got.ok else None
    context: dict[str, Any] = {"live": live, "joined": workshop.participants.count()}
    if live is not None:
        counts = (
            live.counts if live.revealed else histogram(live, answers(instructor, workshop, live))
        )
        context["bars"] = bars(live, counts)
        context["answered"] = sum(counts)
        context["seconds_left"] = live.seconds_left(now())
    context["leaders"] = leaderboard(scores(instructor, workshop), workshop)
    return context


# The instructor's pages -----------------------------------------------------------------

PANEL = "learning/_live_controls.html"


def _identity(request: HttpRequest) -> ClusterUser:
    return workshops.instructor_identity(request.user)


def panel_context(request: HttpRequest, workshop: Workshop) -> dict[str, Any]:
    """The dashboard's live-quiz controls: the question in play and the bank to pick from."""
    try:
        found = current(_identity(request), workshop)
    except Refused:
        found = None
    questions = list(live_questions())
    return {
        "live": found,
        "question": next((q for q in questions if found and q.pk == found.question_id), None),
        "questions": questions,
        "timers": TIMERS,
        "default_timer": DEFAULT_TIMER,
    }


def register_panel() -> None:
    """Show the live-quiz controls on every workshop dashboard."""
    workshops.register_panel(PANEL, panel_context)


def screen(request: HttpRequest, workshop: Workshop) -> dict[str, Any]:
    """The big screen's live-quiz region, drawn once for the page, and the stream behind it."""
    return {
        "live_board": board(_identity(request), workshop),
        "live_stream_url": reverse("learning:big-screen-events", args=[workshop.code]),
        "live_events": ",".join([*live.EVENT_TYPES, live.SYNC]),
    }
