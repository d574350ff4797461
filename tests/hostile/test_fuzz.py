"""No request body, query or header answers 500: every decoder and every options body.

Hypothesis sends, as alice (a learner, in her namespace) and as carol (an instructor),
every verb on every built-in kind and on a custom kind, with bodies that are arbitrary
JSON, the right kind's object with a field of the wrong type, random bytes, truncated
JSON, YAML with anchors, tags and several documents, protobuf-framed garbage, patches of
every content type in the wrong shape, DeleteOptions of the wrong shape, and query
strings and headers full of junk. Every answer must be below 500 (no classroom fault is
switched on here, so even a 503 is a failure) and every refusal a proper `Status`;
afterwards alice's namespace still lists and the control plane runs its passes without a
Python error. WAREHOUSE_FUZZ_EXAMPLES=1000 makes a longer hunt.
"""

import base64
import copy
import json
import logging
import os
from dataclasses import dataclass
from traceback import format_exception
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiserver import accounts
from apiserver.client import ApiError, Client
from apiserver.endpoints.protobuf import MAGIC
from apiserver.models import ClusterUser
from apiserver.pipeline import ApiRequest, ApiResponse, handle, open_watch
from apiserver.registry import kinds
from apiserver.registry.kinds import Kind
from tests.controlplane.conftest import pod_manifest
from tests.controlplane.test_workloads import deployment
from tests.hostile.test_property import _set

EXAMPLES = int(os.environ.get("WAREHOUSE_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int) -> settings:
    """Bounded by default so the file stays quick; the environment variable lifts it."""
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.fuzz.example.com"},
    "spec": {
        "group": "fuzz.example.com",
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                    "parts": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {"name": {"type": "string"}},
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
                },
            }
        ],
    },
}
TARGET = "target"

MEDIA = [
    "application/json",
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]
JUNK_MEDIA = [
    "",
    "text/plain",
    "application/cbor",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/json; charset=latin-1",
    "application/json;;;",
    ";",
    "*/*",
    "APPLICATION/JSON",
    "application/\x00json",
    "multipart/form-data; boundary=x",
]
ACCEPTS = [
    "application/json",
    "application/json;as=Table;g=meta.k8s.io;v=v1",
    "application/json;as=Table;g=meta.k8s.io;v=v9",
    "application/json;as=Table;g=meta.k8s.io",
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    "application/json;as=Tablet;g=meta.k8s.io;v=v1",
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
    "application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1",
    "as=Table;g=meta.k8s.io;v=v1",
    "application/yaml",
    "text/html",
    "*/*",
    ";;;",
    "",
]

# --- bodies ------------------------------------------------------------------------------

WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from([[], {}, "", 0, -1, 2**63, 1e308, [None], [{}], {"": None}]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=16),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Paths whose value is replaced by a wrong type; numbers index lists.
PATHS = [
    "metadata",
    "metadata.name",
    "metadata.labels",
    "metadata.labels.app",
    "metadata.annotations",
    "metadata.annotations.note",
    "metadata.namespace",
    "metadata.generateName",
    "metadata.resourceVersion",
    "metadata.finalizers",
    "metadata.finalizers.0",
    "metadata.ownerReferences",
    "metadata.ownerReferences.0",
    "metadata.ownerReferences.0.uid",
    "metadata.managedFields",
    "metadata.uid",
    "metadata.creationTimestamp",
    "metadata.deletionGracePeriodSeconds",
    "apiVersion",
    "kind",
    "spec",
    "status",
    "data",
    "stringData",
    "binaryData",
    "spec.containers",
    "spec.containers.0",
    "spec.containers.0.name",
    "spec.containers.0.env",
    "spec.containers.0.env.0",
    "spec.containers.0.ports.0.containerPort",
    "spec.containers.0.resources.limits",
    "spec.volumes",
    "spec.replicas",
    "spec.selector",
    "spec.selector.matchLabels",
    "spec.selector.matchExpressions",
    "spec.template",
    "spec.template.metadata",
    "spec.template.metadata.labels",
    "spec.template.spec",
    "spec.template.spec.containers",
    "spec.template.spec.containers.0",
    "spec.ports",
    "spec.ports.0",
    "spec.size",
    "spec.parts",
    "spec.parts.0",
    "status.phase",
    "status.conditions",
    "target",
    "target.name",
    "spec.resourceAttributes",
    "spec.resourceAttributes.verb",
    "spec.resourceAttributes.name",
]


def plant(obj: Any, path: str, value: Any) -> Any:
    """Set a dotted path (numbers index lists), making the way there as needed."""
    if not isinstance(obj, dict):
        obj = {}
    here: Any = obj
    *steps, last = path.split(".")
    for step, following in zip(steps, [*steps, last][1:], strict=True):
        shape = list if following.isdigit() else dict
        if isinstance(here, list):
            child = here[int(step)] if int(step) < len(here) else None
        else:
            child = here.get(step)
        if not isinstance(child, shape):
            child = shape()
            _set(here, step, child)
        here = child
    _set(here, last, value)
    return obj


@st.composite
def misshapen(draw, manifest: dict) -> dict:
    """The kind's own object, with one to three fields replaced by wrong types."""
    obj = json.loads(json.dumps(manifest))
    for path in draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True)):
        # A copy: sampled constants are shared between examples.
        obj = plant(obj, path, copy.deepcopy(draw(WRONG)))
    return obj


YAML_TEXTS = [
    "a: &x 1\nb: *x\n",
    "metadata: &m {name: x}\nspec: *m\n",
    "---\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\n",
    "---\n---\n",
    "...\n",
    "!!binary aGVsbG8=",
    "data: !!binary aGVsbG8=\n",
    "metadata: {name: !!binary aGVsbG8=}\n",
    "metadata:\n  labels: !!set {a, b}\n",
    "spec: !!set {a, b}\n",
    "!!set {a, b}",
    "metadata: {name: !!timestamp 2001-12-14}\n",
    "metadata:\n  labels:\n    when: 2001-12-14t21:59:43.10-05:00\n",
    "spec: {replicas: .nan}\n",
    "spec: {replicas: .inf}\n",
    "metadata: {name: -.inf}\n",
    "!!float .nan",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!custom {a: 1}\n",
    "? [a, b]\n: c\n",
    "? {a: 1}\n: c\n",
    "metadata:\n  labels:\n    1: 2\n    true: false\n    null: ~\n",
    "metadata: {name: x, name: y}\n",
    "<<: {apiVersion: v1}\nkind: Pod\n",
    "%YAML 1.1\n---\na: 1\n",
    "%TAG ! tag:example.com,2000:\n---\n!foo a\n",
    "a: 0x1F\nb: 0o17\nc: 1_000\nd: 1:20\n",
    "\t- a",
    "'unclosed",
    "[a, b",
    "a: b: c",
    "- - - - -\n",
    "\ufeffapiVersion: v1\n",
    "metadata:\n  name: " + "9" * 400 + "\n",
    "metadata:\n  name: " + "9" * 5000 + "\n",
    "metadata:\n  labels:\n    day: 2001-02-30\n",
    "a: !!int x\n",
    "a: !!float x\n",
    "a: !!timestamp 2001-99-99\n",
    "a: !!bool maybe\n",
    "a: !!null x\n",
    "a: !!str [1]\n",
    "a: 0b2\n",
    "a: 1.0e99999\n",
]
TAGS = ["", "!!int ", "!!float ", "!!bool ", "!!null ", "!!timestamp ", "!!binary ", "!!str "]
yaml_scalars = st.builds(
    lambda tag, text: f"apiVersion: v1\nmetadata:\n  name: {tag}{text}\n",
    st.sampled_from(TAGS),
    st.text(alphabet="0123456789-:.+eExXbBoO_tTZ =!&*", max_size=24),
)
PROTOBUF_BODIES = [
    MAGIC,
    MAGIC + b"\x0a",
    MAGIC + b"\x0a\xff\xff\xff\xff\x0f",
    MAGIC + b"\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x02\x0a\x00",
    # A ConfigMap whose creationTimestamp is a year no calendar holds.
    MAGIC
    + b"\x0a\x0f\x0a\x02v1\x12\x09ConfigMap"
    + b"\x12\x10\x0a\x0e\x42\x0c\x08\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x10\x00",
    MAGIC + b"\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x04\x0a\x02\x0a\xff",
    MAGIC + b"\x0f" * 20,
    MAGIC + b"\x0b\x0c",
]


def truncated(manifest: dict) -> st.SearchStrategy[bytes]:
    text = json.dumps(manifest).encode()
    return st.integers(0, max(len(text) - 1, 0)).map(lambda cut: text[:cut])


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


def bodies(manifest: dict) -> st.SearchStrategy[tuple[bytes, str]]:
    """(body, content type): every decoder's input, in the right and the wrong media."""
    json_media = st.sampled_from(MEDIA + JUNK_MEDIA)
    return st.one_of(
        st.tuples(json_values.map(encoded), json_media),
        st.tuples(misshapen(manifest).map(encoded), json_media),
        st.tuples(st.binary(max_size=64), json_media),
        st.tuples(truncated(manifest), json_media),
        st.tuples(
            (st.sampled_from(YAML_TEXTS) | yaml_scalars).map(str.encode),
            st.sampled_from(["application/yaml", "application/apply-patch+yaml", "text/yaml"]),
        ),
        st.tuples(
            st.sampled_from(PROTOBUF_BODIES) | st.binary(max_size=48).map(lambda b: MAGIC + b),
            st.just("application/vnd.kubernetes.protobuf"),
        ),
    )


pointers = st.one_of(
    st.sampled_from(
        [
            "",
            "/",
            "metadata",
            "/metadata",
            "/metadata/labels",
            "/metadata/labels/app",
            "/metadata/labels/a~1b",
            "/metadata/labels/~2",
            "/metadata/finalizers/-",
            "/metadata/finalizers/0",
            "/metadata/finalizers/\u00b2",
            "/metadata/finalizers/99999999999999999999",
            "/spec/containers/0/image",
            "/spec/containers/\u00b2",
            "/spec/containers/\u0661",
            "/spec/containers/-1",
            "/spec/containers/01",
            "/spec/template/spec/containers/0",
            "/spec/replicas",
            "/spec/size",
            "/status",
            "/data/key",
            "/kind",
            "/apiVersion",
        ]
    ),
    st.text(max_size=12),
)
json_patch_ops = st.fixed_dictionaries(
    {},
    optional={
        "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus", ""])
        | WRONG,
        "path": pointers | WRONG,
        "from": pointers | WRONG,
        "value": json_values,
    },
)
DIRECTIVES = [
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/finalizers",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/containers",
]
directive_values = WRONG | st.sampled_from(["delete", "replace", "merge", "bogus"])


@st.composite
def strategic_patches(draw) -> Any:
    """A strategic merge patch with `$` directives of any type, at the top and in lists."""
    patch: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(DIRECTIVES), max_size=3, unique=True)):
        patch[name] = draw(directive_values)
    place = draw(st.sampled_from(["metadata", "spec", "containers", "finalizers", "none"]))
    if place == "metadata":
        patch["metadata"] = {draw(st.sampled_from(DIRECTIVES)): draw(directive_values)}
    elif place == "spec":
        patch["spec"] = {
            "containers": [{"name": draw(WRONG), "$patch": draw(directive_values)}],
            draw(st.sampled_from(DIRECTIVES)): draw(directive_values),
        }
    elif place == "containers":
        patch["spec"] = {"containers": draw(st.lists(WRONG | json_values, max_size=3))}
    elif place == "finalizers":
        patch["metadata"] = {"finalizers": draw(WRONG)}
    return patch


@st.composite
def apply_patches(draw, manifest: dict) -> Any:
    """A server-side apply body without apiVersion or kind, another name, or wrong shapes."""
    obj = json.loads(json.dumps(manifest))
    for field in draw(st.lists(st.sampled_from(["apiVersion", "kind", "metadata"]), max_size=2)):
        obj.pop(field, None)
    if draw(st.booleans()):
        obj.setdefault("metadata", {})["name"] = draw(
            st.sampled_from(["other", "", TARGET]) | WRONG
        )
    if draw(st.booleans()):
        obj = draw(misshapen(obj))
    return obj


def patches(manifest: dict) -> st.SearchStrategy[tuple[bytes, str]]:
    """(body, content type) for every patch type, mostly in the wrong shape."""
    return st.one_of(
        st.tuples(
            st.lists(json_patch_ops | WRONG, max_size=4).map(encoded) | json_values.map(encoded),
            st.just("application/json-patch+json"),
        ),
        st.tuples(
            (json_values | misshapen(manifest) | st.lists(WRONG, max_size=3)).map(encoded),
            st.just("application/merge-patch+json"),
        ),
        st.tuples(
            (strategic_patches() | misshapen(manifest) | json_values).map(encoded),
            st.just("application/strategic-merge-patch+json"),
        ),
        st.tuples(
            (apply_patches(manifest) | json_values).map(encoded),
            st.just("application/apply-patch+yaml"),
        ),
        st.tuples(
            st.sampled_from(YAML_TEXTS).map(str.encode), st.just("application/apply-patch+yaml")
        ),
    )


PROPAGATION = ["Orphan", "Background", "Foreground", "bogus", "", "orphan"]
delete_options = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["DeleteOptions", "Pod", "Status", ""]) | WRONG,
        "apiVersion": st.sampled_from(["v1", "meta.k8s.io/v1", "apps/v1", "nope/v9"]) | WRONG,
        "propagationPolicy": st.sampled_from(PROPAGATION) | WRONG,
        "orphanDependents": WRONG,
        "gracePeriodSeconds": st.sampled_from(
            ["0", "30", "-1", "soon", 2**63, 2**100, -(2**63) - 1, -5, 1.5, 1e308, True]
        )
        | WRONG,
        "preconditions": st.fixed_dictionaries(
            {}, optional={"uid": WRONG | st.text(max_size=8), "resourceVersion": WRONG}
        )
        | WRONG,
        "dryRun": st.sampled_from([["All"], "All", ["bogus"], [["All"]], ["All", "All"]]) | WRONG,
    },
)
delete_bodies = st.one_of(
    st.tuples(delete_options.map(encoded), st.sampled_from(["application/json", ""])),
    st.tuples(json_values.map(encoded), st.sampled_from(["application/json", "application/yaml"])),
    st.tuples(st.binary(max_size=32), st.sampled_from(MEDIA + JUNK_MEDIA)),
    st.tuples(st.sampled_from(PROTOBUF_BODIES), st.just("application/vnd.kubernetes.protobuf")),
    st.tuples(st.sampled_from(YAML_TEXTS).map(str.encode), st.just("application/yaml")),
)

# --- queries and headers -----------------------------------------------------------------

NUMBERS = [
    "-1",
    "0",
    "1",
    "2",
    "500",
    "99999999999999999999999",
    "1e3",
    "1.5",
    "abc",
    " 1",
    "\u00b2",
    "\u00b9\u00b2",
    "\u0661",
    "\uff11",
    "0x10",
    "",
]
SELECTORS = [
    "app=web",
    "app in (a,b)",
    "app notin (",
    "app in a,b)",
    "!",
    "!!app",
    "=",
    "==",
    "a=b=c",
    "app!=",
    "app==web,tier",
    ",,,",
    "(((",
    ")",
    "metadata.name=target",
    "metadata.name==",
    "spec.nodeName=x",
    "status.phase!=Running",
    "involvedObject.name=x",
    "nope=1",
    "\x00",
    "x" * 400,
]


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


CONTINUES = [
    "garbage",
    "%%%",
    "====",
    _token(b"not json"),
    _token(b"[]"),
    _token(b'"start"'),
    _token(b"{}"),
    _token(b'{"start": 1}'),
    _token(b'{"start": null}'),
    _token(b'{"start": ["a"]}'),
    _token(b'{"start": {"a": 1}}'),
    _token(b'{"start": "alice/", "rv": "x"}'),
    _token(b"\xff\xfe"),
    "\u00e9",
]
QUERY_VALUES = {
    "labelSelector": SELECTORS,
    "fieldSelector": SELECTORS,
    "limit": NUMBERS,
    "continue": CONTINUES,
    "resourceVersion": [*NUMBERS, "junk", "18446744073709551616"],
    "resourceVersionMatch": ["Exact", "NotOlderThan", "bogus", ""],
    "timeoutSeconds": NUMBERS,
    "dryRun": ["All", "bogus", "all", "All,All", ""],
    "fieldValidation": ["Strict", "Warn", "Ignore", "bogus", "strict", ""],
    "fieldManager": ["kubectl", "x" * 300, "\x00\x01\x7f", "\u00e9\u200b", ""],
    "propagationPolicy": PROPAGATION,
    "gracePeriodSeconds": [*NUMBERS, "1e308"],
    "orphanDependents": ["true", "false", "bogus"],
    "includeObject": ["None", "Object", "Metadata", "bogus"],
    "allowWatchBookmarks": ["true", "bogus"],
    "sendInitialEvents": ["true", "bogus"],
    "pretty": ["true", "x"],
    "force": ["true", "bogus"],
    "watch": ["false", "0", "bogus"],
}
queries = st.dictionaries(
    st.sampled_from(sorted(QUERY_VALUES)),
    st.just(None),
    max_size=5,
).flatmap(
    lambda keys: st.fixed_dictionaries(
        {key: st.sampled_from(QUERY_VALUES[key]) | st.text(max_size=10) for key in keys}
    )
)

# --- the world the requests land in ------------------------------------------------------


@dataclass
class World:
    """alice (learner) and carol (instructor), the kinds, and a target object of each."""

    alice: ClusterUser
    carol: ClusterUser
    kinds: list[Kind]
    manifests: dict[str, dict]
    cluster: Any

    def user(self, instructor: bool) -> ClusterUser:
        return self.carol if instructor else self.alice

    def collection(self, kind: Kind, instructor: bool) -> str:
        base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
        if not kind.namespaced:
            return f"{base}/{kind.plural}"
        namespace = "default" if instructor and kind.plural == "events" else "alice"
        return f"{base}/namespaces/{namespace}/{kind.plural}"

    def manifest(self, kind: Kind, name: str = TARGET) -> dict:
        manifest = json.loads(json.dumps(self.manifests.get(kind.kind) or {}))
        manifest.update(apiVersion=kind.api_version, kind=kind.kind)
        manifest.setdefault("metadata", {})["name"] = name
        return manifest


MANIFESTS: dict[str, dict] = {
    "Pod": pod_manifest(TARGET),
    "Deployment": deployment(TARGET, replicas=1),
    "ConfigMap": {"data": {"key": "value"}},
    "Secret": {"stringData": {"key": "value"}},
    "Service": {"spec": {"selector": {"app": TARGET}, "ports": [{"port": 80}]}},
    "ServiceAccount": {},
    "Namespace": {},
    "Gadget": {"spec": {"size": 2, "color": "red", "parts": [{"name": "a"}]}},
    "Binding": {"target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}},
    "SelfSubjectAccessReview": {
        "spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "alice"}}
    },
    "SelfSubjectReview": {},
}


def _send(
    user: ClusterUser,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "application/json",
    query: dict[str, str] | None = None,
    accept: str = "application/json",
) -> ApiResponse:
    headers = {"accept": accept}
    if content_type:
        headers["content-type"] = content_type
    return handle(
        ApiRequest(
            method=method,
            path=path,
            query=dict(query or {}),
            headers=headers,
            body=body,
            client="kubectl",
            user=user,
        )
    )


@pytest.fixture
def world(cluster) -> World:
    carol = ClusterUser.objects.create(name="carol", role="instructor")
    accounts.ensure_namespace("default")
    response = _send(carol, "POST", CRDS, encoded(WIDGET_CRD))
    assert response.status == 201, response.body
    kinds.invalidate()
    index = kinds.index()
    every = [k for k in index.kinds if not k.is_custom] + [
        k for k in index.kinds if k.plural == "gadgets"
    ]
    made = World(cluster.alice, carol, every, MANIFESTS, cluster)
    for kind in every:
        # A target of each kind that is cheap to make, so writes reach the transforms.
        if kind.kind in MANIFESTS and "create" in kind.verbs:
            instructor = not kind.namespaced
            _send(
                made.user(instructor),
                "POST",
                made.collection(kind, instructor),
                encoded(made.manifest(kind)),
            )
    return made


def check(response: ApiResponse, *context: Any) -> None:
    """Below 500; a refusal is a Kubernetes Status whose code is the HTTP status."""
    assert response.status < 500, (response.status, response.body, *context)
    if response.status >= 400:
        body = response.body
        assert isinstance(body, dict), (response.status, body, *context)
        assert body.get("kind") == "Status", (body, *context)
        assert body.get("apiVersion") == "v1", (body, *context)
        assert body.get("status") == "Failure", (body, *context)
        assert isinstance(body.get("reason"), str) and body["reason"], (body, *context)
        assert body.get("code") == response.status, (body, *context)


class Crashes(logging.Handler):
    """Control-plane failures that are Python errors, not the API server refusing a write."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and not isinstance(error, ApiError):
            self.found.append(f"{record.getMessage()}\n{''.join(format_exception(error))}")


def still_serving(world: World) -> None:
    """After the fuzz, alice's namespace lists and the control plane runs its passes cleanly.

    A fuzzed DELETE may have taken her own RoleBinding, which RBAC lets a namespace admin
    do, as in any cluster; it is given back first, as signing in again would.
    """
    accounts.grant_learner(world.alice)
    for path in ("/api/v1/namespaces/alice/pods", "/api/v1/namespaces/alice/configmaps"):
        response = _send(world.alice, "GET", path)
        assert response.status == 200, response.body
    crashes = Crashes()
    logger = logging.getLogger("warehouse.controlplane")
    logger.addHandler(crashes)
    try:
        world.cluster.plane.run_once()
        for _ in range(3):
            world.cluster.clock.advance(1.0)
            world.cluster.driver.tick()
    finally:
        logger.removeHandler(crashes)
    assert not crashes.found, crashes.found[0]


def _item(world: World, kind: Kind, instructor: bool, name: str) -> str:
    return f"{world.collection(kind, instructor)}/{name}"


VERBS = [
    ("create", "POST", False),
    ("update", "PUT", True),
    ("patch", "PATCH", True),
    ("delete", "DELETE", True),
    ("deletecollection", "DELETE", False),
    ("get", "GET", True),
    ("list", "GET", False),
]


def test_every_verb_on_every_kind_with_misshapen_bodies(world):
    @fuzz(400)
    @given(data=st.data())
    def run(data):
        kind = data.draw(st.sampled_from(world.kinds), label="kind")
        instructor = data.draw(st.booleans(), label="instructor")
        verb, method, item = data.draw(st.sampled_from(VERBS), label="verb")
        manifest = world.manifest(kind)
        if verb == "patch":
            body, media = data.draw(patches(manifest) | bodies(manifest), label="body")
        elif verb.startswith("delete"):
            body, media = data.draw(delete_bodies | bodies(manifest), label="body")
        else:
            body, media = data.draw(bodies(manifest), label="body")
        query = data.draw(queries, label="query")
        accept = data.draw(st.sampled_from(ACCEPTS), label="accept")
        name = data.draw(st.sampled_from([TARGET, "absent"]), label="name")
        path = _item(world, kind, instructor, name) if item else world.collection(kind, instructor)
        response = _send(world.user(instructor), method, path, body, media, query, accept)
        check(response, verb, path, body[:300], media, query)

    run()
    still_serving(world)


SUBRESOURCE_TARGETS = [
    ("Pod", "status"),
    ("Pod", "binding"),
    ("Deployment", "status"),
    ("Deployment", "scale"),
    ("Gadget", "status"),
    ("Pod", ""),
    ("Deployment", ""),
    ("ConfigMap", ""),
    ("Service", ""),
    ("Secret", ""),
    ("Gadget", ""),
    ("Namespace", ""),
]


def test_patches_and_updates_of_existing_objects_and_subresources(world):
    by_kind = {k.kind: k for k in world.kinds}

    @fuzz(400)
    @given(data=st.data())
    def run(data):
        kind_name, subresource = data.draw(st.sampled_from(SUBRESOURCE_TARGETS), label="target")
        kind = by_kind[kind_name]
        instructor = not kind.namespaced or data.draw(st.booleans(), label="instructor")
        manifest = world.manifest(kind)
        if subresource == "scale":
            manifest = {
                "apiVersion": "autoscaling/v1",
                "kind": "Scale",
                "metadata": {"name": TARGET},
                "spec": {"replicas": 1},
            }
        if subresource == "binding":
            manifest = {"apiVersion": "v1", "kind": "Binding", **MANIFESTS["Binding"]}
            method = "POST"
            body, media = data.draw(
                st.tuples(misshapen(manifest).map(encoded), st.just("application/json"))
                | bodies(manifest),
                label="body",
            )
        else:
            method = data.draw(st.sampled_from(["PUT", "PATCH"]), label="method")
            strategy = patches(manifest) if method == "PATCH" else bodies(manifest)
            body, media = data.draw(strategy, label="body")
        query = data.draw(queries, label="query")
        path = _item(world, kind, instructor, TARGET) + (f"/{subresource}" if subresource else "")
        response = _send(world.user(instructor), method, path, body, media, query)
        check(response, path, body[:300], media, query)

    run()
    still_serving(world)


def test_delete_options_bodies_and_queries(world):
    by_kind = {k.kind: k for k in world.kinds}
    names = ["Pod", "ConfigMap", "Secret", "Deployment", "Service", "Gadget"]

    @fuzz(250)
    @given(data=st.data())
    def run(data):
        kind = by_kind[data.draw(st.sampled_from(names), label="kind")]
        instructor = data.draw(st.booleans(), label="instructor")
        body, media = data.draw(delete_bodies, label="body")
        query = data.draw(queries, label="query")
        one = data.draw(st.booleans(), label="one")
        # dryRun keeps most targets in place, so later examples still find something.
        query.setdefault("dryRun", "All")
        path = _item(world, kind, instructor, TARGET) if one else world.collection(kind, instructor)
        response = _send(world.user(instructor), "DELETE", path, body, media, query)
        check(response, path, body[:300], media, query)

    run()
    still_serving(world)


def test_reads_and_watches_with_junk_queries_and_headers(world):
    @fuzz(300)
    @given(data=st.data())
    def run(data):
        kind = data.draw(st.sampled_from(world.kinds), label="kind")
        instructor = data.draw(st.booleans(), label="instructor")
        query = data.draw(queries, label="query")
        accept = data.draw(st.sampled_from(ACCEPTS) | st.text(max_size=20), label="accept")
        how = data.draw(st.sampled_from(["get", "list", "watch"]), label="how")
        user = world.user(instructor)
        if how == "get":
            path = _item(world, kind, instructor, TARGET)
        else:
            path = world.collection(kind, instructor)
        if how == "watch":
            request = ApiRequest(
                "GET",
                path,
                {**query, "watch": "true"},
                {"accept": accept},
                client="kubectl",
                user=user,
            )
            opened = open_watch(request)
            if isinstance(opened, ApiResponse):
                check(opened, path, query, accept)
            else:
                opened.poll()
                if opened.seat is not None:
                    opened.seat.release()
            return
        check(_send(user, "GET", path, b"", "", query, accept), path, query, accept)

    run()
    still_serving(world)


REVIEWS = ["SelfSubjectAccessReview", "SelfSubjectReview"]


def test_review_bodies(world):
    by_kind = {k.kind: k for k in world.kinds}

    @fuzz(150)
    @given(data=st.data())
    def run(data):
        kind = by_kind[data.draw(st.sampled_from(REVIEWS), label="kind")]
        instructor = data.draw(st.booleans(), label="instructor")
        manifest = world.manifest(kind, "")
        body, media = data.draw(
            st.tuples(misshapen(manifest).map(encoded), st.just("application/json"))
            | bodies(manifest),
            label="body",
        )
        path = world.collection(kind, instructor)
        response = _send(world.user(instructor), "POST", path, body, media)
        check(response, path, body[:300], media)

    run()
    still_serving(world)


def test_the_loopback_client_and_the_https_views_take_the_same_junk(world):
    """The control plane's client and kubectl's HTTPS door answer the same shapes alike."""
    loopback = Client(world.alice, "fuzzer")
    http = HttpClient()

    @fuzz(120)
    @given(data=st.data())
    def run(data):
        kind = data.draw(st.sampled_from(world.kinds), label="kind")
        verb, method, item = data.draw(st.sampled_from(VERBS), label="verb")
        manifest = world.manifest(kind)
        path = _item(world, kind, False, TARGET) if item else world.collection(kind, False)
        query = data.draw(queries, label="query")
        value = data.draw(misshapen(manifest) | json_values, label="value")
        media = data.draw(st.sampled_from(MEDIA), label="media")
        if method in ("GET", "DELETE") and data.draw(st.booleans(), label="no body"):
            value = None
        exchange = loopback.exchange(method, path, value, query, content_type=media)
        check(exchange.response, "loopback", path, value, media, query)
        body, raw_media = data.draw(bodies(manifest), label="raw")
        target = path + (f"?{urlencode(query)}" if query else "")
        answer = http.generic(
            method,
            target,
            data=body,
            content_type=raw_media or "application/octet-stream",
            headers={"authorization": f"Bearer {world.alice.token}", "accept": "application/json"},
        )
        assert answer.status_code < 500, (target, body[:300], raw_media, answer.content[:300])
        if answer.status_code >= 400 and answer["Content-Type"].startswith("application/json"):
            status = json.loads(answer.content)
            assert status["kind"] == "Status" and status["code"] == answer.status_code, status

    run()
    still_serving(world)


CRD_PATHS = [
    "spec.group",
    "spec.scope",
    "spec.names",
    "spec.names.plural",
    "spec.names.kind",
    "spec.names.shortNames",
    "spec.names.categories",
    "spec.versions",
    "spec.versions.0",
    "spec.versions.0.name",
    "spec.versions.0.served",
    "spec.versions.0.storage",
    "spec.versions.0.schema",
    "spec.versions.0.schema.openAPIV3Schema",
    "spec.versions.0.schema.openAPIV3Schema.type",
    "spec.versions.0.schema.openAPIV3Schema.properties",
    "spec.versions.0.schema.openAPIV3Schema.properties.spec",
    "spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.size",
    "spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.size.minimum",
    "spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.color.enum",
    "spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.parts.items",
    "spec.versions.0.schema.openAPIV3Schema.required",
    "spec.versions.0.subresources",
    "spec.versions.0.subresources.status",
    "spec.versions.0.subresources.scale",
    "spec.versions.0.additionalPrinterColumns",
    "spec.versions.0.additionalPrinterColumns.0",
    "spec.versions.0.additionalPrinterColumns.0.jsonPath",
    "spec.versions.0.additionalPrinterColumns.0.type",
    "spec.versions.1",
    "spec.conversion",
    "metadata.name",
]


@st.composite
def crds(draw) -> dict:
    """A CRD for `gizmos.fuzz.example.com` with one to three fields of the wrong type."""
    crd = copy.deepcopy(WIDGET_CRD)
    crd["metadata"]["name"] = "gizmos.fuzz.example.com"
    crd["spec"]["names"] = {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"}
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}
    ]
    for path in draw(st.lists(st.sampled_from(CRD_PATHS), min_size=1, max_size=3, unique=True)):
        crd = plant(crd, path, copy.deepcopy(draw(WRONG | json_values)))
    return crd


def test_custom_resource_definitions_of_the_wrong_shape(world):
    """CRD registration reads deep into its body; an instructor's typo must not be a 500."""

    @fuzz(200)
    @given(crd=crds(), method=st.sampled_from(["POST", "PUT", "PATCH"]))
    def run(crd, method):
        path = CRDS if method == "POST" else f"{CRDS}/{WIDGET_CRD['metadata']['name']}"
        if method != "POST":
            crd["metadata"]["name"] = WIDGET_CRD["metadata"]["name"]
            crd["spec"]["names"] = copy.deepcopy(WIDGET_CRD["spec"]["names"])
        media = "application/merge-patch+json" if method == "PATCH" else "application/json"
        response = _send(world.carol, method, path, encoded(crd), media)
        check(response, method, crd)
        if method == "POST" and response.status == 201:
            check(_send(world.carol, "DELETE", f"{CRDS}/gizmos.fuzz.example.com"))
        gadgets = "/apis/fuzz.example.com/v1/namespaces/alice/gadgets"
        check(_send(world.alice, "GET", gadgets, accept=ACCEPTS[1]), "gadgets after", crd)

    run()
    still_serving(world)
