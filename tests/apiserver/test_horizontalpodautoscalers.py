"""HorizontalPodAutoscalers: one stored object, read and written as autoscaling/v2 and v1."""

import json

from apiserver.registry.autoscaling import horizontalpodautoscalers as hpa

V2 = "/apis/autoscaling/v2/namespaces/alice/horizontalpodautoscalers"
V1 = "/apis/autoscaling/v1/namespaces/alice/horizontalpodautoscalers"
MERGE = "application/merge-patch+json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
REFERENCE = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
MEMORY = {
    "type": "Resource",
    "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}},
}
QUEUE = {
    "type": "External",
    "external": {
        "metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": "orders"}}},
        "target": {"type": "AverageValue", "averageValue": "30"},
    },
}


def _cpu(utilization: int) -> dict:
    target = {"type": "Utilization", "averageUtilization": utilization}
    return {"type": "Resource", "resource": {"name": "cpu", "target": target}}


def _v2(name: str, *metrics: dict, **spec) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": REFERENCE, "maxReplicas": 5, "metrics": list(metrics), **spec},
    }


def _v1(name: str, **spec) -> dict:
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": REFERENCE, "maxReplicas": 4, **spec},
    }


def test_a_v1_object_reads_as_v2_with_the_cpu_target_as_a_metric(api, alice):
    created = api.post(V1, alice, _v1("web", targetCPUUtilizationPercentage=60))
    assert created.status_code == 201, created.json_body
    assert created.json_body["apiVersion"] == "autoscaling/v1"
    assert created.json_body["spec"] == {
        "scaleTargetRef": REFERENCE,
        "minReplicas": 1,
        "maxReplicas": 4,
        "targetCPUUtilizationPercentage": 60,
    }

    as_v2 = api.get(f"{V2}/web", alice).json_body

    assert as_v2["apiVersion"] == "autoscaling/v2"
    assert as_v2["spec"]["metrics"] == [_cpu(60)]
    assert "annotations" not in as_v2["metadata"]
    assert as_v2["metadata"]["resourceVersion"] == created.json_body["metadata"]["resourceVersion"]


def test_a_v1_object_without_a_target_reads_back_with_the_default_80_percent(api, alice):
    api.post(V1, alice, _v1("web"))

    assert api.get(f"{V1}/web", alice).json_body["spec"]["targetCPUUtilizationPercentage"] == 80
    assert api.get(f"{V2}/web", alice).json_body["spec"]["metrics"] == [_cpu(80)]


def test_what_v1_cannot_say_travels_in_annotations_and_survives_a_v1_update(api, alice):
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    api.post(V2, alice, _v2("web", MEMORY, _cpu(70), QUEUE, behavior=behavior))

    as_v1 = api.get(f"{V1}/web", alice).json_body

    annotations = as_v1["metadata"]["annotations"]
    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 70
    assert json.loads(annotations[hpa.METRICS]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "200Mi"}},
        {
            "type": "External",
            "external": {
                "metricName": "queue_depth",
                "metricSelector": {"matchLabels": {"queue": "orders"}},
                "targetAverageValue": "30",
            },
        },
    ]
    scale_down = json.loads(annotations[hpa.BEHAVIOR])["ScaleDown"]
    assert scale_down["StabilizationWindowSeconds"] == 60
    assert scale_down["Policies"] == [{"Type": "Percent", "Value": 100, "PeriodSeconds": 15}]

    as_v1["spec"]["maxReplicas"] = 9
    as_v1["spec"]["targetCPUUtilizationPercentage"] = 50
    updated = api.put(f"{V1}/web", alice, as_v1)
    assert updated.status_code == 200, updated.json_body

    spec = api.get(f"{V2}/web", alice).json_body["spec"]
    assert spec["maxReplicas"] == 9
    assert spec["metrics"] == [MEMORY, QUEUE, _cpu(50)]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 60
    assert spec["behavior"]["scaleUp"] == hpa.SCALE_UP


def test_status_converts_both_ways(api, alice, carol):
    """Status is the controller's to write; an instructor stands in for it."""
    api.post(V2, alice, _v2("web", _cpu(80)))
    current = {
        "type": "Resource",
        "resource": {"name": "cpu", "current": {"averageUtilization": 42}},
    }
    condition = {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}
    status = {
        "currentReplicas": 2,
        "desiredReplicas": 3,
        "currentMetrics": [current],
        "conditions": [condition],
    }
    stored = api.get(f"{V2}/web", alice).json_body
    written = api.put(f"{V2}/web/status", carol, {**stored, "status": status})
    assert written.status_code == 200, written.json_body

    as_v1 = api.get(f"{V1}/web", alice).json_body

    assert as_v1["status"] == {
        "currentReplicas": 2,
        "desiredReplicas": 3,
        "currentCPUUtilizationPercentage": 42,
    }
    assert json.loads(as_v1["metadata"]["annotations"][hpa.CONDITIONS]) == [condition]

    as_v1["spec"]["maxReplicas"] = 6
    del as_v1["metadata"]["annotations"]
    assert api.put(f"{V1}/web", alice, as_v1).status_code == 200
    kept = api.get(f"{V2}/web", alice).json_body["status"]
    assert (kept["currentMetrics"], kept["conditions"]) == ([current], [condition])

    api.post(V1, alice, _v1("shop"))
    as_v1 = api.get(f"{V1}/shop", alice).json_body
    as_v1["status"] = {
        "currentReplicas": 1,
        "desiredReplicas": 1,
        "currentCPUUtilizationPercentage": 77,
    }
    assert api.put(f"{V1}/shop/status", carol, as_v1).status_code == 200
    assert api.get(f"{V2}/shop", alice).json_body["status"] == {
        "currentReplicas": 1,
        "desiredReplicas": 1,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 77}}}
        ],
    }


def test_a_merge_patch_through_v1_keeps_one_resource_version_history(api, alice):
    created = api.post(V2, alice, _v2("web", _cpu(80))).json_body

    patched = api.patch(f"{V1}/web", alice, {"spec": {"targetCPUUtilizationPercentage": 65}}, MERGE)

    assert patched.status_code == 200, patched.json_body
    assert patched.json_body["apiVersion"] == "autoscaling/v1"
    version = int(patched.json_body["metadata"]["resourceVersion"])
    assert version > int(created["metadata"]["resourceVersion"])
    as_v2 = api.get(f"{V2}/web", alice).json_body
    assert as_v2["spec"]["metrics"] == [_cpu(65)]
    assert int(as_v2["metadata"]["resourceVersion"]) == version
    listed = api.get(V1, alice).json_body
    assert listed["kind"] == "HorizontalPodAutoscalerList"
    assert [item["spec"]["targetCPUUtilizationPercentage"] for item in listed["items"]] == [65]


def test_v1_checks_the_same_rules(api, alice):
    refused = api.post(V1, alice, _v1("web", minReplicas=5, maxReplicas=2))

    assert refused.status_code == 422
    assert [c["field"] for c in refused.json_body["details"]["causes"]] == ["spec.maxReplicas"]


def test_the_table_reads_like_kubectl_in_both_versions(api, alice):
    api.post(V2, alice, _v2("web", _cpu(80)))
    api.post(V2, alice, _v2("queue", MEMORY, QUEUE, _cpu(50), minReplicas=2))

    for path in (V2, V1):
        table = api.get(path, alice, accept=TABLE).json_body
        names = [c["name"] for c in table["columnDefinitions"]]
        assert names == ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"]
        rows = {row["cells"][0]: row["cells"][1:6] for row in table["rows"]}
        assert rows["web"] == ["Deployment/web", "cpu: <unknown>/80%", "1", 5, 0]
        assert rows["queue"][1] == "memory: <unknown>/200Mi, <unknown>/30 (avg) + 1 more..."


def test_discovery_serves_both_versions_and_prefers_v2(api, alice):
    group = api.get("/apis/autoscaling", alice).json_body

    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]
    assert group["preferredVersion"]["version"] == "v2"
    for version in ("v2", "v1"):
        resources = api.get(f"/apis/autoscaling/{version}", alice).json_body["resources"]
        assert "horizontalpodautoscalers" in [r["name"] for r in resources]
