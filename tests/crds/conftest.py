"""Actors and manifests for the third-party seller stories.

carol (an instructor) registers sellers; alice and bob are learners who order the new
products in their own namespaces. The actors come from the API server's tests.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apiserver.models import ClusterUser
from apiserver.pipeline import ApiResponse
from tests.apiserver.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    _fresh_kind_index,
    _no_static_scan,
    alice,
    api,
    bob,
    call,
    carol,
)
from tests.e2e.livecluster import live_cluster  # noqa: F401  (kubectl and Python client)

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGET_CRD = f"{CRDS}/widgets.shop.example.com"
WIDGETS = "/apis/shop.example.com/v1/namespaces/alice/widgets"

_WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A widget from the example shop.",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10,
                    "description": "How big, from 1 to 10.",
                },
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "code": {"type": "string", "pattern": "^[a-z]+$"},
                "extras": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "parts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
                        "required": ["name"],
                    },
                },
            },
        },
        "status": {
            "type": "object",
            "properties": {"phase": {"type": "string"}},
        },
    },
}


def widget_crd(**changes: Any) -> dict[str, Any]:
    """The CRD for `widgets.shop.example.com`; keyword arguments replace spec entries."""
    crd: dict[str, Any] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.shop.example.com"},
        "spec": {
            "group": "shop.example.com",
            "scope": "Namespaced",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "shortNames": ["wd"],
                "categories": ["shop"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(_WIDGET_SCHEMA)},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                        {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                }
            ],
        },
    }
    crd["spec"].update(changes)
    return crd


def widget(name: str, size: Any = 3, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "shop.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size, **spec},
    }


@pytest.fixture
def registered(carol: ClusterUser, call: Callable[..., ApiResponse]) -> dict[str, Any]:  # noqa: F811
    """The widget seller, registered by the instructor; returns the stored CRD."""
    response = call("POST", CRDS, carol, widget_crd())
    assert response.status == 201, response.body
    return response.body
