"""The official Python client registers a seller and orders from it, unchanged.

Uses its own group (toys.example.com), so it shares the live server with the kubectl story.
"""

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from support.livecluster import LiveCluster
from tests.crds.conftest import widget_crd

pytestmark = pytest.mark.e2e

GROUP, PLURAL, NAMESPACE = "toys.example.com", "gadgets", "alice"


def _client(cluster: LiveCluster, name: str, instructor: bool = False) -> client.ApiClient:
    configuration = client.Configuration()
    kubeconfig = cluster.kubeconfig(name, instructor=instructor)
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration)


def _gadget_crd() -> dict:
    crd = widget_crd(group=GROUP, names={"plural": PLURAL, "singular": "gadget", "kind": "Gadget"})
    crd["metadata"]["name"] = f"{PLURAL}.{GROUP}"
    return crd


def _gadget(name: str, size: object) -> dict:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gadget",
        "metadata": {"name": name},
        "spec": {"size": size},
    }


def test_python_client_registers_a_seller_and_orders_from_it(live_cluster):
    with (
        _client(live_cluster, "python-teacher", instructor=True) as teacher,
        _client(live_cluster, NAMESPACE) as learner,
    ):
        extensions = client.ApiextensionsV1Api(teacher)
        created = extensions.create_custom_resource_definition(_gadget_crd())
        assert created.metadata.name == f"{PLURAL}.{GROUP}"
        assert {c.type: c.status for c in created.status.conditions}["Established"] == "True"

        shop = client.CustomObjectsApi(learner)
        made = shop.create_namespaced_custom_object(
            GROUP, "v1", NAMESPACE, PLURAL, _gadget("spinner", 2)
        )
        assert made["spec"] == {"size": 2, "color": "red"}
        shop.patch_namespaced_custom_object(
            GROUP, "v1", NAMESPACE, PLURAL, "spinner", {"spec": {"size": 6}}
        )
        listed = shop.list_namespaced_custom_object(GROUP, "v1", NAMESPACE, PLURAL)
        assert [(g["metadata"]["name"], g["spec"]["size"]) for g in listed["items"]] == [
            ("spinner", 6)
        ]
        with pytest.raises(ApiException) as refused:
            shop.create_namespaced_custom_object(
                GROUP, "v1", NAMESPACE, PLURAL, _gadget("broken", "huge")
            )
        assert refused.value.status == 422

        extensions.delete_custom_resource_definition(f"{PLURAL}.{GROUP}")
        with pytest.raises(ApiException) as gone:
            shop.list_namespaced_custom_object(GROUP, "v1", NAMESPACE, PLURAL)
        assert gone.value.status == 404
