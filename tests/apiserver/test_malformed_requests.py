"""Each request shape the fuzzing (tests/hostile/test_fuzz.py) found answering 500.

One plain test per shape, named after it, with the answer kube-apiserver gives (or the
nearest 4xx where the real server itself stumbles).
"""

import base64
import json
from typing import Any

import pytest

from apiserver.endpoints import bodies, watch
from apiserver.endpoints.protobuf import MAGIC
from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, ApiResponse, handle, open_watch
from apiserver.registry import store
from controlplane.controllers.endpoints import _target_port
from tests.apiserver.conftest import configmap, deployment, pod

PODS = "/api/v1/namespaces/alice/pods"
CONFIGMAPS = "/api/v1/namespaces/alice/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def send(
    user: ClusterUser,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    **query: str,
) -> ApiResponse:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    headers = {"content-type": content_type} if raw else {}
    return handle(ApiRequest(method, path, query, headers, raw, client="kubectl", user=user))


def refused(response: ApiResponse, code: int, reason: str) -> str:
    assert response.status == code, response.body
    assert response.body["kind"] == "Status" and response.body["code"] == code
    assert response.body["reason"] == reason, response.body
    return response.body["message"]


@pytest.fixture
def made(alice, carol) -> None:
    for path, body in ((PODS, pod("web")), (CONFIGMAPS, configmap("cm", a="b"))):
        assert send(alice, "POST", path, body).status == 201
    assert send(alice, "POST", DEPLOYMENTS, deployment("web")).status == 201


# --- body decoders ---------------------------------------------------------------------


def test_protobuf_timestamp_beyond_the_calendar_is_400(alice):
    """A ConfigMap whose creationTimestamp seconds overflow the platform's time_t."""
    body = (
        MAGIC
        + b"\x0a\x0f\x0a\x02v1\x12\x09ConfigMap"
        + b"\x12\x10\x0a\x0e\x42\x0c\x08\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x10\x00"
    )
    response = send(alice, "POST", CONFIGMAPS, body, "application/vnd.kubernetes.protobuf")
    assert "could not be decoded" in refused(response, 400, "BadRequest")


def test_yaml_set_reads_as_a_map_of_nulls():
    """go-yaml reads `!!set` as a map whose values are null; Python would give a set."""
    value = bodies.load_yaml("metadata:\n  labels: !!set {b, a}\n")
    assert value == {"metadata": {"labels": {"a": None, "b": None}}}


def test_a_yaml_set_of_labels_is_422(alice):
    text = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: !!set {a}\n"
    response = send(alice, "POST", CONFIGMAPS, text, "application/yaml")
    assert "metadata.labels" in refused(response, 422, "Invalid")


def test_yaml_binary_reads_as_its_text():
    assert bodies.load_yaml("data: !!binary aGVsbG8=\n") == {"data": "hello"}


def test_yaml_set_in_a_selfsubjectaccessreview_spec_is_a_map_of_unknown_fields(alice):
    response = send(alice, "POST", SSAR, b"spec: !!set {a, b}\n", "application/yaml")
    assert response.status == 201, response.body
    assert 'unknown field \\"spec.a\\"' in response.headers["warning"]


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": 1e999}'])
def test_json_nan_infinity_and_overflowing_numbers_are_400(alice, text):
    """Go's JSON reader takes none of these; Python's would, and then write invalid JSON."""
    response = send(alice, "POST", CONFIGMAPS, text.encode())
    assert "couldn't get version/kind; json parse error" in refused(response, 400, "BadRequest")


@pytest.mark.parametrize("text", ["a: .nan\n", "a: .inf\n", "a: -.inf\n"])
def test_yaml_nan_and_infinity_are_400(alice, text):
    response = send(alice, "POST", CONFIGMAPS, text.encode(), "application/yaml")
    message = refused(response, 400, "BadRequest")
    assert "error converting YAML to JSON: json: unsupported value" in message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!int x\n",
        "a: !!float x\n",
        'a: !!int ""\n',
        "a: !!bool maybe\n",
        "a: !!timestamp 2001-99-99\n",
        "a: !!timestamp .\n",
        "a: " + "9" * 5000 + "\n",
    ],
    ids=["int-tag", "float-tag", "empty-int", "bool-tag", "bad-date", "dot-date", "5000-digits"],
)
def test_yaml_scalar_its_tag_cannot_hold_is_400(alice, text):
    response = send(alice, "POST", CONFIGMAPS, text.encode(), "application/yaml")
    assert "error decoding yaml body: cannot decode" in refused(response, 400, "BadRequest")


def test_yaml_ordered_map_reads_as_a_list_of_pairs():
    assert bodies.load_yaml("a: !!omap [{b: 1}]\n") == {"a": [["b", 1]]}


def test_yaml_impossible_date_is_a_string(alice):
    """Kubernetes' YAML-to-JSON keeps plain dates as their text; 2001-02-30 is no error."""
    text = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dates\ndata:\n  day: 2001-02-30\n"
    response = send(alice, "POST", CONFIGMAPS, text, "application/yaml")
    assert response.status == 201, response.body
    assert response.body["data"] == {"day": "2001-02-30"}
    stamp = bodies.load_yaml("at: 2001-12-14t21:59:43.10-05:00\n")
    assert stamp == {"at": "2001-12-14t21:59:43.10-05:00"}


# --- query options ---------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["\u00b2", "\u00b9\u00b2"])
def test_list_limit_of_superscript_digits_is_ignored(alice, made, limit):
    """`"²".isdigit()` is true in Python, and `int("²")` fails."""
    response = send(alice, "GET", PODS, limit=limit)
    assert response.status == 200, response.body


@pytest.mark.parametrize("start", [b'{"start": 1}', b'{"start": null}', b'{"start": ["a"]}'])
def test_continue_token_whose_start_is_not_a_string_is_400(alice, made, start):
    token = base64.urlsafe_b64encode(start).decode()
    response = send(alice, "GET", PODS, **{"continue": token})
    assert refused(response, 400, "BadRequest") == "continue key is not valid"


def test_watch_resource_version_of_superscript_digits_is_400(alice):
    opened = open_watch(
        ApiRequest("GET", PODS, {"watch": "true", "resourceVersion": "\u00b2"}, user=alice)
    )
    assert isinstance(opened, ApiResponse)
    assert refused(opened, 400, "BadRequest") == 'invalid resource version "\u00b2"'


# --- patches ---------------------------------------------------------------------------


@pytest.mark.parametrize("index", ["\u00b2", "\u0661"])
def test_json_patch_index_that_is_not_ascii_digits_is_422(alice, made, index):
    patch = [{"op": "replace", "path": f"/spec/containers/{index}/image", "value": "x"}]
    response = send(alice, "PATCH", f"{PODS}/web", patch, "application/json-patch+json")
    assert "doc is missing path" in refused(response, 422, "Invalid")


@pytest.mark.parametrize(
    ("patch", "wording"),
    [
        ({"spec": [{}]}, "array into Go struct field Scale.spec of type v1.ScaleSpec"),
        ({"metadata": [1]}, "array into Go struct field Scale.metadata of type v1.ObjectMeta"),
        ({"spec": "three"}, "string into Go struct field Scale.spec of type v1.ScaleSpec"),
    ],
)
def test_scale_with_spec_or_metadata_of_the_wrong_type_is_400(alice, made, patch, wording):
    response = send(
        alice, "PATCH", f"{DEPLOYMENTS}/web/scale", patch, "application/merge-patch+json"
    )
    assert wording in refused(response, 400, "BadRequest")


# --- delete options --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "wording"),
    [
        ({"preconditions": "x"}, "string into Go struct field DeleteOptions.preconditions"),
        ({"preconditions": -737}, "number -737 into Go struct field DeleteOptions.preconditions"),
        ({"preconditions": {"uid": 5}}, "number 5 into Go struct field Preconditions.uid"),
        ({"gracePeriodSeconds": 1e308}, "number 1e+308 into Go struct field"),
        ({"gracePeriodSeconds": 2**63}, "of type int64"),
        ({"gracePeriodSeconds": "30"}, "string into Go struct field DeleteOptions.gracePeriod"),
        ({"dryRun": "All"}, "string into Go struct field DeleteOptions.dryRun of type []string"),
        ({"propagationPolicy": 0}, "of type v1.DeletionPropagation"),
        ([], "array into Go value of type v1.DeleteOptions"),
        ({"kind": "Pod"}, "decoded object cannot be converted to DeleteOptions"),
    ],
)
def test_delete_options_of_the_wrong_type_are_400(alice, made, options, wording):
    for path in (f"{CONFIGMAPS}/cm", CONFIGMAPS):
        response = send(alice, "DELETE", path, options)
        assert wording in refused(response, 400, "BadRequest")
    assert send(alice, "GET", f"{CONFIGMAPS}/cm").status == 200


def test_bogus_propagation_policy_is_422(alice, made):
    response = send(alice, "DELETE", f"{CONFIGMAPS}/cm", {"propagationPolicy": "bogus"})
    message = refused(response, 422, "Invalid")
    assert message == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
        '"bogus": supported values: "Foreground", "Background", "Orphan"'
    )
    response = send(alice, "DELETE", f"{CONFIGMAPS}/cm", propagationPolicy="bogus")
    refused(response, 422, "Invalid")


def test_delete_options_dry_run_values_other_than_all_are_422(alice, made):
    response = send(alice, "DELETE", f"{CONFIGMAPS}/cm", {"dryRun": ["bogus"]})
    assert "dryRun: Unsupported value" in refused(response, 422, "Invalid")


def test_deletecollection_honours_a_dry_run_delete_options_body(alice, made):
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]}
    assert send(alice, "DELETE", CONFIGMAPS, options).status == 200
    assert send(alice, "GET", f"{CONFIGMAPS}/cm").status == 200


def test_grace_period_beyond_the_calendar_is_capped(alice, made, scheduler):
    """int64 seconds from now is past year 9999; the deletion stamp stays a real date."""
    bound = send(
        scheduler,
        "POST",
        f"{PODS}/web/binding",
        {"apiVersion": "v1", "kind": "Binding", "target": {"kind": "Node", "name": "node-1"}},
    )
    assert bound.status == 201, bound.body
    response = send(alice, "DELETE", f"{PODS}/web", {"gracePeriodSeconds": 2**63 - 1})
    assert response.status == 200, response.body
    meta = response.body["metadata"]
    assert meta["deletionGracePeriodSeconds"] == store.MAX_GRACE_SECONDS
    assert meta["deletionTimestamp"].startswith(("2", "3"))


# --- objects answered or bound, never stored -------------------------------------------


@pytest.mark.parametrize(
    ("review", "field"),
    [
        ({"spec": -2.5}, "spec"),
        ({"spec": ["a"]}, "spec"),
        ({"spec": {"resourceAttributes": "pods"}}, "spec.resourceAttributes"),
        ({"spec": {"resourceAttributes": {"verb": ["get"]}}}, "spec.resourceAttributes.verb"),
    ],
)
def test_selfsubjectaccessreview_with_fields_of_the_wrong_type_is_422(alice, review, field):
    response = send(alice, "POST", SSAR, review)
    assert f"{field}: Invalid value" in refused(response, 422, "Invalid")


@pytest.mark.parametrize(
    ("binding", "field"),
    [
        ({"target": "node-1"}, "target"),
        ({"target": {"name": 5}}, "target.name"),
        ({"target": {"name": "node-1"}, "metadata": [1]}, "metadata"),
        ({"target": {"name": "node-1"}, "metadata": {"uid": {}}}, "metadata.uid"),
    ],
)
def test_binding_with_fields_of_the_wrong_type_is_422(made, scheduler, binding, field):
    response = send(scheduler, "POST", f"{PODS}/web/binding", binding)
    assert f"{field}: Invalid value" in refused(response, 422, "Invalid")


def test_binding_with_null_metadata_binds(made, scheduler):
    binding = {"metadata": None, "target": {"kind": "Node", "name": "node-1"}}
    assert send(scheduler, "POST", f"{PODS}/web/binding", binding).status == 201


# --- what the control plane reads back -------------------------------------------------


@pytest.mark.parametrize(
    ("target", "wording"),
    [
        ("\u00b2", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
        ("1234", "must contain at least one letter (a-z)"),
        ("a-very-long-port-name", "must be no more than 15 characters"),
        (70000, "must be between 1 and 65535, inclusive"),
    ],
)
def test_service_target_port_that_is_no_port_is_422(alice, target, wording):
    """`"²"` used to be stored, and the endpoints controller then failed on `int("²")`."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": target}]},
    }
    response = send(alice, "POST", "/api/v1/namespaces/alice/services", service)
    assert "spec.ports[0].targetPort: Invalid value: " in refused(response, 422, "Invalid")
    assert wording in response.body["message"]


def test_endpoints_controller_reads_only_ascii_digits_as_a_port_number():
    pod_with_ports = {
        "spec": {"containers": [{"ports": [{"name": "http", "containerPort": 8080}]}]}
    }
    assert _target_port({"targetPort": "\u00b2"}, pod_with_ports) is None
    assert _target_port({"targetPort": "80"}, pod_with_ports) == 80
    assert _target_port({"targetPort": "http"}, pod_with_ports) == 8080


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.shop.example.com"},
    "spec": {
        "group": "shop.example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }
        ],
    },
}


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"ownerReferences": [5]}, "metadata.ownerReferences[0]"),
        ({"ownerReferences": [{"uid": 5}]}, "metadata.ownerReferences[0].uid"),
        ({"finalizers": {"a": 1}}, "metadata.finalizers"),
        ({"labels": [1]}, "metadata.labels"),
    ],
)
def test_custom_object_metadata_of_the_wrong_type_is_422(alice, carol, meta, field):
    """A custom object's metadata is an ObjectMeta too; garbage collection reads it."""
    registered = send(
        carol, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WIDGET_CRD
    )
    assert registered.status == 201, registered.body
    widget = {
        "apiVersion": "shop.example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", **meta},
    }
    response = send(alice, "POST", "/apis/shop.example.com/v1/namespaces/alice/widgets", widget)
    assert f"{field}: Invalid value" in refused(response, 422, "Invalid")


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "-1", "soon", ""])
def test_watch_timeout_that_is_no_ascii_count_gets_the_default(value):
    """`"²".isdigit()` is true, and the stream used to fail on `int("²")` after its headers."""
    assert watch.DEFAULT_TIMEOUT // 2 <= watch.timeout_seconds(value) <= watch.DEFAULT_TIMEOUT * 2
    assert watch.timeout_seconds("5") == 5
    assert watch.timeout_seconds("99999999") == watch.MAX_TIMEOUT


@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("POST", CONFIGMAPS, "CreateOptions"),
        ("PUT", f"{CONFIGMAPS}/cm", "UpdateOptions"),
        ("PATCH", f"{CONFIGMAPS}/cm", "PatchOptions"),
    ],
)
@pytest.mark.parametrize(
    ("manager", "wording"),
    [
        ("x" * 129, "fieldManager: Too long: may not be more than 128 bytes"),
        ("kube\x00ctl", "must only contain printable characters"),
    ],
    ids=["long", "unprintable"],
)
def test_field_manager_too_long_or_unprintable_is_422(
    alice, made, method, path, options, manager, wording
):
    media = "application/merge-patch+json" if method == "PATCH" else "application/json"
    body = (
        {"data": {"a": "c"}}
        if method == "PATCH"
        else configmap("fresh" if method == "POST" else "cm", a="c")
    )
    response = send(alice, method, path, body, media, fieldManager=manager)
    message = refused(response, 422, "Invalid")
    assert message.startswith(f'{options}.meta.k8s.io "" is invalid: ') and wording in message
    assert send(alice, method, path, body, media, fieldManager="x" * 128).status < 300


def test_unknown_patch_type_names_the_accepted_ones(alice, made):
    response = send(alice, "PATCH", f"{CONFIGMAPS}/cm", {"data": {}}, "text/plain")
    message = refused(response, 415, "UnsupportedMediaType")
    assert message.startswith(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml, application/strategic-merge-patch+json"
    )


def test_truncated_json_is_400_in_kube_apiserver_words(alice):
    response = send(alice, "POST", CONFIGMAPS, b'{"kind": "ConfigMap",')
    message = refused(response, 400, "BadRequest")
    assert message.startswith("couldn't get version/kind; json parse error: ")


def test_content_length_of_superscript_digits_is_no_500(api, alice):
    """The body-size gate read `"²".isdigit()` as a number and failed on `int("²")`."""
    response = api.client.generic(
        "POST",
        CONFIGMAPS,
        data=json.dumps(configmap("sized")).encode(),
        content_type="application/json",
        headers={"authorization": f"Bearer {alice.token}"},
        CONTENT_LENGTH="\u00b2",
    )
    assert response.status_code < 500
