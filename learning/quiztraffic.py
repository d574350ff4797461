"""Questions drawn from the learner's own traffic: the audit events of their namespace.

The events are read through the API as the learner (a list of `auditevents` in their
namespace), so a learner is asked only about what RBAC lets them read. A question names
the event it came from; when it is answered, that event is read again and the question
rebuilt, so the answer key never travels through the browser.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apiserver import flow
from apiserver.accounts import ClusterUser
from apiserver.client import Client

AUDIT_PATH = "/apis/audit.warehouse.dev/v1/namespaces/{namespace}/auditevents"
# The newest this many events are enough to find a recent request of each sort.
LIMIT = "300"
CLIENT = "browser"
USER_AGENT = "warehouse-learn"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Choice:
    key: str
    text: str
    why: str


@dataclass
class Generated:
    """One question about one audit event; `right` is the key of the right choice."""

    kind: str
    event: str
    prompt: str
    why: str
    right: str
    choices: list[Choice] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.event}"

    def shown_to(self, learner: ClusterUser) -> list[Choice]:
        """The choices in this learner's own order, the same on every reload."""
        order = list(self.choices)
        random.Random(f"traffic:{learner.pk}:{self.ref}").shuffle(order)
        return order


def _client(learner: ClusterUser) -> Client:
    return Client(learner, CLIENT, USER_AGENT)


def _own_reads(event: dict[str, Any]) -> bool:
    """This page's own reads of the audit log, which would otherwise always be newest."""
    return (event.get("objectRef") or {}).get("resource") == "auditevents"


def read_events(learner: ClusterUser) -> list[dict[str, Any]] | None:
    """The newest audit events of the learner's namespace, newest first; None if refused."""
    path = AUDIT_PATH.format(namespace=learner.namespace)
    exchange = _client(learner).exchange("GET", path, query={"limit": LIMIT})
    if exchange.status != 200:
        return None
    items = [e for e in exchange.body.get("items") or [] if not _own_reads(e)]
    return sorted(items, key=lambda e: int(e.get("auditID") or 0), reverse=True)


def read_event(learner: ClusterUser, name: str) -> dict[str, Any] | None:
    """One audit event of the learner's namespace, read as the learner."""
    if not (name.isascii() and name.isdigit()):
        return None
    path = AUDIT_PATH.format(namespace=learner.namespace) + f"/{name}"
    exchange = _client(learner).exchange("GET", path)
    return exchange.body if exchange.status == 200 else None


def _method(event: dict[str, Any]) -> str:
    annotations = (event.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get("audit.warehouse.dev/method", ""))


def _request(event: dict[str, Any]) -> str:
    return f"`{_method(event)} {event.get('requestURI', '')}`"


def _code(event: dict[str, Any]) -> int:
    try:
        return int((event.get("responseStatus") or {}).get("code") or 0)
    except (TypeError, ValueError):
        return 0


def _by(learner: ClusterUser, event: dict[str, Any]) -> bool:
    return (event.get("user") or {}).get("username") == learner.username


# Which stage answered ----------------------------------------------------------------------

STAGE_CHOICES = {
    "authentication": Choice(
        "authentication",
        "Authentication, which works out who sent the request",
        "Authentication answers 401 when the request carries no credential it accepts.",
    ),
    "fairness": Choice(
        "fairness",
        "Priority and fairness, the queue in front of the server",
        "Priority and fairness answers 429 when the request's queue is full or its wait "
        "timed out (and, in this warehouse only, 503 during the outage exercise).",
    ),
    "authorization": Choice(
        "authorization",
        "Authorization, which asks RBAC whether this user may do this here",
        "Authorization answers 403 when no RBAC rule lets this user use the verb on this "
        "resource in this namespace.",
    ),
    "admission": Choice(
        "admission",
        "Admission, which defaults, validates and counts quota for the object",
        "Admission answers 422 for an invalid object, 403 for a quota or Pod Security "
        "refusal, and 400 when a webhook denies without a code of its own. (A body that "
        "cannot be decoded is refused with 400 just before admission runs; this server "
        "draws that refusal at the admission stage.)",
    ),
    "store": Choice(
        "store",
        "The registry and store, where the object is read or written",
        "The store answers 404 when the object does not exist and 409 when its name is "
        "taken or the resourceVersion sent is stale; a server-side apply's 409 comes from its "
        "field manager, when another manager owns the fields.",
    ),
}
EITHER_403 = Choice(
    "authorization-or-admission",
    "Authorization or admission: the code alone does not say, the message does",
    "Both answer 403: authorization when no RBAC rule allows the request, admission for a "
    "quota or Pod Security refusal. The message names which.",
)
# Codes that point at one stage whatever the request; 400 only does so for a write.
GATE_CODES = {401, 403, 404, 409, 422, 429}


def _gate(learner: ClusterUser, event: dict[str, Any]) -> Generated | None:
    code = _code(event)
    if not _by(learner, event):
        return None
    if code not in GATE_CODES and not (code == 400 and _method(event) in WRITES):
        return None
    if code == 404 and not (event.get("objectRef") or {}).get("name"):
        return None  # a path that names no object may be unknown to routing, not the store
    if code == 403:
        keys = ["authentication", "fairness", "store"]
        choices = [STAGE_CHOICES[k] for k in keys] + [EITHER_403]
        right = EITHER_403.key
    else:
        choices = list(STAGE_CHOICES.values())
        right = flow.stage_for_status(code).key
        if right not in STAGE_CHOICES:
            return None
    return Generated(
        kind="gate",
        event=str(event.get("auditID", "")),
        prompt=f"Your request {_request(event)} was answered {code}. Which stage of the API "
        "server turned it away?",
        why="The status code says which stage spoke; every receipt draws the same figure.",
        right=right,
        choices=choices,
    )


# Which verb the audit log recorded ---------------------------------------------------------

VERB_WHY = {
    "get": "get is a GET of one object's own path.",
    "list": "list is a GET of a whole collection, such as every Pod of a namespace.",
    "watch": "watch is a GET of a collection with ?watch=true: a stream of changes.",
    "create": "create is a POST to a collection, sending the new object.",
    "update": "update is a PUT of one object, replacing it whole.",
    "patch": "patch is a PATCH of one object, changing only the fields sent.",
    "delete": "delete is a DELETE of one object's path.",
}
READS = ["get", "list", "watch", "create"]
CHANGES = ["create", "update", "patch", "delete"]


def _verb(learner: ClusterUser, event: dict[str, Any]) -> Generated | None:
    verb = event.get("verb", "")
    if not _by(learner, event) or _code(event) >= 400 or verb not in VERB_WHY or verb == "watch":
        return None
    if (event.get("objectRef") or {}).get("subresource"):
        return None
    keys = READS if verb in ("get", "list") else CHANGES
    hint = " (not a watch)" if verb in ("get", "list") else ""
    return Generated(
        kind="verb",
        event=str(event.get("auditID", "")),
        prompt=f"The audit log recorded your request {_request(event)}{hint}. Which verb did "
        "it record?",
        why="RBAC rules and the audit log speak in verbs, worked out from the method and path.",
        right=verb,
        choices=[Choice(k, k, VERB_WHY[k]) for k in keys],
    )


# Which API group -----------------------------------------------------------------------------

GROUP_FILLERS = ["", "apps", "batch", "networking.k8s.io", "apiextensions.k8s.io"]


def _group_choice(group: str) -> Choice:
    if not group:
        return Choice(
            "core",
            "The core group, which has no name",
            "The core group has no name and lives under /api/v1 (Pods, Services, ConfigMaps).",
        )
    return Choice(group, group, f"The {group} group lives under /apis/{group}/.")


def _group(learner: ClusterUser, event: dict[str, Any]) -> Generated | None:
    ref = event.get("objectRef") or {}
    if not _by(learner, event) or not ref.get("resource"):
        return None
    group = ref.get("apiGroup", "")
    keys = [group] + [g for g in GROUP_FILLERS if g != group][:3]
    choices = [_group_choice(g) for g in keys]
    return Generated(
        kind="group",
        event=str(event.get("auditID", "")),
        prompt=f"Your request {_request(event)} went to which API group?",
        why="The path says it: /api/v1 is the core group, /apis/GROUP/VERSION any named one.",
        right=choices[0].key,
        choices=choices,
    )


# Who gave your Pod its node --------------------------------------------------------------------

BINDERS = {
    "scheduler": "The scheduler picks a node for each Pod without one and posts its Binding.",
    "kubelet": "A kubelet runs the Pods already bound to its node; it never picks the node.",
    "controller": "Controllers create Pods for ReplicaSets and Jobs, but leave the node to the "
    "scheduler.",
    "kubectl": "kubectl sent the Pod without a node; the node was chosen afterwards, by "
    "another client.",
}


def _binder(learner: ClusterUser, event: dict[str, Any]) -> Generated | None:
    ref = event.get("objectRef") or {}
    client = event.get("client", "")
    if ref.get("subresource") != "binding" or _code(event) >= 300 or client not in BINDERS:
        return None
    return Generated(
        kind="binder",
        event=str(event.get("auditID", "")),
        prompt=f"Your Pod `{ref.get('name', '')}` was given a node, and your namespace's audit "
        "log holds the request that did it. Which client sent that request?",
        why="The choice of node is written through the API server like any other change.",
        right=client,
        choices=[Choice(k, k, why) for k, why in BINDERS.items()],
    )


BUILDERS: dict[str, Callable[[ClusterUser, dict[str, Any]], Generated | None]] = {
    "gate": _gate,
    "verb": _verb,
    "group": _group,
    "binder": _binder,
}


def questions(learner: ClusterUser, events: list[dict[str, Any]]) -> list[Generated]:
    """At most one question of each sort, from the newest event it fits; a request is
    asked about once."""
    found: list[Generated] = []
    used: set[str] = set()
    for build in BUILDERS.values():
        for event in events:
            if str(event.get("auditID", "")) in used:
                continue
            question = build(learner, event)
            if question is not None:
                found.append(question)
                used.add(question.event)
                break
    return found


def rebuild(learner: ClusterUser, kind: str, name: str) -> Generated | None:
    """The question of `kind` about event `name`, read again as the learner."""
    build = BUILDERS.get(kind)
    if build is None:
        return None
    event = read_event(learner, name)
    return build(learner, event) if event is not None else None
