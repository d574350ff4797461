"""A shopper browses the store front, searches it and filters it, with and without htmx."""

import re

import pytest
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import dictionary
from catalog.models import ApiGroup, ResourceKind

HTMX = {"HTTP_HX_REQUEST": "true"}


def _product_links(response) -> list[str]:
    return re.findall(r'class="product-card__link" href="([^"]+)"', response.content.decode())


def test_the_store_front_is_a_full_page_with_the_mapping_panel(shopper, catalog):
    response = shopper.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert "The analogy" in page
    for term in dictionary.PANELS["site"]:
        assert f'<th scope="row">{escape(term.shop)}</th><td>{escape(term.kube)}</td>' in page
    assert 'id="results"' in page
    assert "htmx" in page and "cdn" not in page.lower()


def test_every_product_is_on_the_store_front(shopper, catalog):
    response = shopper.get("/")

    assert len(_product_links(response)) == ResourceKind.objects.count()
    assert f"<strong>{ResourceKind.objects.count()}</strong> products" in response.content.decode()


def test_departments_show_their_name_and_pitch_with_core_first(shopper, catalog):
    page = shopper.get("/").content.decode()

    headings = re.findall(r'<section class="department" id="dept-([^"]+)"', page)
    assert headings[0] == "core"
    assert headings[1:] == sorted(headings[1:])
    apps = ApiGroup.objects.get(name="apps")
    assert escape(apps.department) in page
    assert escape(apps.pitch) in page


def test_the_preferred_version_is_listed_before_older_ones(shopper, catalog):
    links = _product_links(shopper.get("/?q=horizontalpodautoscaler"))

    assert links == [
        "/catalog/autoscaling/v2/horizontalpodautoscalers/",
        "/catalog/autoscaling/v1/horizontalpodautoscalers/",
    ]


def test_products_show_kind_short_names_and_scope(shopper, catalog):
    page = shopper.get("/?q=pod").content.decode()

    pod_card = page[page.index('class="product-card__link" href="/catalog/core/v1/pods/"') :]
    pod_card = pod_card[: pod_card.index("</li>")]
    assert ">Pod</a>" in pod_card
    assert "<code>po</code>" in pod_card
    assert "Namespaced" in pod_card


def test_an_htmx_search_returns_only_the_results_fragment(shopper, catalog):
    response = shopper.get("/?q=deploy", **HTMX)

    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "The analogy" not in fragment
    assert fragment.lstrip().startswith('<div id="results"')
    assert "/catalog/apps/v1/deployments/" in fragment
    assert 'hx-swap-oob="innerHTML"' in fragment


def test_the_page_varies_on_the_htmx_header_so_caches_keep_them_apart(shopper, catalog):
    response = shopper.get("/?q=deploy")

    assert "HX-Request" in response.headers["Vary"]


def test_going_back_to_a_searched_page_gets_the_whole_page_for_htmx_history(shopper, catalog):
    response = shopper.get("/?q=deploy", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in response.content.decode()


def test_deploy_finds_the_deployment_and_links_it_as_the_exact_match(shopper, catalog):
    response = shopper.get("/?q=deploy")

    assert response.status_code == 200
    page = response.content.decode()
    assert _product_links(response) == ["/catalog/apps/v1/deployments/"]
    assert "Exact match" in page
    assert 'class="best-match__link" href="/catalog/apps/v1/deployments/"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("po", "/catalog/core/v1/pods/"),
        ("PO", "/catalog/core/v1/pods/"),
        ("svc", "/catalog/core/v1/services/"),
        ("ing", "/catalog/networking.k8s.io/v1/ingresses/"),
        ("configmap", "/catalog/core/v1/configmaps/"),
        ("CronJobs", "/catalog/batch/v1/cronjobs/"),
        ("  hpa  ", "/catalog/autoscaling/v2/horizontalpodautoscalers/"),
    ],
)
def test_a_short_name_kind_or_plural_leads_to_the_product(shopper, catalog, query, expected):
    response = shopper.get("/", {"q": query})

    assert expected in _product_links(response)
    assert f'class="best-match__link" href="{expected}"' in response.content.decode()


def test_po_finds_pod_among_other_products_containing_po(shopper, catalog):
    links = _product_links(shopper.get("/?q=po"))

    assert "/catalog/core/v1/pods/" in links
    assert "/catalog/policy/v1/poddisruptionbudgets/" in links
    assert len(links) > 1


def test_a_name_two_departments_share_offers_both_exact_matches(shopper, catalog):
    page = shopper.get("/?q=ev").content.decode()

    assert "Exact matches" in page
    assert 'class="best-match__link" href="/catalog/core/v1/events/"' in page
    assert 'class="best-match__link" href="/catalog/events.k8s.io/v1/events/"' in page


def test_a_partial_word_gives_results_but_no_exact_match(shopper, catalog):
    page = shopper.get("/?q=stateful").content.decode()

    assert "/catalog/apps/v1/statefulsets/" in page
    assert "Exact match" not in page


def test_the_count_says_how_many_products_match(shopper, catalog):
    page = shopper.get("/?q=role").content.decode()

    # Role, RoleBinding, ClusterRole, ClusterRoleBinding
    assert "<strong>4</strong> of" in page
    assert "match “role”, in 1 department." in page


def test_the_cluster_scope_shows_only_cluster_wide_products(shopper, catalog):
    response = shopper.get("/?scope=cluster")

    links = _product_links(response)
    assert len(links) == ResourceKind.objects.filter(namespaced=False).count()
    assert "/catalog/core/v1/nodes/" in links
    assert "/catalog/core/v1/pods/" not in links
    assert 'value="cluster" checked' in response.content.decode()


def test_the_namespaced_scope_combines_with_search(shopper, catalog):
    links = _product_links(shopper.get("/?q=role&scope=namespaced", **HTMX))

    assert sorted(links) == [
        "/catalog/rbac.authorization.k8s.io/v1/rolebindings/",
        "/catalog/rbac.authorization.k8s.io/v1/roles/",
    ]


def test_a_search_with_no_match_says_so_kindly(shopper, catalog):
    response = shopper.get("/?q=lawnmower")

    assert response.status_code == 200
    page = response.content.decode()
    assert "No products match “lawnmower”" in page
    assert "<strong>0</strong> of" in page
    assert _product_links(response) == []


def test_no_match_is_also_said_in_the_htmx_fragment(shopper, catalog):
    fragment = shopper.get("/?q=lawnmower&scope=cluster", **HTMX).content.decode()

    assert "No products match" in fragment
    assert "<html" not in fragment


def test_an_unknown_scope_is_ignored_with_a_clear_message(shopper, catalog):
    response = shopper.get("/?scope=galactic&q=pod")

    assert response.status_code == 200
    page = response.content.decode()
    assert "There is no “galactic” scope" in page
    assert "/catalog/core/v1/pods/" in page
    assert 'value="all" checked' in page


def test_the_search_box_keeps_the_query_and_works_without_javascript(shopper, catalog):
    page = shopper.get("/?q=deploy").content.decode()

    assert 'method="get" action="/"' in page
    assert 'name="q" type="search" value="deploy"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page
    assert 'hx-push-url="true"' in page


def test_the_store_front_only_answers_get(shopper, catalog):
    assert shopper.post("/").status_code == 405


@settings(
    max_examples=40,
    deadline=None,  # speed is measured in bench/, never here
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=st.text(max_size=300), scope=st.text(max_size=30))
def test_no_search_or_scope_ever_breaks_the_store_front(shopper, catalog, query, scope):
    response = shopper.get("/", {"q": query, "scope": scope})

    assert response.status_code == 200
