"""What a container printed: the kubelet's side of `kubectl logs`.

In a cluster the API server asks the node's kubelet for a container's log, and the
kubelet reads the file the container runtime wrote. The pretend runtime runs nothing, so
here the log is written from the Pod's own record: what the container was told to run
(`controlplane.runtime` reads its command) and when each run started and ended (its
status, as the kubelet reported it). The same run always gives the same lines, so a
learner can read it again, follow it, or ask for the run before a crash (`--previous`).

What each run prints:
- with no command, an image's own start-up lines (nginx, redis, postgres...), and for
  tool images (busybox, alpine...) nothing: their shell had no input;
- `echo`/`printf` their words (`$(date)` and `$(hostname)` filled in), `date` the time,
  `hostname` and `$HOSTNAME` the Pod's name, `env`/`printenv` the environment;
- `sleep N` lets N seconds pass, so `while true; do echo tick; sleep 5; done` prints a
  line every five seconds for as long as the run lasts; `exit N` ends the run.

Refusals use the kubelet's words (a 400 from the API server): a container still waiting
to start, an image that cannot be pulled, no previous run, or a container the Pod lacks.
"""

from datetime import UTC, datetime

from apiserver.errors import NotReadable
from controlplane import runtime, shell

# A loop without a sleep would print forever at once; a run shows at most this many lines.
MAX_LINES = 5000


Line = tuple[datetime, str]


def read(pod: dict, container: str, previous: bool, now: datetime) -> list[Line]:
    """The lines of one run of `container` in `pod`, each with when it was written."""
    pod_name = pod["metadata"]["name"]
    spec = _container(pod, container)
    status = _status(pod, container)
    started, finished = _run(status, container, pod_name, previous)
    until = min(finished or now, now)
    return output(spec, pod, started, until)


def container_names(pod: dict) -> list[str]:
    return [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]


def _container(pod: dict, name: str) -> dict:
    spec = pod.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if container.get("name") == name:
            return container
    raise NotReadable(f"container {name} is not valid for pod {pod['metadata']['name']}")


def _status(pod: dict, name: str) -> dict:
    status = pod.get("status") or {}
    for entry in (status.get("containerStatuses") or []) + (
        status.get("initContainerStatuses") or []
    ):
        if entry.get("name") == name:
            return entry
    return {}


def _run(status: dict, name: str, pod: str, previous: bool) -> tuple[datetime, datetime | None]:
    """When the run asked for started and ended (None: still running), as the kubelet
    chooses it: the running one, else the last that ended; `previous` the one before."""
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated")
    if previous:
        if not last:
            raise NotReadable(f'previous terminated container "{name}" in pod "{pod}" not found')
        return _span(last)
    if "running" in state:
        return _stamp(state["running"].get("startedAt")) or _epoch(), None
    if "terminated" in state:
        return _span(state["terminated"])
    if last:
        return _span(last)
    reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
    if reason == "ErrImagePull":
        reason = "image can't be pulled"
    elif reason == "ImagePullBackOff":
        reason = "trying and failing to pull image"
    raise NotReadable(f'container "{name}" in pod "{pod}" is waiting to start: {reason}')


def _span(terminated: dict) -> tuple[datetime, datetime | None]:
    started = _stamp(terminated.get("startedAt")) or _epoch()
    return started, _stamp(terminated.get("finishedAt")) or started


def _stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC)


def output(container: dict, pod: dict, started: datetime, until: datetime) -> list[Line]:
    """What the container's program prints between `started` and `until`."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if not words:
        return _entrypoint(container.get("image", ""), started, until)
    script = shell.script_of(words)
    if script is None:
        return []
    runner = shell.Shell(shell.Box(pod=pod, container=container), trusting=True, clock=started)
    lines: list[Line] = []
    for kind, text in runner.run(script):
        if runner.clock > until or len(lines) >= MAX_LINES * 2:
            break
        if kind == "out":
            lines.extend((runner.clock, line) for line in str(text).split("\n"))
        elif kind == "sleep" and text is None:
            break
    return lines[-MAX_LINES:]


def _entrypoint(image: str, started: datetime, until: datetime) -> list[Line]:
    ref = runtime.parse_image(image)
    name = runtime.catalog_name(ref)
    lines = shell.server_lines(name, image, started)
    return [(started, line) for line in lines if started <= until]
