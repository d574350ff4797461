"""Admission: defaults like a real cluster's, and the validation errors kubectl prints."""

import copy

import pytest

from tests.apiserver.conftest import deployment, pod, set_hard

PODS = "/api/v1/namespaces/alice/pods"


def test_pod_defaults(api, alice):
    body = pod("web", image="nginx")
    body["spec"]["containers"].append({"name": "pinned", "image": "busybox:1.36"})
    created = api.post(PODS, alice, body).json_body
    spec = created["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["schedulerName"] == "default-scheduler"
    latest, pinned = spec["containers"]
    assert latest["imagePullPolicy"] == "Always"
    assert pinned["imagePullPolicy"] == "IfNotPresent"
    assert latest["terminationMessagePath"] == "/dev/termination-log"
    assert latest["terminationMessagePolicy"] == "File"
    assert created["status"]["phase"] == "Pending"


def test_deployment_defaults(api, alice):
    created = api.post(
        "/apis/apps/v1/namespaces/alice/deployments", alice, deployment("shop")
    ).json_body
    spec = created["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_deployment_replicas_default_to_one(api, alice):
    body = deployment("shop")
    del body["spec"]["replicas"]
    created = api.post("/apis/apps/v1/namespaces/alice/deployments", alice, body).json_body
    assert created["spec"]["replicas"] == 1


def test_job_defaults_and_restart_policy_rule(api, alice):
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "count"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        },
    }
    path = "/apis/batch/v1/namespaces/alice/jobs"
    refused = api.post(path, alice, job)
    assert refused.status_code == 422
    assert refused.json_body["details"]["causes"][0]["field"] == (
        "spec.template.spec.restartPolicy"
    )
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    created = api.post(path, alice, job).json_body
    assert created["spec"]["backoffLimit"] == 6
    assert created["spec"]["completions"] == 1
    assert created["spec"]["parallelism"] == 1
    uid = created["metadata"]["uid"]
    assert created["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}
    assert created["spec"]["template"]["metadata"]["labels"]["job-name"] == "count"


def test_secret_string_data_becomes_base64_data(api, alice):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"password": "hunter2"},
    }
    created = api.post("/api/v1/namespaces/alice/secrets", alice, secret).json_body
    assert created["type"] == "Opaque"
    assert created["data"] == {"password": "aHVudGVyMg=="}
    assert "stringData" not in created


def test_missing_image_is_422_with_a_field_cause(api, alice):
    body = pod("web")
    del body["spec"]["containers"][0]["image"]
    response = api.post(PODS, alice, body)
    assert response.status_code == 422
    status = response.json_body
    assert status["reason"] == "Invalid"
    assert status["message"] == 'Pod "web" is invalid: spec.containers[0].image: Required value'
    assert status["details"] == {
        "name": "web",
        "kind": "Pod",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value",
                "field": "spec.containers[0].image",
            }
        ],
    }


def test_several_problems_are_listed_together(api, alice):
    body = pod("web")
    body["spec"]["containers"] = [{"image": "nginx"}, {"name": "b"}]
    status = api.post(PODS, alice, body).json_body
    fields = [cause["field"] for cause in status["details"]["causes"]]
    assert fields == ["spec.containers[0].name", "spec.containers[1].image"]
    assert status["message"].startswith('Pod "web" is invalid: [')


def test_pod_without_containers(api, alice):
    body = pod("web")
    body["spec"] = {}
    status = api.post(PODS, alice, body).json_body
    assert status["details"]["causes"][0]["field"] == "spec.containers"


def test_wrong_type_is_invalid(api, alice):
    body = pod("web")
    body["spec"]["containers"][0]["image"] = 5
    response = api.post(PODS, alice, body)
    assert response.status_code == 422
    assert response.json_body["details"]["causes"][0]["field"] == "spec.containers[0].image"


def test_unknown_field_under_strict_validation_is_400(api, alice):
    body = pod("web")
    body["spec"]["foo"] = 1
    response = api.post(PODS, alice, body, fieldValidation="Strict")
    assert response.status_code == 400
    assert response.json_body["message"] == 'strict decoding error: unknown field "spec.foo"'


def test_unknown_field_by_default_is_dropped_with_a_warning(api, alice):
    body = pod("web")
    body["spec"]["containers"][0]["colour"] = "red"
    response = api.post(PODS, alice, body)
    assert response.status_code == 201
    assert "colour" not in response.json_body["spec"]["containers"][0]
    assert 'unknown field \\"spec.containers[0].colour\\"' in response["Warning"]


def test_unknown_field_ignored_silently_when_asked(api, alice):
    body = pod("web")
    body["spec"]["foo"] = 1
    response = api.post(PODS, alice, body, fieldValidation="Ignore")
    assert response.status_code == 201
    assert not response.has_header("Warning")


def test_bad_names_are_invalid(api, alice):
    for name in ("Web", "web_1", "-web", "x" * 254):
        response = api.post(PODS, alice, pod(name))
        assert response.status_code == 422, name
        assert response.json_body["details"]["causes"][0]["field"] == "metadata.name"


def test_services_need_dns_label_names(api, alice):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "my.service"},
        "spec": {"ports": [{"port": 80}]},
    }
    response = api.post("/api/v1/namespaces/alice/services", alice, service)
    assert response.status_code == 422


def test_missing_name_is_required(api, alice):
    body = pod("web")
    del body["metadata"]["name"]
    status = api.post(PODS, alice, body).json_body
    assert status["details"]["causes"][0] == {
        "reason": "FieldValueRequired",
        "message": "Required value: name or generateName is required",
        "field": "metadata.name",
    }


def test_generate_name(api, alice):
    body = pod("web")
    body["metadata"] = {"generateName": "web-"}
    created = api.post(PODS, alice, body).json_body
    assert created["metadata"]["name"].startswith("web-")
    assert len(created["metadata"]["name"]) == len("web-") + 5


def test_bad_label_keys_and_values(api, alice):
    for labels in ({"bad key": "x"}, {"app": "no spaces"}, {"app": 5}):
        body = pod("web")
        body["metadata"]["labels"] = labels
        assert api.post(PODS, alice, body).status_code == 422, labels


def test_owner_references_name_their_owner_in_full(api, alice):
    """What the garbage collector and the controllers read to find an object's owner: a
    null entry, a missing uid or two controllers is 422, never stored."""
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u-1"}
    refused = {
        "a null entry": ([None], "metadata.ownerReferences.apiVersion"),
        "no uid": ([{**owner, "uid": ""}], "metadata.ownerReferences.uid"),
        "a number for a name": ([{**owner, "name": 5}], "metadata.ownerReferences[0].name"),
        "not a list": ({"kind": "ReplicaSet"}, "metadata.ownerReferences"),
        "an Event": ([{**owner, "apiVersion": "v1", "kind": "Event"}], "metadata.ownerReferences"),
    }
    for why, (references, field) in refused.items():
        body = pod("web")
        body["metadata"]["ownerReferences"] = references
        response = api.post(PODS, alice, body)
        assert response.status_code == 422, why
        assert field in [c["field"] for c in response.json_body["details"]["causes"]], why
    body = pod("web")
    body["metadata"]["ownerReferences"] = [
        {**owner, "controller": True},
        {**owner, "name": "web-2", "uid": "u-2", "controller": True},
    ]
    message = api.post(PODS, alice, body).json_body["message"]
    assert "Only one reference can have Controller set to true" in message
    assert "ReplicaSet/web-1 and ReplicaSet/web-2" in message
    body["metadata"]["ownerReferences"][1]["controller"] = False
    assert api.post(PODS, alice, body).status_code == 201


def test_finalizers_are_qualified_names(api, alice):
    for finalizers in (["keep-me"], [None], "example.com/keep", ["orphan", "foregroundDeletion"]):
        body = pod("web")
        body["metadata"]["finalizers"] = finalizers
        response = api.post(PODS, alice, body)
        assert response.status_code == 422, finalizers
        assert response.json_body["details"]["causes"][0]["field"] == "metadata.finalizers"
    body = pod("web")
    body["metadata"]["finalizers"] = ["example.com/keep", "orphan"]
    assert api.post(PODS, alice, body).status_code == 201


def test_kind_and_api_version_must_match_the_url(api, alice):
    wrong_kind = api.post(PODS, alice, dict(pod("web"), kind="Service"))
    assert wrong_kind.status_code == 400
    assert wrong_kind.json_body["reason"] == "BadRequest"
    wrong_version = api.post(PODS, alice, dict(pod("web"), apiVersion="apps/v1"))
    assert wrong_version.status_code == 400


def test_namespace_in_body_must_match_the_url(api, alice):
    body = pod("web")
    body["metadata"]["namespace"] = "bob"
    response = api.post(PODS, alice, body)
    assert response.status_code == 400
    assert "does not match the namespace" in response.json_body["message"]


def test_deployment_selector_must_match_template_labels(api, alice):
    body = deployment("shop")
    body["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    response = api.post("/apis/apps/v1/namespaces/alice/deployments", alice, body)
    assert response.status_code == 422
    cause = response.json_body["details"]["causes"][0]
    assert cause["field"] == "spec.template.metadata.labels"
    assert response.json_body["message"].startswith('Deployment.apps "shop" is invalid')


def test_namespace_quota(api, alice):
    # Her RoleBinding, the quota and the LimitRange are three of its objects already.
    set_hard("alice", {"warehouse.example/objects": "5"})
    assert api.post(PODS, alice, pod("a")).status_code == 201
    assert api.post(PODS, alice, pod("b")).status_code == 201
    response = api.post(PODS, alice, pod("c"))
    assert response.status_code == 403
    assert response.json_body["reason"] == "Forbidden"
    assert response.json_body["message"] == (
        'pods "c" is forbidden: exceeded quota: warehouse-quota, requested: '
        "warehouse.example/objects=1, used: warehouse.example/objects=5, "
        "limited: warehouse.example/objects=5"
    )


def test_custom_kinds_validate_against_their_schema(alice, carol, call, db):
    from apiserver.registry import kinds
    from catalog.models import ApiGroup, ApiVersion, ResourceKind

    group = ApiGroup.objects.create(name="shop.example.com", department="Shop", is_custom=True)
    version = ApiVersion.objects.create(group=group, version="v1")
    ResourceKind.objects.create(
        api_version=version,
        kind="Parcel",
        plural="parcels",
        singular="parcel",
        namespaced=True,
        verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
        is_custom=True,
        schema={
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["weight"],
                    "properties": {"weight": {"type": "integer"}, "to": {"type": "string"}},
                }
            },
        },
    )
    kinds.invalidate()
    path = "/apis/shop.example.com/v1/namespaces/alice/parcels"
    parcel = {
        "apiVersion": "shop.example.com/v1",
        "kind": "Parcel",
        "metadata": {"name": "p1"},
        "spec": {"weight": 3, "to": "bob"},
    }
    assert call("POST", path, carol, parcel).status == 201
    heavy = copy.deepcopy(parcel)
    heavy["metadata"]["name"] = "p2"
    heavy["spec"] = {"weight": "heavy"}
    response = call("POST", path, carol, heavy)
    assert response.status == 422
    fields = {c["field"] for c in response.body["details"]["causes"]}
    assert fields == {"spec.weight"}
    del heavy["spec"]["weight"]
    assert call("POST", path, carol, heavy).status == 422


def _cronjob(schedule: str, **spec: object) -> dict:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": template}}, **spec},
    }


@pytest.mark.parametrize(
    ("schedule", "spec", "field", "message"),
    [
        ("61 * * * *", {}, "spec.schedule", "bad minute field in '61 * * * *'"),
        ("* * *", {}, "spec.schedule", "expected exactly 5 fields, found 3: * * *"),
        (
            "CRON_TZ=Europe/Paris 0 9 * * *",
            {},
            "spec.schedule",
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ),
        ("0 9 * * *", {"timeZone": "Mars/Base"}, "spec.timeZone", "unknown time zone Mars/Base"),
    ],
)
def test_a_cronjob_schedule_that_does_not_read_is_invalid(
    api, alice, schedule, spec, field, message
):
    response = api.post(
        "/apis/batch/v1/namespaces/alice/cronjobs", alice, _cronjob(schedule, **spec)
    )

    assert response.status_code == 422
    (cause,) = response.json()["details"]["causes"]
    assert cause["field"] == field
    assert cause["message"].endswith(message)


def test_a_cronjob_in_its_own_time_zone_with_a_shorthand_is_accepted(api, alice):
    body = _cronjob("@hourly", timeZone="Europe/Paris")

    response = api.post("/apis/batch/v1/namespaces/alice/cronjobs", alice, body)

    assert response.status_code == 201, response.json()
