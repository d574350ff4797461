"""The store manager looks after the catalog in the Django admin."""

import pytest

from catalog.models import ApiGroup, ApiVersion, KindField, ResourceKind


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/",
        "/admin/catalog/apigroup/",
        "/admin/catalog/apiversion/",
        "/admin/catalog/resourcekind/",
        "/admin/catalog/kindfield/",
        "/admin/catalog/resourcekind/?namespaced__exact=0",
        "/admin/catalog/kindfield/?required__exact=1",
    ],
)
def test_every_catalog_list_opens_for_the_store_manager(store_manager, catalog, url):
    assert store_manager.get(url).status_code == 200


def test_each_change_page_opens(store_manager, catalog):
    pod = ResourceKind.objects.get(kind="Pod")
    pages = [
        f"/admin/catalog/apigroup/{ApiGroup.objects.get(name='apps').pk}/change/",
        f"/admin/catalog/apiversion/{pod.api_version.pk}/change/",
        f"/admin/catalog/resourcekind/{pod.pk}/change/",
        f"/admin/catalog/kindfield/{KindField.objects.filter(resource_kind=pod).first().pk}/change/",
    ]
    for url in pages:
        assert store_manager.get(url).status_code == 200, url


def test_the_pod_change_page_lists_its_spec_sheet_inline(store_manager, catalog):
    pod = ResourceKind.objects.get(kind="Pod")

    page = store_manager.get(f"/admin/catalog/resourcekind/{pod.pk}/change/").content.decode()

    assert "spec.containers" in page
    assert 'name="fields-TOTAL_FORMS"' in page


@pytest.mark.parametrize(("term", "kind"), [("deploy", "Deployment"), ("svc", "Service")])
def test_the_manager_can_search_kinds_by_short_name(store_manager, catalog, term, kind):
    page = store_manager.get("/admin/catalog/resourcekind/", {"q": term}).content.decode()

    assert f">{kind}</a>" in page


def test_the_manager_can_filter_kinds_by_department(store_manager, catalog):
    apps = ApiGroup.objects.get(name="apps")

    response = store_manager.get(
        "/admin/catalog/resourcekind/", {"api_version__group__id__exact": apps.pk}
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 5


def test_a_shopper_is_sent_to_the_admin_login(shopper, catalog):
    response = shopper.get("/admin/catalog/resourcekind/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_version_list_marks_the_preferred_version(store_manager, catalog):
    assert ApiVersion.objects.filter(group__name="autoscaling").count() == 2

    page = store_manager.get("/admin/catalog/apiversion/?q=autoscaling").content.decode()

    assert "autoscaling/v2" in page
    assert "icon-yes.svg" in page and "icon-no.svg" in page
