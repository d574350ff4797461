"""The real kubectl execs into a simulated container over WebSocket: a mounted ConfigMap,
the environment, exit codes, stdin, `kubectl cp`, and the refusals (RBAC, an old kubectl).

The learner (hana) is this file's own, so the shared live server's other users are
untouched.
"""

import json
import os
import pty
import select
import subprocess
import time

import pytest
from kubernetes import client, config
from kubernetes.stream import stream

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e

KUBECTL_133 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"
KUBECTL_127 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: shop
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "sleep infinity"]
    env:
    - name: MODE
      value: strict
    - name: COLOUR
      valueFrom:
        configMapKeyRef: {name: settings, key: colour}
    volumeMounts:
    - name: settings
      mountPath: /etc/settings
  volumes:
  - name: settings
    configMap: {name: settings}
"""


@pytest.fixture(scope="module")
def hana(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("hana-home")
    learner = Kubectl(live_cluster, live_cluster.kubeconfig("hana"), home)
    learner.ok("create", "configmap", "settings", "--from-literal=colour=blue")
    learner.ok("apply", "-f", "-", stdin=POD)
    deadline = time.monotonic() + 60
    while (
        json.loads(learner.ok("get", "pod", "shop", "-o", "json"))["status"].get("phase")
        != "Running"
    ):
        assert time.monotonic() < deadline, "the pod never ran"
        time.sleep(0.3)
    return learner


def _with(learner: Kubectl, binary: str) -> Kubectl:
    if not os.path.exists(binary):
        pytest.skip(f"{binary} not installed")
    other = Kubectl(learner.cluster, learner.env["KUBECONFIG"], learner.env["HOME"])
    other.binary = binary
    return other


def test_cat_of_a_mounted_configmap_key_and_the_environment(hana):
    assert hana.ok("exec", "shop", "--", "cat", "/etc/settings/colour") == "blue\n"
    assert hana.ok("exec", "shop", "--", "ls", "/etc/settings") == "colour\n"
    env = hana.ok("exec", "shop", "--", "env").splitlines()
    assert {"MODE=strict", "COLOUR=blue", "HOSTNAME=shop"} <= set(env)
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in env
    script = "hostname && cat /etc/hostname; echo $MODE"
    assert hana.ok("exec", "shop", "-c", "app", "--", "sh", "-c", script) == "shop\nshop\nstrict\n"


def test_the_exit_code_and_stderr_reach_kubectl(hana):
    result = hana.run("exec", "shop", "--", "sh", "-c", "echo before; exit 3")
    assert result.returncode == 3, result.stderr
    assert result.stdout == "before\n"
    assert "command terminated with exit code 3" in result.stderr
    missing = hana.run("exec", "shop", "--", "curl", "example.com")
    assert missing.returncode == 127
    assert "sh: curl: not found" in missing.stderr


def test_a_shell_reads_its_commands_from_piped_stdin(hana):
    result = hana.run("exec", "-i", "shop", "--", "sh", stdin="echo hi\nhostname\nexit 4\n")
    assert result.returncode == 4, result.stderr
    assert result.stdout == "hi\nshop\n"


def test_kubectl_cp_is_told_the_containers_hold_no_files(hana, tmp_path):
    result = hana.run("cp", "shop:/etc/hostname", str(tmp_path / "hostname"))
    assert result.returncode != 0
    assert "command terminated with exit code 127" in result.stderr
    # kubectl cp shows what tar wrote to stderr among its own output.
    assert "sh: tar: not found" in result.stdout + result.stderr
    assert "simulated" in result.stdout + result.stderr


def test_refusals_use_kubernetes_words(hana):
    assert "container nope is not valid for pod shop" in hana.fails(
        "exec", "shop", "-c", "nope", "--", "env"
    )
    assert 'pods "ghost" not found' in hana.fails("exec", "ghost", "--", "env")
    # A ServiceAccount that may view the Pod, but not exec into it.
    hana.ok("create", "serviceaccount", "auditor")
    hana.ok(
        "create", "rolebinding", "auditor", "--clusterrole=view", "--serviceaccount=hana:auditor"
    )
    token = hana.ok("create", "token", "auditor").strip()
    forbidden = hana.fails("exec", "shop", f"--token={token}", "--", "env")
    assert forbidden.startswith("Error from server (Forbidden)")
    assert 'User "system:serviceaccount:hana:auditor" cannot create resource "pods/exec"' in (
        forbidden
    )


def test_kubectl_133_execs_too_and_127_is_told_to_upgrade(hana):
    newer = _with(hana, KUBECTL_133)
    assert newer.ok("exec", "shop", "--", "hostname") == "shop\n"
    # The WebSocket is taken at once, with no fall back to SPDY.
    verbose = hana.run("exec", "-v=4", "shop", "--", "true")
    assert verbose.returncode == 0, verbose.stderr
    assert "The subprotocol is v5.channel.k8s.io" in verbose.stderr
    assert "SPDY" not in verbose.stderr
    older = _with(hana, KUBECTL_127)
    message = older.fails("exec", "shop", "--", "hostname")
    assert "kubectl 1.30 and newer" in message


def test_the_python_clients_stream_execs_over_v4(hana, live_cluster):
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(live_cluster.kubeconfig("hana")), client_configuration=configuration
    )
    with client.ApiClient(configuration) as api:
        core = client.CoreV1Api(api)
        printed = stream(
            core.connect_get_namespaced_pod_exec,
            "shop",
            "hana",
            command=["cat", "/etc/settings/colour"],
            stdout=True,
            stderr=True,
        )
        assert printed == "blue\n"
        failing = stream(
            core.connect_get_namespaced_pod_exec,
            "shop",
            "hana",
            command=["sh", "-c", "echo $MODE; exit 5"],
            stdout=True,
            stderr=True,
            _preload_content=False,
        )
        failing.run_forever(timeout=10)
        assert failing.read_stdout() == "strict\n"
        assert failing.returncode == 5


def test_an_interactive_shell_on_a_terminal_prompts_and_exits_with_its_code(hana):
    main, terminal = pty.openpty()
    shell = subprocess.Popen(
        [hana.binary, "exec", "-it", "shop", "--", "sh"],
        env=hana.env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 10
        while marker not in seen:
            assert time.monotonic() < deadline, seen
            if select.select([main], [], [], 0.2)[0]:
                seen += os.read(main, 1024)

    try:
        read_until(b"/ # ")
        os.write(main, b"echo $MODE\r")
        read_until(b"strict\r\n/ # ")
        os.write(main, b"exit 2\r")
        assert shell.wait(timeout=10) == 2
    finally:
        shell.kill()
        os.close(main)
