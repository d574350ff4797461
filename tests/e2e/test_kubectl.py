"""The real kubectl against a live Warehouse: discovery, CRUD, apply, watch and errors.

Each test uses its own object names, so the shared server's state never couples them.
"""

import os
import queue
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from support.livecluster import LiveCluster

pytestmark = pytest.mark.e2e

NAMESPACE = "alice"


def _find_kubectl() -> str | None:
    """KUBECTL, else kubectl 1.32 itself, else whatever kubectl is on the PATH.

    The Cloud SDK's kubectl is a dispatcher that picks a versioned binary from the
    server's version; calling kubectl.1.32 directly keeps the tests on one version.
    """
    if os.environ.get("KUBECTL"):
        return os.environ["KUBECTL"]
    found = shutil.which("kubectl")
    if found is None:
        return None
    pinned = Path(found).resolve().with_name("kubectl.1.32")
    return str(pinned) if pinned.exists() else found


KUBECTL = _find_kubectl()


class Kubectl:
    """Runs kubectl as a learner would: their kubeconfig, a HOME of its own."""

    def __init__(self, cluster: LiveCluster, kubeconfig: Path, home: Path) -> None:
        self.cluster = cluster
        self.binary = KUBECTL  # another version's binary may be set instead
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KUBECONFIG": str(kubeconfig),
            "LANG": "C.UTF-8",
        }

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.binary, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        """Run and expect success; on failure show kubectl's stderr and the server log."""
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, self._explain(args, result)
        return result.stdout

    def fails(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode != 0, self._explain(args, result)
        return result.stderr.strip()

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [self.binary, *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _explain(self, args, result) -> str:
        return (
            f"kubectl {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
            f"server log:\n{self.cluster.log_tail(30)}"
        )


@pytest.fixture(scope="module")
def kubectl(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("kubectl-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig(NAMESPACE), home)


def _pod(name: str, image: str = "nginx:1.27", labels: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"containers": [{"name": "shelf", "image": image}]},
    }


def _write(path: Path, obj: dict) -> str:
    path.write_text(yaml.safe_dump(obj))
    return str(path)


def test_api_resources_lists_kinds_with_short_names(kubectl):
    result = kubectl.run("api-resources")

    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    lines = result.stdout.splitlines()
    assert re.match(r"NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND", lines[0])
    for pattern in (
        r"pods\s+po\s+v1\s+true\s+Pod",
        r"services\s+svc\s+v1\s+true\s+Service",
        r"namespaces\s+ns\s+v1\s+false\s+Namespace",
        r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment",
    ):
        assert any(re.fullmatch(pattern, line.strip()) for line in lines), pattern


def test_version_reports_the_server(kubectl):
    out = kubectl.ok("version", "-o", "yaml")

    server = yaml.safe_load(out)["serverVersion"]
    assert server["gitVersion"].startswith("v1.")


def test_create_get_describe_delete_a_pod(kubectl, tmp_path):
    manifest = _write(tmp_path / "pod.yaml", _pod("toaster", labels={"app": "toaster"}))

    assert kubectl.ok("create", "-f", manifest).strip() == "pod/toaster created"

    table = kubectl.ok("get", "pods").splitlines()
    assert re.match(r"NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE", table[0])
    assert any(line.split()[0] == "toaster" for line in table[1:])

    pod = yaml.safe_load(kubectl.ok("get", "pod", "toaster", "-o", "yaml"))
    assert (pod["kind"], pod["apiVersion"]) == ("Pod", "v1")
    assert pod["metadata"]["name"] == "toaster"
    assert pod["metadata"]["namespace"] == NAMESPACE
    assert pod["metadata"]["uid"]
    assert pod["metadata"]["resourceVersion"]
    assert pod["metadata"]["creationTimestamp"]
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"

    described = kubectl.ok("describe", "pod", "toaster")
    assert re.search(r"^Name:\s+toaster$", described, re.MULTILINE)
    assert re.search(r"^Namespace:\s+alice$", described, re.MULTILINE)
    assert "nginx:1.27" in described

    assert kubectl.ok("delete", "pod", "toaster").strip() == 'pod "toaster" deleted'
    stderr = kubectl.fails("get", "pod", "toaster")
    assert stderr == 'Error from server (NotFound): pods "toaster" not found'


def test_get_by_label_and_by_short_name(kubectl, tmp_path):
    kubectl.ok("create", "-f", _write(tmp_path / "a.yaml", _pod("kettle-a", labels={"t": "k"})))
    kubectl.ok("create", "-f", _write(tmp_path / "b.yaml", _pod("kettle-b", labels={"t": "x"})))

    names = kubectl.ok("get", "po", "-l", "t=k", "-o", "name").split()

    assert names == ["pod/kettle-a"]


def test_apply_creates_then_leaves_unchanged_then_configures(kubectl, tmp_path):
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bakery"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "bakery"}},
            "template": {
                "metadata": {"labels": {"app": "bakery"}},
                "spec": {"containers": [{"name": "oven", "image": "nginx:1.27"}]},
            },
        },
    }
    manifest = _write(tmp_path / "deploy.yaml", deployment)

    assert kubectl.ok("apply", "-f", manifest).strip() == "deployment.apps/bakery created"
    assert kubectl.ok("apply", "-f", manifest).strip() == "deployment.apps/bakery unchanged"
    deployment["spec"]["replicas"] = 3
    _write(tmp_path / "deploy.yaml", deployment)
    assert kubectl.ok("apply", "-f", manifest).strip() == "deployment.apps/bakery configured"

    stored = yaml.safe_load(kubectl.ok("get", "deploy", "bakery", "-o", "yaml"))
    assert stored["spec"]["replicas"] == 3
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _wait_for_line(lines: queue.Queue, predicate, timeout: float = 15) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if predicate(line):
            return line
    return None


@pytest.fixture
def watching(kubectl) -> Iterator[tuple[subprocess.Popen, queue.Queue]]:
    process = kubectl.popen("get", "pods", "--watch", "--output-watch-events", "--show-labels")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    yield process, lines
    process.kill()
    process.wait(timeout=10)


def test_get_watch_shows_a_new_pod_and_its_change(kubectl, watching, tmp_path):
    # No need to wait for the watch to open: it resumes from the list's resourceVersion.
    process, lines = watching
    kubectl.ok("create", "-f", _write(tmp_path / "pod.yaml", _pod("blender")))
    added = _wait_for_line(lines, lambda line: line.split()[:2] == ["ADDED", "blender"])
    assert added, "kubectl get -w did not print the new pod"

    kubectl.ok("label", "pod", "blender", "shelf=top")
    modified = _wait_for_line(
        lines,
        lambda line: line.split()[:2] == ["MODIFIED", "blender"] and "shelf=top" in line,
    )
    assert modified, "kubectl get -w did not print the new label"
    assert process.poll() is None


@pytest.mark.parametrize("revoke", ["rotate_token()", "is_active = False; user.save()"])
def test_get_watch_ends_when_the_learners_token_is_revoked(live_cluster, tmp_path_factory, revoke):
    """Revoked in another process (a management command), noticed by the server's feed:
    the open watch ends, so `kubectl get --watch` stops instead of following forever."""
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    name = f"leaver-{len(revoke)}"
    learner = Kubectl(
        live_cluster, live_cluster.kubeconfig(name), tmp_path_factory.mktemp("kubectl-home")
    )
    learner.ok("create", "configmap", "shelf", "--from-literal=size=small")
    process = learner.popen("get", "configmaps", "--watch")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        assert _wait_for_line(lines, lambda line: line.startswith("shelf")), "no listing"
        time.sleep(1)  # the watch opens right after the listing
        assert process.poll() is None
        live_cluster.manage(
            "shell",
            "-c",
            "from apiserver.models import ClusterUser; "
            f"user = ClusterUser.objects.get(name={name!r}); user.{revoke}",
        )
        returncode = process.wait(timeout=30)
    finally:
        process.kill()
        process.wait(timeout=10)

    # The stream's last event is the 401 Status, which kubectl prints as it ends.
    assert returncode == 0
    assert _wait_for_line(lines, lambda line: line.split()[:2] == ["Failure", "Unauthorized"])


def test_get_missing_pod_is_not_found(kubectl):
    stderr = kubectl.fails("get", "pod", "missing")

    assert stderr == 'Error from server (NotFound): pods "missing" not found'


def test_replace_with_a_stale_resource_version_conflicts(kubectl, tmp_path):
    kubectl.ok("create", "-f", _write(tmp_path / "pod.yaml", _pod("mixer")))
    # Once scheduled, the pod's spec stays put, so only the resourceVersion is stale.
    kubectl.ok("wait", "--for=condition=PodScheduled", "--timeout=20s", "pod/mixer")
    stale = yaml.safe_load(kubectl.ok("get", "pod", "mixer", "-o", "yaml"))
    kubectl.ok("label", "pod", "mixer", "colour=red")
    stale["metadata"]["labels"]["colour"] = "blue"

    stderr = kubectl.fails("replace", "-f", _write(tmp_path / "stale.yaml", stale))

    assert stderr.startswith("Error from server (Conflict)"), stderr
    assert 'pods "mixer"' in stderr
    assert "the object has been modified" in stderr


def test_another_learners_namespace_is_forbidden(kubectl, live_cluster):
    live_cluster.kubeconfig("bob")

    stderr = kubectl.fails("get", "pods", "-n", "bob")

    assert stderr.startswith("Error from server (Forbidden)"), stderr
    assert 'User "alice" cannot list resource "pods"' in stderr
    assert 'namespace "bob"' in stderr


def test_a_pod_without_containers_is_invalid(kubectl, tmp_path):
    pod = _pod("empty-box")
    pod["spec"] = {"containers": []}

    stderr = kubectl.fails("create", "-f", _write(tmp_path / "bad.yaml", pod))

    assert 'The Pod "empty-box" is invalid' in stderr, stderr
    assert "spec.containers" in stderr


def test_describe_quota_shows_used_against_hard_and_a_hog_is_refused(kubectl, tmp_path):
    # The live cluster expects one learner, so alice's share is all 3 nodes: 12 CPUs.
    hog = _pod("hog")
    hog["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "20"}, "limits": {"cpu": "20"}}

    stderr = kubectl.fails("create", "-f", _write(tmp_path / "hog.yaml", hog))

    assert stderr.startswith("Error from server (Forbidden)"), stderr
    assert re.search(
        r'pods "hog" is forbidden: exceeded quota: warehouse-quota, '
        r"requested: requests.cpu=20, used: requests.cpu=\d+m?, limited: requests.cpu=12$",
        stderr,
    ), stderr
    described = kubectl.ok("describe", "quota", "warehouse-quota")
    assert re.search(r"^Namespace:\s+alice$", described, re.MULTILINE), described
    assert re.search(r"^Resource\s+Used\s+Hard$", described, re.MULTILINE), described
    assert re.search(r"^pods\s+\d+\s+330$", described, re.MULTILINE), described
    assert re.search(r"^requests\.cpu\s+\d+m?\s+12$", described, re.MULTILINE), described
    limits = kubectl.ok("describe", "limitrange", "warehouse-defaults")
    assert re.search(r"^Container\s+cpu\s+-\s+-\s+25m\s+100m\s+-$", limits, re.MULTILINE), limits


def test_the_kubeconfig_uses_https_and_the_apps_ca(kubectl, live_cluster):
    config = yaml.safe_load(live_cluster.kubeconfig(NAMESPACE).read_text())
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"].startswith("https://")
    assert "insecure-skip-tls-verify" not in cluster

    host, port = cluster["server"].removeprefix("https://").split(":")
    context = live_cluster.ssl_context()
    with (
        socket.create_connection((host, int(port)), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as conn,
    ):
        assert conn.getpeercert()["subjectAltName"]


def test_an_untrusted_ca_is_refused(live_cluster):
    context = ssl.create_default_context()
    host, port = live_cluster.api_url.removeprefix("https://").split(":")
    with (
        pytest.raises(ssl.SSLCertVerificationError),
        socket.create_connection((host, int(port)), timeout=5) as raw,
    ):
        context.wrap_socket(raw, server_hostname=host)


def test_kubectl_sends_no_token_over_plain_http(kubectl, live_cluster, tmp_path):
    """Why the API listens on TLS: over http kubectl drops the token and is anonymous."""
    config = yaml.safe_load(live_cluster.kubeconfig(NAMESPACE).read_text())
    config["clusters"][0]["cluster"] = {"server": live_cluster.web_url}
    plain = tmp_path / "plain.kubeconfig"
    plain.write_text(yaml.safe_dump(config))
    anonymous = Kubectl(live_cluster, plain, tmp_path)

    stderr = anonymous.fails("get", "pods")

    assert "You must be logged in to the server" in stderr, stderr


def test_get_auditevents_shows_the_traffic_and_refuses_writes(kubectl):
    kubectl.ok("get", "configmaps")
    table = kubectl.ok("get", "auditevents", "--field-selector", "objectRef.resource=configmaps")
    header, *rows = table.splitlines()
    assert re.match(r"NAME\s+VERB\s+USER\s+CLIENT\s+TARGET\s+CODE\s+LATENCY\s+AGE", header)
    assert any(re.search(r"\blist\s+alice\s+kubectl\s+configmaps\s+200\b", row) for row in rows)
    assert "cannot list" in kubectl.fails("get", "auditevents", "-n", "bob")
    name = rows[-1].split()[0]
    stderr = kubectl.fails("delete", "auditevent", name)
    assert "MethodNotAllowed" in stderr or "not allowed" in stderr, stderr
