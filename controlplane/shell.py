"""The one pretend shell: what a container's program does, and what `kubectl exec` runs.

Three readers share it. The runtime (`controlplane.runtime.program`) asks how long a
container's script runs and how it exits; the log (`controlplane.logs`) asks what it prints
and when; `kubectl exec` runs commands in a Running container and streams what they print.
The script is read the same way for all three, so a learner sees one consistent shell.

A `Shell` runs a script and yields what happens, in order:

- ``("out", text)`` and ``("err", text)``: a line for stdout or stderr;
- ``("sleep", seconds)``: time passes (``None``: it never ends, as ``sleep infinity``);
- ``("loop", None)``: a loop starts that runs for as long as the container does.

Each reader keeps what it needs: the runtime adds the sleeps, the log stamps the lines with
a clock, exec writes the lines to its streams and really waits. The exit code is
`Shell.code` once the events end.

Statements are split on ``;``, ``&&``, ``||`` and new lines (outside quotes); ``&&`` runs
the next one only after success, ``||`` only after failure. A container's own program
trusts its image: a program the shell does not know is the image's and succeeds. Commands
run by exec have only the shell's builtins; any other is not found (exit 127), as in a
minimal image.
"""

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Event = tuple[str, object]

SHELLS = ("sh", "bash", "ash")
SERVERS = {"nginx", "httpd", "redis-server", "memcached", "postgres", "mysqld"}
# A loop without a sleep would print forever at once; one pass of it says enough.
MAX_PASSES = 5000
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CLUSTER_IP = "10.96.0.1"

_LOOP = re.compile(r"^\s*(?:while|until)\s+(?:true|:)\s*;?\s*do\s+(?P<body>.*?);?\s*done", re.S)
_BREAKS = ("&&", "||", ";", "\n")


@dataclass
class Box:
    """What a command sees of its container: the Pod, the container, its env and files."""

    pod: dict = field(default_factory=dict)
    container: dict = field(default_factory=dict)
    environment: dict[str, str] | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def pod_name(self) -> str:
        return (self.pod.get("metadata") or {}).get("name", "")

    def env(self) -> dict[str, str]:
        if self.environment is None:
            self.environment = environment(self.pod, self.container, {})
        return self.environment


def environment(pod: dict, container: dict, resolved: dict[str, str]) -> dict[str, str]:
    """A container's environment as the kubelet sets it: its own entries (`resolved` holds
    those read from ConfigMaps and Secrets) and the API server's Service variables."""
    name = (pod.get("metadata") or {}).get("name", "")
    found = {"PATH": PATH, "HOSTNAME": name}
    found.update({k: v for k, v in resolved.items() if k not in found})
    for entry in container.get("env") or []:
        if "value" in entry:
            found[entry["name"]] = str(entry["value"])
        elif entry.get("name") in resolved:
            found[entry["name"]] = resolved[entry["name"]]
    found["KUBERNETES_SERVICE_HOST"] = CLUSTER_IP
    found["KUBERNETES_SERVICE_PORT"] = "443"
    found["KUBERNETES_SERVICE_PORT_HTTPS"] = "443"
    found["KUBERNETES_PORT"] = f"tcp://{CLUSTER_IP}:443"
    found["HOME"] = "/root"
    return found


def script_of(words: list[str]) -> str | None:
    """The script a command line runs: for ``sh -c "<script>"`` the script, otherwise the
    words themselves; None for a bare shell, which reads its script from stdin."""
    if not words:
        return ""
    if words[0].rsplit("/", 1)[-1] in SHELLS:
        if "-c" in words:
            at = words.index("-c")
            return " ".join(words[at + 1 : at + 2])
        return None
    return shlex.join(words)


def _first_statement(script: str) -> tuple[str, str, str]:
    """The first statement, the break after it, and the rest (quotes respected)."""
    quote = ""
    for at, char in enumerate(script):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            brk = next((b for b in _BREAKS if script.startswith(b, at)), None)
            if brk:
                return script[:at], brk, script[at + len(brk) :]
    return script, ";", ""


def sleep_seconds(text: str) -> float | None:
    if text == "infinity":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if not match:
        return 0.0
    factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    return float(match[1]) * factor


def exit_code(text: str) -> int:
    try:
        return int(text) % 256
    except ValueError:
        return 2


def date_text(moment: datetime) -> str:
    return moment.strftime("%a %b %e %H:%M:%S UTC %Y").replace("  ", " ")


class Shell:
    """Runs scripts in one container, remembering the last exit code between them."""

    def __init__(self, box: Box, *, trusting: bool, clock: datetime | None = None) -> None:
        self.box = box
        self.trusting = trusting
        self.clock = clock or datetime.now(UTC)
        self.code = 0
        self.exited = False

    def run(self, script: str) -> Iterator[Event]:
        """The events of `script`; `self.code` is its exit code once they end."""
        before = ";"
        while script.strip() and not self.exited:
            loop = _LOOP.match(script)
            if loop:
                yield ("loop", None)
                yield from self._forever(loop["body"])
                return
            statement, brk, script = _first_statement(script)
            if not _skipped(before, self.code):
                yield from self.statement(statement)
            before = brk

    def _forever(self, body: str) -> Iterator[Event]:
        for _ in range(MAX_PASSES):
            before = self.clock
            yield from self.run(body)
            if self.exited:
                return
            if self.clock == before:
                break
        yield ("sleep", None)

    def statement(self, statement: str) -> Iterator[Event]:
        try:
            words = shlex.split(self.expand(statement))
        except ValueError:
            words = self.expand(statement).split()
        if not words:
            return
        head = words[0].rsplit("/", 1)[-1]
        command = getattr(self, f"do_{head}", None)
        if head in ("while", "until") or (head == "tail" and "-f" in words):
            yield ("loop", None)
            yield ("sleep", None)
        elif head in SERVERS and self.trusting:
            yield ("loop", None)
            for line in server_lines(head, self.box.container.get("image", ""), self.clock):
                yield ("out", line)
            yield ("sleep", None)
        elif command is not None and head.isidentifier():
            self.code = 0
            yield from command(words[1:])
        elif head in SHELLS and "-c" in words:
            child = Shell(self.box, trusting=self.trusting, clock=self.clock)
            child.code = self.code
            yield from child.run(script_of(words) or "")
            self.code, self.clock = child.code, child.clock
        elif self.trusting:
            self.code = 0
        else:
            self.code = 127
            yield ("err", f"sh: {words[0]}: not found")

    def expand(self, text: str) -> str:
        """$VAR, ${VAR}, $?, $(date) and $(hostname), outside single quotes."""
        pieces = re.split(r"('[^']*')", text)
        return "".join(p if p.startswith("'") else self._expand(p) for p in pieces)

    def _expand(self, text: str) -> str:
        text = re.sub(r"\$\(date\)|`date`", date_text(self.clock), text)
        text = re.sub(r"\$\(hostname\)|`hostname`", self.box.pod_name, text)
        text = text.replace("$?", str(self.code))
        env = self.box.env()
        return re.sub(
            r"\$\{(\w+)\}|\$([A-Za-z_]\w*)",
            lambda m: env.get(m[1] or m[2], ""),
            text,
        )

    def do_echo(self, words: list[str]) -> Iterator[Event]:
        flags = {"-n", "-e", "-ne", "-en"}
        yield ("out", " ".join(w for w in words if w not in flags))

    def do_printf(self, words: list[str]) -> Iterator[Event]:
        text = " ".join(words[:1]).replace("\\n", "\n").rstrip("\n")
        yield from (("out", line) for line in text.split("\n"))

    def do_date(self, words: list[str]) -> Iterator[Event]:
        yield ("out", date_text(self.clock))

    def do_hostname(self, words: list[str]) -> Iterator[Event]:
        yield ("out", self.box.pod_name)

    def do_env(self, words: list[str]) -> Iterator[Event]:
        yield from (("out", f"{k}={v}") for k, v in self.box.env().items())

    def do_printenv(self, words: list[str]) -> Iterator[Event]:
        if not words:
            yield from self.do_env(words)
            return
        env = self.box.env()
        for name in words:
            if name in env:
                yield ("out", env[name])
            else:
                self.code = 1

    def do_sleep(self, words: list[str]) -> Iterator[Event]:
        seconds = sleep_seconds(words[0] if words else "0")
        if seconds is None:
            yield ("loop", None)
            yield ("sleep", None)
            return
        self.clock += timedelta(seconds=seconds)
        yield ("sleep", seconds)

    def do_exit(self, words: list[str]) -> Iterator[Event]:
        self.code = exit_code(words[0]) if words else self.code
        self.exited = True
        yield from ()

    def do_true(self, words: list[str]) -> Iterator[Event]:
        yield from ()

    def do_false(self, words: list[str]) -> Iterator[Event]:
        self.code = 1
        yield from ()

    def do_pwd(self, words: list[str]) -> Iterator[Event]:
        yield ("out", "/")

    def do_cat(self, words: list[str]) -> Iterator[Event]:
        for path in words:
            text = self.box.files.get(_normal(path))
            if text is None:
                problem = "Is a directory" if self._is_dir(path) else "No such file or directory"
                yield ("err", f"cat: can't open '{path}': {problem}")
                self.code = 1
            else:
                yield from (("out", line) for line in text.removesuffix("\n").split("\n"))

    def do_ls(self, words: list[str]) -> Iterator[Event]:
        paths = [w for w in words if not w.startswith("-")] or ["/"]
        for path in paths:
            if _normal(path) in self.box.files:
                yield ("out", path)
            elif self._is_dir(path):
                yield from (("out", name) for name in self._entries(path))
            else:
                yield ("err", f"ls: {path}: No such file or directory")
                self.code = 1

    def do_ps(self, words: list[str]) -> Iterator[Event]:
        container = self.box.container
        argv = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
        yield ("out", "PID   USER     TIME  COMMAND")
        yield ("out", f"    1 root      0:00 {' '.join(argv) or _entrypoint(container)}")
        yield ("out", "   42 root      0:00 ps")

    def do_tar(self, words: list[str]) -> Iterator[Event]:
        self.code = 127
        yield ("err", "sh: tar: not found")
        yield (
            "err",
            "(this cluster's containers are simulated and hold no real files to copy; "
            "read mounted ConfigMaps and Secrets with cat, or with kubectl get)",
        )

    def _is_dir(self, path: str) -> bool:
        prefix = _normal(path).rstrip("/") + "/"
        return prefix == "/" or any(name.startswith(prefix) for name in self.box.files)

    def _entries(self, path: str) -> list[str]:
        prefix = _normal(path).rstrip("/") + "/"
        names = {name[len(prefix) :].split("/")[0] for name in self.box.files}
        inside = {n for n in names if n} if prefix == "/" else set()
        inside |= {
            name[len(prefix) :].split("/")[0] for name in self.box.files if name.startswith(prefix)
        }
        return sorted(inside)


def _skipped(before: str, code: int) -> bool:
    return (before == "&&" and code != 0) or (before == "||" and code == 0)


def _normal(path: str) -> str:
    path = "/" + path.lstrip("/") if not path.startswith("/") else path
    return re.sub(r"/+", "/", path)


def _entrypoint(container: dict) -> str:
    image = str(container.get("image", "")).split("@")[0].rsplit("/", 1)[-1].split(":")[0]
    return image or "sh"


def _tag(image: str) -> str:
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def server_lines(program: str, image: str, at: datetime) -> list[str]:
    """A server's first lines as it starts, in its own format."""
    tag = _tag(image)
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
