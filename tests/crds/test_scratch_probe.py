import json
from tests.apiserver.conftest import carol, call, _fresh_kind_index  # noqa

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.shop.example.com"},
    "spec": {
        "group": "shop.example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [{"name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"size": {"type": "integer"}}}}}},
            "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
            "subresources": {"status": {}}}],
    },
}

def test_probe(carol, call):
    r = call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", carol, CRD)
    print(r.status, json.dumps(r.body, indent=1), r.headers)
    assert 0
