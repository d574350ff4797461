"""The delivery tracker: a parcel's six stops, folded from the tracking timeline.

`tracking.timeline` already tells each step of an order in both languages. The tracker
folds those steps into the stops a shop's progress bar shows (ordered, checked, in the
order book, shipped, out for delivery, delivered), names the problem that stopped a
parcel, and says what to type to fix it. `tree` draws a workload's family (Deployment,
its ReplicaSets, their Pods) from what `tracking.gather` already read as the learner.
Everything here is pure, so it is tested with hand-made objects.
"""

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from catalog.dictionary import TRACKING
from shop import tracking
from shop.tracking import CURRENT, DONE, PROBLEM, WAITING, Related, Timeline

# A Pod that no scheduler has answered for this long is flagged, even without a verdict.
PENDING_PATIENCE = timedelta(minutes=2)

# Kinds whose orders end as Pods on nodes, so they are shipped and taken out for delivery.
RUNS_PODS = {"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}


def _stop_words(key: str, shop: str) -> tuple[str, str, str]:
    """A stop's key, its shop word and what it is in Kubernetes, from the one dictionary."""
    return key, shop, TRACKING[shop]


# The stops, in order.
ORDERED = _stop_words("ordered", "Ordered")
CHECKED = _stop_words("checked", "Checked")
STORED = _stop_words("stored", "In the order book")
SHIPPED = _stop_words("shipped", "Shipped")
OUT = _stop_words("out", "Out for delivery")

# What "delivered" means for each kind.
DELIVERED_WORDS = {
    "Pod": "Running and Ready",
    "Deployment": "Every replica Running, Ready and available",
    "ReplicaSet": "Every replica Running and Ready",
    "StatefulSet": "Every numbered Pod Running and Ready",
    "DaemonSet": "A Ready Pod on every node that should run one",
    "Job": "Its Pods ran to completion (Complete)",
    "Service": "Ready Pod addresses listed in its Endpoints",
    "CronJob": "Subscribed: a new Job at each scheduled time",
}
STORED_IS_DELIVERED = "Nothing runs for this kind: once stored, it is delivered"

# Which stop each of the timeline's shop words belongs to.
STEP_STOPS = {
    "Order placed": "ordered",
    "Checks passed": "checked",
    "In the order book": "stored",
    "Packed": "stored",
    "Counter number assigned": "stored",
    "Subscribed": "stored",
    "Shipped": "shipped",
    "Delayed": "shipped",
    "No depot qualifies": "shipped",
    "Out for delivery": "out",
    "Supplier problem": "out",
    "Returned damaged": "delivered",
    "Returned": "delivered",
    "Delivered": "delivered",
    "Waiting for stock": "delivered",
    "Next order": "delivered",
    "Subscription paused": "delivered",
}
# A StatefulSet's seat tells a single Pod's story: "In the order book" is waiting to be shipped.
SEAT_STOPS = {**STEP_STOPS, "In the order book": "shipped"}
CANCELLED = "Cancelled"


@dataclass(frozen=True)
class Stop:
    """One stop of the progress bar; `news` is the timeline's latest line about it."""

    key: str
    shop: str
    kube: str
    state: str = WAITING
    news: str = ""
    when: datetime | None = None


@dataclass(frozen=True)
class Advice:
    """One thing to do next, and the command for it when there is one."""

    text: str
    command: str = ""


@dataclass(frozen=True)
class Problem:
    """Why the parcel stopped: image, crash, unschedulable, pending, failed or stalled."""

    kind: str
    shop: str
    kube: str
    detail: str
    advice: tuple[Advice, ...] = ()


@dataclass(frozen=True)
class Tracker:
    stops: tuple[Stop, ...]
    here: int
    problem: Problem | None = None
    # "cancelled" (Terminating) or "gone" (404), with the words to show for it.
    off_route: str = ""
    off_route_words: str = ""

    @property
    def now(self) -> Stop:
        return self.stops[self.here]


# --- folding the timeline into stops --------------------------------------------------------


def _stop_of(shop: str) -> str:
    """The stop a timeline step belongs to ("" for a cancellation)."""
    if shop == CANCELLED:
        return ""
    if shop in STEP_STOPS:
        return STEP_STOPS[shop]
    if shop.startswith("Seat"):
        head, _, word = shop.partition(": ")
        if word:
            return SEAT_STOPS.get(word, "delivered")
        return "delivered"  # "Seat 2 filled", or a seat still empty
    if shop.startswith("Order "):  # a CronJob's Job: "Order delivered"
        return "delivered"
    return STEP_STOPS.get(shop, "delivered")


def _fold(states: list[str]) -> str:
    if PROBLEM in states:
        return PROBLEM
    if CURRENT in states:
        return CURRENT
    if states and all(s == DONE for s in states):
        return DONE
    if DONE in states:
        return CURRENT  # some of it done, some still to come: a seat filled, others empty
    return WAITING


def _layout(kind: str) -> list[tuple[str, str, str]]:
    delivered = ("delivered", "Delivered", DELIVERED_WORDS.get(kind, STORED_IS_DELIVERED))
    if kind in RUNS_PODS:
        return [ORDERED, CHECKED, STORED, SHIPPED, OUT, delivered]
    return [ORDERED, CHECKED, STORED, delivered]


def build(
    kind: str,
    line: Timeline,
    now: datetime,
    obj: dict[str, Any] | None = None,
    related: Related | None = None,
    gone: bool = False,
) -> Tracker:
    """The progress bar of one order, from its timeline (and the object, for the advice).

    Each stop takes the steps that belong to it: a problem among them makes it the problem
    stop, a step in progress the current one; a stop no step speaks of counts as passed
    once a later stop has news. `gone` is an order the API server no longer has.
    """
    layout = _layout(kind)
    keys = [key for key, _, _ in layout]
    found: dict[str, list[tracking.Step]] = {key: [] for key in keys}
    cancelled = None
    for step in line.steps:
        key = _stop_of(step.shop)
        if not key:
            cancelled = step
            continue
        if key not in found:  # a stop this kind does not show: it is part of the next one
            key = "delivered"
        found[key].append(step)
    states = [_fold([s.state for s in found[key]]) for key in keys]
    delivered = line.status.final and line.status.tone == "ok"
    for index, state in enumerate(states):
        passed = delivered or any(later != WAITING for later in states[index + 1 :])
        if state == WAITING and not found[keys[index]] and passed:
            states[index] = DONE
    problem_step = next((s for s in line.steps if s.state == PROBLEM), None)
    here = _here(states)
    problem = None
    if gone or cancelled is not None:
        problem = None  # the order is leaving, or has left: nothing more to fix
    elif problem_step is not None:
        problem = _problem(_problem_kind(problem_step), problem_step, kind, obj, related)
    elif line.status.tone == "problem":
        states[here] = PROBLEM
        stalled = tracking.Step(line.status.shop, line.status.kube)
        problem = _problem("stalled", stalled, kind, obj, related)
    elif _pending_too_long(kind, keys, states, here, line, now):
        states[here] = PROBLEM
        waited = now - (line.steps[0].when or now)
        pending = tracking.Step(
            "Delayed",
            f"Pending for {int(waited.total_seconds() // 60)} minutes, not scheduled",
            "No scheduler has bound it to a node, and none has said why not",
        )
        problem = _problem("pending", pending, kind, obj, related)
    stops = tuple(
        _stop(key, shop, kube, state, found[key])
        for (key, shop, kube), state in zip(layout, states, strict=True)
    )
    if gone:
        return Tracker(stops, here, None, "gone", "Deleted: the API server answers 404 NotFound")
    if cancelled is not None:
        return Tracker(stops, here, None, "cancelled", cancelled.api)
    return Tracker(stops, here, problem)


# Timeline steps whose words only repeat their stop's own.
PLAIN_STEPS = {"Checks passed", "In the order book"}


def _here(states: list[str]) -> int:
    """The problem stop, else the first in progress, else the last one reached."""
    for wanted in (PROBLEM, CURRENT):
        if wanted in states:
            return states.index(wanted)
    reached = [i for i, state in enumerate(states) if state == DONE]
    return reached[-1] if reached else 0


def _stop(key: str, shop: str, kube: str, state: str, steps: list[tracking.Step]) -> Stop:
    """The stop with its latest news: the step in trouble, else in progress, else the last."""
    chosen = None
    for wanted in (PROBLEM, CURRENT, DONE):
        chosen = next((s for s in steps if s.state == wanted), None)
        if chosen is not None:
            break
    if chosen is not None and chosen.state == DONE:
        chosen = [s for s in steps if s.state == DONE][-1]
    if chosen is None:
        return Stop(key, shop, kube, state)
    news = chosen.api
    if chosen.state == CURRENT and chosen.detail.startswith("Waiting for"):
        news = chosen.detail  # who it waits for says more than the step it waits to reach
    if key == "ordered":  # the POST itself, when the audit log matched it
        news = chosen.detail if chosen.detail.startswith("POST ") else ""
    elif chosen.shop in PLAIN_STEPS:
        news = ""
    elif news == kube:  # the goal itself: say how far it is, if the step knows
        news = chosen.detail if chosen.state == CURRENT else ""
    return Stop(key, shop, kube, state, news, chosen.when)


def _pending_too_long(
    kind: str, keys: list[str], states: list[str], here: int, line: Timeline, now: datetime
) -> bool:
    placed = line.steps[0].when if line.steps else None
    return (
        kind in RUNS_PODS
        and keys[here] == "shipped"
        and states[here] == CURRENT
        and placed is not None
        and now - placed > PENDING_PATIENCE
    )


def _problem_kind(step: tracking.Step) -> str:
    word = step.shop.partition(": ")[2] if step.shop.startswith("Seat") else step.shop
    return {
        "Supplier problem": "image",
        "Returned damaged": "crash",
        "Delayed": "unschedulable" if "Unschedulable" in step.api else "stalled",
        "Returned": "failed",
    }.get(word, "stalled")


# --- what to do next ------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _template_containers(kind: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = _dict(obj.get("spec"))
    if kind == "Pod":
        return [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    if kind == "CronJob":
        spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    pod_spec = _dict(_dict(spec.get("template")).get("spec"))
    return [c for c in pod_spec.get("containers") or [] if isinstance(c, dict)]


def _culprit(
    kind: str, obj: dict[str, Any], pods: list[dict[str, Any]], reasons: set[str]
) -> tuple[str, str, str]:
    """(Pod, container, image) of the first container waiting for one of `reasons`."""
    for pod in [obj] if kind == "Pod" else pods:
        images = {
            str(c.get("name")): str(c.get("image", ""))
            for c in _dict(pod.get("spec")).get("containers") or []
            if isinstance(c, dict)
        }
        for status in _dict(pod.get("status")).get("containerStatuses") or []:
            waiting = _dict(_dict(_dict(status).get("state")).get("waiting"))
            if waiting.get("reason") in reasons:
                name = str(status.get("name", ""))
                pod_name = str(_dict(pod.get("metadata")).get("name", ""))
                return pod_name, name, images.get(name) or str(status.get("image", ""))
    containers = _template_containers(kind, obj) or [{}]
    first = pods[0] if pods else obj if kind == "Pod" else {}
    return (
        str(_dict(first.get("metadata")).get("name", "")),
        str(containers[0].get("name", "")),
        str(containers[0].get("image", "")),
    )


def _owner(obj: dict[str, Any], kind: str) -> str:
    for ref in _dict(obj.get("metadata")).get("ownerReferences") or []:
        if _dict(ref).get("kind") == kind:
            return str(ref.get("name", ""))
    return ""


def _problem(
    kind_of_problem: str,
    step: tracking.Step,
    kind: str,
    obj: dict[str, Any] | None,
    related: Related | None,
) -> Problem:
    word = step.shop.partition(": ")[2] if step.shop.startswith("Seat") else step.shop
    advice: tuple[Advice, ...] = ()
    if obj:
        advice = tuple(_advice(kind_of_problem, kind, obj, related or Related()))
    return Problem(kind_of_problem, word, step.api, step.detail, advice)


def _advice(problem: str, kind: str, obj: dict[str, Any], related: Related) -> list[Advice]:
    """What the learner can type next, for this kind of object and this kind of trouble."""
    meta = _dict(obj.get("metadata"))
    name = shlex.quote(str(meta.get("name", "")))
    ns = "-n " + shlex.quote(str(meta.get("namespace", "")))
    resource = f"{str(obj.get('kind') or kind).lower()}/{name}"
    reasons = {
        "image": tracking.IMAGE_PROBLEMS,
        "crash": tracking.CRASHING,
    }.get(problem, set())
    pod, container, image = _culprit(kind, obj, related.pods, reasons)
    pod = shlex.quote(pod or str(meta.get("name", "")))
    container = shlex.quote(container)
    owner = _owner(obj, "Deployment") if kind == "ReplicaSet" else ""
    if owner:
        kind, name, resource = "Deployment", shlex.quote(owner), f"deployment/{shlex.quote(owner)}"
    if problem == "image":
        return _image_advice(kind, name, resource, container, image, pod, ns, related, owner)
    if problem == "crash":
        return _crash_advice(kind, name, resource, container, pod, ns, owner)
    if problem in ("unschedulable", "pending"):
        return _scheduling_advice(problem, kind, resource, container, pod, ns)
    if problem == "failed":
        return _failed_advice(kind, name, resource, container, pod, ns)
    return _stalled_advice(resource, ns)


def _image_advice(
    kind: str,
    name: str,
    resource: str,
    container: str,
    image: str,
    pod: str,
    ns: str,
    related: Related,
    owner: str,
) -> list[Advice]:
    fix = f"kubectl set image {resource} {container}=IMAGE {ns}"
    which = (
        f"Replace IMAGE with a name and tag the registry really has (this one asks for {image})."
        if image
        else "Replace IMAGE with a name and tag the registry really has."
    )
    if kind == "Pod":
        return [
            Advice(
                "A Pod's container images are among the few fields you may change on a Pod "
                "that already exists; the kubelet then pulls the new image and starts the "
                f"container. {which}",
                fix,
            ),
            Advice(
                "Most other fields of its containers, such as the command, cannot be changed "
                "once the Pod exists: for those, delete it and order it again with the fix.",
                f"kubectl delete pod {name} {ns}",
            ),
        ]
    if kind == "Job":
        return [
            Advice(
                "A Job's containers cannot be changed after it is created: delete the Job "
                f"(its Pods go with it) and create it again with a working image. {which}",
                f"kubectl delete job {name} {ns}",
            )
        ]
    steps = []
    if owner:
        steps.append(
            Advice(
                f"This ReplicaSet belongs to Deployment {owner}, which decides what its "
                "ReplicaSets run: fix the image there, not here."
            )
        )
    if kind == "Deployment":
        steps.append(
            Advice(
                "Change the image in the Deployment's Pod template: it starts a new "
                f"ReplicaSet with it and replaces the Pods that cannot pull. {which}",
                fix,
            )
        )
        if len(related.replicasets) > 1:
            steps.append(
                Advice(
                    "Or go back to the template of the previous rollout:",
                    f"kubectl rollout undo {resource} {ns}",
                )
            )
        steps.append(
            Advice(
                "Then follow the rollout until it is done:",
                f"kubectl rollout status {resource} {ns}",
            )
        )
        return steps
    steps.append(Advice(f"Change the image in the {kind}'s Pod template. {which}", fix))
    if kind in ("ReplicaSet", "StatefulSet"):
        why = (
            "A ReplicaSet never changes the Pods it already made"
            if kind == "ReplicaSet"
            else "With the default OrderedReady policy a StatefulSet's rollout waits for a "
            "Pod that never became Ready"
        )
        steps.append(
            Advice(
                f"{why}: delete the broken Pod and it is made again from the fixed template.",
                f"kubectl delete pod {pod} {ns}",
            )
        )
    return steps


def _crash_advice(
    kind: str, name: str, resource: str, container: str, pod: str, ns: str, owner: str
) -> list[Advice]:
    steps = [
        Advice(
            "Read what the container printed before it stopped; --previous shows the run that "
            "crashed, not the one starting now.",
            f"kubectl logs {pod} -c {container} --previous {ns}",
        ),
        Advice(
            "Its exit code and reason are under Last State, and the kubelet's notes at the end:",
            f"kubectl describe pod {pod} {ns}",
        ),
    ]
    if kind == "Pod":
        steps.append(
            Advice(
                "The kubelet keeps restarting it, waiting longer each time. A Pod's command "
                "cannot be changed once it exists: delete it and order it again fixed.",
                f"kubectl delete pod {name} {ns}",
            )
        )
    elif kind == "Job":
        steps.append(
            Advice(
                "A Job's containers cannot be changed after it is created: delete the Job "
                "and create it again with a fixed command or image.",
                f"kubectl delete job {name} {ns}",
            )
        )
    else:
        where = f"the Deployment that owns it, {owner}" if owner else f"the {kind}'s Pod template"
        steps.append(
            Advice(
                f"Fix the command or the image in {where}; new Pods are rolled out from it.",
                f"kubectl edit {resource} {ns}",
            )
        )
    return steps


def _scheduling_advice(
    problem: str, kind: str, resource: str, container: str, pod: str, ns: str
) -> list[Advice]:
    steps = [
        Advice(
            "The Events name each reason the scheduler ruled nodes out (for example "
            "Insufficient cpu, or a node selector no node matches)."
            if problem == "unschedulable"
            else "A Pod stays Pending with no verdict when spec.schedulerName names a scheduler "
            "that is not running, or while it still has scheduling gates. Look at its Events "
            "and conditions:",
            f"kubectl describe pod {pod} {ns}",
        )
    ]
    if problem == "pending":
        return steps
    if kind == "Pod":
        steps.append(
            Advice(
                "For a single Pod the simplest fix is to delete it and order it again asking "
                "for less CPU or memory, or with a node selector some node matches.",
                f"kubectl delete pod {pod} {ns}",
            )
        )
    elif kind == "Job":
        steps.append(
            Advice(
                "A Job's containers cannot be changed after it is created: delete the Job "
                "and create it again asking for less.",
                f"kubectl delete {resource} {ns}",
            )
        )
    else:
        steps.append(
            Advice(
                "Ask for less in the Pod template; new Pods are rolled out with the new requests.",
                f"kubectl set resources {resource} -c {container} "
                f"--requests=cpu=100m,memory=64Mi {ns}",
            )
        )
    return steps


def _failed_advice(
    kind: str, name: str, resource: str, container: str, pod: str, ns: str
) -> list[Advice]:
    logs = (
        f"kubectl logs {resource} {ns}"
        if kind == "Job"
        else f"kubectl logs {pod} -c {container} {ns}"
    )
    return [
        Advice("Read what it printed before it stopped:", logs),
        Advice(
            "A Pod that has failed does not start again, and neither does a failed Job: "
            "delete it and order it again once the cause is fixed.",
            f"kubectl delete {resource} {ns}",
        ),
    ]


def _stalled_advice(resource: str, ns: str) -> list[Advice]:
    return [
        Advice(
            "Its conditions and Events say what holds it up:",
            f"kubectl describe {resource} {ns}",
        ),
        Advice(
            "If they say the quota is exceeded, your namespace's ResourceQuota is full: delete "
            "orders you no longer need, or ask for fewer replicas.",
            f"kubectl describe quota {ns}",
        ),
    ]


# --- a workload's family --------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One object in a workload's tree, with its state as `kubectl get` would word it."""

    kind: str
    name: str
    words: str
    tone: str
    note: str = ""
    group: str = "core"
    plural: str = "pods"
    version: str = "v1"
    children: tuple["Node", ...] = ()


# Kinds whose tracking page draws the tree, and where each lives in the API.
TREE_KINDS = {
    "Deployment": ("apps", "deployments"),
    "ReplicaSet": ("apps", "replicasets"),
    "StatefulSet": ("apps", "statefulsets"),
    "DaemonSet": ("apps", "daemonsets"),
    "Job": ("batch", "jobs"),
}
REVISION = "deployment.kubernetes.io/revision"


def _uid(obj: dict[str, Any]) -> str:
    return str(_dict(obj.get("metadata")).get("uid", ""))


def _children_of(owner: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    uid = _uid(owner)
    return [
        o
        for o in objects
        if any(
            _dict(ref).get("uid") == uid
            for ref in _dict(o.get("metadata")).get("ownerReferences") or []
        )
    ]


def _pod_node(pod: dict[str, Any]) -> Node:
    status = tracking.status_of("Pod", pod)
    node = _dict(pod.get("spec")).get("nodeName")
    count = tracking.restarts(pod)
    note = f"on {node}" if node else "not scheduled yet"
    if count:
        note += f", {count} restart{'s' if count != 1 else ''}"
    name = str(_dict(pod.get("metadata")).get("name", ""))
    return Node("Pod", name, tracking.pod_word(pod), status.tone, note)


def _by_name(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objects, key=lambda o: str(_dict(o.get("metadata")).get("name", "")))


def tree(kind: str, obj: dict[str, Any], related: Related) -> Node | None:
    """Deployment → ReplicaSets (newest first) → Pods; other workloads → their Pods.

    Only what `tracking.gather` read is drawn, so the tree and the timeline always agree.
    A ReplicaSet owned by a Deployment hangs under it, unread, as a pointer to its page.
    """
    if kind not in TREE_KINDS:
        return None
    group, plural = TREE_KINDS[kind]
    meta = _dict(obj.get("metadata"))
    status = tracking.status_of(kind, obj)
    if kind == "Deployment":
        sets = sorted(
            related.replicasets,
            key=lambda rs: int(
                str(_dict(_dict(rs.get("metadata")).get("annotations")).get(REVISION) or 0)
            ),
            reverse=True,
        )
        children = tuple(_replicaset_node(rs, related.pods) for rs in sets)
    else:
        children = tuple(_pod_node(p) for p in _by_name(_children_of(obj, related.pods)))
    root = Node(
        kind, str(meta.get("name", "")), status.kube, status.tone, "", group, plural, "v1", children
    )
    if kind == "ReplicaSet" and (owner := _owner(obj, "Deployment")):
        return Node("Deployment", owner, "", "", "its owner", "apps", "deployments", "v1", (root,))
    return root


def _replicaset_node(rs: dict[str, Any], pods: list[dict[str, Any]]) -> Node:
    meta = _dict(rs.get("metadata"))
    status = tracking.status_of("ReplicaSet", rs)
    revision = _dict(meta.get("annotations")).get(REVISION)
    pods_of = tuple(_pod_node(p) for p in _by_name(_children_of(rs, pods)))
    return Node(
        "ReplicaSet",
        str(meta.get("name", "")),
        status.kube,
        status.tone,
        f"revision {revision}" if revision else "",
        "apps",
        "replicasets",
        "v1",
        pods_of,
    )
