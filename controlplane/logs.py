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

import re
import shlex
from datetime import UTC, datetime, timedelta

from apiserver.errors import NotReadable
from controlplane import runtime

# A loop without a sleep would print forever at once; a run shows at most this many lines.
MAX_LINES = 5000

_LOOP = re.compile(r"^\s*(?:while|until)\s+(?:true|:)\s*;?\s*do\s+(?P<body>.*?);?\s*done", re.S)


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
    shell = words[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash")
    if shell and "-c" in words:
        at = words.index("-c")
        script = " ".join(words[at + 1 : at + 2])
    elif shell:
        return []
    else:
        script = shlex.join(words)
    printer = _Printer(container, pod, started, until)
    printer.run(script)
    return printer.lines[-MAX_LINES:]


class _Printer:
    """Runs a tiny script against the clock, keeping what it prints before `until`."""

    def __init__(self, container: dict, pod: dict, started: datetime, until: datetime) -> None:
        self.container = container
        self.pod = pod
        self.clock = started
        self.until = until
        self.lines: list[Line] = []
        self.stopped = False

    def run(self, script: str) -> None:
        while script.strip() and not self.stopped:
            loop = _LOOP.match(script)
            if loop:
                self.forever(loop["body"])
                return
            statement, script = _next_statement(script)
            self.statement(statement)

    def forever(self, body: str) -> None:
        statements = [s for s in _statements(body) if s.strip()]
        if not statements:
            return
        while not self.stopped and len(self.lines) < MAX_LINES:
            before = self.clock
            for statement in statements:
                self.statement(statement)
                if self.stopped:
                    return
            if self.clock == before:  # a loop that never sleeps: one pass says enough
                return

    def say(self, text: str) -> None:
        if self.clock > self.until:
            self.stopped = True
            return
        for line in text.split("\n"):
            self.lines.append((self.clock, line))

    def statement(self, statement: str) -> None:
        try:
            words = shlex.split(statement)
        except ValueError:
            words = statement.split()
        if not words:
            return
        head = words[0].rsplit("/", 1)[-1]
        if head == "echo":
            flags = {"-n", "-e", "-ne", "-en"}
            self.say(self.expand(" ".join(w for w in words[1:] if w not in flags)))
        elif head == "printf":
            text = " ".join(words[1:2]).replace("\\n", "\n").rstrip("\n")
            self.say(self.expand(text))
        elif head == "date":
            self.say(_date(self.clock))
        elif head == "hostname":
            self.say(self.pod["metadata"]["name"])
        elif head in ("env", "printenv"):
            for name, value in self.environment().items():
                self.say(f"{name}={value}")
        elif head == "sleep":
            seconds = runtime.sleep_seconds(words[1] if len(words) > 1 else "0")
            if seconds is None:
                self.stopped = True
            else:
                self.clock += timedelta(seconds=seconds)
                if self.clock > self.until:
                    self.stopped = True
        elif head == "exit":
            self.stopped = True
        elif head in runtime.SERVERS:
            for line in _server_lines(head, self.container.get("image", ""), self.clock):
                self.say(line)
            self.stopped = True

    def expand(self, text: str) -> str:
        name = self.pod["metadata"]["name"]
        text = re.sub(r"\$\(date\)|`date`", _date(self.clock), text)
        text = re.sub(r"\$\(hostname\)|`hostname`|\$\{?HOSTNAME\}?", name, text)
        for key, value in self.environment().items():
            text = re.sub(rf"\$\{{{key}\}}|\${key}\b", value, text)
        return text

    def environment(self) -> dict[str, str]:
        found = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOSTNAME": self.pod["metadata"]["name"],
        }
        for entry in self.container.get("env") or []:
            if "value" in entry:
                found[entry["name"]] = str(entry["value"])
        found["KUBERNETES_SERVICE_HOST"] = "10.96.0.1"
        found["KUBERNETES_SERVICE_PORT"] = "443"
        found["HOME"] = "/root"
        return found


def _statements(script: str) -> list[str]:
    return list(runtime.STATEMENT_BREAKS.split(script))


def _next_statement(script: str) -> tuple[str, str]:
    """The first statement of `script` and the rest (a loop starts a statement of its own)."""
    match = runtime.STATEMENT_BREAKS.search(script)
    if match is None:
        return script, ""
    return script[: match.start()], script[match.end() :]


def _date(moment: datetime) -> str:
    return moment.strftime("%a %b %e %H:%M:%S UTC %Y").replace("  ", " ")


def _entrypoint(image: str, started: datetime, until: datetime) -> list[Line]:
    ref = runtime.parse_image(image)
    name = runtime.catalog_name(ref)
    return [(started, line) for line in _server_lines(name, image, started) if started <= until]


def _server_lines(program: str, image: str, at: datetime) -> list[str]:
    """A server's first lines as it starts, in its own format."""
    tag = runtime.parse_image(image).tag
    version = tag if tag[:1].isdigit() else "latest"
    clock = at.strftime("%Y/%m/%d %H:%M:%S")
    if program == "nginx":
        return [
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
            f'{clock} [notice] 1#1: using the "epoll" event method',
            f"{clock} [notice] 1#1: nginx/{version}",
            f"{clock} [notice] 1#1: start worker processes",
            f"{clock} [notice] 1#1: start worker process 29",
        ]
    if program in ("httpd",):
        stamp = at.strftime("%a %b %d %H:%M:%S.000000 %Y")
        return [
            f"[{stamp}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/{version} "
            "configured -- resuming normal operations",
            f"[{stamp}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
        ]
    if program in ("redis", "redis-server"):
        stamp = at.strftime("%d %b %Y %H:%M:%S.000")
        return [
            f"1:C {stamp} # Redis version={version}, bits=64, started",
            f"1:M {stamp} * Server initialized",
            f"1:M {stamp} * Ready to accept connections tcp",
        ]
    if program in ("postgres",):
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.000 UTC")
        return [
            f"{stamp} [1] LOG:  starting PostgreSQL {version}",
            f'{stamp} [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
            f"{stamp} [1] LOG:  database system is ready to accept connections",
        ]
    if program in ("mysql", "mysqld"):
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        return [f"{stamp} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections."]
    if program == "mongo":
        return ['{"c":"NETWORK","id":23016,"msg":"Waiting for connections","attr":{"port":27017}}']
    if program == "rabbitmq":
        return [" completed with 0 plugins.", "Server startup complete"]
    if program == "traefik/whoami":
        return ["Starting up on port 80"]
    if program == "hashicorp/http-echo":
        return [f"{clock} [INFO] server is listening on :5678"]
    if program in ("registry.k8s.io/echoserver", "gcr.io/google-samples/hello-app"):
        return ["Server listening on port 8080"]
    if program == "hello-world":
        return ["", "Hello from Docker!"]
    return []
