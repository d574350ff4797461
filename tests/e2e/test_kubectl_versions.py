"""kubectl releases old and new run a learner's everyday commands against the live server.

kubectl up to 1.28 reads the OpenAPI v2 document to validate manifests, build `apply`'s
patch, check `diff`'s dry-run support and answer `explain`; newer releases read v3. Each
release here runs one flow and prints a table of its steps. 1.20, 1.24 and 1.37 come
from `make tools`; the others are the Cloud SDK's versioned binaries. A release whose
binary is missing is skipped, with the reason.
"""

import json
import os
import re
import subprocess
import textwrap
import time
import urllib.error
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
        "deployment": "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        "service": "/api/v1/namespaces/{namespace}/services/{name}",
    }

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.token = cluster.token(LEARNER)

    def status(self, kind: str, name: str) -> tuple[int, dict]:
        path = self.PATHS[kind].format(namespace=LEARNER, name=name)
        request = urllib.request.Request(
            self.cluster.api_url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, context=self.cluster.ssl_context()) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as refused:
            return refused.code, json.load(refused)

    def get(self, kind: str, name: str) -> dict:
        code, body = self.status(kind, name)
        assert code == 200, body
        return body


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


class Steps:
    """Each step's outcome and time; a failing step is recorded and the flow goes on."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, str]] = []
        self.failures: list[str] = []

    def check(self, name: str, step) -> None:
        started = time.monotonic()
        try:
            step()
        except (AssertionError, subprocess.SubprocessError, KeyError, ValueError) as failure:
            first = (str(failure).strip().splitlines() or ["failed"])[0][:160]
            self.rows.append((name, "FAIL", time.monotonic() - started, first))
            self.failures.append(f"{name}: {failure}")
        else:
            self.rows.append((name, "pass", time.monotonic() - started, ""))

    def table(self, release: str) -> str:
        width = max(len(name) for name, *_ in self.rows)
        lines = [f"kubectl {release}", f"{'step'.ljust(width)}  result  seconds"]
        lines += [
            f"{name.ljust(width)}  {result}    {seconds:6.1f}  {detail}".rstrip()
            for name, result, seconds, detail in self.rows
        ]
        return "\n".join(lines)


def _deployment(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "shelf",
                            "image": "nginx:1.27",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ]
                },
            },
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


def _write(path: Path, obj: dict) -> str:
    path.write_text(yaml.safe_dump(obj))
    return str(path)


def _everyday_flow(release: str, cluster, server: Server, tmp_path: Path) -> Steps:
    """One release's flow, each step checked against what the server then holds."""
    binary = RELEASES[release]
    kubectl = Release(binary, cluster, cluster.kubeconfig(LEARNER), tmp_path / "home")
    tag = release.replace(".", "")
    shelf, counter = f"shelf-{tag}", f"counter-{tag}"
    steps = Steps()

    def create() -> None:
        out = kubectl.ok("create", "-f", _write(tmp_path / "deploy.yaml", _deployment(shelf)))
        assert out.strip() == f"deployment.apps/{shelf} created", out
        assert server.get("deployment", shelf)["spec"]["replicas"] == 1

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

    def can_i() -> None:
        assert kubectl.ok("auth", "can-i", "create", "deployments").strip() == "yes"
        assert kubectl.run("auth", "can-i", "delete", "nodes").stdout.strip() == "no"

    def delete() -> None:
        out = kubectl.ok("delete", f"deployment/{shelf}", f"service/{counter}", "--wait=false")
        # kubectl 1.35 and later also name the namespace ("... deleted from vera namespace").
        said = [line.removesuffix(f" from {LEARNER} namespace") for line in out.splitlines()]
        assert said == [f'deployment.apps "{shelf}" deleted', f'service "{counter}" deleted'], out
        code, body = server.status("service", counter)
        assert (code, body["reason"]) == (404, "NotFound"), body

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
        ("auth can-i", can_i),
        ("delete", delete),
    ):
        steps.check(name, step)
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


@pytest.mark.parametrize("helm_release", sorted(HELMS))
def test_helm_installs_upgrades_and_uninstalls_a_chart(
    live_cluster, server, tmp_path, helm_release
):
    """helm 3.9 validates its manifests against OpenAPI v2; helm 4 deletes its release
    Secrets with protobuf DeleteOptions."""
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
    assert helm("uninstall", release).strip() == f'release "{release}" uninstalled'
    assert server.status("deployment", deployment)[0] == 404
    # Its release records (Secrets) went too: nothing is left for a reinstall to trip on.
    assert "STATUS: deployed" in helm("install", release, str(chart))
    helm("uninstall", release)
