"""The words and examples the catalog pages are built from."""

import yaml

from catalog import shelf
from catalog.models import KindField, ResourceKind
from catalog.versions import version_rank


def _kind(kind: str, group: str = "", version: str = "v1") -> ResourceKind:
    return ResourceKind.objects.select_related("api_version__group").get(
        kind=kind, api_version__group__name=group, api_version__version=version
    )


def _all_but(kind: ResourceKind) -> list[ResourceKind]:
    return list(ResourceKind.objects.select_related("api_version__group").exclude(pk=kind.pk))


def test_search_matches_kind_plural_singular_and_short_names(catalog):
    pod = _kind("Pod")

    assert all(shelf.matches(pod, word) for word in ("Pod", "pods", "pod", "po", "PO", "od"))
    assert not shelf.matches(pod, "deploy")


def test_kubectl_names_a_product_by_short_name_when_that_is_unambiguous(catalog):
    deployment = _kind("Deployment", "apps")

    assert shelf.resource_argument(deployment, _all_but(deployment)) == "deploy"
    assert shelf.listing_argument(deployment, _all_but(deployment)) == "deployments"


def test_kubectl_spells_out_the_group_when_two_departments_sell_the_same_name(catalog):
    event = _kind("Event", "events.k8s.io")
    core_event = _kind("Event")

    assert shelf.resource_argument(event, _all_but(event)) == "events.events.k8s.io"
    assert shelf.resource_argument(core_event, _all_but(core_event)) == "events"


def test_kubectl_spells_out_the_version_for_an_older_edition(catalog):
    hpa_v1 = _kind("HorizontalPodAutoscaler", "autoscaling", "v1")

    argument = shelf.resource_argument(hpa_v1, _all_but(hpa_v1))

    assert argument == "horizontalpodautoscalers.v1.autoscaling"


def test_versions_sort_as_kubernetes_prioritises_them():
    """GA before beta before alpha, then the higher version (kube-apiserver's discovery)."""
    versions = ["v1", "v2beta1", "v2", "v1alpha1", "v1beta2", "v2alpha1", "v10", "custom"]

    assert sorted(versions, key=version_rank) == [
        "v10",
        "v2",
        "v1",
        "v2beta1",
        "v1beta2",
        "v2alpha1",
        "v1alpha1",
        "custom",
    ]


def test_ways_to_buy_go_from_looking_to_cancelling(catalog):
    pod = _kind("Pod")

    verbs = [verb.name for verb in shelf.ways_to_buy(pod, _all_but(pod))]

    assert verbs == [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ]


def test_cluster_wide_requests_have_no_namespace_in_their_path(catalog):
    node = _kind("Node")

    requests = {verb.name: verb.http for verb in shelf.ways_to_buy(node, _all_but(node))}

    assert requests["list"] == "GET /api/v1/nodes"
    assert requests["get"] == "GET /api/v1/nodes/my-node"


def test_the_pod_order_form_needs_only_containers_with_names(catalog):
    pod = _kind("Pod")

    assert shelf.required_fields(list(pod.fields.all())) == {
        "spec": {"containers": [{"name": "<string>"}]}
    }


def test_required_fields_skip_those_under_optional_parents():
    fields = [
        KindField(path="spec.template", type_name="Template", required=True, depth=0),
        KindField(path="spec.template.image", type_name="string", required=True, depth=1),
        KindField(path="spec.extra", type_name="Extra", required=False, depth=0),
        KindField(path="spec.extra.colour", type_name="string", required=True, depth=1),
        KindField(path="spec.ports", type_name="[]Port", required=True, depth=0),
        KindField(path="spec.ports[].number", type_name="integer", required=True, depth=1),
        KindField(path="labels", type_name="map[string]string", required=True, depth=0),
    ]

    assert shelf.required_fields(fields) == {
        "spec": {"template": {"image": "<string>"}, "ports": [{"number": 1}]},
        "labels": {"<key>": "<string>"},
    }


def test_every_example_manifest_is_valid_yaml_naming_its_kind(catalog):
    for kind in ResourceKind.objects.select_related("api_version__group"):
        manifest = yaml.safe_load(shelf.example_manifest(kind))

        assert manifest["apiVersion"] == kind.api_version.group_version
        assert manifest["kind"] == kind.kind
        assert ("namespace" in manifest["metadata"]) == kind.namespaced
        assert manifest["metadata"]["name"] == shelf.example_name(kind)


def test_every_subresource_has_a_plain_meaning(catalog):
    for kind in ResourceKind.objects.all():
        for name, meaning in shelf.subresources(kind):
            assert name in shelf.SUBRESOURCES, f"{kind.kind}/{name} needs a plain meaning"
            assert meaning
