"""Request bodies: JSON or YAML, and every bad one answered with a 4xx, never a 500."""

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiserver.endpoints import bodies
from apiserver.pipeline import ApiRequest, handle

PODS = "/api/v1/namespaces/alice/pods"

POD_YAML = b"""
apiVersion: v1
kind: Pod
metadata:
  name: from-yaml
spec:
  containers:
  - name: main
    image: nginx
"""


def test_yaml_body_is_accepted(api, alice):
    response = api.post(PODS, alice, None, raw=POD_YAML, content_type="application/yaml")
    assert response.status_code == 201
    assert response.json_body["metadata"]["name"] == "from-yaml"


def test_malformed_json_is_400(api, alice):
    response = api.post(PODS, alice, None, raw=b'{"kind": "Pod",', content_type="application/json")
    assert response.status_code == 400
    assert response.json_body["reason"] == "BadRequest"


def test_malformed_yaml_is_400(api, alice):
    response = api.post(
        PODS, alice, None, raw=b"kind: [Pod\n  - x: :", content_type="application/yaml"
    )
    assert response.status_code == 400


def test_non_object_body_is_400(api, alice):
    for raw in (b"[]", b"42", b'"pod"', b"null"):
        response = api.post(PODS, alice, None, raw=raw)
        assert response.status_code == 400, raw


def test_empty_body_is_400(api, alice):
    assert api.post(PODS, alice, None, raw=b"").status_code == 400


def test_oversize_body_is_413(api, alice, settings):
    settings.WAREHOUSE_MAX_BODY_BYTES = 1000
    body = json.dumps({"kind": "Pod", "padding": "x" * 2000}).encode()
    response = api.post(PODS, alice, None, raw=body)
    assert response.status_code == 413
    assert response.json_body["reason"] == "RequestEntityTooLarge"


def test_oversize_body_through_the_pipeline_is_413(alice, settings):
    settings.WAREHOUSE_MAX_BODY_BYTES = 10
    response = handle(ApiRequest("POST", PODS, body=b"{" + b" " * 20 + b"}", user=alice))
    assert response.status == 413


def test_yaml_alias_bomb_is_refused(api, alice):
    bomb = b"""
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""
    response = api.post(PODS, alice, None, raw=bomb, content_type="application/yaml")
    assert response.status_code == 400
    assert "aliases" in response.json_body["message"]


def test_yaml_python_tags_are_refused(api, alice):
    raw = b"!!python/object/apply:os.system ['true']"
    response = api.post(PODS, alice, None, raw=raw, content_type="application/yaml")
    assert response.status_code == 400


def test_deep_nesting_is_400(api, alice):
    deep = b'{"a":' * 200 + b"1" + b"}" * 200
    assert api.post(PODS, alice, None, raw=deep).status_code == 400
    very_deep = b"[" * 100000 + b"]" * 100000
    assert api.post(PODS, alice, None, raw=very_deep).status_code == 400


def test_binary_garbage_is_400(api, alice):
    response = api.post(PODS, alice, None, raw=b"\xff\xfe\x00garbage")
    assert response.status_code == 400


PROTOBUF = "application/vnd.kubernetes.protobuf"
# What `kubectl create configmap c1 --from-literal=a=b --from-literal=n=1` sends.
CONFIGMAP_PB = base64.b64decode(
    "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiQKEgoCYzESABoAIgAqADIAOABCABIGCgFhEgFiEgYKAW4SATEaACIA"
)
# What `kubectl create deployment d1 --image=nginx:1.27 --port=80 --replicas=3` sends.
DEPLOYMENT_PB = base64.b64decode(
    "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErkBCh0KAmQxEgAaACIAKgAyADgAQgBaCQoDYXBwEgJkMRKJAQgD"
    "EgsKCQoDYXBwEgJkMRpwChsKABIAGgAiACoAMgA4AEIAWgkKA2FwcBICZDESURIzCgVuZ2lueBIKbmdpbng6MS4y"
    "NyoAMgoKABAAGFAiACoAQgBqAHIAgAEAiAEAkAEAogEAGgAyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBACICCgAo"
    "ADgAGgwIABAAGAAgACgAOAAaACIA"
)


def test_kubectl_create_configmap_protobuf_is_understood(api, alice):
    path = "/api/v1/namespaces/alice/configmaps"
    response = api.post(path, alice, None, raw=CONFIGMAP_PB, content_type=PROTOBUF)
    assert response.status_code == 201
    assert response.json_body["metadata"]["name"] == "c1"
    assert response.json_body["data"] == {"a": "b", "n": "1"}


def test_kubectl_create_deployment_protobuf_is_understood(api, alice):
    path = "/apis/apps/v1/namespaces/alice/deployments"
    response = api.post(path, alice, None, raw=DEPLOYMENT_PB, content_type=PROTOBUF)
    assert response.status_code == 201
    spec = response.json_body["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {"app": "d1"}}
    (container,) = spec["template"]["spec"]["containers"]
    assert (container["name"], container["image"]) == ("nginx", "nginx:1.27")
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert spec["strategy"]["type"] == "RollingUpdate"


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (payloads here are under 128 bytes)."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_a_typed_clients_protobuf_delete_options_are_understood(api, alice):
    """How a typed client (helm purging its release Secrets) sends DeleteOptions."""
    secrets = "/api/v1/namespaces/alice/secrets"
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sh.helm.release.v1"}}
    assert api.post(secrets, alice, secret).status_code == 201
    type_meta = _field(1, b"v1") + _field(2, b"DeleteOptions")
    options = bytes([1 << 3, 0]) + _field(4, b"Background")  # gracePeriodSeconds 0
    body = b"k8s\x00" + _field(1, type_meta) + _field(2, options)
    deleted = api.delete(f"{secrets}/sh.helm.release.v1", alice, raw=body, content_type=PROTOBUF)
    assert deleted.status_code == 200, deleted.content
    assert api.get(f"{secrets}/sh.helm.release.v1", alice).status_code == 404
    wrong = b"k8s\x00" + _field(1, type_meta) + _field(2, _field(4, b"Sideways"))
    assert api.post(secrets, alice, secret).status_code == 201
    refused = api.delete(f"{secrets}/sh.helm.release.v1", alice, raw=wrong, content_type=PROTOBUF)
    assert refused.status_code == 422


def test_broken_or_unknown_protobuf_is_refused(api, alice):
    truncated = api.post(PODS, alice, None, raw=b"k8s\x00\x0a", content_type=PROTOBUF)
    assert truncated.status_code == 400
    unknown = b"k8s\x00" + bytes([0x0A, 0x0C, 0x0A, 0x02]) + b"v1" + bytes([0x12, 0x06]) + b"Widget"
    assert api.post(PODS, alice, None, raw=unknown, content_type=PROTOBUF).status_code == 415
    cbor = api.post(PODS, alice, None, raw=b"\xa0", content_type="application/cbor")
    assert cbor.status_code == 415


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "apiVersion",
                    "kind",
                    "metadata",
                    "spec",
                    "name",
                    "containers",
                    "image",
                    "ports",
                    "labels",
                    "status",
                    "replicas",
                    "selector",
                    "template",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values)
def test_no_body_makes_the_server_fail(alice, value):
    """Whatever JSON arrives, the answer is a success or a 4xx Status, never a 500."""
    for path in (PODS, "/apis/apps/v1/namespaces/alice/deployments"):
        body = json.dumps(value).encode()
        response = handle(ApiRequest("POST", path, body=body, user=alice))
        assert response.status < 500, response.body
        if isinstance(value, dict):
            body = json.dumps({"apiVersion": "v1", "kind": "Pod", **value}).encode()
            response = handle(ApiRequest("POST", PODS, body=body, user=alice))
            assert response.status < 500, response.body


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tail=st.binary(max_size=64))
def test_no_protobuf_body_makes_the_server_fail(alice, tail):
    for body in (b"k8s\x00" + tail, DEPLOYMENT_PB[:20] + tail, tail):
        response = handle(
            ApiRequest("POST", PODS, headers={"content-type": PROTOBUF}, body=body, user=alice)
        )
        assert response.status < 500, response.body


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patch=json_values)
def test_no_patch_makes_the_server_fail(alice, patch):
    created = handle(
        ApiRequest(
            "POST",
            PODS,
            body=json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "target"},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                }
            ).encode(),
            user=alice,
        )
    )
    assert created.status in (201, 409)
    for content_type in (
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
    ):
        response = handle(
            ApiRequest(
                "PATCH",
                f"{PODS}/target",
                headers={"content-type": content_type},
                body=json.dumps(patch).encode(),
                user=alice,
            )
        )
        assert response.status < 500, (content_type, response.body)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("a: &x 1\nb: *x\n", "alias"),
        ("a: 1\n---\nb: 2\n", "many_documents"),
        ("a: [1, 2\n", "syntax"),
        ("[" * 10_000, "syntax"),
        ("x: " + "[" * 150 + "]" * 150, "too_deep"),
        ("k: " + "v" * 200, "too_large"),
    ],
)
def test_the_one_body_gate_names_the_rule_a_body_broke(text, why):
    with pytest.raises(bodies.BodyRefused) as refused:
        bodies.load_yaml(text, limit=100 if why == "too_large" else None)

    assert refused.value.why == why
    assert refused.value.code == (413 if why == "too_large" else 400)


def test_the_gate_points_at_a_syntax_error_and_gives_plain_json():
    with pytest.raises(bodies.BodyRefused) as refused:
        bodies.load_yaml("a: 1\nb: [2\n")
    assert refused.value.line == 3 and refused.value.problem

    assert bodies.load_yaml("when: 2026-01-01\n1: one\n") == {"when": "2026-01-01", "1": "one"}
