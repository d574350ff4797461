"""Boolean query parameters are read as Go's strconv.ParseBool reads them."""

import pytest

from apiserver.filters.requestinfo import Route, verb_for
from apiserver.registry import kinds
from apiserver.server import asgi

PODS = "/api/v1/namespaces/alice/pods"


def _scope(query: str) -> dict:
    return {"type": "http", "method": "GET", "path": PODS, "query_string": query.encode()}


@pytest.mark.parametrize("spelling", ["true", "True", "TRUE", "t", "T", "1"])
def test_every_spelling_go_accepts_opens_a_watch(spelling, catalog):
    """kubernetes-asyncio sends `watch=True`; kube-apiserver treats it as a watch."""
    pods = kinds.lookup("", "v1", "pods")

    assert verb_for("GET", Route(kind=pods, namespace="alice"), {"watch": spelling}) == "watch"
    assert asgi.is_watch(_scope(f"watch={spelling}"))


@pytest.mark.parametrize("spelling", ["false", "False", "0", "yes", "tRuE", ""])
def test_other_spellings_are_a_list(spelling, catalog):
    pods = kinds.lookup("", "v1", "pods")

    assert verb_for("GET", Route(kind=pods, namespace="alice"), {"watch": spelling}) == "list"
    assert not asgi.is_watch(_scope(f"watch={spelling}"))
