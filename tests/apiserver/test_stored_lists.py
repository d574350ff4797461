"""A plain list goes out with its items as stored, spliced; what a reader of `body` sees and
what the bytes say must be the same list."""

import json

from apiserver.endpoints.handlers.list import StoredList
from apiserver.registry import store
from tests.apiserver.conftest import configmap

CONFIGMAPS = "/api/v1/namespaces/alice/configmaps"
HPA_V1 = "/apis/autoscaling/v1/namespaces/alice/horizontalpodautoscalers"
HPA_V2 = "/apis/autoscaling/v2/namespaces/alice/horizontalpodautoscalers"


def test_a_plain_list_sends_its_items_as_stored(call, alice):
    for name in ("a", "b"):
        assert call("POST", CONFIGMAPS, alice, configmap(name, colour=name)).status == 201
    # Keys in another order: still served, by the parse-and-encode way.
    odd = {"metadata": {"name": "c"}, "kind": "ConfigMap", "apiVersion": "v1", "data": {}}
    assert call("POST", CONFIGMAPS, alice, odd).status == 201

    response = call("GET", CONFIGMAPS, alice)

    assert isinstance(response, StoredList)
    sent = response.content()
    texts, _ = store.list_texts(response._kind, "alice")
    as_stored = [text for text in texts if text.startswith('{"apiVersion":"v1",')]
    assert len(as_stored) == 2
    for text in as_stored:
        assert text.encode() in sent  # spliced, byte for byte
    listed = json.loads(sent)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a", "b", "c"]
    assert listed == response.body
    assert sent == store.dumps(response.body).encode()


def test_items_stored_in_another_version_are_converted(call, alice):
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 3,
        },
    }
    assert call("POST", HPA_V2, alice, hpa).status == 201

    as_v1 = json.loads(call("GET", HPA_V1, alice).content())

    assert as_v1["apiVersion"] == "autoscaling/v1"
    assert [item["apiVersion"] for item in as_v1["items"]] == ["autoscaling/v1"]
    assert "metrics" not in as_v1["items"][0]["spec"]


def test_a_list_cut_by_a_limit_or_chosen_by_a_selector_is_not_spliced(call, alice):
    for name in ("a", "b"):
        call("POST", CONFIGMAPS, alice, configmap(name))

    cut = call("GET", CONFIGMAPS, alice, limit="1")
    chosen = call("GET", CONFIGMAPS, alice, fieldSelector="metadata.name=b")
    whole = call("GET", CONFIGMAPS, alice, limit="500")

    assert not isinstance(cut, StoredList) and len(cut.body["items"]) == 1
    assert cut.body["metadata"]["continue"]
    assert not isinstance(chosen, StoredList)
    assert [i["metadata"]["name"] for i in chosen.body["items"]] == ["b"]
    assert isinstance(whole, StoredList) and len(json.loads(whole.content())["items"]) == 2


def test_a_reader_of_the_body_gets_what_the_bytes_would_say(call, alice):
    call("POST", CONFIGMAPS, alice, configmap("a", colour="red"))

    response = call("GET", CONFIGMAPS, alice)
    before = response.content()
    body = response.body

    assert body["kind"] == "ConfigMapList"
    assert body["items"][0]["data"] == {"colour": "red"}
    assert json.loads(before) == body
