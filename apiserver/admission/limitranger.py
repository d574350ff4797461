"""Mutating: a namespace's LimitRange fills in what a Pod's containers leave unstated.

Like kube-apiserver's LimitRanger plug-in: each container (and init container) missing a
request or a limit gets the LimitRange's default, and the Pod is annotated with what was
set. Without it, a quota on requests.cpu refuses every Pod that states none.
"""

from typing import Any

from apiserver.admission.plugin import CREATE, Attributes, Plugin
from apiserver.registry import store
from apiserver.registry.validation import Causes

LIMIT_RANGES = "/limitranges"
ANNOTATION = "kubernetes.io/limit-ranger"


def _container_defaults(ranges: list[dict[str, Any]]) -> tuple[dict, dict]:
    """(default requests, default limits) for containers, the first range naming each wins."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for limit_range in ranges:
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if not isinstance(item, dict) or item.get("type") != "Container":
                continue
            default = item.get("default") or {}
            # A range with only `default` requests it too, as the LimitRange's own defaulting does.
            for name, value in {**default, **(item.get("defaultRequest") or {})}.items():
                requests.setdefault(name, value)
            for name, value in default.items():
                limits.setdefault(name, value)
    return requests, limits


def _fill(container: dict[str, Any], requests: dict, limits: dict) -> tuple[list, list]:
    resources = container.setdefault("resources", {})
    if not isinstance(resources, dict):
        return [], []
    mine_requests = resources.get("requests") or {}
    mine_limits = resources.get("limits") or {}
    set_requests = []
    for name, value in requests.items():
        if name not in mine_requests:
            # A stated limit is the request, as API defaulting would already have made it.
            mine_requests[name] = mine_limits.get(name, value)
            set_requests.append(name)
    set_limits = []
    for name, value in limits.items():
        if name not in mine_limits:
            mine_limits[name] = value
            set_limits.append(name)
    if mine_requests:
        resources["requests"] = mine_requests
    if mine_limits:
        resources["limits"] = mine_limits
    return sorted(set_requests), sorted(set_limits)


def _default(attributes: Attributes, causes: Causes) -> None:
    pod = attributes.obj
    namespace = (pod.get("metadata") or {}).get("namespace")
    if not namespace:
        return
    ranges = store.namespace_objects(LIMIT_RANGES, namespace)
    if not ranges:
        return
    requests, limits = _container_defaults(ranges)
    if not (requests or limits):
        return
    spec = pod.get("spec") or {}
    notes = []
    for field, what in (("initContainers", "init container"), ("containers", "container")):
        for container in spec.get(field) or []:
            if not isinstance(container, dict):
                continue
            set_requests, set_limits = _fill(container, requests, limits)
            name = container.get("name", "")
            if set_requests:
                notes.append(f"{', '.join(set_requests)} request for {what} {name}")
            if set_limits:
                notes.append(f"{', '.join(set_limits)} limit for {what} {name}")
    if notes:
        annotations = pod["metadata"].setdefault("annotations", {})
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


PLUGIN = Plugin(
    "LimitRanger",
    "mutating",
    _default,
    resources=frozenset({"/pods"}),
    operations=frozenset({CREATE}),
)
