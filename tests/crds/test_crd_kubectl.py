"""The real kubectl registers a third-party seller, orders from it, and sees it leave.

The instructor (teacher) applies the CRD, as only cluster-admins may on a real cluster;
the learner (alice) then orders Widgets in her namespace with plain kubectl.
"""

import re
from pathlib import Path

import pytest
import yaml

from support.livecluster import LiveCluster
from tests.crds.conftest import widget, widget_crd
from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e

CRD_NAME = "widgets.shop.example.com"


@pytest.fixture(scope="module")
def teacher(live_cluster: LiveCluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("teacher-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("teacher", instructor=True), home)


@pytest.fixture(scope="module")
def learner(live_cluster: LiveCluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("learner-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("alice"), home)


def _write(path: Path, obj: dict) -> str:
    path.write_text(yaml.safe_dump(obj, sort_keys=False))
    return str(path)


def test_seller_registers_learner_orders_seller_leaves(teacher, learner, tmp_path):
    crd = _write(tmp_path / "crd.yaml", widget_crd())
    refused = learner.fails("apply", "-f", crd)
    assert "Forbidden" in refused
    assert teacher.ok("apply", "-f", crd).strip() == (
        f"customresourcedefinition.apiextensions.k8s.io/{CRD_NAME} created"
    )
    waited = teacher.ok(
        "wait", "--for", "condition=established", "--timeout=30s", f"crd/{CRD_NAME}"
    )
    assert "condition met" in waited

    resources = learner.ok("api-resources").splitlines()
    assert any(
        re.fullmatch(r"widgets\s+wd\s+shop\.example\.com/v1\s+true\s+Widget", line.strip())
        for line in resources
    ), resources

    order = widget("blue-one", size=4, color="blue")
    manifest = _write(tmp_path / "widget.yaml", order)
    assert learner.ok("apply", "-f", manifest).strip() == "widget.shop.example.com/blue-one created"
    assert learner.ok("apply", "-f", manifest).strip() == (
        "widget.shop.example.com/blue-one unchanged"
    )
    order["spec"]["size"] = 5
    _write(tmp_path / "widget.yaml", order)
    assert learner.ok("apply", "-f", manifest).strip() == (
        "widget.shop.example.com/blue-one configured"
    )

    table = learner.ok("get", "widgets").splitlines()
    assert re.match(r"NAME\s+SIZE\s+COLOR\s+AGE", table[0])
    assert re.match(r"blue-one\s+5\s+blue\s+\d+s", table[1])
    assert learner.ok("get", "wd", "-o", "name").split() == ["widget.shop.example.com/blue-one"]

    bad = _write(tmp_path / "bad.yaml", widget("too-big", size=99))
    error = learner.fails("apply", "-f", bad)
    assert 'The Widget "too-big" is invalid' in error
    assert "spec.size in body should be less than or equal to 10" in error

    explained = learner.ok("explain", "widgets.spec")
    assert "size" in explained

    assert teacher.ok("delete", "crd", CRD_NAME).strip() == (
        f'customresourcedefinition.apiextensions.k8s.io "{CRD_NAME}" deleted'
    )
    # kubectl's discovery cache still names widgets, so the server answers 404...
    stale = learner.fails("get", "widgets")
    assert "the server could not find the requested resource" in stale
    # ...until discovery is read again, and then kubectl knows the product has gone.
    assert "widgets" not in learner.ok("api-resources")
    gone = learner.fails("get", "widgets")
    assert 'the server doesn\'t have a resource type "widgets"' in gone
