"""kubectl releases old and new run a learner's everyday commands against the live server.

kubectl up to 1.28 reads the OpenAPI v2 document to validate manifests, build `apply`'s
patch, check `diff`'s dry-run support and answer `explain`; newer releases read v3. Each
release here runs one flow and prints a table of its steps. 1.20, 1.24 and 1.37 come
from `make tools`; the others are the Cloud SDK's versioned binaries. A release whose
binary is missing is skipped, with the reason.

Some steps are refused on purpose, and the table says so rather than counting them as
passes: `port-forward` and `cp` (the containers are simulated: no network, no files), and
`exec` from kubectl 1.29 and older, whose SPDY streams this server does not speak.
"""

import json
import os
import re
import subprocess
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CLOUD_SDK = Path("/usr/lib/google-cloud-sdk/bin")
LEARNER = "vera"
# kubectl streams exec (and cp) over WebSocket from this minor release on.
WEBSOCKET_MINOR = 30
MOUNT = "/etc/shelf"


def _newest_cloud_sdk() -> tuple[str, Path]:
    found = sorted(
        (tuple(int(n) for n in path.name.removeprefix("kubectl.").split(".")), path)
        for path in CLOUD_SDK.glob("kubectl.1.*")
    )
    if not found:
        return "newest", CLOUD_SDK / "kubectl.1.newest"
    (major, minor), path = found[-1]
    return f"{major}.{minor}", path


RELEASES = {
    "1.20": REPO / "tools/kubectl-1.20/usr/bin/kubectl",
    "1.24": REPO / "tools/kubectl-1.24/kubectl/kubectl",
    "1.27": CLOUD_SDK / "kubectl.1.27",
    "1.28": CLOUD_SDK / "kubectl.1.28",
    "1.32": CLOUD_SDK / "kubectl.1.32",
    "1.37": REPO / "tools/kubectl-1.37/kubectl/kubectl",
}
RELEASES.setdefault(*_newest_cloud_sdk())

GADGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.tools.example.com"},
    "spec": {
        "group": "tools.example.com",
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {
                                        "type": "integer",
                                        "description": "How many drawers the gadget has.",
                                    }
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


class Release(Kubectl):
    """One kubectl binary, run as the learner with a HOME (and discovery cache) of its own."""

    def __init__(self, binary: Path, cluster, kubeconfig: Path, home: Path) -> None:
        super().__init__(cluster, kubeconfig, home)
        self.binary = str(binary)

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60, env=None):
        return subprocess.run(
            [self.binary, *args],
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


class Server:
    """Reads what the server holds straight over HTTPS, as the learner: the checks' eyes."""

    PATHS = {
        "configmap": f"/api/v1/namespaces/{LEARNER}/configmaps",
        "deployment": f"/apis/apps/v1/namespaces/{LEARNER}/deployments",
        "pod": f"/api/v1/namespaces/{LEARNER}/pods",
        "replicaset": f"/apis/apps/v1/namespaces/{LEARNER}/replicasets",
        "secret": f"/api/v1/namespaces/{LEARNER}/secrets",
        "service": f"/api/v1/namespaces/{LEARNER}/services",
    }

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.token = cluster.token(LEARNER)

    def _read(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.cluster.api_url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, context=self.cluster.ssl_context()) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read()

    def status(self, kind: str, name: str) -> tuple[int, dict]:
        code, body = self._read(f"{self.PATHS[kind]}/{name}")
        return code, json.loads(body)

    def get(self, kind: str, name: str) -> dict:
        code, body = self.status(kind, name)
        assert code == 200, body
        return body

    def items(self, kind: str, selector: str) -> list[dict]:
        query = urllib.parse.urlencode({"labelSelector": selector})
        code, body = self._read(f"{self.PATHS[kind]}?{query}")
        assert code == 200, body
        return json.loads(body)["items"]

    def running_pod(self, app: str) -> str:
        """The name of one of `app`'s Pods that runs and is not being deleted."""
        running = sorted(
            pod["metadata"]["name"]
            for pod in self.items("pod", f"app={app}")
            if pod["status"].get("phase") == "Running"
            and not pod["metadata"].get("deletionTimestamp")
        )
        assert running, f"no Pod of {app} runs"
        return running[0]

    def settled(self, app: str, seconds: float = 20) -> None:
        """Wait until none of `app`'s Pods is still terminating (a rollout's old ones)."""
        deadline = time.monotonic() + seconds
        while any(p["metadata"].get("deletionTimestamp") for p in self.items("pod", f"app={app}")):
            assert time.monotonic() < deadline, f"a Pod of {app} never finished terminating"
            time.sleep(0.2)

    def log(self, pod: str) -> str:
        code, body = self._read(f"{self.PATHS['pod']}/{pod}/log")
        assert code == 200, body
        return body.decode()


@pytest.fixture(scope="module")
def server(live_cluster) -> Server:
    return Server(live_cluster)


@pytest.fixture(scope="module")
def gadget_crd(live_cluster, tmp_path_factory) -> None:
    """A CRD, added by an instructor, whose field every release explains."""
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    instructor = Kubectl(
        live_cluster,
        live_cluster.kubeconfig("ida", instructor=True),
        tmp_path_factory.mktemp("instructor"),
    )
    instructor.ok("apply", "-f", "-", stdin=json.dumps(GADGET_CRD))


REFUSED = "refused as designed"


class Steps:
    """Each step's outcome and time; a failing step is recorded and the flow goes on.

    A step checked as `refused` must be turned down with the server's own message, which
    it returns for the table: such a step is neither a pass nor a failure.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, str]] = []
        self.failures: list[str] = []

    def check(self, name: str, step, *, refused: bool = False) -> None:
        started = time.monotonic()
        try:
            said = step()
        except (AssertionError, subprocess.SubprocessError, KeyError, ValueError) as failure:
            first = (str(failure).strip().splitlines() or ["failed"])[0][:160]
            self.rows.append((name, "FAIL", time.monotonic() - started, first))
            self.failures.append(f"{name}: {failure}")
        else:
            result, detail = (REFUSED, said) if refused else ("pass", "")
            self.rows.append((name, result, time.monotonic() - started, detail))

    def table(self, release: str) -> str:
        width = max(len(name) for name, *_ in self.rows)
        result_width = max(len("result"), *(len(result) for _, result, *_ in self.rows))
        lines = [
            f"kubectl {release}",
            f"{'step'.ljust(width)}  {'result'.ljust(result_width)}  seconds",
        ]
        lines += [
            f"{name.ljust(width)}  {result.ljust(result_width)}  {seconds:6.1f}  {detail}".rstrip()
            for name, result, seconds, detail in self.rows
        ]
        return "\n".join(lines)


def _said(printed: str, *words: str) -> str:
    """The line of kubectl's output that carries the server's message (all of `words`)."""
    for line in printed.splitlines():
        if all(word in line for word in words):
            return line.strip()[:160]
    raise AssertionError(f"no line says {' / '.join(words)}: {printed}")


def _streams_over_websocket(release: str) -> bool:
    minor = release.partition(".")[2]
    return not minor.isdigit() or int(minor) >= WEBSOCKET_MINOR


def _configmap(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"aisle": "7"},
    }


def _deployment(name: str, mounted: str = "") -> dict:
    """An nginx Deployment of one replica; with `mounted`, that ConfigMap is at MOUNT."""
    container = {
        "name": "shelf",
        "image": "nginx:1.27",
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
    }
    pod: dict = {"containers": [container]}
    if mounted:
        container["volumeMounts"] = [{"name": "labels", "mountPath": MOUNT}]
        pod["volumes"] = [{"name": "labels", "configMap": {"name": mounted}}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }


def _service(name: str, ports: list[int]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "selector": {"app": name},
            "ports": [{"name": f"p{p}", "port": p, "targetPort": p} for p in ports],
        },
    }


def _write(path: Path, *objs: dict) -> str:
    path.write_text(yaml.safe_dump_all(objs))
    return str(path)


def _everyday_flow(release: str, cluster, server: Server, tmp_path: Path) -> Steps:
    """One release's flow, each step checked against what the server then holds."""
    binary = RELEASES[release]
    kubectl = Release(binary, cluster, cluster.kubeconfig(LEARNER), tmp_path / "home")
    tag = release.replace(".", "")
    shelf, counter, crate = f"shelf-{tag}", f"counter-{tag}", f"crate-{tag}"
    websocket = _streams_over_websocket(release)
    steps = Steps()

    def create() -> None:
        manifests = (_configmap(shelf), _deployment(shelf, mounted=shelf), _deployment(crate))
        out = kubectl.ok("create", "-f", _write(tmp_path / "deploy.yaml", *manifests))
        assert out.splitlines() == [
            f"configmap/{shelf} created",
            f"deployment.apps/{shelf} created",
            f"deployment.apps/{crate} created",
        ], out
        assert server.get("deployment", shelf)["spec"]["replicas"] == 1
        assert server.get("configmap", shelf)["data"] == {"aisle": "7"}

    service_file = tmp_path / "service.yaml"

    def apply() -> None:
        _write(service_file, _service(counter, [80]))
        assert kubectl.ok("apply", "-f", str(service_file)).strip() == f"service/{counter} created"
        assert kubectl.ok("apply", "-f", str(service_file)).strip() == (
            f"service/{counter} unchanged"
        )
        _write(service_file, _service(counter, [80, 443]))
        out = kubectl.ok("apply", "-f", str(service_file)).strip()
        assert out == f"service/{counter} configured", out
        held = server.get("service", counter)
        assert [p["port"] for p in held["spec"]["ports"]] == [80, 443]
        assert "kubectl.kubernetes.io/last-applied-configuration" in held["metadata"]["annotations"]

    def diff() -> None:
        assert kubectl.run("diff", "-f", str(service_file)).returncode == 0
        changed = _service(counter, [80, 443])
        changed["metadata"]["labels"]["tier"] = "front"
        result = kubectl.run("diff", "-f", _write(tmp_path / "changed.yaml", changed))
        assert result.returncode == 1, result.stderr
        assert re.search(r"^\+\s+tier: front$", result.stdout, re.MULTILINE), result.stdout
        assert "tier" not in server.get("service", counter)["metadata"]["labels"]

    def edit() -> None:
        editor = tmp_path / "editor.sh"
        editor.write_text("#!/bin/sh\nsed -i 's/image: nginx:1.27/image: nginx:1.28/' \"$1\"\n")
        editor.chmod(0o755)
        result = kubectl.run("edit", f"deployment/{shelf}", env={"KUBE_EDITOR": str(editor)})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"deployment.apps/{shelf} edited", result.stdout
        containers = server.get("deployment", shelf)["spec"]["template"]["spec"]["containers"]
        assert containers[0]["image"] == "nginx:1.28"

    def replace() -> None:
        held = yaml.safe_load(kubectl.ok("get", "service", counter, "-o", "yaml"))
        held["metadata"]["labels"]["tier"] = "back"
        out = kubectl.ok("replace", "-f", _write(tmp_path / "replace.yaml", held))
        assert out.strip() == f"service/{counter} replaced", out
        assert server.get("service", counter)["metadata"]["labels"]["tier"] == "back"

    def explain() -> None:
        out = kubectl.ok("explain", "deployment.spec.replicas")
        assert re.search(r"^FIELD:\s+replicas\s+<integer>$", out, re.MULTILINE), out
        out = kubectl.ok("explain", "gadgets.spec.size")
        assert re.search(r"^FIELD:\s+size\s+<integer>$", out, re.MULTILINE), out
        assert "How many drawers the gadget has." in out

    def get_yaml() -> None:
        held = yaml.safe_load(kubectl.ok("get", "deployment", shelf, "-o", "yaml"))
        assert (held["kind"], held["metadata"]["name"]) == ("Deployment", shelf)

    def scale() -> None:
        out = kubectl.ok("scale", f"deployment/{shelf}", "--replicas=2")
        assert out.strip() == f"deployment.apps/{shelf} scaled", out
        assert server.get("deployment", shelf)["spec"]["replicas"] == 2

    def rollout_status() -> None:
        out = kubectl.ok("rollout", "status", f"deployment/{shelf}", "--timeout=40s")
        assert "successfully rolled out" in out, out
        assert server.get("deployment", shelf)["status"]["readyReplicas"] == 2

    def wait() -> None:
        out = kubectl.ok(
            "wait", "--for=condition=Available", f"deployment/{shelf}", "--timeout=20s"
        )
        assert out.strip() == f"deployment.apps/{shelf} condition met", out

    def logs() -> None:
        pod = server.running_pod(shelf)
        printed = kubectl.ok("logs", pod)
        assert printed.strip(), "a Running nginx prints its start-up lines"
        assert printed == server.log(pod)

    def logs_of_deployment() -> None:
        # kubectl may pick a Pod the rollout is still deleting, as it would in any cluster.
        server.settled(shelf)
        result = kubectl.run("logs", f"deploy/{shelf}")
        assert result.returncode == 0, result.stderr
        # With two replicas kubectl says which Pod it read.
        chosen = re.search(r"Found \d+ pods, using pod/(\S+)", result.stderr)
        assert chosen, result.stderr
        assert chosen[1].startswith(f"{shelf}-"), chosen[1]
        assert result.stdout == server.log(chosen[1])

    def logs_tail() -> None:
        pod = server.running_pod(shelf)
        printed = kubectl.ok("logs", "--tail=1", pod)
        assert printed == server.log(pod).splitlines(keepends=True)[-1], printed

    def exec_cat() -> str | None:
        pod = server.running_pod(shelf)
        result = kubectl.run("exec", pod, "--", "cat", f"{MOUNT}/aisle")
        if websocket:
            assert result.returncode == 0, result.stderr
            held = server.get("configmap", shelf)["data"]["aisle"]
            assert result.stdout.rstrip("\n") == held, result.stdout
            return None
        assert result.returncode != 0, result.stdout
        return _said(
            result.stderr, f'cannot exec into pod "{pod}" over SPDY', "kubectl 1.30 and newer"
        )

    def port_forward() -> str:
        pod = server.running_pod(shelf)
        result = kubectl.run("port-forward", f"pod/{pod}", ":80", timeout=20)
        assert result.returncode != 0, result.stdout
        return _said(result.stderr, f'cannot forward a port to pod "{pod}"', "no real network")

    def cp() -> str:
        pod = server.running_pod(shelf)
        result = kubectl.run("cp", f"{pod}:{MOUNT}/aisle", str(tmp_path / "aisle"))
        assert result.returncode != 0, result.stdout
        # kubectl cp shows the stream's stderr among its own output.
        printed = result.stdout + result.stderr
        if websocket:
            assert "sh: tar: not found" in printed, printed
            return _said(printed, "simulated", "hold no real files")
        return _said(printed, f'cannot exec into pod "{pod}" over SPDY')

    def can_i() -> None:
        assert kubectl.ok("auth", "can-i", "create", "deployments").strip() == "yes"
        assert kubectl.run("auth", "can-i", "delete", "nodes").stdout.strip() == "no"

    def delete_foreground() -> None:
        assert server.items("replicaset", f"app={shelf}"), "the Deployment owns ReplicaSets"
        out = kubectl.ok("delete", f"deployment/{shelf}", "--cascade=foreground", "--wait=false")
        assert _deleted(out) == [f'deployment.apps "{shelf}" deleted'], out
        # Marked, not gone: it stays until what it owns has gone (checked last).
        marked = server.get("deployment", shelf)["metadata"]
        assert marked.get("deletionTimestamp"), marked
        assert "foregroundDeletion" in marked.get("finalizers", []), marked

    def delete_orphan() -> None:
        (owned,) = server.items("replicaset", f"app={crate}")
        assert [r["name"] for r in owned["metadata"]["ownerReferences"]] == [crate]
        # kubectl waits until the Deployment is gone, the references taken off first.
        out = kubectl.ok("delete", f"deployment/{crate}", "--cascade=orphan", "--timeout=40s")
        assert _deleted(out) == [f'deployment.apps "{crate}" deleted'], out
        assert server.status("deployment", crate)[0] == 404
        (kept,) = server.items("replicaset", f"app={crate}")
        assert kept["metadata"]["uid"] == owned["metadata"]["uid"]
        assert not kept["metadata"].get("ownerReferences"), kept["metadata"]
        pods = server.items("pod", f"app={crate}")
        assert pods, "the orphaned ReplicaSet keeps its Pod"
        assert not any(p["metadata"].get("deletionTimestamp") for p in pods), pods

    def delete() -> None:
        (orphaned,) = server.items("replicaset", f"app={crate}")
        replicaset = orphaned["metadata"]["name"]
        out = kubectl.ok(
            "delete",
            f"replicaset/{replicaset}",
            f"service/{counter}",
            f"configmap/{shelf}",
            "--wait=false",
        )
        assert _deleted(out) == [
            f'replicaset.apps "{replicaset}" deleted',
            f'service "{counter}" deleted',
            f'configmap "{shelf}" deleted',
        ], out
        code, body = server.status("service", counter)
        assert (code, body["reason"]) == (404, "NotFound"), body
        assert server.status("replicaset", replicaset)[0] == 404

    def foreground_finished() -> None:
        deadline = time.monotonic() + 40
        while server.status("deployment", shelf)[0] != 404:
            assert time.monotonic() < deadline, "the Deployment was never deleted"
            time.sleep(0.3)
        assert server.items("replicaset", f"app={shelf}") == []
        assert server.items("pod", f"app={shelf}") == []

    # No network to forward to and no files to copy; exec needs a WebSocket.
    refusals = {"port-forward", "cp"} | (set() if websocket else {"exec -- cat"})
    for name, step in (
        ("create -f", create),
        ("apply x3", apply),
        ("diff", diff),
        ("edit", edit),
        ("replace", replace),
        ("explain", explain),
        ("get -o yaml", get_yaml),
        ("scale", scale),
        ("rollout status", rollout_status),
        ("wait --for", wait),
        ("logs", logs),
        ("logs --tail=1", logs_tail),
        ("exec -- cat", exec_cat),
        ("port-forward", port_forward),
        ("cp", cp),
        # Last of the Pod steps, so that the rollout's old Pods are likely gone.
        ("logs deploy/", logs_of_deployment),
        ("auth can-i", can_i),
        ("delete --cascade=foreground", delete_foreground),
        ("delete --cascade=orphan", delete_orphan),
        ("delete", delete),
        ("foreground: owner last", foreground_finished),
    ):
        steps.check(name, step, refused=name in refusals)
    table = steps.table(f"{release} ({binary})")
    (tmp_path / "steps.txt").write_text(table + "\n")
    return steps


@pytest.fixture(scope="module")
def flows(live_cluster, server, gadget_crd, tmp_path_factory) -> dict[str, Steps]:
    """Every present release's flow, run side by side (each on its own objects): the
    releases wait on the server rather than on each other, which keeps the module short."""
    present = [release for release, binary in RELEASES.items() if binary.exists()]
    folders = {r: tmp_path_factory.mktemp(f"kubectl-{r.replace('.', '')}") for r in present}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        running = {
            release: pool.submit(_everyday_flow, release, live_cluster, server, folders[release])
            for release in present
        }
        done = {release: future.result() for release, future in running.items()}
    report = [done[r].table(f"{r} ({RELEASES[r]})") for r in present]
    report.append(f"all releases: {time.monotonic() - started:.1f} s")
    (tmp_path_factory.getbasetemp() / "kubectl-versions.txt").write_text("\n\n".join(report))
    return done


@pytest.mark.parametrize("release", list(RELEASES))
def test_everyday_flow(release, flows):
    if release not in flows:
        binary = RELEASES[release]
        pytest.skip(
            f"kubectl {release} is not at {binary} (`make tools` fetches 1.20, 1.24 and 1.37)"
        )
    steps = flows[release]
    print("\n" + steps.table(f"{release} ({RELEASES[release]})"))
    assert not steps.failures, textwrap.indent("\n\n".join(steps.failures), "  ")


# helm 3.9 and 4.3 come in the Lambda layers beside kubectl 1.24 and 1.37 (`make tools`).
HELMS = {
    "3.9": REPO / "tools/kubectl-1.24/helm/helm",
    "4.3": REPO / "tools/kubectl-1.37/helm/helm",
}
CHART_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {requests: {cpu: 10m, memory: 16Mi}}
"""


def _deleted(printed: str) -> list[str]:
    """kubectl's lines for deleted objects; 1.35 and later add "from vera namespace"."""
    return [line.removesuffix(f" from {LEARNER} namespace") for line in printed.splitlines()]


def _helm_history(printed: str) -> list[tuple[int, str, str]]:
    """`helm history`'s rows as (revision, status, description); its columns end in tabs."""
    header, *rows = printed.splitlines()
    assert header.split("\t")[0].strip() == "REVISION", printed
    cells = [[cell.strip() for cell in row.split("\t")] for row in rows if row.strip()]
    return [(int(row[0]), row[2], row[-1]) for row in cells]


@pytest.mark.parametrize("helm_release", sorted(HELMS))
def test_helm_installs_upgrades_rolls_back_and_uninstalls_a_chart(
    live_cluster, server, tmp_path, helm_release
):
    """helm 3.9 validates its manifests against OpenAPI v2; helm 4 deletes its release
    Secrets with protobuf DeleteOptions. Each keeps every revision of a release in a Secret
    of the release's namespace."""
    binary = HELMS[helm_release]
    if not binary.exists():
        pytest.skip(f"helm is not at {binary} (`make tools` fetches it)")
    release = f"larder{helm_release.replace('.', '')}"
    chart = tmp_path / "pantry"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: pantry\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\n")
    (chart / "templates" / "web.yaml").write_text(CHART_TEMPLATE)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "KUBECONFIG": str(live_cluster.kubeconfig(LEARNER)),
    }

    def helm(*args: str) -> str:
        done = subprocess.run(
            [str(binary), *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"helm {' '.join(args)}: {done.stderr}"
        return done.stdout

    deployment = f"{release}-web"
    assert "STATUS: deployed" in helm("install", release, str(chart))
    assert server.get("deployment", deployment)["spec"]["replicas"] == 1
    assert "has been upgraded" in helm("upgrade", release, str(chart), "--set", "replicas=2")
    assert server.get("deployment", deployment)["spec"]["replicas"] == 2
    assert "Rollback was a success!" in helm("rollback", release, "1")
    assert server.get("deployment", deployment)["spec"]["replicas"] == 1
    history = _helm_history(helm("history", release))
    assert history == [
        (1, "superseded", "Install complete"),
        (2, "superseded", "Upgrade complete"),
        (3, "deployed", "Rollback to 1"),
    ], history
    kept = server.items("secret", f"owner=helm,name={release}")
    revisions = {
        (int(s["metadata"]["labels"]["version"]), s["metadata"]["labels"]["status"]) for s in kept
    }
    assert revisions == {(revision, status) for revision, status, _ in history}
    assert helm("uninstall", release).strip() == f'release "{release}" uninstalled'
    assert server.status("deployment", deployment)[0] == 404
    assert server.items("secret", f"owner=helm,name={release}") == []
