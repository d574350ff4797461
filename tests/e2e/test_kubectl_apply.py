"""The real kubectl applies, client-side and server-side, against a live Warehouse.

Two field managers applying different values to one ConfigMap meet kubectl's conflict
advice until one forces; `--show-managed-fields` shows who owns what, and a plain
`get -o yaml` hides it, as kubectl does on its own side. The learner (ines) is this
file's own.
"""

import json

import pytest
import yaml

from tests.e2e.test_kubectl import KUBECTL, Kubectl

pytestmark = pytest.mark.e2e

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@pytest.fixture(scope="module")
def ines(live_cluster, tmp_path_factory) -> Kubectl:
    if KUBECTL is None:
        pytest.skip("kubectl not found: install it, or set KUBECTL=/path/to/kubectl")
    home = tmp_path_factory.mktemp("ines-home")
    return Kubectl(live_cluster, live_cluster.kubeconfig("ines"), home)


def _prices(tea: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "prices"},
            "data": {"tea": tea, "jam": "2"},
        }
    )


def _managers(obj: dict) -> dict[str, dict]:
    return {entry["manager"]: entry for entry in obj["metadata"].get("managedFields", [])}


def test_server_side_apply_conflicts_until_forced(ines):
    apply = ("apply", "--server-side", "-f", "-")
    assert "serverside-applied" in ines.ok(*apply, "--field-manager=till", stdin=_prices("1"))
    refused = ines.fails(*apply, "--field-manager=shelf", stdin=_prices("5"))
    assert 'Apply failed with 1 conflict: conflict with "till": .data.tea' in refused
    assert "--force-conflicts" in refused
    forced = (*apply, "--field-manager=shelf", "--force-conflicts")
    assert "serverside-applied" in ines.ok(*forced, stdin=_prices("5"))
    shown = yaml.safe_load(
        ines.ok("get", "configmap", "prices", "-o", "yaml", "--show-managed-fields")
    )
    assert shown["data"]["tea"] == "5"
    managers = _managers(shown)
    assert managers["shelf"]["operation"] == "Apply"
    assert managers["shelf"]["fieldsV1"] == {"f:data": {"f:jam": {}, "f:tea": {}}}
    assert managers["till"]["fieldsV1"] == {"f:data": {"f:jam": {}}}
    hidden = yaml.safe_load(ines.ok("get", "configmap", "prices", "-o", "yaml"))
    assert "managedFields" not in hidden["metadata"]


def test_client_side_apply_keeps_its_annotation_and_changes_a_field(ines):
    def manifest(replicas: int) -> str:
        return json.dumps(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "bakery"},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": "bakery"}},
                    "template": {
                        "metadata": {"labels": {"app": "bakery"}},
                        "spec": {"containers": [{"name": "oven", "image": "nginx:1.27"}]},
                    },
                },
            }
        )

    assert (
        ines.ok("apply", "-f", "-", stdin=manifest(1)).strip() == "deployment.apps/bakery created"
    )
    assert (
        ines.ok("apply", "-f", "-", stdin=manifest(1)).strip() == "deployment.apps/bakery unchanged"
    )
    assert ines.ok("apply", "-f", "-", stdin=manifest(2)).strip() == (
        "deployment.apps/bakery configured"
    )
    shown = json.loads(
        ines.ok("get", "deployment", "bakery", "-o", "json", "--show-managed-fields")
    )
    assert shown["spec"]["replicas"] == 2
    last_applied = json.loads(shown["metadata"]["annotations"][LAST_APPLIED])
    assert last_applied["spec"] == json.loads(manifest(2))["spec"]
    entry = _managers(shown)["kubectl-client-side-apply"]
    assert entry["operation"] == "Update"
    assert entry["fieldsV1"]["f:spec"]["f:replicas"] == {}
    refused = ines.fails(
        "apply", "--server-side", "--field-manager=ops", "-f", "-", stdin=manifest(3)
    )
    assert 'conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas' in refused
