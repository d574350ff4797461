"""Label and field selectors, including the ones `kubectl describe` sends for events."""

import pytest

from apiserver import errors
from apiserver.endpoints.selectors import labels_match, parse_labels
from tests.apiserver.conftest import pod

PODS = "/api/v1/namespaces/alice/pods"


@pytest.fixture
def shelves(api, alice):
    for name, labels in (
        ("a", {"app": "web", "env": "prod"}),
        ("b", {"app": "web", "env": "dev"}),
        ("c", {"app": "db", "env": "prod", "legacy": "yes"}),
        ("d", {"app": "cache"}),
    ):
        api.post(PODS, alice, pod(name, **labels))


def _names(api, alice, **query):
    response = api.get(PODS, alice, **query)
    assert response.status_code == 200, response.json_body
    return [item["metadata"]["name"] for item in response.json_body["items"]]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["a", "b"]),
        ("app==web", ["a", "b"]),
        ("app!=web", ["c", "d"]),
        ("env in (prod, dev)", ["a", "b", "c"]),
        ("env notin (prod)", ["b", "d"]),
        ("legacy", ["c"]),
        ("!legacy", ["a", "b", "d"]),
        ("app=web,env=prod", ["a"]),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_label_selectors(api, alice, shelves, selector, expected):
    assert _names(api, alice, labelSelector=selector) == expected


def test_field_selector_on_name_and_namespace(api, alice, shelves):
    assert _names(api, alice, fieldSelector="metadata.name=b") == ["b"]
    assert _names(api, alice, fieldSelector="metadata.name!=b") == ["a", "c", "d"]
    assert _names(api, alice, fieldSelector="metadata.namespace=alice,metadata.name=c") == ["c"]


def test_bad_selectors_are_400(api, alice):
    assert api.get(PODS, alice, labelSelector="app in web").status_code == 400
    response = api.get(PODS, alice, fieldSelector="spec.colour=red")
    assert response.status_code == 400
    assert response.json_body["message"] == "field label not supported: spec.colour"


def test_events_for_one_object_as_kubectl_describe_asks(api, alice):
    created = api.post(PODS, alice, pod("web")).json_body
    for name, involved in (("web.1", "web"), ("other.1", "other")):
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name},
            "involvedObject": {
                "kind": "Pod",
                "name": involved,
                "namespace": "alice",
                "uid": created["metadata"]["uid"] if involved == "web" else "x",
            },
            "reason": "Scheduled",
        }
        assert api.post("/api/v1/namespaces/alice/events", alice, event).status_code == 201
    selector = (
        "involvedObject.name=web,involvedObject.namespace=alice,involvedObject.kind=Pod,"
        f"involvedObject.uid={created['metadata']['uid']}"
    )
    response = api.get("/api/v1/namespaces/alice/events", alice, fieldSelector=selector)
    assert [e["metadata"]["name"] for e in response.json_body["items"]] == ["web.1"]


def test_pod_field_selectors_for_the_scheduler(api, alice):
    api.post(PODS, alice, pod("web"))
    response = api.get(PODS, alice, fieldSelector="spec.nodeName=,status.phase=Pending")
    assert [p["metadata"]["name"] for p in response.json_body["items"]] == ["web"]


def test_parse_labels_unit():
    requirements = parse_labels("tier in (a,b),!gone,app")
    assert labels_match(requirements, {"tier": "a", "app": "x"})
    assert not labels_match(requirements, {"tier": "a"})
    assert not labels_match(requirements, {"tier": "a", "app": "x", "gone": "1"})
    with pytest.raises(errors.ApiError):
        parse_labels("=value")
