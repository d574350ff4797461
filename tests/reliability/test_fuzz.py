"""Random and hostile input never gets a 500, and never leaves half an object behind.

Hypothesis sends manifests (random JSON and YAML, wrong types, deep nesting, huge strings,
alias bombs, bad names and labels, unknown kinds and groups) and paths (random segments,
`..`, encoded slashes, unicode, query strings) through `handle()` and through the HTTP
views. Every answer must be a success or a Kubernetes Status with a 4xx code, and the
store must stay consistent after each example.
"""

import json
import os
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import yaml
from django.db.models import Max
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiserver.models import ClusterUser, Counter, Revision, StoredObject
from apiserver.pipeline import ApiRequest, ApiResponse, handle

FUZZ = settings(
    # WAREHOUSE_FUZZ_EXAMPLES=2000 for a longer hunt; 150 keeps the suite quick.
    max_examples=int(os.environ.get("WAREHOUSE_FUZZ_EXAMPLES", "150")),
    deadline=None,  # speed is measured in bench/, never here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

COLLECTIONS = [
    "/api/v1/namespaces/alice/pods",
    "/api/v1/namespaces/alice/configmaps",
    "/api/v1/namespaces/alice/secrets",
    "/api/v1/namespaces/alice/services",
    "/apis/apps/v1/namespaces/alice/deployments",
    "/apis/batch/v1/namespaces/alice/jobs",
    "/apis/batch/v1/namespaces/alice/cronjobs",
    "/api/v1/namespaces",
    "/api/v1/nodes",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
]
ITEMS = [f"{path}/thing" for path in COLLECTIONS]
KINDS = ["Pod", "ConfigMap", "Secret", "Service", "Deployment", "Job", "CronJob", "Namespace"]
API_VERSIONS = ["v1", "apps/v1", "batch/v1", "nope/v9", "", "v1/../v1"]
CONTENT_TYPES = [
    "application/json",
    "application/yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
    "",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
names = st.one_of(
    st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    st.text(max_size=70),
    st.just("x" * 300),
    st.just("<script>alert(1)</script>"),
    json_values,
)
label_maps = st.dictionaries(st.text(max_size=70), json_values | st.text(max_size=70), max_size=3)
metadata = st.fixed_dictionaries(
    {},
    optional={
        "name": names,
        "namespace": names,
        "generateName": names,
        "labels": label_maps | json_values,
        "annotations": label_maps | json_values,
        "resourceVersion": json_values,
        "finalizers": json_values,
        "uid": json_values,
        "ownerReferences": json_values,
    },
)
manifests = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.sampled_from(API_VERSIONS) | json_values,
        "kind": st.sampled_from(KINDS) | st.text(max_size=20) | json_values,
        "metadata": metadata | json_values,
        "spec": json_values,
        "data": json_values,
        "stringData": json_values,
        "status": json_values,
    },
)
ALIAS_BOMB = (
    b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
)
hostile_bodies = st.sampled_from(
    [
        ALIAS_BOMB,
        b"[" * 20_000 + b"]" * 20_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"- " * 3000 + b"x",
        b'{"metadata": {"name": "' + b"a" * (2 * 1024 * 1024) + b'"}}',
        b"\xff\xfe\x00garbage",
        b"",
        b"   ",
        b"null",
        b"[]",
        b'"a string"',
        b"!!python/object/apply:os.system ['true']",
        b"{{{{",
        b"1e999999",
    ]
)


def _encode(value: Any, as_yaml: bool) -> bytes:
    if as_yaml:
        try:
            return yaml.safe_dump(value).encode()
        except (yaml.YAMLError, ValueError, OverflowError):
            return b"{}"
    return json.dumps(value).encode()


bodies = st.one_of(
    st.builds(_encode, manifests, st.booleans()),
    st.builds(_encode, json_values, st.booleans()),
    hostile_bodies,
    st.binary(max_size=200),
)
segments = st.one_of(
    st.sampled_from(
        ["..", ".", "%2F", "%2e%2e", "api", "apis", "v1", "namespaces", "alice", "bob", "pods"]
    ),
    st.text(min_size=1, max_size=15).map(lambda s: quote(s, safe="")),
    st.text(alphabet="abc.-_:~", min_size=1, max_size=8),
)
paths = st.one_of(
    st.sampled_from(COLLECTIONS + ITEMS),
    st.lists(segments, max_size=7).map(lambda parts: "/" + "/".join(parts)),
    st.builds(lambda base, extra: f"{base}/{extra}", st.sampled_from(COLLECTIONS), segments),
)
queries = st.dictionaries(
    st.sampled_from(
        [
            "labelSelector",
            "fieldSelector",
            "limit",
            "continue",
            "resourceVersion",
            "dryRun",
            "fieldValidation",
            "fieldManager",
            "timeoutSeconds",
            "gracePeriodSeconds",
            "watch",
            "propagationPolicy",
        ]
    ),
    st.text(max_size=20),
    max_size=3,
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])


def _check_answer(status: int, body: Any) -> None:
    assert status < 500, body
    if status >= 400:
        assert isinstance(body, dict)
        assert body["kind"] == "Status"
        assert body["status"] == "Failure"
        assert body["code"] == status


def _check_store() -> None:
    """Every object has the revision that produced it; the counter is ahead of all."""
    counter = Counter.objects.filter(name="resourceVersion").values_list("value", flat=True)
    newest = Revision.objects.aggregate(newest=Max("id"))["newest"] or 0
    assert (counter.first() or 0) >= newest
    revisions = set(Revision.objects.values_list("id", flat=True))
    for row in StoredObject.objects.all():
        assert row.resource_version in revisions, row
        obj = json.loads(row.body)
        assert obj["metadata"]["name"] == row.name
        assert str(obj["metadata"]["resourceVersion"]) == str(row.resource_version)


def _through_pipeline(method: str, path: str, body: bytes, content_type: str, query, user):
    headers = {"content-type": content_type} if content_type else {}
    response: ApiResponse = handle(ApiRequest(method, path, query, headers, body, user=user))
    _check_answer(response.status, response.body)
    _check_store()


@pytest.fixture
def actors(alice, carol) -> list[ClusterUser]:
    return [alice, carol]


@FUZZ
@given(
    method=methods,
    path=st.sampled_from(COLLECTIONS + ITEMS),
    body=bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
    query=queries,
    who=st.integers(0, 1),
)
def test_manifests_through_the_pipeline(actors, method, path, body, content_type, query, who):
    _through_pipeline(method, path, body, content_type, query, actors[who])


@FUZZ
@given(method=methods, path=paths, query=queries, body=bodies, who=st.integers(0, 1))
def test_paths_through_the_pipeline(actors, method, path, query, body, who):
    _through_pipeline(method, path, body, "application/json", query, actors[who])


@FUZZ
@given(
    method=methods,
    path=paths,
    query=queries,
    body=bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_paths_and_bodies_over_http(alice, method, path, query, body, content_type):
    client = Client()
    target = path + (f"?{urlencode(query)}" if query else "")
    response = client.generic(
        method,
        target,
        data=body,
        content_type=content_type or "application/octet-stream",
        headers={"authorization": f"Bearer {alice.token}", "accept": "application/json"},
    )
    status = response.status_code
    assert status < 500
    is_api = path.startswith(("/api", "/apis", "/openapi", "/version"))
    is_json = response.get("Content-Type", "").startswith("application/json")
    if is_api and status >= 400 and method != "HEAD" and not response.streaming and is_json:
        _check_answer(status, json.loads(response.content))
    _check_store()
