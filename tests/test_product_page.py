"""A shopper reads a product page: facts, ways to buy, an order form and the spec sheet."""

import re

import pytest
import yaml
from django.utils.html import escape

from catalog.models import ResourceKind


def _page(shopper, url: str) -> str:
    response = shopper.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _manifest(page: str) -> dict:
    found = re.search(r'<pre class="code"[^>]*><code>(.*?)</code></pre>', page, re.S)
    assert found, "no manifest on the page"
    text = found[1].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    return yaml.safe_load(text.replace("&#x27;", "'").replace("&amp;", "&"))


def test_the_deployment_page_shows_its_facts_and_the_mapping_panel(shopper, catalog):
    page = _page(shopper, "/catalog/apps/v1/deployments/")

    assert '<h1 id="page-heading">Deployment</h1>' in page
    assert "apiVersion: apps/v1" in page
    assert "Namespaced" in page
    assert "<code>deploy</code>" in page
    assert "<code>deployments.apps</code>" in page
    assert "The analogy" in page
    assert "The Amazon website" in page


def test_the_product_url_is_the_one_the_model_builds(catalog):
    pod = ResourceKind.objects.get(kind="Pod")

    assert pod.get_absolute_url() == "/catalog/core/v1/pods/"


def test_every_product_page_opens(shopper, catalog):
    for kind in ResourceKind.objects.select_related("api_version__group"):
        _page(shopper, kind.get_absolute_url())


def test_the_amazon_side_panel_says_where_the_analogy_holds_and_breaks(shopper, catalog):
    deployment = ResourceKind.objects.get(kind="Deployment")

    page = _page(shopper, "/catalog/apps/v1/deployments/")

    assert "On the Amazon side" in page
    assert escape(deployment.group.department) in page
    assert escape(deployment.stuff) in page
    assert "Where the analogy holds" in page
    assert escape(deployment.analogy_holds) in page
    assert "Where it breaks" in page
    assert escape(deployment.analogy_breaks) in page


def test_ways_to_buy_explain_each_verb_with_its_request_and_command(shopper, catalog):
    page = _page(shopper, "/catalog/core/v1/pods/")

    assert "Ways to buy" in page
    assert "POST /api/v1/namespaces/default/pods" in page
    assert "kubectl create -f manifest.yaml" in page
    assert "GET /api/v1/namespaces/default/pods?watch=true" in page
    assert "kubectl get po --watch" in page
    assert "DELETE /api/v1/namespaces/default/pods/web" in page
    assert "kubectl delete po web" in page


def test_a_create_only_product_offers_just_one_way_to_buy(shopper, catalog):
    page = _page(shopper, "/catalog/authentication.k8s.io/v1/tokenreviews/")

    assert "POST /apis/authentication.k8s.io/v1/tokenreviews" in page
    assert "kubectl create -f manifest.yaml" in page
    assert "kubectl apply" not in page
    assert "kubectl delete" not in page


def test_subresources_are_listed_with_their_meaning(shopper, catalog):
    page = _page(shopper, "/catalog/apps/v1/deployments/")

    assert "<code>deployments/scale</code>" in page
    assert "<code>deployments/status</code>" in page
    assert "replica count" in page


def test_the_kubectl_commands_match_the_product(shopper, catalog):
    page = _page(shopper, "/catalog/apps/v1/deployments/")

    for command in (
        "kubectl get deployments",
        "kubectl explain deployment",
        "kubectl apply -f manifest.yaml",
        "kubectl describe deploy web",
        "kubectl delete deploy web",
    ):
        assert f'<code class="command">{command}</code>' in page


def test_a_product_sold_by_two_departments_gets_fully_qualified_commands(shopper, catalog):
    page = _page(shopper, "/catalog/events.k8s.io/v1/events/")

    assert "kubectl get events.events.k8s.io" in page
    assert "kubectl explain event --api-version=events.k8s.io/v1" in page


def test_the_pod_order_form_is_a_small_real_manifest(shopper, catalog):
    manifest = _manifest(_page(shopper, "/catalog/core/v1/pods/"))

    assert manifest["apiVersion"] == "v1"
    assert manifest["kind"] == "Pod"
    assert manifest["metadata"]["name"] == "web"
    assert manifest["metadata"]["namespace"] == "default"
    assert manifest["spec"]["containers"][0]["image"]


@pytest.mark.parametrize(
    ("url", "api_version", "kind"),
    [
        ("/catalog/apps/v1/deployments/", "apps/v1", "Deployment"),
        ("/catalog/core/v1/services/", "v1", "Service"),
        ("/catalog/core/v1/configmaps/", "v1", "ConfigMap"),
        ("/catalog/batch/v1/jobs/", "batch/v1", "Job"),
        ("/catalog/networking.k8s.io/v1/ingresses/", "networking.k8s.io/v1", "Ingress"),
    ],
)
def test_well_known_products_have_realistic_manifests(shopper, catalog, url, api_version, kind):
    manifest = _manifest(_page(shopper, url))

    assert manifest["apiVersion"] == api_version
    assert manifest["kind"] == kind
    assert manifest["metadata"]["namespace"] == "default"
    assert "<" not in str(manifest)


def test_other_products_get_a_manifest_with_their_required_fields(shopper, catalog):
    manifest = _manifest(_page(shopper, "/catalog/rbac.authorization.k8s.io/v1/rolebindings/"))

    assert manifest["apiVersion"] == "rbac.authorization.k8s.io/v1"
    assert manifest["kind"] == "RoleBinding"
    assert manifest["metadata"] == {"name": "my-rolebinding", "namespace": "default"}
    assert {"kind", "name"} <= set(manifest["roleRef"])


def test_cluster_wide_products_have_no_namespace_in_their_manifest(shopper, catalog):
    manifest = _manifest(_page(shopper, "/catalog/storage.k8s.io/v1/storageclasses/"))

    assert "namespace" not in manifest["metadata"]
    assert manifest["provisioner"] == "<string>"


def test_the_spec_sheet_lists_fields_with_type_required_badge_and_depth(shopper, catalog):
    page = _page(shopper, "/catalog/core/v1/pods/")

    row = page[page.index('<span class="spec__name">containers</span>') :]
    row = row[: row.index("</tr>")]
    assert "required" in row
    assert "<code>[]Container</code>" in row
    assert 'class="spec__row depth-1"' in page
    assert '<span class="spec__parent">spec.containers[].</span>' in page


def test_long_field_descriptions_fold_away_in_details(shopper, catalog):
    page = _page(shopper, "/catalog/core/v1/pods/")

    assert "<details><summary>" in page


def test_other_versions_of_the_same_product_are_linked(shopper, catalog):
    v1 = _page(shopper, "/catalog/autoscaling/v1/horizontalpodautoscalers/")
    v2 = _page(shopper, "/catalog/autoscaling/v2/horizontalpodautoscalers/")

    assert 'href="/catalog/autoscaling/v2/horizontalpodautoscalers/"' in v1
    assert "older version" in v1
    assert 'href="/catalog/autoscaling/v1/horizontalpodautoscalers/"' in v2
    assert "kubectl get horizontalpodautoscalers.v1.autoscaling" in v1
    assert "kubectl get hpa" not in v1


def test_a_product_without_editions_links_to_none(shopper, catalog):
    assert "Also sold in another version" not in _page(shopper, "/catalog/core/v1/pods/")


def test_orderable_products_link_to_their_order_form_and_cluster_kinds_do_not(shopper, catalog):
    pod_page = _page(shopper, "/catalog/core/v1/pods/")
    node_page = _page(shopper, "/catalog/core/v1/nodes/")

    assert 'href="/order/core/v1/pods/"' in pod_page
    assert "Order a Pod" in pod_page
    assert "/order/core/v1/nodes/" not in node_page
