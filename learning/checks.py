"""Checks for "try it" steps and "do it" questions: real look-ups, as the learner.

Each check asks the API server through the loopback client with the learner's own identity
(so authorization and the audit log apply), or reads the audit log the server publishes
(`apiserver.readmodel`).
Extension point: another app registers a new check with `@checks.register("name")` in its
AppConfig.ready(); lesson steps naming an unregistered check show as "coming" until then.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apiserver import readmodel
from apiserver.accounts import ClusterUser
from apiserver.client import Client
from shop import api

log = logging.getLogger(__name__)

USER_AGENT = "warehouse-learn"
CLIENT = "browser"
IMAGE_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName")


@dataclass(frozen=True)
class CheckResult:
    """The verdict, a sentence for the learner, and the request that decided it."""

    passed: bool
    message: str
    evidence: str = ""


Check = Callable[[ClusterUser, dict[str, Any]], CheckResult]
CHECKS: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    """Make a check available to lesson steps and quiz questions under `name`."""

    def decorate(check: Check) -> Check:
        CHECKS[name] = check
        return check

    return decorate


def is_available(step: Any) -> bool:
    """A step can be checked when it is not marked coming and its check exists."""
    return not getattr(step, "coming", "") and step.check in CHECKS


def run(name: str, learner: ClusterUser, params: dict[str, Any] | None = None) -> CheckResult:
    """Run a check by name; never raises, so a broken check cannot break the page."""
    check = CHECKS.get(name)
    if check is None:
        return CheckResult(False, "This check is not available yet.")
    try:
        return check(learner, dict(params or {}))
    except Exception:
        log.exception("check %s failed for %s", name, learner)
        return CheckResult(False, "The check itself went wrong. Try again in a moment.")


def ask(learner: ClusterUser, path: str) -> tuple[int, dict[str, Any]]:
    """GET `path` through the front door as the learner; status and body."""
    exchange = Client(learner, CLIENT, USER_AGENT).exchange("GET", path)
    return exchange.status, exchange.body


def _refused(status: int, body: dict[str, Any], evidence: str) -> CheckResult:
    if status == 401:
        return CheckResult(False, "The API server no longer accepts your token.", evidence)
    message = body.get("message") or f"The API server answered {status}."
    return CheckResult(False, str(message), evidence)


def _list(learner: ClusterUser, group: str, version: str, plural: str) -> CheckResult | list:
    path = api.collection_path(group, version, plural, learner.namespace)
    status, body = ask(learner, path)
    if status != 200:
        return _refused(status, body, f"GET {path} → {status}")
    return body.get("items") or []


@register("object_exists")
def object_exists(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when the named object exists in the learner's namespace."""
    group, version = params.get("group", ""), params.get("version", "v1")
    plural, name = params["plural"], params["name"]
    path = api.object_path(group, version, plural, learner.namespace, name)
    status, body = ask(learner, path)
    evidence = f"GET {path} → {status}"
    if status == 200:
        version_seen = body.get("metadata", {}).get("resourceVersion", "?")
        return CheckResult(
            True,
            f"Found {plural}/{name} in {learner.namespace} (resourceVersion {version_seen}).",
            evidence,
        )
    if status == 404:
        return CheckResult(
            False, f"The API server has no {plural}/{name} in {learner.namespace} yet.", evidence
        )
    return _refused(status, body, evidence)


def _waiting_reasons(pod: dict[str, Any]) -> list[str]:
    status = pod.get("status") or {}
    statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    return [
        ((s.get("state") or {}).get("waiting") or {}).get("reason", "")
        for s in statuses
        if isinstance(s, dict)
    ]


@register("pod_image_error")
def pod_image_error(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when one of the learner's Pods cannot pull its image."""
    pods = _list(learner, "", "v1", "pods")
    if isinstance(pods, CheckResult):
        return pods
    evidence = f"GET /api/v1/namespaces/{learner.namespace}/pods → 200"
    for pod in pods:
        reasons = [r for r in _waiting_reasons(pod) if r in IMAGE_ERRORS]
        if reasons:
            name = pod.get("metadata", {}).get("name", "?")
            return CheckResult(True, f"Pod {name} is stuck on {reasons[0]}.", evidence)
    if not pods:
        return CheckResult(False, "You have no Pods yet: order one with a bad image.", evidence)
    return CheckResult(
        False,
        f"None of your {len(pods)} Pods reports ErrImagePull or ImagePullBackOff yet. "
        "If you ordered it just now, the kubelet may still be trying.",
        evidence,
    )


@register("pod_running")
def pod_running(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when a Pod (the named one, if given) has reached the Running phase."""
    pods = _list(learner, "", "v1", "pods")
    if isinstance(pods, CheckResult):
        return pods
    evidence = f"GET /api/v1/namespaces/{learner.namespace}/pods → 200"
    wanted = params.get("name")
    for pod in pods:
        name = pod.get("metadata", {}).get("name", "?")
        if wanted and name != wanted:
            continue
        if (pod.get("status") or {}).get("phase") == "Running":
            return CheckResult(True, f"Pod {name} is Running.", evidence)
    phases = sorted({(p.get("status") or {}).get("phase") or "no phase yet" for p in pods})
    if not pods:
        return CheckResult(False, "You have no Pods yet.", evidence)
    return CheckResult(False, f"No Pod is Running yet (seen: {', '.join(phases)}).", evidence)


@register("deployment_replicas")
def deployment_replicas(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when a Deployment asks for exactly the wanted number of replicas."""
    wanted = int(params.get("replicas", 3))
    deployments = _list(learner, "apps", "v1", "deployments")
    if isinstance(deployments, CheckResult):
        return deployments
    evidence = f"GET /apis/apps/v1/namespaces/{learner.namespace}/deployments → 200"
    for deployment in deployments:
        if (deployment.get("spec") or {}).get("replicas") == wanted:
            name = deployment.get("metadata", {}).get("name", "?")
            return CheckResult(True, f"Deployment {name} asks for {wanted} replicas.", evidence)
    if not deployments:
        return CheckResult(False, "You have no Deployments yet.", evidence)
    return CheckResult(
        False, f"None of your Deployments asks for exactly {wanted} replicas.", evidence
    )


@register("audit_request")
def audit_request(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when the audit log holds enough matching requests sent by the learner.

    params: client, verb, resource ("services", "apps/deployments"), status, path,
    min_count (default 1) and within_seconds (only count recent requests).
    """
    match: dict[str, Any] = {"user": learner.username}
    described = []
    if params.get("client"):
        match["client"] = params["client"]
        described.append(f"from {params['client']}")
    if params.get("verb"):
        match["verb"] = params["verb"]
        described.insert(0, params["verb"])
    if params.get("resource"):
        match["resource"] = params["resource"]
        described.append(f"of {params['resource']}")
    if params.get("path"):
        match["path"] = params["path"]
        described.append(f"to {params['path']}")
    if params.get("status"):
        match["status"] = int(params["status"])
        described.append(f"answered {params['status']}")
    within = params.get("within_seconds")
    if within:
        newest = readmodel.first_request(order="-timestamp", **match)
        if newest is not None:
            match["since"] = newest["timestamp"] - timedelta(seconds=int(within))
    wanted = int(params.get("min_count", 1))
    found = readmodel.count_requests(**match)
    what = "request " + " ".join(described) if described else "request"
    evidence = f"audit log: {found} matching record(s) for {learner.username}"
    if found >= wanted:
        last = readmodel.first_request(**match)
        detail = ""
        if last is not None:
            detail = f" (latest: {last['method']} {last['path']} → {last['status_code']})"
        return CheckResult(True, f"The audit log shows your {what}{detail}.", evidence)
    if wanted > 1:
        window = f" within {within} seconds" if within else ""
        return CheckResult(
            False, f"Found {found} of the {wanted} {what}s needed{window}.", evidence
        )
    return CheckResult(False, f"No {what} by you in the audit log yet.", evidence)


@register("crd_served")
def crd_served(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when a CustomResourceDefinition exists and its kind is being served.

    params: listed (also require that the learner listed a custom kind successfully).
    """
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    status, body = ask(learner, path)
    evidence = f"GET {path} → {status}"
    if status != 200:
        return _refused(status, body, evidence)
    if not body.get("items"):
        return CheckResult(False, "No third-party seller has registered yet.", evidence)
    custom = readmodel.custom_kinds()
    if not custom:
        return CheckResult(False, "A definition exists, but its kind is not served yet.", evidence)
    if params.get("listed"):
        listed = readmodel.first_request(
            user=learner.username,
            verb="list",
            status=200,
            resource=[k["resource"] for k in custom],
        )
        if listed is None:
            plurals = ", ".join(sorted({k["plural"] for k in custom}))
            return CheckResult(
                False,
                f"The API server serves {plurals} from a CRD. Now list them: "
                f"kubectl get {custom[0]['plural']}.",
                evidence,
            )
        request = f"{listed['method']} {listed['path']} → 200"
        return CheckResult(
            True,
            f"You listed {listed['resource'].rsplit('/', 1)[-1]}, a kind a CRD added ({request}).",
            f"{evidence}; audit log: {request}",
        )
    return CheckResult(True, f"The API server serves {custom[0]['kind']} from a CRD.", evidence)
