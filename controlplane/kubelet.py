"""The kubelet: one courier per node, taking each Pod bound to its node from Pending to Running.

Nothing really runs; `controlplane.runtime` decides whether an image exists and what a
container's program does (see its docstring for the rules learners can use). Each container
walks a small state machine, one step every `Timing.step` seconds of the injected clock:

    ContainerCreating -> Pulling -> Pulled -> Created/Started (Running)
    bad image:  Pulling -> Failed ErrImagePull -> BackOff ImagePullBackOff -> Pulling ...
    exits:      Running -> Terminated -> (restart policy) restarted at once the first time,
                then CrashLoopBackOff with a doubling back-off, or Succeeded/Failed for good

Deleting a Pod: the API server marks it Terminating (deletionTimestamp); the kubelet emits
`Killing`, stops the containers one step later (bounded by the grace period) and then
finishes the deletion with gracePeriodSeconds=0, as a real kubelet does.
"""

import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apiserver.client import Client
from controlplane import runtime
from controlplane.clock import parse_stamp, stamp
from controlplane.events import EventRecorder
from controlplane.nodes import host_ip, node_index
from controlplane.workqueue import Retries


@dataclass(frozen=True)
class Timing:
    """How fast deliveries move: seconds per step, and crash/pull back-off bounds."""

    step: float = 1.5
    backoff: float = 10.0
    max_backoff: float = 300.0

    def backoff_after(self, failures: int) -> float:
        return min(self.backoff * 2 ** max(failures, 0), self.max_backoff)


@dataclass(frozen=True)
class Note:
    """An event the kubelet wants recorded about a Pod."""

    type: str
    reason: str
    message: str
    container: str = ""


@dataclass
class ContainerRun:
    """What the kubelet remembers about one container of one Pod."""

    name: str
    image: str
    stage: str = "creating"
    due: datetime | None = None
    restarts: int = 0
    pull_failures: int = 0
    started_at: datetime | None = None
    terminated: dict | None = None
    last_terminated: dict | None = None
    container_id: str = ""
    backoff_seconds: float = 0.0
    init: bool = False
    sidecar: bool = False

    @property
    def initialized(self) -> bool:
        """An init container is done once it exited 0 (a sidecar: once it started)."""
        if self.sidecar:
            return self.started_at is not None or self.stage == "running"
        return self.stage == "terminated" and (self.terminated or {}).get("exitCode") == 0

    @property
    def failed_for_good(self) -> bool:
        return self.stage == "terminated" and (self.terminated or {}).get("exitCode") != 0


@dataclass
class PodRun:
    uid: str
    namespace: str
    name: str
    start_time: datetime
    pod_ip: str
    containers: list[ContainerRun] = field(default_factory=list)
    init_containers: list[ContainerRun] = field(default_factory=list)
    killing_due: datetime | None = None
    last_seen: dict | None = None


def _container_id(uid: str, name: str, restarts: int) -> str:
    digest = hashlib.sha256(f"{uid}/{name}/{restarts}".encode()).hexdigest()
    return f"containerd://{digest}"


def _image_id(image: str) -> str:
    ref = runtime.parse_image(image)
    digest = hashlib.sha256(ref.full.encode()).hexdigest()
    return f"{ref.full.rsplit(':', 1)[0]}@sha256:{digest}"


def _restarts(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


def advance(
    run: ContainerRun,
    spec: dict,
    pod: dict,
    now: datetime,
    timing: Timing,
    pulled: set[str],
) -> list[Note]:
    """Take every transition of one container that is due by `now`; return its events.

    Pure apart from `run` and the node's image cache `pulled`, which it updates.
    """
    notes: list[Note] = []
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    if run.sidecar:
        policy = "Always"
    elif run.init and policy == "Always":
        policy = "OnFailure"  # an init container that exits 0 is done, whatever the policy
    step = timedelta(seconds=timing.step)
    name, image = run.name, run.image
    for _ in range(50):
        if run.due is None or run.due > now:
            break
        at = run.due
        if run.stage == "creating":
            pull = spec.get("imagePullPolicy") or runtime.default_pull_policy(image)
            if pull != "Always" and image in pulled:
                notes.append(
                    Note(
                        "Normal",
                        "Pulled",
                        f'Container image "{image}" already present on machine',
                        name,
                    )
                )
                run.stage, run.due = "pulled", at + step
            else:
                notes.append(Note("Normal", "Pulling", f'Pulling image "{image}"', name))
                run.stage, run.due = "pulling", at + step
        elif run.stage == "pulling":
            if runtime.image_exists(image):
                pulled.add(image)
                took = f"{timing.step:.3f}s"
                notes.append(
                    Note(
                        "Normal",
                        "Pulled",
                        f'Successfully pulled image "{image}" in {took} ({took} including waiting).'
                        f" Image size: {runtime.image_size(image)} bytes.",
                        name,
                    )
                )
                run.stage, run.due = "pulled", at + step
            else:
                notes.append(Note("Warning", "Failed", runtime.pull_error(image), name))
                notes.append(Note("Warning", "Failed", "Error: ErrImagePull", name))
                run.stage, run.due = "pull-error", at + step
        elif run.stage == "pull-error":
            notes.append(Note("Normal", "BackOff", f'Back-off pulling image "{image}"', name))
            notes.append(Note("Warning", "Failed", "Error: ImagePullBackOff", name))
            run.stage = "pull-backoff"
            run.due = at + timedelta(seconds=timing.backoff_after(run.pull_failures))
            run.pull_failures += 1
        elif run.stage == "pull-backoff":
            notes.append(Note("Normal", "Pulling", f'Pulling image "{image}"', name))
            run.stage, run.due = "pulling", at + step
        elif run.stage == "pulled":
            notes += _start(run, at, step, spec, pod)
        elif run.stage == "running":
            code = runtime.program(spec).exit_code
            run.terminated = {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": stamp(run.started_at or at),
                "finishedAt": stamp(at),
                "containerID": run.container_id,
            }
            if _restarts(policy, code):
                run.stage, run.due = "exited", at + step
            else:
                run.stage, run.due = "terminated", None
        elif run.stage == "exited":
            run.last_terminated = run.terminated
            if run.restarts == 0:
                run.restarts += 1
                notes += _start(run, at, step, spec, pod, again=True)
            else:
                meta = pod["metadata"]
                notes.append(
                    Note(
                        "Warning",
                        "BackOff",
                        f"Back-off restarting failed container {name} in pod "
                        f"{meta['name']}_{meta['namespace']}({meta['uid']})",
                        name,
                    )
                )
                run.stage = "crash-backoff"
                run.backoff_seconds = timing.backoff_after(run.restarts - 1)
                run.due = at + timedelta(seconds=run.backoff_seconds)
        elif run.stage == "crash-backoff":
            run.restarts += 1
            notes += _start(run, at, step, spec, pod, again=True)
        else:
            run.due = None
    return notes


def _start(
    run: ContainerRun, at: datetime, step: timedelta, spec: dict, pod: dict, again: bool = False
) -> list[Note]:
    notes = []
    if again:
        notes += _pulled_again(run, spec)
    notes.append(Note("Normal", "Created", f"Created container: {run.name}", run.name))
    notes.append(Note("Normal", "Started", f"Started container {run.name}", run.name))
    run.container_id = _container_id(pod["metadata"]["uid"], run.name, run.restarts)
    run.started_at = at
    run.terminated = None
    run.stage = "running"
    seconds = runtime.program(spec).seconds
    run.due = None if seconds is None else at + max(step, timedelta(seconds=seconds))
    return notes


def _pulled_again(run: ContainerRun, spec: dict) -> list[Note]:
    """A restart's image events: the image is on the node by now, but `Always` asks the
    registry again, as a kubelet does on every start (the pull is quick: no layer is new)."""
    if (spec.get("imagePullPolicy") or runtime.default_pull_policy(run.image)) != "Always":
        return [
            Note(
                "Normal",
                "Pulled",
                f'Container image "{run.image}" already present on machine',
                run.name,
            )
        ]
    return [
        Note("Normal", "Pulling", f'Pulling image "{run.image}"', run.name),
        Note(
            "Normal",
            "Pulled",
            f'Successfully pulled image "{run.image}" in 0.001s (0.001s including waiting).'
            f" Image size: {runtime.image_size(run.image)} bytes.",
            run.name,
        ),
    ]


def activate(run: PodRun, now: datetime) -> None:
    """Start the next init container, or the app containers once every init one is done."""
    for container in run.init_containers:
        if container.initialized:
            continue
        if container.stage == "creating" and container.due is None:
            container.due = now
        return
    for container in run.containers:
        if container.stage == "creating" and container.due is None:
            container.due = now


def container_status(run: ContainerRun, pod_key: str) -> dict:
    """One entry of status.containerStatuses, as the kubelet reports it."""
    state: dict
    ready = started = False
    if run.stage in ("creating", "pulling", "pulled") and not run.pull_failures:
        state = {"waiting": {"reason": "ContainerCreating"}}
    elif run.stage in ("pull-error",):
        state = {"waiting": {"reason": "ErrImagePull", "message": _pull_message(run.image)}}
    elif run.stage in ("pull-backoff", "pulling", "creating", "pulled"):
        state = {
            "waiting": {
                "reason": "ImagePullBackOff",
                "message": f'Back-off pulling image "{run.image}"',
            }
        }
    elif run.stage == "running":
        state = {"running": {"startedAt": stamp(run.started_at)}}
        ready = started = True
    elif run.stage == "crash-backoff":
        state = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {_duration(int(run.backoff_seconds))} restarting failed "
                f"container={run.name} pod={pod_key}",
            }
        }
    else:
        state = {"terminated": dict(run.terminated or {})}
        ready = run.init and run.initialized
    status = {
        "name": run.name,
        "state": state,
        "lastState": {"terminated": dict(run.last_terminated)} if run.last_terminated else {},
        "ready": ready,
        "restartCount": run.restarts,
        "image": run.image,
        "imageID": _image_id(run.image) if run.container_id else "",
        "started": started,
    }
    if run.container_id:
        status["containerID"] = run.container_id
    return status


def _pull_message(image: str) -> str:
    return runtime.pull_error(image).split(": ", 1)[1]


def _duration(seconds: int) -> str:
    """Go's time.Duration formatting for whole seconds: 10s, 1m20s, 5m0s."""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def pod_phase(runs: list[ContainerRun], init: list[ContainerRun] = ()) -> str:
    """The Pod phase from its containers, following the kubelet's rules."""
    if any(c.failed_for_good for c in init):
        return "Failed"
    if not all(c.initialized for c in init):
        return "Pending"
    if any(
        r.stage in ("creating", "pulling", "pulled", "pull-error", "pull-backoff")
        and r.restarts == 0
        for r in runs
    ):
        return "Pending"
    if all(r.stage == "terminated" for r in runs):
        codes = [(r.terminated or {}).get("exitCode", 0) for r in runs]
        return "Succeeded" if all(code == 0 for code in codes) else "Failed"
    return "Running"


def pod_status(pod: dict, run: PodRun, node: str, now: datetime) -> dict:
    """The whole status the kubelet reports for `pod`, keeping PodScheduled as it is."""
    old = pod.get("status") or {}
    statuses = [container_status(r, _pod_key(pod)) for r in run.containers]
    if not all(c.initialized for c in run.init_containers):
        for container, entry in zip(run.containers, statuses, strict=True):
            if container.stage == "creating" and container.due is None:
                entry["state"] = {"waiting": {"reason": "PodInitializing"}}
    init_statuses = [container_status(r, _pod_key(pod)) for r in run.init_containers]
    phase = pod_phase(run.containers, run.init_containers)
    finished = phase in ("Succeeded", "Failed")
    incomplete = [c.name for c in run.init_containers if not c.initialized]
    if finished or not incomplete:
        initialized = ("Initialized", True, "PodCompleted" if finished else "", "")
    else:
        initialized = (
            "Initialized",
            False,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        )
    unready = [s["name"] for s in statuses if not s["ready"]]
    ready_reason = "PodCompleted" if finished else "ContainersNotReady"
    ready_message = "" if finished else f"containers with unready status: [{' '.join(unready)}]"
    wanted = [
        ("PodReadyToStartContainers", not finished, "", ""),
        initialized,
        ("Ready", not unready, ready_reason, ready_message),
        ("ContainersReady", not unready, ready_reason, ready_message),
    ]
    previous = {c.get("type"): c for c in old.get("conditions") or []}
    conditions = []
    for kind, ok, reason, message in wanted:
        condition = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}
        if not ok or (kind == "Initialized" and reason):
            if reason:
                condition["reason"] = reason
            if message:
                condition["message"] = message
        before = previous.get(kind)
        same = before and before.get("status") == condition["status"]
        condition["lastTransitionTime"] = before.get("lastTransitionTime") if same else stamp(now)
        conditions.append(condition)
    if "PodScheduled" in previous:
        conditions.append(previous["PodScheduled"])
    host = host_ip(node_index(node))
    status = dict(old)
    status.update(
        {
            "phase": phase,
            "conditions": conditions,
            "hostIP": host,
            "hostIPs": [{"ip": host}],
            "podIP": run.pod_ip,
            "podIPs": [{"ip": run.pod_ip}],
            "startTime": stamp(run.start_time),
            "containerStatuses": statuses,
        }
    )
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    return status


def _is_ip(value: object) -> bool:
    """Whether a Pod's recorded IP can be kept (one written around admission may not)."""
    try:
        ipaddress.ip_address(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def _pod_key(pod: dict) -> str:
    meta = pod["metadata"]
    return f"{meta['name']}_{meta['namespace']}({meta['uid']})"


class Kubelet:
    """The node agent for one node; `sync` acts on the Pods bound to it."""

    def __init__(self, node: str, client: Client, recorder: EventRecorder, timing: Timing) -> None:
        self.node = node
        self.client = client
        self.recorder = recorder
        self.timing = timing
        self.runs: dict[str, PodRun] = {}
        self.pulled: set[str] = set()
        self.retries = Retries(recorder)

    def next_due(self) -> datetime | None:
        """When the kubelet next has something to do, if nothing else changes."""
        times = [
            c.due for r in self.runs.values() for c in r.containers + r.init_containers if c.due
        ]
        times += [r.killing_due for r in self.runs.values() if r.killing_due]
        failed = self.retries.next_due()
        return min([*times, failed] if failed else times, default=None)

    def sync(self, pods: list[dict], now: datetime) -> list[dict]:
        """Act on this node's Pods; return the Pods whose status was written."""
        mine = [p for p in pods if (p.get("spec") or {}).get("nodeName") == self.node]
        present = {p["metadata"]["uid"] for p in mine}
        for uid in list(self.runs):
            if uid not in present:
                self._vanished(self.runs.pop(uid), now)
        written = []
        for pod in mine:
            updated = self.retries.run(pod, now, lambda pod=pod: self._sync_pod(pod, mine, now))
            if updated is not None:
                written.append(updated)
        return written

    def _vanished(self, run: PodRun, now: datetime) -> None:
        """The Pod was removed at once (no graceful deletion): stop what still runs."""
        if run.killing_due is None and run.last_seen is not None:
            for container in run.containers:
                if container.stage in ("running", "exited", "crash-backoff"):
                    self._record(
                        run.last_seen,
                        Note(
                            "Normal",
                            "Killing",
                            f"Stopping container {container.name}",
                            container.name,
                        ),
                        now,
                    )
        self.recorder.forget(run.uid)

    def _sync_pod(self, pod: dict, mine: list[dict], now: datetime) -> dict | None:
        meta = pod["metadata"]
        run = self.runs.get(meta["uid"])
        phase = (pod.get("status") or {}).get("phase")
        if run is None:
            if phase in ("Succeeded", "Failed") and not meta.get("deletionTimestamp"):
                return None
            run = self._admit(pod, mine, now)
        run.last_seen = pod
        if meta.get("deletionTimestamp"):
            self._terminate(pod, run, now)
            return None
        spec = pod["spec"]
        specs = {c["name"]: c for c in spec.get("initContainers") or []}
        specs |= {c["name"]: c for c in spec.get("containers") or []}
        for _ in range(len(run.init_containers) + 1):
            activate(run, now)
            done = sum(c.initialized for c in run.init_containers)
            for container in run.init_containers + run.containers:
                notes = advance(
                    container, specs.get(container.name, {}), pod, now, self.timing, self.pulled
                )
                for note in notes:
                    self._record(pod, note, now, init=container.init)
            if sum(c.initialized for c in run.init_containers) == done:
                break
        return self._write_status(pod, run, now)

    def _admit(self, pod: dict, mine: list[dict], now: datetime) -> PodRun:
        """First sight of a Pod on this node: give it an IP and start its containers' clocks."""
        meta = pod["metadata"]
        status = pod.get("status") or {}
        used = {(p.get("status") or {}).get("podIP") for p in mine}
        used |= {r.pod_ip for r in self.runs.values()}
        pod_ip = status.get("podIP")
        if not _is_ip(pod_ip):
            pod_ip = self._free_ip(used)
        run = PodRun(
            uid=meta["uid"],
            namespace=meta["namespace"],
            name=meta["name"],
            start_time=parse_stamp(status.get("startTime")) or now,
            pod_ip=pod_ip,
        )
        known = {s["name"]: s for s in status.get("containerStatuses") or []}
        known |= {s["name"]: s for s in status.get("initContainerStatuses") or []}
        for spec in pod["spec"].get("initContainers") or []:
            container = ContainerRun(
                name=spec["name"],
                image=spec.get("image", ""),
                init=True,
                sidecar=spec.get("restartPolicy") == "Always",
            )
            _recover(container, known.get(spec["name"]), spec, now, self.timing)
            run.init_containers.append(container)
        for spec in pod["spec"].get("containers") or []:
            container = ContainerRun(name=spec["name"], image=spec.get("image", ""))
            _recover(container, known.get(spec["name"]), spec, now, self.timing)
            run.containers.append(container)
        self.runs[meta["uid"]] = run
        return run

    def _free_ip(self, used: set) -> str:
        index = node_index(self.node)
        for host in range(2, 255):
            candidate = f"10.244.{index}.{host}"
            if candidate not in used:
                return candidate
        return f"10.244.{index}.254"

    def _terminate(self, pod: dict, run: PodRun, now: datetime) -> None:
        """Graceful deletion: Killing now, containers stopped a step later, then delete."""
        meta = pod["metadata"]
        if run.killing_due is None:
            grace = meta.get("deletionGracePeriodSeconds")
            wait = self.timing.step if grace is None else min(self.timing.step, float(grace))
            run.killing_due = now + timedelta(seconds=wait)
            for container in run.containers:
                if container.stage in ("running", "exited", "crash-backoff"):
                    self._record(
                        pod,
                        Note(
                            "Normal",
                            "Killing",
                            f"Stopping container {container.name}",
                            container.name,
                        ),
                        now,
                    )
            return
        if run.killing_due > now:
            return
        for container in run.containers:
            if container.stage == "running":
                container.terminated = {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": stamp(container.started_at or now),
                    "finishedAt": stamp(now),
                    "containerID": container.container_id,
                }
                container.stage = "terminated"
            container.due = None
        self.client.delete("pods", meta["name"], meta["namespace"], grace_period=0, uid=meta["uid"])

    def _record(self, pod: dict, note: Note, now: datetime, init: bool = False) -> None:
        group = "initContainers" if init else "containers"
        field_path = f"spec.{group}{{{note.container}}}" if note.container else ""
        self.recorder.record(pod, note.type, note.reason, note.message, now, field_path)

    def _write_status(self, pod: dict, run: PodRun, now: datetime) -> dict | None:
        def change(current: dict) -> dict | None:
            if current["metadata"]["uid"] != run.uid:
                return None
            current["status"] = pod_status(current, run, self.node, now)
            return current

        if pod_status(pod, run, self.node, now) == pod.get("status"):
            return None
        return self.client.update_status("pods", run.name, run.namespace, change)


def _recover(
    container: ContainerRun, status: dict | None, spec: dict, now: datetime, timing: Timing
) -> None:
    """Pick a container up where a previous kubelet left it (after a restart)."""
    if not status:
        return
    container.restarts = status.get("restartCount", 0)
    container.last_terminated = (status.get("lastState") or {}).get("terminated")
    container.container_id = status.get("containerID", "")
    state = status.get("state") or {}
    if "running" in state:
        container.stage = "running"
        container.started_at = parse_stamp(state["running"].get("startedAt")) or now
        seconds = runtime.program(spec).seconds
        container.due = (
            None
            if seconds is None
            else max(now, container.started_at + timedelta(seconds=max(seconds, timing.step)))
        )
    elif "terminated" in state:
        container.stage = "terminated"
        container.terminated = state["terminated"]
        container.due = None
