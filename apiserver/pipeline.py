"""The one path every request takes: authenticate, authorize, admit, store, audit, notify.

The REST views, the web order pages and the control plane all call `handle()` with an
`ApiRequest`, so nothing reaches the store without passing admission and the audit log.
"""

import base64
import contextlib
import copy
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError

from apiserver import admission, errors
from apiserver.endpoints import discovery, patching, tables, watch
from apiserver.endpoints.bodies import APPLY_PATCH, parse_body
from apiserver.endpoints.request import JSON, ApiRequest, ApiResponse
from apiserver.endpoints.selectors import fields_match, labels_match, parse_fields, parse_labels
from apiserver.filters import audit, fairness, faults
from apiserver.models import ClusterUser
from apiserver.registry import crds, kinds, store
from apiserver.registry.kinds import Kind

log = logging.getLogger(__name__)

TABLE_MEDIA = "as=Table"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
READ_VERBS = {"get", "list", "watch"}
# Questions about the caller, answered at once and never stored.
SELF_REVIEWS = {
    "authorization.k8s.io/selfsubjectaccessreviews",
    "authentication.k8s.io/selfsubjectreviews",
}
# Kinds whose DELETE answers with the object (as the official client expects), not a Status.
RETURNS_DELETED = {
    "/pods",
    "/services",
    "/serviceaccounts",
    "/persistentvolumeclaims",
    "/persistentvolumes",
    "/podtemplates",
    "/resourcequotas",
    "/namespaces",
}


@dataclass
class Route:
    """What a path names: a discovery document, or a resource (collection, item, subresource)."""

    kind: Kind | None = None
    namespace: str | None = None  # None: cluster-scoped, or every namespace
    name: str = ""
    subresource: str = ""
    document: str = ""  # version, api, apis, group, resources, openapi


def guess_client(user_agent: str) -> str:
    """Who is calling, from the User-Agent: kubectl, the Python client, a browser..."""
    agent = user_agent.lower()
    if agent.startswith("kubectl"):
        return "kubectl"
    if "openapi-generator" in agent and "python" in agent:
        return "python-client"
    for known in ("scheduler", "kubelet", "controller"):
        if known in agent:
            return known
    if agent.startswith("mozilla") or "htmx" in agent:
        return "browser"
    return "other"


# --- routing ------------------------------------------------------------------------------

_SEGMENT = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.:]*$")


def route(path: str) -> Route:
    """Map a URL path to a Route, or raise 404 like kube-apiserver for unknown paths."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise errors.page_not_found()
    if parts == ["version"]:
        return Route(document="version")
    if parts[0] == "openapi":
        if parts[1:2] != ["v3"]:
            raise errors.page_not_found()
        if len(parts) == 2:
            return Route(document="openapi")
        if parts[2] == "api" and len(parts) == 4:
            return Route(document="openapi-gv", namespace="", name=parts[3])
        if parts[2] == "apis" and len(parts) == 5:
            return Route(document="openapi-gv", namespace=parts[3], name=parts[4])
        raise errors.page_not_found()
    if parts[0] == "api":
        if len(parts) == 1:
            return Route(document="api")
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) == 1:
            return Route(document="apis")
        if len(parts) == 2:
            return Route(document="group", name=parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise errors.page_not_found()
    if not all(_SEGMENT.match(p) for p in rest):
        raise errors.page_not_found()
    if not rest:
        return Route(document="resources", namespace=group, name=version)
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = kinds.lookup(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    kind = kinds.lookup(group, version, rest[0])
    if kind is None or len(rest) > 3:
        raise errors.page_not_found()
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if kind.namespaced and namespace is None and name:
        raise errors.page_not_found()
    if subresource and subresource not in kind.served_subresources:
        raise errors.page_not_found()
    return Route(kind=kind, namespace=namespace, name=name, subresource=subresource)


def verb_for(method: str, target: Route, query: dict[str, str]) -> str:
    """The Kubernetes verb (get, list, watch, create...) for a method on a route."""
    if target.kind is None:
        return "get"
    item = bool(target.name)
    if method == "GET":
        if query.get("watch") in ("true", "1"):
            return "watch"
        return "get" if item else "list"
    if method == "POST" and target.subresource == "binding":
        return "create"
    verb = {
        ("POST", False): "create",
        ("PUT", True): "update",
        ("PATCH", True): "patch",
        ("DELETE", True): "delete",
        ("DELETE", False): "deletecollection",
    }.get((method, item))
    if verb is None:
        raise errors.method_not_allowed()
    return verb


# --- authentication and authorization -----------------------------------------------------


def authenticate(request: ApiRequest) -> ClusterUser:
    """The caller: a pre-authenticated user, or the active owner of the bearer token."""
    if request.user is not None:
        if not request.user.is_active:
            raise errors.unauthorized()
        return request.user
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.unauthorized()
    user = ClusterUser.objects.filter(token=token, is_active=True).first()
    if user is None:
        raise errors.unauthorized()
    return user


def authorize(user: ClusterUser, verb: str, target: Route) -> None:
    """Learners act only in their own namespace and read the cluster; others do anything."""
    if user.role != ClusterUser.Role.LEARNER or target.kind is None:
        return
    kind = target.kind
    if kind.resource in SELF_REVIEWS:
        return  # anyone may ask what they themselves may do, and who they are
    if kind.namespaced and target.namespace is not None and target.namespace == user.namespace:
        return
    if not kind.namespaced and verb in READ_VERBS:
        return
    resource = kind.plural + (f"/{target.subresource}" if target.subresource else "")
    subject = f'{kind.plural} "{target.name}"' if target.name else kind.plural
    if kind.namespaced and target.namespace is not None:
        scope = f'in the namespace "{target.namespace}"'
    else:
        scope = "at the cluster scope"
    raise errors.forbidden(
        f'{subject} is forbidden: User "{user.username}" cannot {verb} resource '
        f'"{resource}" in API group "{kind.group}" {scope}',
        kind.plural,
        target.name,
        kind.group,
    )


# --- bodies -------------------------------------------------------------------------------


def _dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun", "")
    if value and value != "All":
        raise errors.bad_request(f'unsupported dry run value "{value}": only "All" is supported')
    return value == "All"


def _field_validation(query: dict[str, str]) -> str:
    value = query.get("fieldValidation", "") or "Warn"
    if value not in ("Strict", "Warn", "Ignore"):
        raise errors.bad_request(
            f'invalid fieldValidation directive "{value}": must be Strict, Warn or Ignore'
        )
    return value


def _warning_header(warnings: list[str]) -> dict[str, str]:
    if not warnings:
        return {}
    quoted = ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)
    return {"warning": quoted}


# --- resource handlers --------------------------------------------------------------------


def _wants_table(request: ApiRequest) -> bool:
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0]
    return TABLE_MEDIA in first and "g=meta.k8s.io" in first


def _served(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    """Objects are stored once per resource; serve them in the requested version."""
    if obj.get("apiVersion") != kind.api_version:
        obj["apiVersion"] = kind.api_version
    return obj


def _decode_continue(token: str) -> str:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()).decode())["start"]
    except (ValueError, KeyError, TypeError):
        raise errors.bad_request("continue key is not valid") from None


def _encode_continue(start: str, revision: int) -> str:
    raw = json.dumps({"start": start, "rv": revision}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def select(kind: Kind, objects: list[dict[str, Any]], query: dict[str, str]) -> list[dict]:
    """Apply labelSelector and fieldSelector to a list of objects."""
    label_terms = parse_labels(query.get("labelSelector", ""))
    field_terms = parse_fields(query.get("fieldSelector", ""), kind.kind)
    if not label_terms and not field_terms:
        return objects
    return [
        obj
        for obj in objects
        if labels_match(label_terms, obj.get("metadata", {}).get("labels"))
        and fields_match(field_terms, obj)
    ]


def namespace_etag(namespace: str) -> str:
    """A weak validator for every list in `namespace`: its newest change's revision."""
    return f'W/"{store.namespace_revision(namespace)}"'


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison: any listed tag (W/ or not) equal to ours, or *."""
    ours = etag.removeprefix("W/")
    tags = (tag.strip() for tag in header.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == ours for tag in tags)


def _list(request: ApiRequest, target: Route) -> ApiResponse:
    """A list; a namespaced list asked conditionally (If-None-Match) may answer 304.

    Kubernetes has no ETags on lists, and a list's resourceVersion is cluster-wide, so
    "did anything change?" there means "did anyone write?". A client that sends
    If-None-Match (the shop's polling pages; kubectl never does) gets an ETag naming the
    newest revision in that namespace instead, and 304 Not Modified while it holds: one
    index lookup, and the caller was authenticated and authorized for the list like any
    other. Clients that do not ask pay nothing.
    """
    kind = target.kind
    headers: dict[str, str] = {}
    condition = request.headers.get("if-none-match")
    if condition is not None and target.namespace is not None:
        headers["etag"] = etag = namespace_etag(target.namespace)
        if _etag_matches(condition, etag):
            return ApiResponse(304, None, headers)
    objects, revision = store.list_objects(kind, target.namespace)
    objects = [_served(kind, o) for o in select(kind, objects, request.query)]
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    start = request.query.get("continue")
    if start:
        first_key = _decode_continue(start)
        objects = [o for o in objects if _key(o) >= first_key]
    limit = request.query.get("limit", "")
    if limit.isdigit() and 0 < int(limit) < len(objects):
        rest = objects[int(limit) :]
        objects = objects[: int(limit)]
        meta["continue"] = _encode_continue(_key(rest[0]), revision)
        meta["remainingItemCount"] = len(rest)
    if _wants_table(request):
        include = request.query.get("includeObject", "Metadata")
        return ApiResponse(200, tables.table(kind, objects, include, meta), headers)
    body = {
        "kind": f"{kind.kind}List",
        "apiVersion": kind.api_version,
        "metadata": meta,
        "items": objects,
    }
    return ApiResponse(200, body, headers)


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    selector = (obj.get("spec") or {}).get("selector") or {}
    labels = selector.get("matchLabels") or {}
    scale_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if k in meta
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
        },
    }


def _get(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    obj = _served(kind, store.get(kind, target.namespace or "", target.name))
    if target.subresource == "scale":
        return ApiResponse(200, _scale_of(obj))
    if _wants_table(request):
        include = request.query.get("includeObject", "Metadata")
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        return ApiResponse(200, tables.table(kind, [obj], include, meta))
    return ApiResponse(200, obj)


def _has_status(kind: Kind) -> bool:
    return "status" in kind.served_subresources


def _bind(request: ApiRequest, target: Route) -> ApiResponse:
    """POST pods/x/binding: the scheduler's way to put a Pod on a node, once."""
    binding = parse_body(request)
    node = (binding.get("target") or {}).get("name") if isinstance(binding, dict) else None
    if not node:
        raise errors.invalid(
            "Binding",
            target.name,
            [{"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}],
        )
    wanted_uid = (binding.get("metadata") or {}).get("uid")

    def change(pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        if wanted_uid and wanted_uid != meta.get("uid"):
            raise errors.conflict("pods/binding", target.name)
        if meta.get("deletionTimestamp"):
            raise errors.conflict("pods/binding", target.name)
        assigned = (pod.get("spec") or {}).get("nodeName")
        if assigned:
            raise errors.ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on pods/binding "{target.name}": pod '
                f'{target.name} is already assigned to node "{assigned}"',
                {"name": target.name, "kind": "pods/binding"},
            )
        pod.setdefault("spec", {})["nodeName"] = node
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or () if c.get("type") != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": store.timestamp(),
            }
        )
        status["conditions"] = conditions
        return pod

    store.update(
        target.kind, target.namespace or "", target.name, change, dry_run=_dry_run(request.query)
    )
    return ApiResponse(201, errors.success_status())


def _self_review(request: ApiRequest, target: Route, user: ClusterUser) -> ApiResponse:
    """`kubectl auth can-i` and `kubectl auth whoami`: answered from the same rules."""
    kind = target.kind
    review = parse_body(request)
    if not isinstance(review, dict):
        raise errors.bad_request("the request body must be a JSON object")
    review = admission.check_identity(kind, review, "")
    review["metadata"] = {"creationTimestamp": None}
    if kind.plural == "selfsubjectreviews":
        groups = ["system:authenticated"]
        if user.role != ClusterUser.Role.LEARNER:
            groups.insert(0, f"warehouse:{user.role}s")
        review["status"] = {"userInfo": {"username": user.username, "groups": groups}}
        return ApiResponse(201, review)
    attributes = (review.get("spec") or {}).get("resourceAttributes") or {}
    allowed, reason = True, ""
    asked = kinds.index().by_resource.get(
        f"{attributes.get('group', '')}/{attributes.get('resource', '')}"
    )
    if asked is not None:
        namespace = attributes.get("namespace") or None
        question = Route(
            kind=asked,
            namespace=namespace if asked.namespaced else None,
            name=attributes.get("name", ""),
            subresource=attributes.get("subresource", ""),
        )
        try:
            authorize(user, attributes.get("verb", ""), question)
        except errors.ApiError as error:
            allowed, reason = False, error.message
    elif user.role == ClusterUser.Role.LEARNER and attributes:
        allowed, reason = False, "no such resource in this cluster"
    review["status"] = {"allowed": allowed} | ({"reason": reason} if reason else {})
    return ApiResponse(201, review)


def _create(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource == "binding":
        return _bind(request, target)
    if target.subresource:
        raise errors.method_not_allowed()
    body = parse_body(request)
    obj = admission.check_identity(kind, body, target.namespace or "")
    meta = obj["metadata"]
    for owned in (
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "managedFields",
    ):
        meta.pop(owned, None)
    if _has_status(kind) and kind.resource != "/namespaces":
        obj.pop("status", None)
    warnings = admission.admit(kind, obj, _field_validation(request.query))
    created = store.create(kind, obj, dry_run=_dry_run(request.query))
    return ApiResponse(201, _served(kind, created), _warning_header(warnings))


def _merge_for_subresource(
    kind: Kind, subresource: str, current: dict[str, Any], desired: dict[str, Any]
) -> dict[str, Any]:
    """Main writes keep the stored status; status writes change only the status."""
    if subresource == "status":
        merged = copy.deepcopy(current)
        merged["status"] = desired.get("status", current.get("status"))
        merged["metadata"]["resourceVersion"] = desired.get("metadata", {}).get(
            "resourceVersion", current["metadata"].get("resourceVersion")
        )
        return merged
    if _has_status(kind):
        if "status" in current:
            desired["status"] = current["status"]
        else:
            desired.pop("status", None)
    return desired


def _write(
    request: ApiRequest,
    target: Route,
    transform: Any,
) -> ApiResponse:
    """Shared by PUT and PATCH: transform the current object, admit it, store it."""
    kind = target.kind
    namespace = target.namespace or ""
    field_validation = _field_validation(request.query)
    warnings: list[str] = []

    def change(current: dict[str, Any]) -> dict[str, Any]:
        if target.subresource == "scale":
            scale = transform(_scale_of(current))
            replicas = (
                (scale.get("spec") or {}).get("replicas") if isinstance(scale, dict) else None
            )
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise errors.invalid(
                    "Scale",
                    target.name,
                    [
                        {
                            "reason": "FieldValueInvalid",
                            "field": "spec.replicas",
                            "message": f"Invalid value: {replicas}: "
                            "must be greater than or equal to 0",
                        }
                    ],
                    "autoscaling",
                )
            desired = copy.deepcopy(current)
            desired["spec"]["replicas"] = replicas
            wanted = (scale.get("metadata") or {}).get("resourceVersion")
            desired["metadata"]["resourceVersion"] = wanted
            return desired
        desired = transform(copy.deepcopy(current))
        # Like kube-apiserver, a stale resourceVersion is a conflict before it is anything else.
        metadata = desired.get("metadata") if isinstance(desired, dict) else None
        wanted = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
        if wanted and str(wanted) != str(current["metadata"].get("resourceVersion")):
            raise errors.conflict(kind.plural, target.name, kind.group)
        desired = admission.check_identity(kind, desired, namespace, target.name)
        desired = _merge_for_subresource(kind, target.subresource, current, desired)
        warnings.extend(admission.admit(kind, desired, field_validation, old=current))
        return desired

    obj, _ = store.update(kind, namespace, target.name, change, dry_run=_dry_run(request.query))
    obj = _served(kind, obj)
    if target.subresource == "scale":
        obj = _scale_of(obj)
    return ApiResponse(200, obj, _warning_header(warnings))


def _update(request: ApiRequest, target: Route) -> ApiResponse:
    body = parse_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    if target.subresource == "scale":
        return _write(request, target, lambda scale: body)
    return _write(request, target, lambda current: copy.deepcopy(body))


def _patch(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (MERGE_PATCH, JSON_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
        raise errors.unsupported_media_type(content_type)
    if content_type == STRATEGIC_PATCH and kind.is_custom:
        raise errors.unsupported_media_type(content_type)
    patch = parse_body(request)
    if content_type == JSON_PATCH:
        return _write(
            request, target, lambda current: _as_object(patching.json_patch(current, patch))
        )
    if not isinstance(patch, dict):
        raise errors.bad_request("the patch must be a JSON object")
    if content_type == APPLY_PATCH:
        return _server_side_apply(request, target, patch)
    if content_type == STRATEGIC_PATCH:
        return _write(
            request, target, lambda current: patching.strategic_merge_patch(current, patch)
        )
    return _write(request, target, lambda current: _as_object(patching.merge_patch(current, patch)))


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.bad_request("the patched object must be a JSON object")
    return value


def _server_side_apply(request: ApiRequest, target: Route, patch: dict) -> ApiResponse:
    """Apply (`kubectl apply --server-side`): create if missing, else merge the intent in."""
    if not request.query.get("fieldManager"):
        raise errors.bad_request("PATCH with apply requires a fieldManager to be set")
    kind = target.kind
    try:
        store.get(kind, target.namespace or "", target.name)
    except errors.ApiError as error:
        if error.code != 404 or target.subresource:
            raise
        body = copy.deepcopy(patch)
        body.setdefault("metadata", {})
        if isinstance(body["metadata"], dict):
            body["metadata"].setdefault("name", target.name)
        created = _create(
            ApiRequest(
                "POST",
                request.path,
                request.query,
                {**request.headers, "content-type": JSON},
                store.dumps(body).encode(),
                request.client,
                request.user,
            ),
            Route(kind=kind, namespace=target.namespace),
        )
        return created
    return _write(
        request,
        target,
        lambda current: (
            patching.strategic_merge_patch(current, patch)
            if not kind.is_custom
            else _as_object(patching.merge_patch(current, patch))
        ),
    )


def _delete_options(request: ApiRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.body.strip():
        parsed = parse_body(request)
        if isinstance(parsed, dict):
            options = parsed
    return options


def _delete(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    if target.subresource:
        raise errors.method_not_allowed()
    options = _delete_options(request)
    preconditions = options.get("preconditions") or {}
    dry_run = _dry_run(request.query) or options.get("dryRun") == ["All"]
    grace = options.get("gracePeriodSeconds", request.query.get("gracePeriodSeconds"))
    try:
        grace_seconds = None if grace in (None, "") else int(grace)
    except (TypeError, ValueError):
        raise errors.bad_request(f'invalid gracePeriodSeconds "{grace}"') from None
    obj = store.delete(
        kind,
        target.namespace or "",
        target.name,
        precondition_version=preconditions.get("resourceVersion"),
        precondition_uid=preconditions.get("uid"),
        dry_run=dry_run,
        grace_seconds=grace_seconds,
    )
    if kind.resource in RETURNS_DELETED or obj["metadata"].get("deletionTimestamp"):
        return ApiResponse(200, _served(kind, obj))
    details = {"name": target.name, "kind": kind.plural, "uid": obj["metadata"].get("uid")}
    if kind.group:
        details = {
            "name": target.name,
            "group": kind.group,
            "kind": kind.plural,
            "uid": obj["metadata"].get("uid"),
        }
    return ApiResponse(200, errors.success_status(details))


def _delete_collection(request: ApiRequest, target: Route) -> ApiResponse:
    kind = target.kind
    objects, _ = store.list_objects(kind, target.namespace)
    dry_run = _dry_run(request.query)
    for obj in select(kind, objects, request.query):
        meta = obj["metadata"]
        try:
            store.delete(kind, meta.get("namespace", ""), meta["name"], dry_run=dry_run)
        except errors.ApiError as error:
            if error.code != 404:
                raise
    return ApiResponse(200, errors.success_status())


HANDLERS = {
    "get": _get,
    "list": _list,
    "create": _create,
    "update": _update,
    "patch": _patch,
    "delete": _delete,
    "deletecollection": _delete_collection,
}


# --- discovery ----------------------------------------------------------------------------


def _document(request: ApiRequest, target: Route) -> ApiResponse:
    accept = request.headers.get("accept", "")
    if target.document == "version":
        return ApiResponse(200, discovery.version())
    if target.document in ("api", "apis"):
        aggregated = discovery.wants_aggregated(accept)
        if aggregated:
            content_type = (
                discovery.AGGREGATED_CONTENT_TYPE
                if aggregated == "v2"
                else discovery.AGGREGATED_V2BETA1
            )
            return ApiResponse(
                200,
                discovery.aggregated(target.document == "api", aggregated),
                {"content-type": content_type},
            )
        body = discovery.api_versions() if target.document == "api" else discovery.api_group_list()
        return ApiResponse(200, body)
    if target.document == "group":
        group = discovery.api_group(target.name)
        if group is None:
            raise errors.page_not_found()
        return ApiResponse(200, group)
    if target.document == "openapi":
        return ApiResponse(200, discovery.openapi_root())
    if target.document == "openapi-gv":
        document = discovery.openapi_group_version(target.namespace or "", target.name)
        if document is None:
            raise errors.page_not_found()
        return ApiResponse(200, document)
    if target.document == "resources":
        resources = discovery.resource_list(target.namespace or "", target.name)
        if resources is None:
            raise errors.page_not_found()
        return ApiResponse(200, resources)
    raise errors.page_not_found()


# --- the pipeline -------------------------------------------------------------------------


@dataclass
class Prepared:
    """How far a request got: who sent it, what it names, which verb (for the audit log)."""

    user: ClusterUser | None = None
    target: Route | None = None
    verb: str = ""
    lane: str = fairness.Lane.CATCH_ALL


def _admit_lane(request: ApiRequest, prepared: Prepared) -> None:
    """Step 1b, priority and fairness: scenario effects, then this caller's rate limit."""
    lane = fairness.lane_for(prepared.user)
    prepared.lane = lane
    try:
        capacity = faults.apply(lane)
        fairness.check_rate(prepared.user, lane, capacity)
    except errors.ApiError:
        # Refused before routing; name the target anyway, for the audit log.
        with contextlib.suppress(errors.ApiError):
            prepared.target = prepared.target or route(request.path)
            prepared.verb = verb_for(request.method, prepared.target, request.query)
        raise


def prepare(request: ApiRequest, into: Prepared | None = None) -> Prepared:
    """Steps 1-2 (authenticate, authorize), shared by `handle()` and the watch stream."""
    prepared = into if into is not None else Prepared()
    if request.path.rstrip("/") == "/version" and not request.headers.get("authorization"):
        # Like system:public-info-viewer: anyone may ask which version this is.
        prepared.target = Route(document="version")
        _admit_lane(request, prepared)
        return prepared
    prepared.user = authenticate(request)
    _admit_lane(request, prepared)
    prepared.target = target = route(request.path)
    prepared.verb = verb = verb_for(request.method, target, request.query)
    if target.document and request.method != "GET":
        raise errors.method_not_allowed()
    if target.kind is not None and verb not in target.kind.verbs and not target.subresource:
        raise errors.method_not_allowed()
    if target.subresource and (verb == "create") != (target.subresource == "binding"):
        raise errors.method_not_allowed()
    authorize(prepared.user, verb, target)
    return prepared


def _dispatch(request: ApiRequest, prepared: Prepared) -> ApiResponse:
    """Steps 3-6 for an authorized request: the verb's handler (admit, store, notify)."""
    target = prepared.target
    if target.kind is None:
        return _document(request, target)
    if prepared.verb == "watch":
        raise errors.bad_request("watch requests are served by the streaming endpoint")
    if target.kind.resource in SELF_REVIEWS and prepared.verb == "create":
        return _self_review(request, target, prepared.user)
    return HANDLERS[prepared.verb](request, target)


def open_watch(request: ApiRequest) -> "watch.Follower | ApiResponse":
    """A watch request through the same gates, audited once when it opens.

    Answers the open stream (which the HTTP view streams and the loopback client polls),
    or the refusal as a response.
    """
    started = time.perf_counter()
    if not request.client:
        request.client = guess_client(request.headers.get("user-agent", ""))
    prepared = Prepared()
    try:
        prepare(request, prepared)
        target = prepared.target
        if target is None or target.kind is None or target.name or prepared.verb != "watch":
            raise errors.method_not_allowed()
        # Selectors and the resourceVersion are checked before the first byte is sent, so
        # a bad one is a 400, not a broken stream.
        follower = watch.Follower(target.kind, target.namespace, request.query)
        follower.as_table = _wants_table(request)
    except errors.ApiError as error:
        audit.record(request, prepared, error.code, started)
        return ApiResponse(error.code, error.status(), error.headers)
    audit.record(request, prepared, 200, started)
    return follower


def handle(request: ApiRequest) -> ApiResponse:
    """Run one request through the whole pipeline; never raises, always answers."""
    started = time.perf_counter()
    if not request.client:
        request.client = guess_client(request.headers.get("user-agent", ""))
    prepared = Prepared()
    try:
        prepare(request, prepared)
        with fairness.in_flight(fairness.Lane(prepared.lane)):
            response = _dispatch(request, prepared)
        crds.follow(prepared.target.kind, prepared.verb, response.status)
    except errors.ApiError as error:
        response = ApiResponse(error.code, error.status(), error.headers)
    except OperationalError:
        # A locked SQLite file or an exhausted connection pool: the write (if any) was rolled
        # back, so the honest answer is "busy, try again", as an overloaded API server says.
        log.warning("cluster store busy serving %s %s", request.method, request.path)
        error = errors.storage_busy()
        response = ApiResponse(error.code, error.status(), error.headers)
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        error = errors.internal()
        response = ApiResponse(error.code, error.status())
    audit.record(request, prepared, response.status, started)
    return response
