"""One strategy per kind, and admission as an ordered chain of plug-ins that use them."""

from datetime import UTC, datetime

import pytest

from apiserver import admission, errors
from apiserver.admission.plugin import CREATE, UPDATE, Attributes
from apiserver.registry import crds, kinds, strategies
from apiserver.registry.strategy import Strategy
from tests.apiserver.conftest import deployment

BARE = {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "x"}}
# A well-filled object: every printer finds what its columns read.
FULL = {
    "apiVersion": "v1",
    "kind": "Thing",
    "metadata": {"name": "x", "namespace": "alice", "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}},
        "schedule": "*/5 * * * *",
        "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}},
        "ports": [{"port": 80, "protocol": "TCP"}],
        "type": "ClusterIP",
        "clusterIP": "10.96.0.10",
        "containers": [{"name": "main", "image": "nginx:1.27"}],
        "nodeName": "node-1",
    },
    "status": {"phase": "Running", "replicas": 2, "readyReplicas": 1},
    "data": {"k": "v"},
}


@pytest.mark.parametrize("resource", sorted(strategies.STRATEGIES))
def test_every_printer_fills_each_of_its_columns(resource):
    strategy = strategies.STRATEGIES[resource]
    columns, row = strategy.printer()
    now = datetime(2026, 1, 2, tzinfo=UTC)

    for obj in (BARE, FULL):
        assert len(row(obj, now)) == len(columns), resource
    assert strategy.resource == resource


def test_kinds_without_rules_of_their_own_get_name_and_age(catalog):
    leases = kinds.lookup("coordination.k8s.io", "v1", "leases")

    strategy = strategies.for_kind(leases)

    assert strategy is strategies.DEFAULT
    assert [name for name, *_ in strategy.columns] == ["Name", "Age"]
    assert strategy.field_selectors == () and not strategy.delete_returns_object


def test_a_kinds_knowledge_lives_in_its_strategy(catalog):
    pods = strategies.for_kind(kinds.lookup("", "v1", "pods"))
    services = strategies.for_kind(kinds.lookup("", "v1", "services"))

    assert "spec.nodeName" in pods.field_selectors
    assert pods.delete_returns_object and services.name_is_dns_label
    on_node = {"spec": {"nodeName": "node-1", "terminationGracePeriodSeconds": 5}}
    assert pods.grace_seconds(on_node, None) == 5
    assert pods.grace_seconds({"spec": {}}, None) == 0
    assert Strategy().grace_seconds(on_node, None) == 0


def test_the_chain_runs_decoding_then_mutating_then_validation_then_validating():
    stages = [plugin.stage for plugin in admission.CHAIN]

    assert list(dict.fromkeys(stages)) == ["decoding", "mutating", "validation", "validating"]
    assert [p.name for p in admission.CHAIN if p.stage == "mutating"] == [
        "DefaultFields",
        "LimitRanger",
    ]


def test_each_plugin_declares_the_kinds_and_operations_it_handles(catalog):
    pods = kinds.lookup("", "v1", "pods")
    definitions = kinds.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    crd_plugin = next(p for p in admission.CHAIN if p.name == "CustomResourceDefinitionNames")

    assert crd_plugin.resources == {crds.CRD_RESOURCE}
    assert not crd_plugin.handles(Attributes(pods, {}, None, "Strict"))
    assert crd_plugin.handles(Attributes(definitions, {}, None, "Strict"))
    updating = Attributes(pods, {}, {"spec": {}}, "Strict")
    assert updating.operation == UPDATE and Attributes(pods, {}, None, "").operation == CREATE
    assert all(p.handles(updating) for p in admission.CHAIN if not p.resources)


def test_admission_fills_defaults_and_reports_every_cause_together(catalog):
    pods = kinds.lookup("", "v1", "pods")
    good = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "a"}}
    good["spec"] = {"containers": [{"name": "main", "image": "nginx:1.27"}]}

    admission.admit(pods, good, "Strict")

    assert good["spec"]["restartPolicy"] == "Always"
    assert good["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Web_1", "namespace": "a"}}
    bad["spec"] = {"containers": [{"name": "main"}], "restartPolicy": "Sometimes"}
    with pytest.raises(errors.ApiError) as refused:
        admission.admit(pods, bad, "Strict")
    assert refused.value.code == 422
    fields = {cause["field"] for cause in refused.value.details["causes"]}
    assert fields == {"metadata.name", "spec.containers[0].image", "spec.restartPolicy"}


def test_selectors_and_a_jobs_template_are_immutable(api, alice):
    """As in Kubernetes: a workload's selector (and a Job's template) is fixed at creation."""
    path = "/apis/apps/v1/namespaces/alice/deployments"
    assert api.post(path, alice, deployment("web")).status_code == 201
    changed = deployment("web")
    changed["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    changed["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    refused = api.put(f"{path}/web", alice, changed)
    assert refused.status_code == 422
    assert refused.json_body["details"]["causes"][0]["field"] == "spec.selector"
    assert "field is immutable" in refused.json_body["message"]
    scaled = api.patch(
        f"{path}/web", alice, {"spec": {"replicas": 3}}, "application/merge-patch+json"
    )
    assert scaled.status_code == 200
