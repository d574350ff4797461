"""The order-history page: one object's revisions, who wrote each, and what changed.

The page reads `GET <object>/history` through the front door as the learner (so another
learner's order is refused, and the read is audited like any other), then steps through
the revisions: each with its writer named in words, the request that wrote it (from the
audit log), a diff against the one before, and the tracker drawn from the object *as it
was then*.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from catalog.models import ResourceKind
from shop import api, kubectl, tracker, tracking, views
from shop.learners import learner_required

# Fields every write changes, or that only the API server keeps: shown apart from the diff.
BOOKKEEPING = {"metadata.resourceVersion", "metadata.managedFields"}
# Where a changed field belongs, by its first part.
SECTIONS = (
    ("spec", "What was asked for (spec)"),
    ("status", "What the cluster reported (status)"),
    ("metadata", "Labels, annotations and other metadata"),
    ("", "Other fields"),
)
SHOWN_MAX = 200  # characters of one value before it is cut


@dataclass(frozen=True)
class Change:
    path: str
    before: str
    after: str
    how: str  # added, removed or changed


@dataclass
class Revision:
    """One step of the history, as the page shows it."""

    version: str
    type: str
    time: datetime | None
    writer: str
    writer_kind: str  # you, person, scheduler, kubelet, controller, apiserver, unknown
    client: str
    request: dict[str, Any] | None
    obj: dict[str, Any]
    sections: list[tuple[str, list[Change]]] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)
    generation: str = ""
    observed: str = ""


def writer_words(username: str, client: str, learner_name: str) -> tuple[str, str]:
    """Who wrote a revision, in words, and which sort of writer that is."""
    through = {
        "kubectl": " with kubectl",
        "browser": " from the shop's pages",
        "python-client": " with the Python client",
    }.get(client, "")
    if not username:
        return "Not recorded (written before writers were kept)", "unknown"
    if username == learner_name:
        return f"You ({username}){through}", "you"
    if username == "system:kube-scheduler":
        return "The scheduler (kube-scheduler)", "scheduler"
    if username.startswith("system:node:"):
        return f"The kubelet on {username.removeprefix('system:node:')}", "kubelet"
    if username == "system:kube-controller-manager":
        return "A controller (kube-controller-manager)", "controller"
    if username == "system:apiserver":
        return "The API server itself", "apiserver"
    if username.startswith("system:serviceaccount:"):
        namespace, _, name = username.removeprefix("system:serviceaccount:").partition(":")
        return f"ServiceAccount {name} in {namespace}{through}", "person"
    return f"{username}{through}", "person"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by its dotted path; a list is one leaf unless it holds
    objects, whose items are named by index."""
    if isinstance(value, dict):
        leaves: dict[str, Any] = {}
        for key, inner in value.items():
            leaves.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        leaves = {}
        for index, inner in enumerate(value):
            leaves.update(_flat(inner, f"{prefix}[{index}]"))
        return leaves
    return {prefix: value}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[str, list[Change]]]:
    """What changed from `before` to `after`, grouped into spec, status and metadata."""
    old, new = _flat(before or {}), _flat(after)
    changes: dict[str, list[Change]] = {key: [] for key, _ in SECTIONS}
    for path in sorted(old.keys() | new.keys()):
        if path.split("[")[0] in BOOKKEEPING or path.startswith("metadata.managedFields"):
            continue
        if path in old and path in new and old[path] == new[path]:
            continue
        how = "added" if path not in old else "removed" if path not in new else "changed"
        head = path.split(".")[0].split("[")[0]
        section = head if head in changes else ""
        changes[section].append(Change(path, _shown(old.get(path)), _shown(new.get(path)), how))
    return [(title, changes[key]) for key, title in SECTIONS if changes[key]]


def _managers(obj: dict[str, Any]) -> list[str]:
    """The field managers the object lists, as `kubectl get -o yaml --show-managed-fields`."""
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    return [
        f"{entry.get('manager', '?')} ({entry.get('operation', '?')}"
        + (f", {entry['subresource']}" if entry.get("subresource") else "")
        + ")"
        for entry in entries
        if isinstance(entry, dict)
    ]


def revisions(body: dict[str, Any], learner_name: str) -> list[Revision]:
    """The history's items as the page's steps, each with its diff to the one before."""
    steps: list[Revision] = []
    previous: dict[str, Any] | None = None
    for item in body.get("items") or []:
        obj = item.get("object") or {}
        writer = item.get("writer") or {}
        words, sort = writer_words(
            str(writer.get("username", "")), str(writer.get("client", "")), learner_name
        )
        meta = obj.get("metadata") or {}
        steps.append(
            Revision(
                version=str(item.get("resourceVersion", "")),
                type=str(item.get("type", "")),
                time=tracking.when(item.get("time")),
                writer=words,
                writer_kind=sort,
                client=str(writer.get("client", "")),
                request=item.get("request"),
                obj=obj,
                sections=diff(previous, obj),
                managers=_managers(obj),
                generation=str(meta.get("generation", "")),
                observed=str((obj.get("status") or {}).get("observedGeneration", "")),
            )
        )
        previous = obj
    return steps


def _request_trail(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The drawn path of the request that wrote a revision: a write that made a revision
    passed every gate, reached the store and told the watchers."""
    if not request:
        return None
    passed = {"state": "passed"}
    keys = ("requestinfo", "authentication", "fairness", "authorization", "admission")
    stages = [{"key": key, **passed} for key in (*keys, "store", "audit", "watchers")]
    return {"stages": stages, "status": request.get("code", 200)}


def _client_key(step: Revision) -> str:
    """Which client box the figure starts from."""
    if step.writer_kind in ("scheduler", "kubelet", "controller"):
        return step.writer_kind
    return step.client if step.client in ("kubectl", "python-client") else "browser"


# Kinds whose journey is read from other objects too (Pods, ReplicaSets, Endpoints, Jobs):
# drawn from the object alone, their tracker would show a stop that never happened.
TRACKED_WITH_OTHERS = {kind for _, kind in tracking.WORKLOADS} | {"Service", "CronJob"}


def _as_it_was(kind: ResourceKind, step: Revision) -> tracker.Tracker | None:
    """The tracker drawn from the object as it was at this revision, with nothing else
    read: the parcel where it was then (None for kinds it would misdraw)."""
    kind_name = "" if kind.is_custom else kind.kind
    if kind_name in TRACKED_WITH_OTHERS:
        return None
    when = step.time or datetime.now().astimezone()
    related = tracking.Related()
    line = tracking.timeline(kind_name, step.obj, related, when)
    return tracker.build(kind_name, line, when, step.obj, related, gone=step.type == "DELETED")


@learner_required
def history(
    request: Any, namespace: str, group: str, version: str, plural: str, name: str
) -> HttpResponse:
    """An order's history, one revision at a time (`?at=<resourceVersion>`, newest first
    shown); an htmx request gets the stepping region alone."""
    kind = views._kind_or_404(group, version, plural)
    path = views._kind_path(kind, namespace, name) + "/history"
    exchange = api.call(request.learner, "GET", path)
    context: dict[str, Any] = {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "history_url": views.history_url(kind, namespace, name),
        "receipt_url": views._receipt_url(kind, namespace, name),
        "track_url": views._track_url(kind, namespace, name),
        "kubectl_history": kubectl.get_raw(path),
        "status": exchange.status,
        "message": exchange.message or exchange.reason,
    }
    if not exchange.ok:
        code = exchange.status if exchange.status in (403, 404) else 503
        return render(request, "shop/history.html", context, status=code)
    steps = revisions(exchange.body, request.learner.name)
    wanted = request.GET.get("at", "")
    index = next((i for i, s in enumerate(steps) if s.version == wanted), len(steps) - 1)
    step = steps[index]
    context.update(
        steps=steps,
        step=step,
        index=index,
        earlier=steps[index - 1] if index > 0 else None,
        later=steps[index + 1] if index + 1 < len(steps) else None,
        compacted=exchange.body.get("compacted") or {},
        tracker=_as_it_was(kind, step),
        then=tracking.status_of("" if kind.is_custom else kind.kind, step.obj),
        trail=_request_trail(step.request),
        client_key=_client_key(step),
        audit_command=_audit_command(step, namespace),
    )
    if request.htmx:
        return render(request, "shop/history.html#stepping", context)
    return render(request, "shop/history.html", context)


def _audit_command(step: Revision, namespace: str) -> str:
    if not step.request or not namespace:
        return ""
    audit_id = step.request.get("auditID", "")
    return kubectl.get_raw(
        f"/apis/audit.warehouse.dev/v1/namespaces/{namespace}/auditevents/{audit_id}"
    )
