"""Order tracking: where an object is on its way, told as a parcel's journey and in Kubernetes.

`gather` reads what the page needs through the API pipeline as the learner (the object, its
events, and for workloads their ReplicaSets and Pods); everything after that is pure: it
turns plain dicts into a `Timeline`, so "Your orders" and the tracking page use the same
words, and the rules can be tested against hand-made objects.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from apiserver import readmodel, schedules
from apiserver.accounts import ClusterUser
from shop import api

# A Pod waiting for one of these cannot fetch its image: the supplier cannot hand it over.
IMAGE_PROBLEMS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
CRASHING = {"CrashLoopBackOff", "RunContainerError", "CreateContainerError"}
ENDPOINTS_TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"

DONE, CURRENT, WAITING, PROBLEM = "done", "current", "waiting", "problem"


@dataclass(frozen=True)
class Status:
    """How an order is doing, in both languages; `final` means nothing more will happen."""

    shop: str
    kube: str
    tone: str = "progress"  # progress, ok, problem or gone: the colour of the badge
    final: bool = False

    @property
    def signature(self) -> str:
        """What the page last showed; a change is announced to screen readers."""
        return f"{self.shop}|{self.kube}"


@dataclass
class Step:
    """One line of the timeline: the parcel's step beside the Kubernetes step."""

    shop: str
    api: str
    detail: str = ""
    when: datetime | None = None
    state: str = WAITING


@dataclass
class Related:
    """What was read alongside the object: events, and the objects it made or points at."""

    events: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    replicasets: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)  # a CronJob's Jobs
    endpoints: dict[str, Any] | None = None
    created_by: dict[str, Any] | None = None  # the audit row of the create, when one matches
    first_version: str = ""  # the resourceVersion the POST answered with, when known


@dataclass
class Timeline:
    status: Status
    steps: list[Step]
    events: list[dict[str, Any]]
    caveats: list[str]


# --- small readers --------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return _dict(obj.get("metadata"))


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return _dict(obj.get("spec"))


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    return _dict(obj.get("status"))


def when(value: Any) -> datetime | None:
    """An RFC 3339 timestamp from the API, or None when missing or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for condition in _status(obj).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return {}


def _is_true(obj: dict[str, Any], kind: str) -> bool:
    return _condition(obj, kind).get("status") == "True"


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in _status(pod).get("containerStatuses") or [] if isinstance(c, dict)]


def _waiting_reasons(pod: dict[str, Any]) -> list[str]:
    return [
        str(_dict(_dict(c.get("state")).get("waiting")).get("reason", "")) for c in _containers(pod)
    ]


def restarts(pod: dict[str, Any]) -> int:
    return sum(int(c.get("restartCount") or 0) for c in _containers(pod))


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


# --- statuses: the words both pages use -----------------------------------------------------


def pod_word(pod: dict[str, Any]) -> str:
    """What `kubectl get pods` prints in its STATUS column for this Pod."""
    status = _status(pod)
    word = str(status.get("reason") or status.get("phase") or "Pending")
    for container in _containers(pod):
        state = _dict(container.get("state"))
        waiting, terminated = _dict(state.get("waiting")), _dict(state.get("terminated"))
        if waiting.get("reason"):
            word = str(waiting["reason"])
        elif terminated.get("reason"):
            word = str(terminated["reason"])
        elif terminated:
            word = f"ExitCode:{terminated.get('exitCode', 0)}"
    if _meta(pod).get("deletionTimestamp"):
        word = "Terminating"
    return word


def _pod_status(pod: dict[str, Any]) -> Status:
    word = pod_word(pod)
    phase = str(_status(pod).get("phase") or "Pending")
    scheduled = _condition(pod, "PodScheduled")
    waiting = set(_waiting_reasons(pod))
    if _meta(pod).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if phase == "Succeeded":
        return Status("Delivered", "Succeeded", "ok", final=True)
    if phase == "Failed":
        return Status("Returned", f"Failed ({word})", "problem", final=True)
    if waiting & IMAGE_PROBLEMS:
        return Status("Supplier problem", word, "problem")
    if waiting & CRASHING or (phase == "Running" and word in ("Error", "OOMKilled")):
        return Status("Returned damaged", f"{word} ({restarts(pod)} restarts)", "problem")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return Status("Delayed", "Pending (Unschedulable)", "problem")
    if phase == "Running" and _is_true(pod, "Ready"):
        return Status("Delivered", "Running and Ready", "ok", final=True)
    if phase == "Running":
        return Status("Out for delivery", "Running (not Ready)")
    if _spec(pod).get("nodeName"):
        return Status("Out for delivery", word)
    return Status("In the order book", word)


def _deployment_status(deploy: dict[str, Any]) -> Status:
    wanted = _int(_spec(deploy).get("replicas", 1))
    status = _status(deploy)
    ready, available = _int(status.get("readyReplicas")), _int(status.get("availableReplicas"))
    current, updated = _int(status.get("replicas")), _int(status.get("updatedReplicas"))
    observed = _int(status.get("observedGeneration")) >= _int(_meta(deploy).get("generation"))
    progressing = _condition(deploy, "Progressing")
    if _meta(deploy).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if observed and available >= wanted and updated >= wanted and current == wanted:
        return Status("Delivered", f"{available}/{wanted} available", "ok", final=True)
    if (
        progressing.get("reason") == "ProgressDeadlineExceeded"
        or _condition(deploy, "ReplicaFailure").get("status") == "True"
    ):
        return Status("Delayed", f"{ready}/{wanted} ready", "problem")
    if current or ready:
        return Status("Out for delivery", f"{ready}/{wanted} ready")
    return Status("In the order book", f"{ready}/{wanted} ready")


def _replicaset_status(rs: dict[str, Any]) -> Status:
    """Like `kubectl get replicasets`' READY column: ready Pods out of spec.replicas."""
    wanted = _int(_spec(rs).get("replicas", 1))
    status = _status(rs)
    ready, current = _int(status.get("readyReplicas")), _int(status.get("replicas"))
    observed = _int(status.get("observedGeneration")) >= _int(_meta(rs).get("generation"))
    if _meta(rs).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if observed and ready >= wanted and current == wanted:
        return Status("Delivered", f"{ready}/{wanted} ready", "ok", final=True)
    if _condition(rs, "ReplicaFailure").get("status") == "True":
        return Status("Delayed", f"{ready}/{wanted} ready", "problem")
    if current or ready:
        return Status("Out for delivery", f"{ready}/{wanted} ready")
    return Status("In the order book", f"{ready}/{wanted} ready")


def _job_status(job: dict[str, Any]) -> Status:
    status = _status(job)
    completions = _int(_spec(job).get("completions", 1))
    succeeded = _int(status.get("succeeded"))
    if _is_true(job, "Complete"):
        return Status("Delivered", f"Complete ({succeeded}/{completions})", "ok", final=True)
    if _is_true(job, "Failed"):
        reason = _condition(job, "Failed").get("reason") or "Failed"
        return Status("Returned", f"Failed ({reason})", "problem", final=True)
    if _meta(job).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if _int(status.get("active")):
        return Status("Out for delivery", f"Running ({succeeded}/{completions} done)")
    return Status("In the order book", f"Pending ({succeeded}/{completions} done)")


def _statefulset_status(sts: dict[str, Any]) -> Status:
    """Like `kubectl get statefulsets`' READY column: ready Pods out of spec.replicas."""
    wanted = _int(_spec(sts).get("replicas", 1))
    status = _status(sts)
    ready, current = _int(status.get("readyReplicas")), _int(status.get("replicas"))
    observed = _int(status.get("observedGeneration")) >= _int(_meta(sts).get("generation"))
    rolled = status.get("currentRevision") == status.get("updateRevision")
    if _meta(sts).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if observed and rolled and ready >= wanted and current == wanted:
        return Status("Delivered", f"{ready}/{wanted} ready", "ok", final=True)
    if current:
        return Status("Out for delivery", f"{ready}/{wanted} ready")
    return Status("In the order book", f"{ready}/{wanted} ready")


def _daemonset_status(ds: dict[str, Any]) -> Status:
    """Ready daemon Pods out of the nodes that should run one (desiredNumberScheduled)."""
    status = _status(ds)
    desired, ready = _int(status.get("desiredNumberScheduled")), _int(status.get("numberReady"))
    updated, available = (
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
    )
    observed = "observedGeneration" in status and _int(status["observedGeneration"]) >= _int(
        _meta(ds).get("generation")
    )
    word = f"{ready}/{desired} nodes ready"
    if _meta(ds).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if observed and not desired:
        # Nothing to deliver yet: a node that comes to match gets its Pod, so keep watching.
        return Status("No depot qualifies", "0 nodes match")
    if observed and updated == available == desired and not status.get("numberMisscheduled"):
        return Status("Delivered", word, "ok", final=True)
    if _int(status.get("currentNumberScheduled")):
        return Status("Out for delivery", word)
    return Status("In the order book", word)


def _cronjob_status(cj: dict[str, Any]) -> Status:
    """A subscription: paused, waiting for its next time, or with deliveries on the way."""
    spec, status = _spec(cj), _status(cj)
    active = len(status.get("active") or [])
    schedule = str(spec.get("schedule", ""))
    if _meta(cj).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if spec.get("suspend"):
        return Status("Subscription paused", f"Suspended ({schedule})", "ok")
    if active:
        jobs = "1 active Job" if active == 1 else f"{active} active Jobs"
        return Status("Out for delivery", f"{jobs} ({schedule})")
    return Status("Subscribed", f"Waiting for the next schedule time ({schedule})", "ok")


def ready_addresses(endpoints: dict[str, Any] | None) -> int:
    """How many Pod addresses an Endpoints object lists as ready to take traffic."""
    subsets = _dict(endpoints).get("subsets") or []
    return sum(len(_dict(s).get("addresses") or []) for s in subsets)


def _service_status(service: dict[str, Any], endpoints: dict[str, Any] | None) -> Status:
    spec = _spec(service)
    if _meta(service).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    if spec.get("type") == "ExternalName":
        return Status("Delivered", "ExternalName", "ok", final=True)
    if not spec.get("clusterIP"):
        return Status("In the order book", "No cluster IP yet")
    if not spec.get("selector"):
        return Status("Delivered", "No selector (endpoints are yours to fill)", "ok", final=True)
    ready = ready_addresses(endpoints)
    if ready:
        return Status("Delivered", f"{ready} endpoint(s) ready", "ok", final=True)
    return Status("Waiting for stock", "No ready endpoints")


def status_of(kind: str, obj: dict[str, Any], endpoints: dict[str, Any] | None = None) -> Status:
    """The shop step and Kubernetes word for one object, as both order pages show it.

    Only the object (and, for a Service, its Endpoints) decides, so the list of orders and
    the tracking page always agree; Pods' words follow `kubectl get pods`' STATUS column.
    """
    if kind == "Pod":
        return _pod_status(obj)
    if kind == "Deployment":
        return _deployment_status(obj)
    if kind == "ReplicaSet":
        return _replicaset_status(obj)
    if kind == "Job":
        return _job_status(obj)
    if kind == "Service":
        return _service_status(obj, endpoints)
    if kind == "StatefulSet":
        return _statefulset_status(obj)
    if kind == "DaemonSet":
        return _daemonset_status(obj)
    if kind == "CronJob":
        return _cronjob_status(obj)
    if _meta(obj).get("deletionTimestamp"):
        return Status("Cancelled", "Terminating", "gone")
    return Status("In the order book", "Stored", "ok", final=True)


GONE = Status("Cancelled and gone", "Deleted (NotFound)", "gone", final=True)


# --- gathering, through the API as the learner ----------------------------------------------


@dataclass
class Snapshot:
    """The object's GET, what was read alongside it, and every request that took."""

    exchange: api.Exchange
    related: Related
    calls: list[dict[str, Any]]


def _selector(obj: dict[str, Any]) -> str:
    match = _dict(_dict(_spec(obj).get("selector")).get("matchLabels"))
    return ",".join(f"{k}={v}" for k, v in sorted(match.items()))


def pod_selector(obj: dict[str, Any]) -> str:
    """The label selector of a workload's Pods ("" when it has none to follow)."""
    return _selector(obj)


def _owned_by(obj: dict[str, Any], uids: set[str]) -> bool:
    return any(_dict(ref).get("uid") in uids for ref in _meta(obj).get("ownerReferences") or [])


# Kinds whose Pods (found by their selector) the tracking page reads along.
WORKLOADS = {
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
}


def gather(
    learner: ClusterUser,
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespace: str,
    name: str,
    secret: bool = False,
) -> Snapshot:
    """Read the object and its surroundings with the learner's own requests.

    Events are selected the way `kubectl describe` selects them (by involvedObject); a
    workload's events come from one list of the namespace's events, kept to the objects
    it made, because one request is kinder than one per Pod.
    """
    calls: list[dict[str, Any]] = []

    def call(path: str, query: dict[str, str] | None = None) -> api.Exchange:
        exchange = api.call(learner, "GET", path, query=query, secret=secret)
        shown = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        calls.append({"method": "GET", "path": shown, "status": exchange.status})
        return exchange

    exchange = call(api.object_path(group, version, plural, namespace, name))
    related = Related()
    if not exchange.ok:
        return Snapshot(exchange, related, calls)
    obj = exchange.body
    uid = str(_meta(obj).get("uid", ""))
    events_path = api.collection_path("", "v1", "events", namespace)
    tree = {uid}
    if (group, kind) == ("batch", "CronJob"):
        listing = call(api.collection_path("batch", "v1", "jobs", namespace))
        related.jobs = [j for j in listing.body.get("items") or [] if _owned_by(j, {uid})]
        tree |= {str(_meta(j).get("uid")) for j in related.jobs}
        events = call(events_path).body.get("items") or []
        related.events = [e for e in events if _dict(e.get("involvedObject")).get("uid") in tree]
    elif (group, kind) in WORKLOADS and _selector(obj):
        selector = {"labelSelector": _selector(obj)}
        if kind == "Deployment":
            listing = call(api.collection_path("apps", "v1", "replicasets", namespace), selector)
            related.replicasets = [
                rs for rs in listing.body.get("items") or [] if _owned_by(rs, {uid})
            ]
            tree |= {str(_meta(rs).get("uid")) for rs in related.replicasets}
        listing = call(api.collection_path("", "v1", "pods", namespace), selector)
        related.pods = [p for p in listing.body.get("items") or [] if _owned_by(p, tree)]
        tree |= {str(_meta(p).get("uid")) for p in related.pods}
        events = call(events_path).body.get("items") or []
        related.events = [e for e in events if _dict(e.get("involvedObject")).get("uid") in tree]
    else:
        fields = f"involvedObject.kind={kind},involvedObject.name={name}"
        related.events = call(events_path, {"fieldSelector": fields}).body.get("items") or []
    if (group, kind) == ("", "Service"):
        found = call(api.object_path("", "v1", "endpoints", namespace, name))
        related.endpoints = found.body if found.ok else None
    related.created_by = created_by(obj, plural, group, namespace)
    return Snapshot(exchange, related, calls)


def created_by(obj: dict[str, Any], plural: str, group: str, namespace: str) -> dict[str, Any]:
    """The audit row of the POST that made `obj`, if exactly one fits.

    The audit log does not name the object a create made (the URL is the collection), so
    the match is by kind, namespace and time: the second of creationTimestamp.
    """
    created = when(_meta(obj).get("creationTimestamp"))
    if created is None:
        return {}
    rows = readmodel.requests(
        verb="create",
        resource=f"{group}/{plural}" if group else plural,
        subresource="",
        namespace=namespace,
        status=201,
        since=created,
        before=created + timedelta(seconds=2),
        limit=2,
    )
    if len(rows) != 1:
        return {}
    return {key: rows[0][key] for key in ("timestamp", "user", "client", "latency_ms", "path")}


# --- the timeline ---------------------------------------------------------------------------


def _events_by_reason(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for event in sort_events(events):
        found.setdefault(str(event.get("reason", "")), []).append(event)
    return found


def sort_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first, as `kubectl describe` lists them; the name's hex tail breaks ties."""

    def key(event: dict[str, Any]) -> tuple[str, int]:
        tail = str(_meta(event).get("name", "")).rsplit(".", 1)[-1]
        try:
            order = int(tail, 16)
        except ValueError:
            order = 0
        return str(event.get("firstTimestamp") or event.get("eventTime") or ""), order

    return sorted(events, key=key)


def event_rows(events: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The events table: type, reason, object, message, count and age (from the last time)."""
    rows = []
    for event in sort_events(events):
        last = when(event.get("lastTimestamp")) or when(event.get("eventTime"))
        involved = _dict(event.get("involvedObject"))
        source = _dict(event.get("source"))
        rows.append(
            {
                "type": str(event.get("type", "")),
                "reason": str(event.get("reason", "")),
                "message": str(event.get("message", "")),
                "count": _int(event.get("count")) or 1,
                "last": last,
                "age": _age(last, now),
                "object": f"{involved.get('kind', '')}/{involved.get('name', '')}",
                "source": " on ".join(
                    str(part) for part in (source.get("component"), source.get("host")) if part
                ),
            }
        )
    return rows


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _ordered(obj: dict[str, Any], related: Related) -> list[Step]:
    """The first three steps, all inside the one POST request, for every kind."""
    meta = _meta(obj)
    created = when(meta.get("creationTimestamp"))
    audit = related.created_by or {}
    placed = "creationTimestamp"
    if audit:
        placed = f"POST {audit['path']} → 201 Created, sent by {audit['user']} ({audit['client']})"
    checked = "One request passed authentication (your token), authorization (your namespace) "
    checked += "and admission (defaults filled in, fields validated)"
    if audit:
        checked += f", in {audit['latency_ms']:.0f} ms"
    if related.first_version:
        stored = f"Written to the cluster store at resourceVersion {related.first_version}"
    else:
        stored = "Written to the cluster store"
    stored += f"; every later change bumps it (now {meta.get('resourceVersion', '?')})"
    return [
        Step("Order placed", "POST accepted", placed, created, DONE),
        Step("Checks passed", "Authenticated, authorized, admitted", checked, created, DONE),
        Step("In the order book", "Persisted to the cluster store", stored, created, DONE),
    ]


def _first(events: dict[str, list[dict[str, Any]]], reason: str) -> dict[str, Any]:
    return (events.get(reason) or [{}])[0]


def _last(events: dict[str, list[dict[str, Any]]], reason: str) -> dict[str, Any]:
    return (events.get(reason) or [{}])[-1]


def _event_time(event: dict[str, Any]) -> datetime | None:
    return when(event.get("firstTimestamp")) or when(event.get("eventTime"))


def _pod_steps(pod: dict[str, Any], events: dict[str, list[dict[str, Any]]]) -> list[Step]:
    """Shipped, out for delivery, delivered: or the problem that stopped the parcel."""
    scheduled = _condition(pod, "PodScheduled")
    node = _spec(pod).get("nodeName")
    if not node and scheduled.get("reason") == "Unschedulable":
        failed = _last(events, "FailedScheduling")
        message = failed.get("message") or scheduled.get("message") or ""
        at = _event_time(failed) or when(scheduled.get("lastTransitionTime"))
        return [Step("Delayed", "Unschedulable (FailedScheduling)", str(message), at, PROBLEM)]
    if not node:
        return [
            Step("Shipped", "Scheduled to a node", "Waiting for the scheduler"),
            Step("Out for delivery", "Image pulled, container started"),
            Step("Delivered", "Running and Ready"),
        ]
    at = when(scheduled.get("lastTransitionTime")) or _event_time(_first(events, "Scheduled"))
    shipped = Step("Shipped", f"Scheduled to node {node}", "PodScheduled=True", at, DONE)
    waiting = set(_waiting_reasons(pod))
    if waiting & IMAGE_PROBLEMS:
        return [shipped, _bad_address(pod, waiting, events), Step("Delivered", "Running and Ready")]
    notes = [
        str(e.get("message", ""))
        for reason in ("Pulling", "Pulled", "Created", "Started")
        for e in events.get(reason, [])[:1]
    ]
    phase = str(_status(pod).get("phase") or "Pending")
    started = any(c.get("started") or "running" in _dict(c.get("state")) for c in _containers(pod))
    if not (started or restarts(pod) or phase in ("Running", "Succeeded", "Failed")):
        detail = "; ".join(notes) or "The kubelet on the node is pulling the image"
        at = _event_time(_first(events, "Pulling"))
        return [
            shipped,
            Step(
                "Out for delivery", "Pulling the image, creating the container", detail, at, CURRENT
            ),
            Step("Delivered", "Running and Ready"),
        ]
    at = _event_time(_last(events, "Started")) or _event_time(_first(events, "Pulled"))
    out = Step(
        "Out for delivery",
        "Image pulled, container created and started",
        "; ".join(notes),
        at,
        DONE,
    )
    return [shipped, out, _arrival(pod, phase, waiting, events)]


def _bad_address(
    pod: dict[str, Any], waiting: set[str], events: dict[str, list[dict[str, Any]]]
) -> Step:
    """The image cannot be pulled: the kubelet's own words, from its last Failed event."""
    failed = [e for e in events.get("Failed", []) if "pull" in str(e.get("message", ""))]
    message = str((failed[-1] if failed else {}).get("message", ""))
    if not message:
        message = next(
            (
                str(_dict(_dict(c.get("state")).get("waiting")).get("message", ""))
                for c in _containers(pod)
            ),
            "",
        )
    word = "ImagePullBackOff" if "ImagePullBackOff" in waiting else "ErrImagePull"
    at = _event_time(_first(events, "Pulling"))
    return Step("Supplier problem", f"{word}: the image cannot be pulled", message, at, PROBLEM)


def _arrival(
    pod: dict[str, Any], phase: str, waiting: set[str], events: dict[str, list[dict[str, Any]]]
) -> Step:
    """The last step of a Pod whose containers started: handed over, finished, or broken."""
    ready = _condition(pod, "Ready")
    changed = when(ready.get("lastTransitionTime"))
    word = pod_word(pod)
    if phase == "Succeeded":
        return Step("Delivered", "Succeeded: every container exited 0", "", changed, DONE)
    if phase == "Failed":
        why = "A container exited with an error and the restart policy says not to try again"
        return Step("Returned", f"Failed: {word}", why, changed, PROBLEM)
    if waiting & CRASHING or word in ("Error", "OOMKilled"):
        back_off = _last(events, "BackOff")
        count = restarts(pod)
        return Step(
            "Returned damaged",
            f"{word}: restarted {count} time{'s' if count != 1 else ''}",
            str(back_off.get("message") or "The container exited with an error"),
            _event_time(back_off) or changed,
            PROBLEM,
        )
    if ready.get("status") == "True":
        return Step("Delivered", "Running and Ready", "Ready=True", changed, DONE)
    return Step("Delivered", "Running and Ready", "Running, not Ready yet", state=CURRENT)


def _count_steps(
    pods: list[dict[str, Any]], wanted: int, events: dict[str, list[dict[str, Any]]]
) -> list[Step]:
    """Shipped and out for delivery for a workload: how many of its Pods got how far."""
    live = [p for p in pods if not _meta(p).get("deletionTimestamp")]
    total = max(wanted, len(live))
    placed = [p for p in live if _spec(p).get("nodeName")]
    stuck = [p for p in live if _condition(p, "PodScheduled").get("reason") == "Unschedulable"]
    steps: list[Step] = []
    last_scheduled = max(
        (t for p in placed if (t := when(_condition(p, "PodScheduled").get("lastTransitionTime")))),
        default=None,
    )
    if stuck:
        failed = _last(events, "FailedScheduling")
        message = str(failed.get("message") or _condition(stuck[0], "PodScheduled").get("message"))
        steps.append(
            Step(
                "Delayed",
                f"Unschedulable: {len(placed)}/{total} Pods scheduled",
                message,
                _event_time(failed),
                PROBLEM,
            )
        )
    else:
        state = DONE if len(placed) >= total else CURRENT
        steps.append(
            Step(
                "Shipped",
                f"{len(placed)}/{total} Pods scheduled to nodes",
                ", ".join(sorted({str(_spec(p)["nodeName"]) for p in placed})),
                last_scheduled if state == DONE else None,
                state,
            )
        )
    bad_image = [p for p in live if set(_waiting_reasons(p)) & IMAGE_PROBLEMS]
    crashing = [p for p in live if set(_waiting_reasons(p)) & CRASHING]
    running = [p for p in live if _status(p).get("phase") in ("Running", "Succeeded", "Failed")]
    if bad_image:
        failed = [e for e in events.get("Failed", []) if "pull" in str(e.get("message", ""))]
        steps.append(
            Step(
                "Supplier problem",
                f"ErrImagePull / ImagePullBackOff in {len(bad_image)} Pod(s)",
                str((failed[-1] if failed else {}).get("message", "")),
                _event_time(failed[-1]) if failed else None,
                PROBLEM,
            )
        )
    elif crashing:
        count = sum(restarts(p) for p in crashing)
        steps.append(
            Step(
                "Returned damaged",
                f"CrashLoopBackOff in {len(crashing)} Pod(s), {count} restarts",
                str(_last(events, "BackOff").get("message", "")),
                _event_time(_last(events, "BackOff")),
                PROBLEM,
            )
        )
    else:
        state = DONE if len(running) >= total else (CURRENT if placed else WAITING)
        last_started = _event_time(_last(events, "Started"))
        steps.append(
            Step(
                "Out for delivery",
                f"{len(running)}/{total} Pods started",
                "Images pulled, containers created and started",
                last_started if running else None,
                state,
            )
        )
    return steps


def _deployment_steps(
    deploy: dict[str, Any], related: Related, events: dict[str, list[dict[str, Any]]]
) -> list[Step]:
    wanted = _int(_spec(deploy).get("replicas", 1))
    status = _status(deploy)
    newest = max(
        related.replicasets, key=lambda rs: _meta(rs).get("creationTimestamp") or "", default=None
    )
    steps: list[Step] = []
    if newest is None:
        steps.append(
            Step(
                "Packed",
                "ReplicaSet created",
                "Waiting for the deployment controller",
                state=CURRENT,
            )
        )
    else:
        scaled = _last(events, "ScalingReplicaSet")
        steps.append(
            Step(
                "Packed",
                f"ReplicaSet {_meta(newest).get('name')} created",
                str(scaled.get("message", "")),
                when(_meta(newest).get("creationTimestamp")),
                DONE,
            )
        )
        steps += _count_steps(related.pods, wanted, events)
    available = _int(status.get("availableReplicas"))
    if _deployment_status(deploy).final:
        steps.append(
            Step(
                "Delivered",
                f"{available}/{wanted} available (availableReplicas)",
                "Available=True",
                when(_condition(deploy, "Available").get("lastTransitionTime")),
                DONE,
            )
        )
    else:
        steps.append(Step("Delivered", f"{available}/{wanted} available (availableReplicas)"))
    return steps


def _replicaset_steps(
    rs: dict[str, Any], related: Related, events: dict[str, list[dict[str, Any]]]
) -> list[Step]:
    """A ReplicaSet makes its Pods itself: no packing step, straight to the count."""
    wanted = _int(_spec(rs).get("replicas", 1))
    steps = _count_steps(related.pods, wanted, events)
    ready = _int(_status(rs).get("readyReplicas"))
    final = _replicaset_status(rs).final
    steps.append(
        Step(
            "Delivered",
            f"{ready}/{wanted} ready (readyReplicas)",
            "Every Pod it owns is Running and Ready" if final else "",
            max((s.when for s in steps if s.when), default=None) if final else None,
            DONE if final else WAITING,
        )
    )
    return steps


def _job_steps(
    job: dict[str, Any], related: Related, events: dict[str, list[dict[str, Any]]]
) -> list[Step]:
    completions = _int(_spec(job).get("completions", 1))
    status = _status(job)
    steps: list[Step] = []
    if not related.pods:
        steps.append(
            Step("Packed", "Pods created", "Waiting for the job controller", state=CURRENT)
        )
    else:
        first = min(related.pods, key=lambda p: _meta(p).get("creationTimestamp") or "")
        created = [str(e.get("message", "")) for e in events.get("SuccessfulCreate", [])]
        steps.append(
            Step(
                "Packed",
                f"{len(related.pods)} Pod(s) created",
                "; ".join(created),
                when(_meta(first).get("creationTimestamp")),
                DONE,
            )
        )
        steps += _count_steps(related.pods, len(related.pods), events)
    succeeded = _int(status.get("succeeded"))
    if _is_true(job, "Complete"):
        steps.append(
            Step(
                "Delivered",
                f"Complete: {succeeded}/{completions} succeeded",
                str(_condition(job, "Complete").get("message", "")),
                when(status.get("completionTime")),
                DONE,
            )
        )
    elif _is_true(job, "Failed"):
        failed = _condition(job, "Failed")
        steps.append(
            Step(
                "Returned",
                f"Failed: {failed.get('reason', '')}",
                str(failed.get("message", "")),
                when(failed.get("lastTransitionTime")),
                PROBLEM,
            )
        )
    else:
        steps.append(Step("Delivered", f"Complete: {succeeded}/{completions} succeeded"))
    return steps


def _service_steps(service: dict[str, Any], related: Related) -> list[Step]:
    spec = _spec(service)
    created = when(_meta(service).get("creationTimestamp"))
    ip = spec.get("clusterIP")
    steps = [
        Step(
            "Counter number assigned", f"Cluster IP {ip} assigned", "spec.clusterIP", created, DONE
        )
        if ip
        else Step("Counter number assigned", "Cluster IP assigned", state=CURRENT)
    ]
    selector = ",".join(f"{k}={v}" for k, v in sorted(_dict(spec.get("selector")).items()))
    ready = ready_addresses(related.endpoints)
    trigger = when(_meta(related.endpoints or {}).get("annotations", {}).get(ENDPOINTS_TRIGGER))
    if not selector:
        steps.append(
            Step(
                "Delivered",
                "No selector",
                "Nobody fills this Service's endpoints "
                "for you: it forwards to whatever Endpoints you write",
                None,
                DONE,
            )
        )
    elif ready:
        steps.append(
            Step(
                "Delivered",
                f"Endpoints ready: {ready} Pod address(es)",
                f"Pods matching {selector}",
                trigger,
                DONE,
            )
        )
    else:
        steps.append(
            Step(
                "Waiting for stock",
                "No ready endpoints",
                f"No Ready Pod matches {selector} yet",
                None,
                CURRENT if ip else WAITING,
            )
        )
    return steps


# A StatefulSet with more seats than this shows the rest as one summary line.
SEATS_SHOWN = 10


def _seat_rule(index: int, parallel: bool) -> str:
    """When an empty seat gets its Pod, under the StatefulSet's podManagementPolicy."""
    if parallel:
        return "Filled at the same time as the others (Parallel)"
    if index:
        return f"Filled only once seat {index - 1} is Ready (OrderedReady)"
    return "The first seat, filled first"


def _statefulset_steps(
    sts: dict[str, Any], related: Related, events: dict[str, list[dict[str, Any]]]
) -> list[Step]:
    """One line per numbered seat: each is filled once the seat before it is Ready."""
    name = str(_meta(sts).get("name", ""))
    wanted = _int(_spec(sts).get("replicas", 1))
    parallel = _spec(sts).get("podManagementPolicy") == "Parallel"
    pods = {str(_meta(p).get("name")): p for p in related.pods}
    created = {
        str(e.get("message", "")).split()[2]: e
        for e in events.get("SuccessfulCreate", [])
        if str(e.get("message", "")).startswith("create Pod ")
    }
    steps: list[Step] = []
    for index in range(min(wanted, SEATS_SHOWN)):
        pod_name = f"{name}-{index}"
        pod = pods.get(pod_name)
        api_step = f"Pod {pod_name} Running and Ready"
        if pod is None or _meta(pod).get("deletionTimestamp"):
            why = _seat_rule(index, parallel)
            steps.append(Step(f"Seat {index}", api_step, why))
            continue
        ready = _condition(pod, "Ready")
        if _status(pod).get("phase") == "Running" and ready.get("status") == "True":
            at = when(ready.get("lastTransitionTime"))
            steps.append(Step(f"Seat {index} filled", api_step, "Ready=True", at, DONE))
        else:
            note = str(created.get(pod_name, {}).get("message", "")) or f"Pod {pod_name} created"
            word = _pod_status(pod)
            state = PROBLEM if word.tone == "problem" else CURRENT
            steps.append(
                Step(
                    f"Seat {index}: {word.shop}", f"Pod {pod_name}: {word.kube}", note, None, state
                )
            )
    if wanted > SEATS_SHOWN:
        steps.append(Step(f"Seats {SEATS_SHOWN}-{wanted - 1}", "The remaining Pods, in order"))
    ready = _int(_status(sts).get("readyReplicas"))
    final = _statefulset_status(sts).final
    steps.append(
        Step(
            "Delivered",
            f"{ready}/{wanted} ready (readyReplicas)",
            "Every seat holds a Ready Pod of the current revision" if final else "",
            max((s.when for s in steps if s.when), default=None) if final else None,
            DONE if final else WAITING,
        )
    )
    return steps


def _daemonset_steps(
    ds: dict[str, Any], related: Related, events: dict[str, list[dict[str, Any]]]
) -> list[Step]:
    """One parcel per depot: as many Pods as there are nodes that should run one."""
    status = _status(ds)
    desired = _int(status.get("desiredNumberScheduled"))
    selector = ",".join(
        f"{k}={v}"
        for k, v in sorted(
            _dict(_dict(_spec(ds).get("template")).get("spec")).get("nodeSelector", {}).items()
        )
    )
    where = f"Nodes labelled {selector}" if selector else "Every node it may run on"
    steps: list[Step] = []
    if "desiredNumberScheduled" not in status:
        steps.append(Step("Packed", "One Pod per node", "Waiting for the daemonset controller"))
    else:
        created = _first(events, "SuccessfulCreate")
        if not desired:
            steps.append(
                Step(
                    "No depot qualifies",
                    "desiredNumberScheduled 0",
                    f"No node matches ({where}): a node that comes to match gets its Pod",
                    None,
                    CURRENT,
                )
            )
            return steps
        nodes = "1 node" if desired == 1 else f"{desired} nodes"
        steps.append(
            Step(
                "Packed",
                f"One Pod for each of {nodes}",
                f"{where}; each Pod names its node in a required node affinity, "
                "and the scheduler binds it there",
                _event_time(created),
                DONE,
            )
        )
        steps += _count_steps(related.pods, desired, events)
    ready = _int(status.get("numberReady"))
    final = _daemonset_status(ds).final
    steps.append(
        Step(
            "Delivered",
            f"{ready}/{desired} nodes have a Ready Pod (numberReady)",
            "",
            None,
            DONE if final else WAITING,
        )
    )
    return steps


# How many of a CronJob's Jobs the timeline lists, newest last.
JOBS_SHOWN = 5


def _cronjob_steps(cj: dict[str, Any], related: Related, now: datetime) -> list[Step]:
    """A subscription: the schedule, each order it placed (a Job), and the next one."""
    spec = _spec(cj)
    schedule = str(spec.get("schedule", ""))
    zone = str(spec.get("timeZone") or "the controller manager's time zone, UTC here")
    steps = [
        Step(
            "Subscribed",
            f"Schedule {schedule} ({zone})",
            f"concurrencyPolicy {spec.get('concurrencyPolicy', 'Allow')}: a new Job is "
            "created at every time the schedule matches",
            when(_meta(cj).get("creationTimestamp")),
            DONE,
        )
    ]
    jobs = sorted(related.jobs, key=lambda j: str(_meta(j).get("creationTimestamp") or ""))
    for job in jobs[-JOBS_SHOWN:]:
        word = _job_status(job)
        scheduled = _dict(_meta(job).get("annotations")).get(
            "batch.kubernetes.io/cronjob-scheduled-timestamp", ""
        )
        state = {"ok": DONE, "problem": PROBLEM}.get(word.tone, CURRENT)
        steps.append(
            Step(
                f"Order {word.shop.lower()}",
                f"Job {_meta(job).get('name')}: {word.kube}",
                f"Scheduled for {scheduled}" if scheduled else "",
                when(_meta(job).get("creationTimestamp")),
                state,
            )
        )
    if spec.get("suspend"):
        steps.append(
            Step(
                "Subscription paused",
                "suspend: true",
                "No new Jobs until it is false",
                None,
                CURRENT,
            )
        )
    else:
        try:
            due = schedules.next_after(spec, now)
        except schedules.ScheduleError as error:
            steps.append(Step("Next order", "No Job can be scheduled", str(error), state=PROBLEM))
        else:
            last = _status(cj).get("lastScheduleTime") or "not yet"
            steps.append(
                Step(
                    "Next order",
                    f"The next Job, at {due.strftime('%Y-%m-%d %H:%M')} UTC",
                    f"lastScheduleTime {last}",
                )
            )
    return steps


def _settle(steps: list[Step]) -> list[Step]:
    """Mark the first unfinished step as the current one, unless a problem already is."""
    if not any(s.state in (CURRENT, PROBLEM) for s in steps):
        for step in steps:
            if step.state == WAITING:
                step.state = CURRENT
                break
    return steps


def _deletion(obj: dict[str, Any], events: dict[str, list[dict[str, Any]]]) -> Step | None:
    meta = _meta(obj)
    deadline = when(meta.get("deletionTimestamp"))
    if deadline is None:
        return None
    grace = _int(meta.get("deletionGracePeriodSeconds"))
    killing = _last(events, "Killing")
    detail = f"deletionTimestamp {meta['deletionTimestamp']}: gone by then at the latest"
    if killing:
        detail += f"; {killing.get('message', '')}"
    return Step(
        "Cancelled",
        f"Deleted: Terminating (grace period {grace}s)",
        detail,
        deadline - timedelta(seconds=grace),
        CURRENT,
    )


CAVEATS: dict[str, list[str]] = {
    "Pod": [
        "A parcel that arrives broken goes back to the sender. A container that crashes is "
        "restarted where it stands by the kubelet on the same node, again and again with a "
        "growing pause (CrashLoopBackOff): no courier repairs a parcel on your doorstep.",
        "A delivered parcel stays delivered. A Running Pod can still fail later, so "
        "'Delivered' is only the latest news: use Check again, or kubectl get pods -w.",
        "A Pod never changes depot: once scheduled to a node it stays there. If the node dies, "
        "a controller orders a new Pod instead of re-routing this one.",
    ],
    "Deployment": [
        "A Deployment is a standing order, not a parcel: 'always keep N of these at my door'. "
        "If a Pod disappears, the controller orders a replacement without asking you.",
        "Changing the order (the Pod template) does not alter parcels already delivered: "
        "a new ReplicaSet is packed and the old Pods are swapped out one by one.",
    ],
    "ReplicaSet": [
        "A ReplicaSet is a shelf kept at a fixed count: it makes or removes Pods until the "
        "number matching its selector is right, but it never changes the Pods it already has "
        "when its template changes. A Deployment usually owns it and does that part.",
    ],
    "Job": [
        "For a Job, 'delivered' means the work is done and its Pods have stopped on purpose; "
        "a parcel does not disappear once you open it, but a finished Job's Pods are idle.",
    ],
    "StatefulSet": [
        "A StatefulSet is a row of numbered seats, not a pile of identical parcels: web-0, "
        "web-1, web-2 keep their names (and their own storage, if they ask for it) when they "
        "are replaced, and by default seat N is filled only once seats 0 to N-1 are Ready.",
        "Scaling down empties the highest seat first, one at a time; a changed template "
        "replaces the Pods the same way, from the top down.",
    ],
    "DaemonSet": [
        "A DaemonSet is not a number of parcels but 'one at every depot': a node that joins "
        "gets its Pod, a node that leaves takes its Pod with it. There is no replicas field.",
        "The daemonset controller names the node in each Pod's required node affinity and "
        "the scheduler does the binding, so kubectl describe shows an ordinary Scheduled event.",
    ],
    "CronJob": [
        "A CronJob is a subscription, not an order: at each time its schedule matches it "
        "places a new order, a Job named after that time, and the Job makes the Pods.",
        "The schedule is read in the kube-controller-manager's own time zone (UTC here) "
        "unless spec.timeZone names one. Only the most recent missed time is caught up "
        "after a pause, not every one of them.",
    ],
    "Service": [
        "A Service is not a parcel but a counter with a fixed number: it forwards callers to "
        "whichever Ready Pods match its selector, today's and tomorrow's alike.",
    ],
}
ORDER_NUMBER_CAVEAT = (
    "The order number (metadata.uid) never changes; the record's version, resourceVersion, "
    "changes with every update anyone makes to the object, status included."
)


def timeline(kind: str, obj: dict[str, Any], related: Related, now: datetime) -> Timeline:
    """The whole tracking story of one object, from the POST to where it is now."""
    status = status_of(kind, obj, related.endpoints)
    events = _events_by_reason(related.events)
    steps = _ordered(obj, related)
    if kind == "Pod":
        steps += _pod_steps(obj, events)
    elif kind == "Deployment":
        steps += _deployment_steps(obj, related, events)
    elif kind == "ReplicaSet":
        steps += _replicaset_steps(obj, related, events)
    elif kind == "Job":
        steps += _job_steps(obj, related, events)
    elif kind == "Service":
        steps += _service_steps(obj, related)
    elif kind == "StatefulSet":
        steps += _statefulset_steps(obj, related, events)
    elif kind == "DaemonSet":
        steps += _daemonset_steps(obj, related, events)
    elif kind == "CronJob":
        steps += _cronjob_steps(obj, related, now)
    cancelled = _deletion(obj, events)
    if cancelled is not None:
        for step in steps:
            if step.state == CURRENT:
                step.state = WAITING
        steps.append(cancelled)
    caveats = [*CAVEATS.get(kind, []), ORDER_NUMBER_CAVEAT]
    return Timeline(status, _settle(steps), event_rows(related.events, now), caveats)


# --- remembering the last state, for an order that has gone ---------------------------------


def remember(timeline: Timeline) -> dict[str, Any]:
    """A small, JSON-able copy of a timeline for the session."""
    return {
        "status": [timeline.status.shop, timeline.status.kube, timeline.status.tone],
        "steps": [
            [s.shop, s.api, s.detail, s.when.isoformat() if s.when else "", s.state]
            for s in timeline.steps
        ],
    }


def recall(saved: Any) -> Timeline | None:
    """The timeline kept by `remember`, or None if the session holds nothing usable."""
    try:
        shop, kube, tone = saved["status"]
        steps = [Step(str(a), str(b), str(c), when(d), str(e)) for a, b, c, d, e in saved["steps"]]
    except (KeyError, TypeError, ValueError):
        return None
    return Timeline(Status(str(shop), str(kube), str(tone)), steps, [], [])
