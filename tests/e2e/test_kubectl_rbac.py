"""The real kubectl meets RBAC: `auth can-i`, `--list`, sharing a namespace, escalation.

Names here (erin, frank) are this file's own, so the shared live server's other users
are untouched.
"""

import base64
import json
import re
import time

import pytest

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def erin(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("erin-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("erin"), home)


@pytest.fixture(scope="module")
def frank(live_cluster, tmp_path_factory, erin) -> Kubectl:
    home = tmp_path_factory.mktemp("frank-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("frank"), home)


def test_can_i_answers_yes_at_home_and_no_next_door(erin, frank):
    assert erin.ok("auth", "can-i", "create", "deployments").strip() == "yes"
    assert erin.run("auth", "can-i", "create", "pods", "-n", "frank").stdout.strip() == "no"
    assert erin.run("auth", "can-i", "update", "pods", "--subresource=status").stdout == "no\n"
    assert erin.ok("auth", "can-i", "list", "nodes").strip() == "yes"


def test_can_i_list_prints_the_learners_rules(erin):
    table = erin.ok("auth", "can-i", "--list").splitlines()

    assert re.match(r"Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs", table[0])
    assert any(re.match(r"pods\s+\[\]\s+\[\]\s+\[.*create.*\]", line) for line in table)
    assert any(line.startswith("deployments.apps ") for line in table)
    assert any(re.match(r"\s*\[/apis/\*\]", line) for line in table)


def test_sharing_a_namespace_with_a_rolebinding(erin, frank):
    erin.ok("create", "configmap", "menu", "--from-literal=soup=leek")
    assert "forbidden" in frank.fails("get", "configmap", "menu", "-n", "erin")

    created = erin.ok("create", "rolebinding", "frank-views", "--clusterrole=view", "--user=frank")
    assert created.strip() == "rolebinding.rbac.authorization.k8s.io/frank-views created"
    assert frank.ok("get", "configmap", "menu", "-n", "erin", "-o", "name").strip() == (
        "configmap/menu"
    )
    assert frank.run("auth", "can-i", "delete", "configmaps", "-n", "erin").stdout.strip() == "no"


def test_a_binding_to_cluster_admin_is_refused_as_escalation(erin):
    stderr = erin.fails(
        "create", "rolebinding", "all-mine", "--clusterrole=cluster-admin", "--user=erin"
    )

    assert stderr.startswith(
        'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "all-mine" '
        'is forbidden: user "erin" (groups=["warehouse:learners" "system:authenticated"]) is '
        "attempting to grant RBAC permissions not currently held:"
    ), stderr


def test_whoami_names_the_learner_and_their_groups(erin):
    out = erin.ok("auth", "whoami")

    assert re.search(r"Username\s+erin", out)
    assert re.search(r"Groups\s+\[warehouse:learners system:authenticated\]", out)


def test_a_service_account_token_acts_with_the_accounts_rights(erin):
    """`kubectl create token` for the `default` account the control plane made."""
    deadline = time.monotonic() + 20
    while erin.run("get", "serviceaccount", "default").returncode != 0:
        assert time.monotonic() < deadline, "no default ServiceAccount in erin's namespace"
        time.sleep(0.2)
    token = erin.ok("create", "token", "default", "--duration=15m").strip()
    as_robot = ("--token", token)
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - claims["iat"] == 15 * 60

    whoami = erin.ok("auth", "whoami", *as_robot)
    assert re.search(r"Username\s+system:serviceaccount:erin:default", whoami)
    assert "system:serviceaccounts:erin" in whoami
    assert "forbidden" in erin.fails("get", "configmaps", *as_robot)

    erin.ok(
        "create",
        "rolebinding",
        "robot-views",
        "--clusterrole=view",
        "--serviceaccount=erin:default",
    )
    erin.ok("create", "configmap", "for-the-robot", "--from-literal=a=b")
    listed = erin.ok("get", "configmaps", "-o", "name", *as_robot)
    assert "configmap/for-the-robot" in listed
    assert erin.run("auth", "can-i", "delete", "configmaps", *as_robot).stdout.strip() == "no"
