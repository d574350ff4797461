"""Starting a lesson afresh: what its steps had the learner make is deleted, as the learner,
through the front door, and their record of the lesson's steps is cleared.

What a lesson makes is read from its steps (a step checked for the Pod `web` made that Pod,
one checked for any Deployment made Deployments), and only ever among `LESSON_KINDS`: the
namespace's RoleBinding, ServiceAccount, quota and limits, other namespaces and the room's
shared kinds are never touched. The deletes are the learner's own requests, so RBAC, the
audit log and Grand Central see them as theirs; then it watches until the objects, and what
the garbage collector removes after them, are gone, as `kubectl delete --cascade=foreground`
would (a plain `kubectl delete` waits for the named object only). Like kubectl's wait, it
lists once and then follows watches from that list's resourceVersion: it never lists again
on a timer.

The audit log cannot be cleared, so afresh remembers when it was done (`LessonAfresh`):
the lesson's steps checked from the log count only the requests sent after that.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction
from django.utils import timezone

from apiserver.accounts import ClusterUser
from apiserver.client import ApiError, Client, Watch, collection_path, nudged_by, object_path
from learning import lessons
from learning.models import LessonAfresh, StepProgress

USER_AGENT = "warehouse-learn"
CLIENT = "browser"
WAIT_SECONDS = 10.0  # then the page says what is still going


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str

    @property
    def key(self) -> str:
        """As the audit log and the client name it: "pods", "apps/deployments"."""
        return f"{self.group}/{self.plural}" if self.group else self.plural


PODS = Kind("", "v1", "pods", "Pod")
DEPLOYMENTS = Kind("apps", "v1", "deployments", "Deployment")
REPLICASETS = Kind("apps", "v1", "replicasets", "ReplicaSet")
# The kinds the lessons have a learner make, owners first: the only kinds afresh deletes.
LESSON_KINDS = {kind.key: kind for kind in (DEPLOYMENTS, PODS)}
# What the garbage collector removes after a deleted owner; afresh waits for those too.
DEPENDENTS = {DEPLOYMENTS.key: (REPLICASETS, PODS)}

# Checks that name the one object their step made, in their params.
NAMED_CHECKS = ("object_exists", "object_label", "history_writer")
# Checks that pass for any object of a kind, so their step made objects of that kind.
KIND_CHECKS = {
    "deployment_replicas": DEPLOYMENTS.key,
    "pod_image_error": PODS.key,
    "pod_running": PODS.key,
}
# Checks whose steps make nothing in the learner's namespace (the room's custom kind, a
# refused request, a practice run, a 404), and `audit_request`, read below.
MAKE_NOTHING = (
    "kind_not_served",
    "crd_served",
    "scenario-outage",
    "scenario-slowdown",
    "scenario-overload",
)


@dataclass(frozen=True)
class Target:
    """What afresh deletes: one named object, or every one of a kind the learner made
    themselves (not those a controller made for an owner)."""

    kind: Kind
    name: str = ""

    @property
    def command(self) -> str:
        """The kubectl command a learner would type for the same thing."""
        if self.name:
            return f"kubectl delete {self.kind.kind.lower()} {self.name}"
        if self.kind.key in DEPENDENTS:
            return f"kubectl delete {self.kind.plural} --all"
        return f"kubectl delete {self.kind.kind.lower()} NAME"


def step_makes(step: lessons.Step) -> list[tuple[str, str]]:
    """(kind, name or "") of what a step has the learner make, read from its check."""
    params = step.params
    if step.check in NAMED_CHECKS:
        group, plural = params.get("group", ""), params["plural"]
        return [(f"{group}/{plural}" if group else plural, str(params["name"]))]
    if step.check in KIND_CHECKS:
        return [(KIND_CHECKS[step.check], "")]
    if step.check == "audit_request" and params.get("verb") == "create" and params.get("resource"):
        status = int(params.get("status") or 0)
        # A create answered 409 AlreadyExists means one of that name was made before it.
        if status < 400 or status == 409:
            return [(str(params["resource"]), "")]
    return []


def targets(lesson: lessons.Lesson) -> tuple[Target, ...]:
    """What starting `lesson` afresh deletes, owners first; a named object is left out when
    its whole kind is deleted anyway."""
    made = {pair for step in lesson.steps for pair in step_makes(step)}
    whole = {key for key, name in made if not name}
    found = [
        Target(LESSON_KINDS[key], name)
        for key, name in made
        if key in LESSON_KINDS and (not name or key not in whole)
    ]
    order = list(LESSON_KINDS)
    return tuple(sorted(found, key=lambda t: (order.index(t.kind.key), t.name)))


@dataclass
class Outcome:
    """What afresh did: the objects it deleted, those still going when it stopped waiting,
    and the deletes the API server refused."""

    deleted: list[str] = field(default_factory=list)
    still_going: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.still_going and not self.refused


def start_afresh(learner: ClusterUser, lesson: lessons.Lesson) -> Outcome:
    """Delete what `lesson` made in the learner's namespace, as the learner; wait until it
    is gone (a bounded wait); clear the learner's record of the lesson's steps and count
    their requests for it from now on."""
    client = Client(learner, CLIENT, USER_AGENT)
    namespace = learner.namespace
    outcome = Outcome()
    plan = targets(lesson)
    watched = list(
        dict.fromkeys(k for t in plan for k in (t.kind, *DEPENDENTS.get(t.kind.key, ())))
    )
    # What is there first, dependents included: a ReplicaSet the garbage collector removes
    # before the next look must still lead from its Deployment to the Pods it leaves. The
    # watches start from this one list, so they bring afresh's own deletes as events too.
    looked = _look(client, namespace, watched) if plan else ([], [], {})
    before = looked[0]
    gone: set[str] = set()
    for target in plan:
        for obj in _made(client, namespace, target, outcome):
            meta = obj["metadata"]
            refusal = _delete(client, namespace, target.kind, meta)
            if refusal:
                outcome.refused.append(refusal)
                continue
            gone.add(meta["uid"])
            outcome.deleted.append(f"{target.kind.kind} {meta['name']}")
    if gone:
        outcome.still_going = _wait(client, namespace, _owned(gone, before), looked)
    forget(learner, lesson)
    return outcome


def forget(learner: ClusterUser, lesson: lessons.Lesson) -> None:
    """Clear the learner's record of the lesson's steps (attempts and passes) and mark now
    as the moment their requests count from. Called after afresh's own requests, so its
    deletes and looks are before the mark and never pass a step."""
    with transaction.atomic():
        StepProgress.objects.filter(learner=learner, lesson=lesson.slug).delete()
        LessonAfresh.objects.update_or_create(
            learner=learner, lesson=lesson.slug, defaults={"since": timezone.now()}
        )


def _made(client: Client, namespace: str, target: Target, outcome: Outcome) -> list[dict[str, Any]]:
    """The objects in the learner's namespace that `target` names."""
    kind = target.kind
    if target.name:
        path = object_path(kind.group, kind.version, kind.plural, namespace, target.name)
        exchange = client.exchange("GET", path)
        if exchange.status == 404:
            return []
        if exchange.status != 200:
            outcome.refused.append(f"{kind.kind} {target.name}: {_said(exchange)}")
            return []
        return [exchange.body]
    path = collection_path(kind.group, kind.version, kind.plural, namespace)
    exchange = client.exchange("GET", path)
    if exchange.status != 200:
        outcome.refused.append(f"your {kind.plural}: {_said(exchange)}")
        return []
    return [
        item
        for item in exchange.body.get("items") or []
        if item["metadata"].get("namespace") == namespace and not _controlled(item)
    ]


def _delete(client: Client, namespace: str, kind: Kind, meta: dict[str, Any]) -> str:
    """Delete one object, only if it is still the one that was read; "" or why not."""
    if meta.get("deletionTimestamp"):
        return ""  # already going
    try:
        client.delete(kind.key, meta["name"], namespace, uid=meta["uid"])
    except ApiError as error:
        if error.code in (404, 409):  # gone already, or another object by now
            return ""
        return f"{kind.kind} {meta['name']}: {error.status.get('message') or error.code}"
    return ""


def _wait(client: Client, namespace: str, going: set[str], looked: "Looked") -> list[str]:
    """Watch, from the list taken before the deletes, until nothing deleted, nor anything
    owned by it, is left; what still is."""
    seen, unseen, versions = looked
    unseen = list(unseen)
    there = {_uid(obj): (kind, obj) for kind, obj in seen}
    watches: dict[Kind, Watch] = {}
    try:
        for kind, version in versions.items():
            try:
                watches[kind] = client.watch(kind.key, namespace, version)
            except ApiError as error:
                unseen.append(f"your {kind.plural} (the API server answered {error.code})")

        def gone() -> bool:
            """Take the watches' news; whether nothing deleted is left."""
            for kind, watched in list(watches.items()):
                try:
                    changes = watched.poll()
                except ApiError:  # 410: the history is gone; list again, follow anew
                    watched.close()
                    del watches[kind]
                    changes = _relisted(client, namespace, kind, there, watches)
                for event_type, obj in changes:
                    if event_type == "DELETED":
                        there.pop(_uid(obj), None)
                    elif event_type in ("ADDED", "MODIFIED"):
                        there[_uid(obj)] = (kind, obj)
            return not _still(going, there)

        if watches:
            follow(list(watches.values()), gone, WAIT_SECONDS)
    finally:
        for watched in watches.values():
            watched.close()
    return _still(going, there) + unseen


def _follow(watches: list[Watch], done: Callable[[], bool], seconds: float) -> None:
    """Ask `done` now and after each change the watches follow, until it says so or
    `seconds` have gone. It listens before it first asks, so no change falls between."""

    async def following() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        async with nudged_by(watches) as changed:
            while True:
                changed.clear()
                if await sync_to_async(done)():
                    return
                left = deadline - loop.time()
                if left <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)

    async_to_sync(following)()


# How afresh follows its watches; tests wind a hand-driven control plane on here instead.
follow: Callable[[list[Watch], Callable[[], bool], float], None] = _follow


def _relisted(
    client: Client,
    namespace: str,
    kind: Kind,
    there: dict[str, tuple[Kind, dict[str, Any]]],
    watches: dict[Kind, Watch],
) -> list[tuple[str, dict[str, Any]]]:
    """List a kind again after its watch expired and watch on from there; its objects
    now, as events (those no longer listed as DELETED)."""
    seen, unseen, versions = _look(client, namespace, [kind])
    if unseen:
        return []
    listed = {_uid(obj): obj for _, obj in seen}
    changes = [
        ("DELETED", obj) for uid, (k, obj) in there.items() if k == kind and uid not in listed
    ]
    changes += [("MODIFIED", obj) for obj in listed.values()]
    with contextlib.suppress(ApiError):
        watches[kind] = client.watch(kind.key, namespace, versions[kind])
    return changes


def _still(going: set[str], there: dict[str, tuple[Kind, dict[str, Any]]]) -> list[str]:
    """What is still there of the deleted objects and their dependents, as "Pod web";
    `going` grows by what a dependent made meanwhile (a Pod replaced before its owner went)."""
    seen = list(there.values())
    _owned(going, seen)
    return [f"{kind.kind} {obj['metadata']['name']}" for kind, obj in seen if _uid(obj) in going]


Seen = list[tuple[Kind, dict[str, Any]]]
# What one look found: the objects, the kinds it could not list, each listed kind's
# resourceVersion.
Looked = tuple[Seen, list[str], dict[Kind, str]]


def _look(client: Client, namespace: str, kinds: list[Kind]) -> Looked:
    """Every object of `kinds` in the namespace, the kinds the server would not list, and
    each listed kind's resourceVersion (where a watch on it starts)."""
    seen: Seen = []
    unseen = []
    versions: dict[Kind, str] = {}
    for kind in kinds:
        path = collection_path(kind.group, kind.version, kind.plural, namespace)
        exchange = client.exchange("GET", path)
        if exchange.status != 200:
            unseen.append(f"your {kind.plural} (the API server answered {exchange.status})")
            continue
        seen += [(kind, obj) for obj in exchange.body.get("items") or []]
        versions[kind] = str((exchange.body.get("metadata") or {}).get("resourceVersion", ""))
    return seen, unseen, versions


def _owned(going: set[str], seen: Seen) -> set[str]:
    """Add to `going` the uids of everything in `seen` owned, at any depth, by one in it."""
    grew = True
    while grew:
        grew = False
        for _, obj in seen:
            owners = {ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or []}
            if _uid(obj) not in going and owners & going:
                going.add(_uid(obj))
                grew = True
    return going


def _uid(obj: dict[str, Any]) -> str:
    return obj["metadata"]["uid"]


def _controlled(obj: dict[str, Any]) -> bool:
    """Made by a controller for its owner (a ReplicaSet's Pod), not by the learner."""
    return any(ref.get("controller") for ref in obj["metadata"].get("ownerReferences") or [])


def _said(exchange: Any) -> str:
    return str(exchange.body.get("message") or f"the API server answered {exchange.status}")
