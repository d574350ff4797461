"""The Pod spec, wherever it appears: in a Pod, or in a workload's template.

Defaults and checks every kind with Pods shares, so a Deployment's template is filled and
judged exactly like a Pod ordered on its own.
"""

from typing import Any

from apiserver.labels import selector_matches
from apiserver.quantities import is_quantity, parse_quantity
from apiserver.registry.validation import (
    DNS1123_LABEL,
    LABEL_MESSAGE,
    NEGATIVE_MESSAGE,
    Causes,
    at,
    check_nonnegative,
    fill,
)

RESTART_POLICIES = ["Always", "OnFailure", "Never"]

PULL_POLICIES = ["Always", "IfNotPresent", "Never"]

PROTOCOLS = ["SCTP", "TCP", "UDP"]


def _pull_policy(image: Any) -> str:
    if not isinstance(image, str):
        return "IfNotPresent"
    last = image.split("/")[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def default_pod_spec(spec: Any, for_job: bool = False) -> None:
    """The fields a real cluster fills on every Pod spec (also inside templates)."""
    if not isinstance(spec, dict):
        return
    if not for_job:
        spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or ():
            if not isinstance(container, dict):
                continue
            container.setdefault("resources", {})
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("imagePullPolicy", _pull_policy(container.get("image")))
            for port in container.get("ports") or ():
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def qos_class(spec: Any) -> str:
    containers = spec.get("containers") if isinstance(spec, dict) else None
    resources = [c.get("resources") or {} for c in containers or () if isinstance(c, dict)]
    if not any(r.get("limits") or r.get("requests") for r in resources):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get("cpu")
        and (r.get("limits") or {}).get("memory")
        and (r.get("requests") or {}).get("cpu", r["limits"]["cpu"]) == r["limits"]["cpu"]
        and (r.get("requests") or {}).get("memory", r["limits"]["memory"]) == r["limits"]["memory"]
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def default_replicas(spec: Any) -> None:
    """A null or missing replicas is 1, as for Deployments, ReplicaSets and StatefulSets."""
    fill(spec, "replicas", 1)


def default_template(template: Any, for_job: bool = False) -> None:
    if isinstance(template, dict):
        meta = template.setdefault("metadata", {})
        if isinstance(meta, dict):
            meta.setdefault("creationTimestamp", None)
        default_pod_spec(template.get("spec"), for_job=for_job)


def validate_pod_spec(spec: Any, path: str, causes: Causes, job: bool = False) -> None:
    """The checks kube-apiserver makes on any Pod spec, with its field paths."""
    if not isinstance(spec, dict):
        causes.required(path)
        return
    containers = spec.get("containers")
    if not containers:
        causes.required(f"{path}.containers")
    names: set[str] = set()
    for field in ("initContainers", "containers"):
        for position, container in enumerate(spec.get(field) or ()):
            where = f"{path}.{field}[{position}]"
            if not isinstance(container, dict):
                continue
            name = container.get("name")
            if not name:
                causes.required(f"{where}.name")
            elif not DNS1123_LABEL.match(str(name)) or len(str(name)) > 63:
                causes.invalid(f"{where}.name", name, LABEL_MESSAGE)
            elif name in names:
                causes.duplicate(f"{where}.name", name)
            else:
                names.add(name)
            if not container.get("image"):
                causes.required(f"{where}.image")
            check_resources(container.get("resources"), f"{where}.resources", causes)
            policy = container.get("imagePullPolicy")
            if policy is not None and policy not in PULL_POLICIES:
                causes.unsupported(f"{where}.imagePullPolicy", policy, PULL_POLICIES)
            for index, port in enumerate(container.get("ports") or ()):
                if not isinstance(port, dict):
                    continue
                number = port.get("containerPort")
                if isinstance(number, int) and not 0 < number < 65536:
                    causes.invalid(
                        f"{where}.ports[{index}].containerPort",
                        number,
                        "must be between 1 and 65535, inclusive",
                    )
                protocol = port.get("protocol")
                if protocol is not None and protocol not in PROTOCOLS:
                    causes.unsupported(f"{where}.ports[{index}].protocol", protocol, PROTOCOLS)
    restart = spec.get("restartPolicy")
    if job:
        if restart not in ("OnFailure", "Never"):
            if restart in (None, ""):
                causes.required(f"{path}.restartPolicy", 'valid values: "OnFailure", "Never"')
            else:
                causes.unsupported(f"{path}.restartPolicy", restart, ["OnFailure", "Never"])
    elif restart is not None and restart not in RESTART_POLICIES:
        causes.unsupported(f"{path}.restartPolicy", restart, RESTART_POLICIES)


def check_resources(resources: Any, path: str, causes: Causes) -> None:
    """ValidateResourceRequirements: amounts are not negative, and a request stays within
    its limit. (A quantity that does not parse never gets here: decoding refuses it.)"""
    if not isinstance(resources, dict):
        return
    amounts: dict[str, dict[str, Any]] = {}
    for group in ("limits", "requests"):
        values = resources.get(group)
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if not isinstance(value, str) or not is_quantity(value):
                continue
            amounts.setdefault(group, {})[name] = value
            if parse_quantity(value) < 0:
                causes.invalid(f"{path}.{group}[{name}]", value, NEGATIVE_MESSAGE)
    limits = amounts.get("limits", {})
    for name, value in amounts.get("requests", {}).items():
        limit = limits.get(name)
        if limit is not None and parse_quantity(value) > parse_quantity(limit):
            causes.invalid(
                f"{path}.requests[{name}]",
                value,
                f"must be less than or equal to {name} limit of {limit}",
            )


# Counts every workload with replicas keeps in an int32, by the Go struct of its spec.
def workload_int32(struct: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"spec.{name}", struct) for name in ("replicas", "minReadySeconds", "revisionHistoryLimit")
    )


def validate_workload(
    obj: dict[str, Any], causes: Causes, template_path: str, job: bool = False
) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    for field in ("replicas", "minReadySeconds", "revisionHistoryLimit"):
        check_nonnegative(obj, f"spec.{field}", causes)
    template = at(obj, template_path)
    if not isinstance(template, dict):
        causes.required(template_path)
        return
    selector = spec.get("selector")
    labels = (template.get("metadata") or {}).get("labels")
    if not job:
        if not selector:
            causes.required("spec.selector")
        elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.invalid("spec.selector", selector, "empty selector is invalid for deployment")
        elif not selector_matches(selector, labels):
            causes.invalid(
                f"{template_path}.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
    validate_pod_spec(template.get("spec"), f"{template_path}.spec", causes, job=job)
