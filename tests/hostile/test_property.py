"""Whatever a learner puts in a spec, another learner's Pod is still delivered.

Hypothesis fills the spec fields of Pods, Deployments, Jobs, StatefulSets, DaemonSets,
CronJobs and Services with junk (wrong types, nulls, negatives, huge numbers, strings that
are almost quantities, percentages or addresses), sends each through admission as alice,
and lets the control plane run: no pass may fail, and bob's new Pod becomes Ready.
"""

import copy
import itertools
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.controlplane.conftest import pod_manifest
from tests.controlplane.test_workloads import deployment
from tests.hostile.conftest import BOB_PODS, bobs_pod_ready, call_as, order_bobs_pod

PROPERTY = settings(
    # WAREHOUSE_FUZZ_EXAMPLES=500 for a longer hunt; 50 keeps the suite quick.
    max_examples=int(os.environ.get("WAREHOUSE_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ALMOST = [
    "lots",
    "1 GB",
    "1GB",
    "-1",
    "1e400",
    "x%",
    "25%",
    "150%",
    "0",
    "not.an.ip",
    "10.0.0.1",
    "* * * * *",
    "@hourly",
    "Mars/Olympus",
    "RollingUpdate",
    "Recreate",
    "OnDelete",
    "Parallel",
    "Indexed",
    "Forbid",
    "ClusterIP",
    "NodePort",
    "ExternalName",
    "None",
    "",
]
junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=4)
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.sampled_from(ALMOST)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["cpu", "memory", "port", "name", "ip"]), children, max_size=3
        )
    ),
    max_leaves=6,
)

TEMPLATE = "spec.template.spec"
CONTAINER = f"{TEMPLATE}.containers.0"
POD_FIELDS = [
    "spec.containers.0.resources.requests.cpu",
    "spec.containers.0.resources.requests.memory",
    "spec.containers.0.resources.limits.cpu",
    "spec.containers.0.resources",
    "spec.containers.0.ports",
    "spec.containers.0.command",
    "spec.restartPolicy",
    "spec.nodeSelector",
    "spec.nodeName",
    "spec.tolerations",
    "spec.affinity",
    "spec.activeDeadlineSeconds",
    "spec.initContainers",
]
WORKLOAD_FIELDS = [
    f"{CONTAINER}.resources.requests.cpu",
    f"{CONTAINER}.resources.limits.memory",
    f"{TEMPLATE}.nodeSelector",
    f"{TEMPLATE}.restartPolicy",
    "spec.minReadySeconds",
    "spec.revisionHistoryLimit",
]
FIELDS = {
    "Pod": POD_FIELDS,
    "Deployment": [
        *WORKLOAD_FIELDS,
        "spec.replicas",
        "spec.strategy",
        "spec.strategy.type",
        "spec.strategy.rollingUpdate.maxSurge",
        "spec.strategy.rollingUpdate.maxUnavailable",
        "spec.progressDeadlineSeconds",
        "spec.paused",
    ],
    "StatefulSet": [
        *WORKLOAD_FIELDS,
        "spec.replicas",
        "spec.serviceName",
        "spec.podManagementPolicy",
        "spec.updateStrategy",
        "spec.updateStrategy.rollingUpdate.partition",
    ],
    "DaemonSet": [
        *WORKLOAD_FIELDS,
        "spec.updateStrategy",
        "spec.updateStrategy.rollingUpdate.maxSurge",
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
    ],
    "Job": [
        f"{CONTAINER}.resources.requests.memory",
        f"{CONTAINER}.command",
        "spec.parallelism",
        "spec.completions",
        "spec.backoffLimit",
        "spec.activeDeadlineSeconds",
        "spec.suspend",
        "spec.completionMode",
        "spec.ttlSecondsAfterFinished",
    ],
    "CronJob": [
        "spec.schedule",
        "spec.timeZone",
        "spec.suspend",
        "spec.concurrencyPolicy",
        "spec.startingDeadlineSeconds",
        "spec.successfulJobsHistoryLimit",
        "spec.failedJobsHistoryLimit",
        "spec.jobTemplate.spec.parallelism",
        "spec.jobTemplate.spec.completions",
        "spec.jobTemplate.spec.template.spec.containers.0.resources.requests.cpu",
    ],
    "Service": [
        "spec.type",
        "spec.ports",
        "spec.ports.0.port",
        "spec.ports.0.targetPort",
        "spec.selector",
        "spec.clusterIP",
        "spec.externalName",
        "spec.sessionAffinity",
    ],
}
COLLECTIONS = {
    "Pod": "/api/v1/namespaces/alice/pods",
    "Deployment": "/apis/apps/v1/namespaces/alice/deployments",
    "StatefulSet": "/apis/apps/v1/namespaces/alice/statefulsets",
    "DaemonSet": "/apis/apps/v1/namespaces/alice/daemonsets",
    "Job": "/apis/batch/v1/namespaces/alice/jobs",
    "CronJob": "/apis/batch/v1/namespaces/alice/cronjobs",
    "Service": "/api/v1/namespaces/alice/services",
}


def _job_spec() -> dict:
    return {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "pi", "image": "busybox:1.36", "command": ["true"]}],
            }
        }
    }


def base(kind: str, name: str) -> dict:
    """A valid manifest of `kind` for the junk to land in."""
    if kind == "Pod":
        return pod_manifest(name)
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        body = deployment(name, replicas=1)
        body["kind"] = kind
        if kind == "DaemonSet":
            del body["spec"]["replicas"]
        return body
    if kind == "Job":
        return {
            "apiVersion": "batch/v1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": _job_spec(),
        }
    if kind == "CronJob":
        return {
            "apiVersion": "batch/v1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": _job_spec()}},
        }
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
    }


def plant(obj: dict, path: str, value: object) -> None:
    """Set a dotted path (numbers index lists), making the way there as needed."""
    *steps, last = path.split(".")
    here: dict | list = obj
    for step, following in zip(steps, [*steps[1:], last], strict=True):
        shape = list if following.isdigit() else dict
        child = _get(here, step)
        if not isinstance(child, shape):
            child = shape()
            _set(here, step, child)
        here = child
    _set(here, last, value)


def _get(container: dict | list, step: str) -> object:
    if isinstance(container, list):
        index = int(step)
        return container[index] if index < len(container) else None
    return container.get(step)


def _set(container: dict | list, step: str, value: object) -> None:
    if isinstance(container, list):
        index = int(step)
        while len(container) <= index:
            container.append({})
        container[index] = value
    else:
        container[step] = value


orders = st.sampled_from(sorted(FIELDS)).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.dictionaries(st.sampled_from(FIELDS[kind]), junk, min_size=1, max_size=3),
    )
)
_names = itertools.count()


@PROPERTY
@given(order=orders)
def test_junk_in_one_namespace_never_stops_another(cluster, bob, order):
    kind, junk_fields = order
    number = next(_names)
    manifest = base(kind, f"junk-{number}")
    for path, value in junk_fields.items():
        plant(manifest, path, copy.deepcopy(value))

    response = cluster.call("POST", COLLECTIONS[kind], manifest)

    assert response.status < 500, response.body
    steady = f"steady-{number}"
    order_bobs_pod(bob, steady)
    for _ in range(8):
        cluster.clock.advance(1.0)
        cluster.driver.tick()
        if bobs_pod_ready(bob, steady):
            break
    assert bobs_pod_ready(bob, steady), (kind, junk_fields, response.status)
    # Tidy up, so a long hunt stays within the namespaces' quotas.
    call_as(bob, "DELETE", f"{BOB_PODS}/{steady}", gracePeriodSeconds="0")
    if response.status == 201:
        cluster.call("DELETE", f"{COLLECTIONS[kind]}/{manifest['metadata']['name']}")
