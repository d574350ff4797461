"""Checks for "try it" steps and "do it" questions: real look-ups, as the learner.

Each check asks the API server through the loopback client with the learner's own identity
(so authorization and the audit log apply), or reads the audit log the server publishes
(`apiserver.readmodel`) through `requests`, `count_requests` and `first_request` here, which
keep to the window `run` was given: a lesson started afresh counts only the requests sent
since, because the audit log never forgets the old ones.
Extension point: another app registers a new check with `@checks.register("name")` in its
AppConfig.ready(); lesson steps naming an unregistered check show as "coming" until then.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
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
# The earliest request a running check may count; None counts the whole audit log.
_since: ContextVar[datetime | None] = ContextVar("checks_since", default=None)


def register(name: str) -> Callable[[Check], Check]:
    """Make a check available to lesson steps and quiz questions under `name`."""

    def decorate(check: Check) -> Check:
        CHECKS[name] = check
        return check

    return decorate


def is_available(step: Any) -> bool:
    """A step can be checked when it is not marked coming and its check exists."""
    return not getattr(step, "coming", "") and step.check in CHECKS


def run(
    name: str,
    learner: ClusterUser,
    params: dict[str, Any] | None = None,
    *,
    since: datetime | None = None,
) -> CheckResult:
    """Run a check by name; never raises, so a broken check cannot break the page.

    With `since`, the check's reads of the audit log count only requests sent at or after
    it (a lesson started afresh); objects are read as they are now either way.
    """
    check = CHECKS.get(name)
    if check is None:
        return CheckResult(False, "This check is not available yet.")
    window = _since.set(since)
    try:
        return check(learner, dict(params or {}))
    except Exception:
        log.exception("check %s failed for %s", name, learner)
        return CheckResult(False, "The check itself went wrong. Try again in a moment.")
    finally:
        _since.reset(window)


def _windowed(match: dict[str, Any]) -> dict[str, Any]:
    """`match` kept to the running check's window: the later of its own `since` and it."""
    since = _since.get()
    if since is None or (match.get("since") is not None and match["since"] >= since):
        return match
    return {**match, "since": since}


def requests(scope: readmodel.Scope | None = None, **match: Any) -> list[dict[str, Any]]:
    """`readmodel.requests`, inside the running check's window."""
    return readmodel.requests(scope, **_windowed(match))


def count_requests(scope: readmodel.Scope | None = None, **match: Any) -> int:
    """`readmodel.count_requests`, inside the running check's window."""
    return readmodel.count_requests(scope, **_windowed(match))


def first_request(scope: readmodel.Scope | None = None, **match: Any) -> dict[str, Any] | None:
    """`readmodel.first_request`, inside the running check's window."""
    return readmodel.first_request(scope, **_windowed(match))


def since_afresh() -> str:
    """What a check's message adds while it has a window: since when requests count."""
    since = _since.get()
    return f" since you started this lesson afresh (at {since:%H:%M:%S} UTC)" if since else ""


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


def _resource_key(group: str, plural: str) -> str:
    """How the audit log names a kind: "pods", "apps/deployments"."""
    return f"{group}/{plural}" if group else plural


def _elsewhere(learner: ClusterUser, key: str) -> str:
    """A near miss: the learner's latest create of this kind went to another namespace."""
    for record in requests(user=learner.username, verb="create", resource=key, limit=5):
        namespace = record["namespace"]
        if namespace and namespace != learner.namespace:
            return (
                f" Your latest create of {key} went to the namespace `{namespace}` "
                f"(answered {record['status_code']}), not to `{learner.namespace}`, the one "
                "where a RoleBinding gives you rights. Leave out -n, or use "
                f"-n {learner.namespace}."
            )
    return ""


def _other_names(items: list[dict[str, Any]], plural: str, name: str) -> str:
    """A near miss: objects of the right kind exist, under other names."""
    names = sorted(str((i.get("metadata") or {}).get("name", "")) for i in items)
    if not names:
        return ""
    shown = ", ".join(f"`{n}`" for n in names[:5])
    return f" You have {plural} named {shown}, but none named `{name}`: names must match exactly."


def _other_kinds(learner: ClusterUser, group: str, plural: str, name: str) -> str:
    """A near miss: an object of this name exists in the namespace, of another kind."""
    wanted = _resource_key(group, plural)
    for kind in readmodel.resources_in_namespace(learner.namespace)[:8]:
        if kind["resource"] == wanted or "get" not in kind["verbs"]:
            continue
        where = (kind["group"], kind["version"], kind["plural"], learner.namespace)
        path = api.object_path(*where, name)
        if ask(learner, path)[0] == 200:
            return (
                f" There is a {kind['kind']} named `{name}`, but this step wants one of "
                f"the kind {plural}: a name is unique only within one kind."
            )
    return ""


def near_miss(learner: ClusterUser, group: str, version: str, plural: str, name: str) -> str:
    """Why an expected object is missing, when the learner's own traces say: created in
    another namespace, under another name, or of another kind; "" when nothing is close."""
    found = _elsewhere(learner, _resource_key(group, plural))
    if found:
        return found
    status, body = ask(learner, api.collection_path(group, version, plural, learner.namespace))
    if status == 200:
        found = _other_names(body.get("items") or [], plural, name)
    return found or _other_kinds(learner, group, plural, name)


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
        hint = near_miss(learner, group, version, plural, name)
        return CheckResult(
            False,
            f"The API server has no {plural}/{name} in {learner.namespace} yet.{hint}",
            evidence,
        )
    return _refused(status, body, evidence)


@register("object_label")
def object_label(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when the named object carries the wanted label: proof of an update."""
    group, version = params.get("group", ""), params.get("version", "v1")
    plural, name = params["plural"], params["name"]
    key, value = params["key"], str(params["value"])
    path = api.object_path(group, version, plural, learner.namespace, name)
    status, body = ask(learner, path)
    evidence = f"GET {path} → {status}"
    if status == 404:
        hint = near_miss(learner, group, version, plural, name)
        return CheckResult(False, f"There is no {plural}/{name} to change yet.{hint}", evidence)
    if status != 200:
        return _refused(status, body, evidence)
    metadata = body.get("metadata") or {}
    labels = metadata.get("labels") or {}
    revision = metadata.get("resourceVersion", "?")
    if labels.get(key) == value:
        return CheckResult(
            True,
            f"{plural}/{name} carries {key}={value}; its resourceVersion is now {revision}, "
            "since every update gets a new one.",
            evidence,
        )
    if key in labels:
        return CheckResult(
            False,
            f"{plural}/{name} has {key}={labels[key]}, not {key}={value}. Change it with "
            f"kubectl label {plural.removesuffix('s')} {name} {key}={value} --overwrite.",
            evidence,
        )
    others = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
    return CheckResult(
        False, f"{plural}/{name} has no {key} label yet (its labels: {others}).", evidence
    )


def _parts(path: str) -> tuple[str, str, str] | None:
    """The group, version and plural a REST path names, or None for a discovery path."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[1:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[2:]
    else:
        return None
    version, rest = rest[0], rest[1:]
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    return group, version, rest[0]


@register("kind_not_served")
def kind_not_served(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when the front door told the learner 404 for a kind it does not serve."""
    misses = requests(user=learner.username, status=404, limit=50)
    for record in misses:
        named = _parts(record["path"])
        if record["resource"] or named is None or readmodel.serves(*named):
            continue
        seen = f"{record['method']} {record['path']} → 404"
        return CheckResult(
            True,
            f"The front door has no {named[2]} in {named[0] or 'core'}/{named[1]}: nothing "
            "stocks it, so nothing can be ordered from it.",
            f"audit log: {seen}",
        )
    evidence = f"audit log: {len(misses)} recent 404(s) for {learner.username}"
    served = next((r for r in misses if r["resource"]), None)
    if served is not None:
        return CheckResult(
            False,
            f"Your 404 for {served['path']} was for a missing object of a kind the server "
            "serves. Ask for a kind it does not serve at all, e.g. kubectl get --raw "
            f"/apis/apps/v1/namespaces/{learner.namespace}/gizmos",
            evidence,
        )
    return CheckResult(
        False, f"No 404 for an unknown kind in your requests{since_afresh() or ' yet'}.", evidence
    )


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
        elsewhere = _elsewhere(learner, "apps/deployments")
        return CheckResult(False, f"You have no Deployments yet.{elsewhere}", evidence)
    asked = ", ".join(
        f"{(d.get('metadata') or {}).get('name', '?')} asks for "
        f"{(d.get('spec') or {}).get('replicas', '?')}"
        for d in deployments[:5]
    )
    return CheckResult(
        False,
        f"None of your Deployments asks for exactly {wanted} replicas ({asked}). "
        f"kubectl scale deployment NAME --replicas={wanted} changes one.",
        evidence,
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
        newest = first_request(order="-timestamp", **match)
        if newest is not None:
            match["since"] = newest["timestamp"] - timedelta(seconds=int(within))
    wanted = int(params.get("min_count", 1))
    found = count_requests(**match)
    what = "request " + " ".join(described) if described else "request"
    evidence = f"audit log: {found} matching record(s) for {learner.username}"
    if found >= wanted:
        last = first_request(**match)
        detail = ""
        if last is not None:
            detail = f" (latest: {last['method']} {last['path']} → {last['status_code']})"
        return CheckResult(True, f"The audit log shows your {what}{detail}.", evidence)
    if wanted > 1:
        window = f" within {within} seconds" if within else ""
        return CheckResult(
            False,
            f"Found {found} of the {wanted} {what}s needed{window}{since_afresh()}.",
            evidence,
        )
    return CheckResult(
        False,
        f"No {what} by you in the audit log{since_afresh() or ' yet'}.{_audit_near_miss(match)}",
        evidence,
    )


# What each criterion of `audit_request` is called when a request differed only in it.
_CRITERIA = {
    "client": ("client", "client"),
    "verb": ("verb", "verb"),
    "resource": ("resource", "kind"),
    "status": ("status_code", "answer"),
    "path": ("path", "path"),
}


def _audit_near_miss(match: dict[str, Any]) -> str:
    """A request of the learner's that differs from the wanted one in one respect only."""
    for criterion, (column, word) in _CRITERIA.items():
        if criterion not in match:
            continue
        relaxed = {k: v for k, v in match.items() if k != criterion}
        close = first_request(**relaxed)
        if close is not None:
            return (
                f" Close: your {close['method']} {close['path']} → {close['status_code']} "
                f"matches except its {word}, which is {close[column] or 'none'}, "
                f"not {match[criterion]}."
            )
    return ""


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
        listed = first_request(
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


def _first_with(items: list[dict[str, Any]], field: str) -> dict[str, Any] | None:
    """The first revision of a history in which the dotted `field` has a value."""
    for item in items:
        value: Any = item.get("object") or {}
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, ""):
            return item
    return None


@register("history_writer")
def history_writer(learner: ClusterUser, params: dict[str, Any]) -> CheckResult:
    """Passes when the learner labelled the object with the resourceVersion of the revision
    that first set `field`: proof they found it in the object's history."""
    group, version = params.get("group", ""), params.get("version", "v1")
    plural, name = params["plural"], params["name"]
    field, label = params["field"], params["label"]
    path = api.object_path(group, version, plural, learner.namespace, name)
    status, body = ask(learner, path + "/history")
    evidence = f"GET {path}/history → {status}"
    if status == 404:
        hint = near_miss(learner, group, version, plural, name)
        return CheckResult(
            False, f"There is no {plural}/{name} to look back on yet.{hint}", evidence
        )
    if status != 200:
        return _refused(status, body, evidence)
    items = body.get("items") or []
    found = _first_with(items, field)
    if found is None:
        return CheckResult(
            False,
            f"No revision of {plural}/{name} has `{field}` yet: wait until it is written, then "
            "look again.",
            evidence,
        )
    labels = ((items[-1].get("object") or {}).get("metadata") or {}).get("labels") or {}
    given = labels.get(label, "")
    writer = (found.get("writer") or {}).get("username", "someone")
    wanted = found["resourceVersion"]
    if given == wanted:
        return CheckResult(
            True,
            f"Right: revision {wanted} set `{field}`, written by {writer}, through the API "
            "server like every other change.",
            evidence,
        )
    if not given:
        return CheckResult(
            False,
            f"{plural}/{name} has no `{label}` label yet. Find the revision in its history, "
            f"then run kubectl label {plural.removesuffix('s')} {name} {label}=<resourceVersion>.",
            evidence,
        )
    chosen = next((i for i in items if i.get("resourceVersion") == given), None)
    if chosen is None:
        return CheckResult(
            False,
            f"`{label}={given}` names no revision of {plural}/{name}: copy the "
            "resourceVersion exactly as the history shows it.",
            evidence,
        )
    other = (chosen.get("writer") or {}).get("username", "someone")
    return CheckResult(
        False,
        f"Revision {given} was written by {other}, and `{field}` was not set for the first "
        "time there. Look for the first revision where it appears.",
        evidence,
    )
