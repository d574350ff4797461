"""A learner's object at the store's size limit stalls only itself, never the control plane."""

import json

from apiserver.models import StoredObject
from tests.controlplane.conftest import pod_manifest

PODS = "/api/v1/namespaces/alice/pods"


def test_a_pod_at_the_size_limit_stalls_alone(cluster, settings):
    big = pod_manifest("big")
    big["metadata"]["annotations"] = {"padding": "x" * 4000}
    cluster.api("POST", PODS, big)
    stored = len(StoredObject.objects.get(name="big").body.encode())
    # The status the scheduler and the kubelet write would take it past the limit.
    settings.WAREHOUSE_MAX_OBJECT_BYTES = stored + 10
    cluster.api("POST", PODS, pod_manifest("web"))

    cluster.step(1, times=4)

    assert cluster.pod("web")["status"]["phase"] == "Running"
    assert cluster.pod("big")["status"]["phase"] == "Pending"
    assert len(json.dumps(cluster.pod("big"), separators=(",", ":")).encode()) < stored + 100
