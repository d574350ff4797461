"""The official Kubernetes Python client, unchanged, against a live Warehouse."""

import threading
import time

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.e2e

NAMESPACE = "alice"


@pytest.fixture(scope="module")
def api_client(live_cluster) -> client.ApiClient:
    """Loaded from the learner's kubeconfig into its own Configuration, not the global one."""
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(live_cluster.kubeconfig(NAMESPACE)), client_configuration=configuration
    )
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(api_client) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


def _pod(name: str, **labels: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {"app": name}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="shelf", image="nginx:1.27")]),
    )


def test_configuration_verifies_the_server_with_the_apps_ca(api_client, live_cluster):
    configuration = api_client.configuration

    assert configuration.host == live_cluster.api_url
    assert configuration.verify_ssl is True
    assert configuration.ssl_ca_cert
    assert configuration.api_key["BearerToken"] == f"Bearer {live_cluster.token(NAMESPACE)}"


def test_create_read_and_delete_a_pod(core):
    created = core.create_namespaced_pod(NAMESPACE, _pod("scale"))
    assert created.metadata.uid
    assert created.metadata.namespace == NAMESPACE

    read = core.read_namespaced_pod("scale", NAMESPACE)
    assert read.metadata.uid == created.metadata.uid
    assert read.spec.containers[0].image == "nginx:1.27"

    core.delete_namespaced_pod("scale", NAMESPACE)
    assert _gone(core, "scale")


def _scheduled(core: client.CoreV1Api, name: str, timeout: float = 20) -> client.V1Pod:
    """The pod once the scheduler has bound it; from then on its spec stays put."""
    deadline = time.monotonic() + timeout
    pod = core.read_namespaced_pod(name, NAMESPACE)
    while not pod.spec.node_name and time.monotonic() < deadline:
        time.sleep(0.2)
        pod = core.read_namespaced_pod(name, NAMESPACE)
    return pod


def _gone(core: client.CoreV1Api, name: str, timeout: float = 20) -> bool:
    """A running pod terminates gracefully, so wait for the 404 as kubectl delete does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_pod(name, NAMESPACE)
        except ApiException as error:
            return error.status == 404
        time.sleep(0.2)
    return False


def test_list_with_a_label_selector(core):
    core.create_namespaced_pod(NAMESPACE, _pod("whisk-1", kitchen="yes"))
    core.create_namespaced_pod(NAMESPACE, _pod("whisk-2", kitchen="no"))

    pods = core.list_namespaced_pod(NAMESPACE, label_selector="kitchen=yes")

    assert [pod.metadata.name for pod in pods.items] == ["whisk-1"]
    assert pods.metadata.resource_version


def test_patch_adds_a_label_and_bumps_the_resource_version(core):
    created = core.create_namespaced_pod(NAMESPACE, _pod("grater"))

    patched = core.patch_namespaced_pod("grater", NAMESPACE, {"metadata": {"labels": {"x": "1"}}})

    assert patched.metadata.labels == {"app": "grater", "x": "1"}
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)


def test_replace_with_a_stale_object_is_a_conflict(core):
    core.create_namespaced_pod(NAMESPACE, _pod("sieve"))
    stale = _scheduled(core, "sieve")
    core.patch_namespaced_pod("sieve", NAMESPACE, {"metadata": {"labels": {"fresh": "yes"}}})
    stale.metadata.labels["fresh"] = "no"

    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_pod("sieve", NAMESPACE, stale)

    assert conflict.value.status == 409
    assert '"reason":"Conflict"' in conflict.value.body.replace(" ", "")


def test_another_namespace_is_forbidden(core, live_cluster):
    live_cluster.kubeconfig("bob")

    with pytest.raises(ApiException) as forbidden:
        core.list_namespaced_pod("bob")

    assert forbidden.value.status == 403


def test_an_invalid_pod_is_unprocessable(core):
    pod = _pod("no-containers")
    pod.spec.containers = []

    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod(NAMESPACE, pod)

    assert invalid.value.status == 422


def test_deployments_through_apps_v1(apps):
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="pantry"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "pantry"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "pantry"}),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="jar", image="nginx:1.27")]
                ),
            ),
        ),
    )

    apps.create_namespaced_deployment(NAMESPACE, deployment)

    read = apps.read_namespaced_deployment("pantry", NAMESPACE)
    assert read.spec.replicas == 2
    names = [d.metadata.name for d in apps.list_namespaced_deployment(NAMESPACE).items]
    assert "pantry" in names


def test_watch_from_a_resource_version_replays_later_changes(core):
    since = core.list_namespaced_pod(NAMESPACE).metadata.resource_version
    core.create_namespaced_pod(NAMESPACE, _pod("ladle"))
    core.patch_namespaced_pod("ladle", NAMESPACE, {"metadata": {"labels": {"clean": "yes"}}})

    seen = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_pod, NAMESPACE, resource_version=since, timeout_seconds=10
    ):
        if event["object"].metadata.name == "ladle":
            seen.append(event["type"])
        if len(seen) == 2:
            stream.stop()

    assert seen == ["ADDED", "MODIFIED"]


def test_watch_sees_a_change_made_while_it_is_open(core):
    core.create_namespaced_pod(NAMESPACE, _pod("spatula"))
    since = core.read_namespaced_pod("spatula", NAMESPACE).metadata.resource_version

    def change_soon() -> None:
        time.sleep(0.5)
        core.delete_namespaced_pod("spatula", NAMESPACE)

    changer = threading.Thread(target=change_soon)
    changer.start()
    seen = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_pod, NAMESPACE, resource_version=since, timeout_seconds=10
    ):
        if event["object"].metadata.name == "spatula":
            seen.append(event["type"])
            stream.stop()
    changer.join()

    assert seen and seen[-1] in ("DELETED", "MODIFIED")
