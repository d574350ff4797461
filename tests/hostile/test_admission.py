"""What a hostile (or careless) learner sends is refused at the door, as kube-apiserver does.

Each of these once reached the store and stopped the control plane for every namespace.
"""

import copy

import pytest

from apiserver import accounts
from tests.controlplane.conftest import pod_manifest, without_share
from tests.controlplane.test_workloads import DEPLOYMENTS, JOBS, deployment
from tests.hostile.conftest import call_as
from tests.shop.conftest import learner, signed_in
from tests.shop.helpers import api_get

PODS = "/api/v1/namespaces/alice/pods"
QUANTITY_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


@pytest.fixture
def shop_alice(catalog, settings, tmp_path_factory):
    """alice's browser on the shop, as the shop's own tests set it up."""
    settings.STATE_DIR = tmp_path_factory.getbasetemp() / "shop-state"
    settings.WAREHOUSE_API_HOSTS = []
    return signed_in("alice", "Alice")


def _job(**spec: object) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "pi", "image": "busybox:1.36", "command": ["true"]}],
                }
            },
        },
    }


def _causes(response) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in response.body["details"]["causes"]]


@pytest.mark.parametrize(
    ("resource", "amount"),
    [("cpu", "lots"), ("memory", "1 GB"), ("memory", "1GB"), ("cpu", "1.2.3"), ("cpu", "")],
)
def test_a_quantity_that_is_not_one_does_not_even_decode(cluster, resource, amount):
    pod = pod_manifest("greedy", resources={"requests": {resource: amount}})

    response = cluster.call("POST", PODS, pod)

    if amount == "":
        assert response.status == 201  # an empty quantity is zero
        return
    assert response.status == 400, response.body
    assert response.body["reason"] == "BadRequest"
    assert response.body["message"] == (
        f'Pod in version "v1" cannot be handled as a Pod: {QUANTITY_MESSAGE}'
    )


def test_quantities_in_a_template_are_read_the_same_way(cluster):
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "lots"}}

    response = cluster.call("POST", DEPLOYMENTS, body)

    assert response.status == 400
    assert response.body["message"].startswith(
        'Deployment in version "v1" cannot be handled as a Deployment: quantities must'
    )


def test_every_quantity_the_grammar_allows_is_accepted(cluster):
    without_share()  # 1.5 CPUs is more than a learner's share
    requests = {"cpu": "1.5", "memory": "128Mi"}
    limits = {"cpu": "2", "memory": "1e9"}
    pod = pod_manifest("exact", resources={"requests": requests, "limits": limits})

    assert cluster.call("POST", PODS, pod).status == 201


def test_negative_amounts_and_requests_above_limits_are_invalid(cluster):
    pod = pod_manifest(
        "upside-down",
        resources={"requests": {"cpu": "2", "memory": "-1Mi"}, "limits": {"cpu": "1"}},
    )

    response = cluster.call("POST", PODS, pod)

    assert response.status == 422
    assert _causes(response) == [
        (
            "spec.containers[0].resources.requests[memory]",
            'Invalid value: "-1Mi": must be greater than or equal to 0',
        ),
        (
            "spec.containers[0].resources.requests[cpu]",
            'Invalid value: "2": must be less than or equal to cpu limit of 1',
        ),
    ]


@pytest.mark.parametrize("field", ["maxSurge", "maxUnavailable"])
def test_a_rolling_update_that_is_not_an_int_or_a_percentage_is_invalid(cluster, field):
    body = deployment()
    body["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {field: "x%"}}

    response = cluster.call("POST", DEPLOYMENTS, body)

    assert response.status == 422
    assert _causes(response) == [
        (
            f"spec.strategy.rollingUpdate.{field}",
            'Invalid value: "x%": a valid percent string must be a numeric string followed by '
            "an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        )
    ]


@pytest.mark.parametrize(
    ("rolling", "field", "message"),
    [
        ({"maxSurge": -1}, "maxSurge", "Invalid value: -1: must be greater than or equal to 0"),
        (
            {"maxUnavailable": "150%"},
            "maxUnavailable",
            'Invalid value: "150%": must not be greater than 100%',
        ),
        (
            {"maxUnavailable": 0, "maxSurge": "0%"},
            "maxUnavailable",
            "Invalid value: 0: may not be 0 when `maxSurge` is 0",
        ),
    ],
)
def test_rolling_update_bounds(cluster, rolling, field, message):
    body = deployment()
    body["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}

    response = cluster.call("POST", DEPLOYMENTS, body)

    assert response.status == 422
    assert (f"spec.strategy.rollingUpdate.{field}", message) in _causes(response)


def test_a_daemonsets_rolling_update_is_checked_too(cluster):
    body = copy.deepcopy(deployment())
    body["kind"] = "DaemonSet"
    del body["spec"]["replicas"]
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "x"}}

    response = cluster.call("POST", "/apis/apps/v1/namespaces/alice/daemonsets", body)

    assert response.status == 422
    assert _causes(response)[0][0] == "spec.updateStrategy.rollingUpdate.maxSurge"


def test_null_replicas_is_defaulted_to_one_like_an_unset_one(cluster):
    body = deployment()
    body["spec"]["replicas"] = None
    body["spec"]["strategy"] = None

    created = cluster.api("POST", DEPLOYMENTS, body)

    assert created["spec"]["replicas"] == 1
    assert created["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }


@pytest.mark.parametrize(
    ("plural", "group_path"),
    [("replicasets", "/apis/apps/v1"), ("statefulsets", "/apis/apps/v1")],
)
def test_null_replicas_is_one_for_every_kind_with_replicas(cluster, plural, group_path):
    body = deployment()
    body["kind"] = {"replicasets": "ReplicaSet", "statefulsets": "StatefulSet"}[plural]
    body["spec"]["replicas"] = None

    created = cluster.api("POST", f"{group_path}/namespaces/alice/{plural}", body)

    assert created["spec"]["replicas"] == 1


@pytest.mark.parametrize(
    ("spec", "parallelism", "completions"),
    [
        ({"parallelism": None}, 1, 1),
        ({"parallelism": None, "completions": None}, 1, 1),
        ({"parallelism": None, "completions": 3}, 1, 3),
        ({"parallelism": 2}, 2, None),  # a work queue: any one success completes it
        ({"parallelism": 2, "completions": None}, 2, None),
    ],
)
def test_a_jobs_null_counts_are_defaulted_as_kubernetes_does(
    cluster, spec, parallelism, completions
):
    created = cluster.api("POST", JOBS, _job(**spec))

    assert created["spec"]["parallelism"] == parallelism
    assert created["spec"].get("completions") == completions
    assert created["spec"]["backoffLimit"] == 6


@pytest.mark.parametrize("field", ["parallelism", "completions", "backoffLimit"])
def test_a_jobs_counts_may_not_be_negative(cluster, field):
    response = cluster.call("POST", JOBS, _job(**{field: -1}))

    assert response.status == 422
    assert _causes(response) == [
        (f"spec.{field}", "Invalid value: -1: must be greater than or equal to 0")
    ]


def test_a_cronjobs_job_template_counts_are_checked(cluster):
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": _job(parallelism=-2)["spec"]}},
    }

    response = cluster.call("POST", "/apis/batch/v1/namespaces/alice/cronjobs", cronjob)

    assert response.status == 422
    assert _causes(response)[0][0] == "spec.jobTemplate.spec.parallelism"


def test_negative_replicas_are_invalid(cluster):
    response = cluster.call("POST", DEPLOYMENTS, deployment(replicas=-1))

    assert response.status == 422
    assert _causes(response) == [
        ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")
    ]


def test_a_count_beyond_int32_does_not_decode(cluster):
    response = cluster.call("POST", DEPLOYMENTS, deployment(replicas=3_000_000_000))

    assert response.status == 400
    assert response.body["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
        "number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32"
    )


def _write_status(cluster, name: str, **status: object):
    """As a kubelet would: a learner may not write status at all (RBAC answers 403), but
    whoever writes it, admission checks the addresses in it."""
    pod = cluster.pod(name)
    pod["status"] |= status
    kubelet = accounts.system_user("kubelet")
    return call_as(kubelet, "PUT", f"{PODS}/{name}/status", pod)


@pytest.mark.parametrize(
    ("status", "field"),
    [
        ({"podIP": "not.an.ip"}, "status.podIPs[0]"),
        (
            {"podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}, {"ip": "nope"}]},
            "status.podIPs[1]",
        ),
        ({"podIPs": [{"ip": "999.1.1.1"}]}, "status.podIPs[0]"),
        ({"hostIP": "localhost"}, "status.hostIPs[0]"),
    ],
)
def test_a_pod_status_must_name_real_addresses(cluster, status, field):
    cluster.api("POST", PODS, pod_manifest("web"))

    response = _write_status(cluster, "web", **status)

    assert response.status == 422, response.body
    (cause,) = response.body["details"]["causes"]
    assert cause["field"] == field
    assert cause["message"].endswith(IP_MESSAGE)


def test_host_ips_without_a_host_ip_are_invalid(cluster):
    cluster.api("POST", PODS, pod_manifest("web"))

    response = _write_status(cluster, "web", hostIPs=[{"ip": "10.0.0.1"}])

    assert response.status == 422
    assert _causes(response) == [
        ("status.hostIPs[0].ip", 'Invalid value: "10.0.0.1": must be equal to `hostIP`')
    ]


def test_two_pod_ips_of_one_family_are_invalid(cluster):
    cluster.api("POST", PODS, pod_manifest("web"))

    response = _write_status(
        cluster, "web", podIP="10.244.1.7", podIPs=[{"ip": "10.244.1.7"}, {"ip": "10.244.1.8"}]
    )

    assert response.status == 422
    assert _causes(response)[0][1].endswith("may specify no more than one IP for each IP family")


def test_a_dual_stack_pod_status_is_accepted(cluster):
    cluster.api("POST", PODS, pod_manifest("web"))

    response = _write_status(
        cluster, "web", podIP="10.244.1.7", podIPs=[{"ip": "10.244.1.7"}, {"ip": "fd00::7"}]
    )

    assert response.status == 200, response.body


def test_a_deployment_ordered_with_replicas_left_empty_gets_one(shop_alice):
    url = "/order/apps/v1/deployments/"
    manifest = shop_alice.get(url).context["form"].initial["manifest"]
    emptied = "\n".join(
        "  replicas:" if line.strip().startswith("replicas:") else line
        for line in manifest.splitlines()
    )
    assert "  replicas:\n" in emptied + "\n"

    response = shop_alice.post(url, {"manifest": emptied})

    assert response.status_code == 302, response.content.decode()[:2000]
    name = response["Location"].rstrip("/").rsplit("/", 1)[1]
    status, stored = api_get(learner("alice"), f"{DEPLOYMENTS}/{name}")
    assert status == 200
    assert stored["spec"]["replicas"] == 1
