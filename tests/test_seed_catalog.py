"""The warehouse is stocked from the official Kubernetes client, and restocking is safe."""

from collections import Counter
from io import StringIO

from django.core.management import call_command

from catalog.management.commands import seed_catalog
from catalog.models import ApiGroup, ApiVersion, KindField, ResourceKind
from tests.conftest import discovered_kinds


def _kind(group: str, kind: str, version: str = "v1") -> ResourceKind:
    return ResourceKind.objects.get(
        api_version__group__name=group, api_version__version=version, kind=kind
    )


def _counts() -> dict[str, int]:
    return {
        "groups": ApiGroup.objects.count(),
        "versions": ApiVersion.objects.count(),
        "kinds": ResourceKind.objects.count(),
        "fields": KindField.objects.count(),
    }


def test_the_warehouse_stocks_at_least_fifty_stable_kinds_in_twenty_departments(catalog):
    assert ResourceKind.objects.count() >= 50
    assert ApiGroup.objects.count() >= 20
    assert not ResourceKind.objects.exclude(api_version__version__regex=r"^v\d+$").exists()


def test_the_apps_department_sells_five_kinds(catalog):
    kinds = ResourceKind.objects.filter(api_version__group__name="apps")
    assert sorted(k.kind for k in kinds) == [
        "ControllerRevision",
        "DaemonSet",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
    ]


def test_the_core_group_serves_the_everyday_kinds_at_plain_v1(catalog):
    core = set(
        ResourceKind.objects.filter(api_version__group__name="").values_list("kind", flat=True)
    )
    assert {"Pod", "Service", "ConfigMap", "Secret", "Namespace", "Node"} <= core
    assert ApiVersion.objects.get(group__name="").group_version == "v1"


def test_each_department_has_a_name_and_a_preferred_version(catalog):
    for group in ApiGroup.objects.all():
        assert group.department
        assert group.versions.filter(version=group.preferred_version).exists()


def test_pod_is_namespaced_with_short_name_po(catalog):
    pod = _kind("", "Pod")
    assert pod.short_names == ["po"]
    assert pod.namespaced
    assert pod.plural == "pods"
    assert {"create", "get", "list", "watch", "delete"} <= set(pod.verbs)
    assert {"log", "exec", "status"} <= set(pod.subresources)


def test_service_has_short_name_svc(catalog):
    assert _kind("", "Service").short_names == ["svc"]


def test_deployment_is_deploy_in_apps_v1(catalog):
    deployment = _kind("apps", "Deployment")
    assert deployment.short_names == ["deploy"]
    assert deployment.api_version.group_version == "apps/v1"
    assert deployment.resource_name == "deployments.apps"
    assert "scale" in deployment.subresources


def test_ingress_is_ing_in_networking_v1(catalog):
    ingress = _kind("networking.k8s.io", "Ingress")
    assert ingress.short_names == ["ing"]
    assert ingress.api_version.group_version == "networking.k8s.io/v1"


def test_nodes_and_namespaces_are_cluster_wide(catalog):
    assert not _kind("", "Node").namespaced
    assert not _kind("", "Namespace").namespaced
    assert not _kind("rbac.authorization.k8s.io", "ClusterRole").namespaced


def test_autoscaling_sells_two_versions_and_prefers_v2(catalog):
    autoscaling = ApiGroup.objects.get(name="autoscaling")
    assert autoscaling.preferred_version == "v2"
    assert _kind("autoscaling", "HorizontalPodAutoscaler", "v2").is_preferred
    assert not _kind("autoscaling", "HorizontalPodAutoscaler", "v1").is_preferred


def test_pod_spec_sheet_requires_containers_of_type_container_list(catalog):
    containers = KindField.objects.get(resource_kind=_kind("", "Pod"), path="spec.containers")
    assert containers.required
    assert containers.type_name == "[]Container"
    assert containers.depth == 0
    image = KindField.objects.get(resource_kind=_kind("", "Pod"), path="spec.containers[].image")
    assert image.depth == 1
    assert image.type_name == "string"
    assert not image.required


def test_spec_less_kinds_list_their_top_level_fields(catalog):
    paths = set(_kind("", "ConfigMap").fields.values_list("path", flat=True))
    assert {"data", "binaryData", "immutable"} <= paths


def test_reseeding_changes_no_counts_and_makes_no_duplicates(catalog, monkeypatch):
    before = _counts()
    monkeypatch.setattr(seed_catalog, "discover_kinds", discovered_kinds)

    call_command("seed_catalog", stdout=StringIO())
    call_command("seed_catalog", stdout=StringIO())

    assert _counts() == before
    per_product = Counter(
        ResourceKind.objects.values_list(
            "api_version__group__name", "api_version__version", "plural"
        )
    )
    assert max(per_product.values()) == 1


def test_reseeding_reports_what_it_stocked(catalog, monkeypatch):
    monkeypatch.setattr(seed_catalog, "discover_kinds", discovered_kinds)
    out = StringIO()

    call_command("seed_catalog", stdout=out)

    assert f"{ResourceKind.objects.count()} kinds" in out.getvalue()
    assert f"{ApiGroup.objects.count()} departments" in out.getvalue()


def test_reseeding_repairs_a_product_a_manager_broke(catalog):
    pod = _kind("", "Pod")
    pod.short_names = []
    pod.save()
    pod.fields.all().delete()

    seed_catalog.seed(discovered_kinds())

    pod.refresh_from_db()
    assert pod.short_names == ["po"]
    assert pod.fields.filter(path="spec.containers").exists()
