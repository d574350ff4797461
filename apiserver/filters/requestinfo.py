"""Request info, resolved first: who is calling, what the path names, and which verb.

kube-apiserver's first filter works out the same facts (its RequestInfo) before any
gate looks at the request: every later stage reads them from here.
"""

import re
from dataclasses import dataclass, field

from apiserver import errors, flags
from apiserver.filters.fairness import Lane
from apiserver.models import ClusterUser
from apiserver.registry import kinds
from apiserver.registry.kinds import Kind


@dataclass
class Route:
    """What a path names: a discovery document, or a resource (collection, item, subresource)."""

    kind: Kind | None = None
    namespace: str | None = None  # None: cluster-scoped, or every namespace
    name: str = ""
    subresource: str = ""
    document: str = ""  # version, api, apis, group, resources, openapi...


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


_SEGMENT = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.:]*$")


def route(path: str) -> Route:
    """Map a URL path to a Route, or raise 404 like kube-apiserver for unknown paths."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise errors.page_not_found()
    if parts == ["version"]:
        return Route(document="version")
    if parts[0] == "openapi":
        if parts[1:] == ["v2"]:
            return Route(document="openapi-v2")
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
    if (
        subresource
        and subresource not in kind.served_subresources
        and not _has_history(kind, subresource)
    ):
        raise errors.page_not_found()
    return Route(kind=kind, namespace=namespace, name=name, subresource=subresource)


# The warehouse's own subresource: an object's past revisions, read-only.
HISTORY = "history"


def _has_history(kind: Kind, subresource: str) -> bool:
    """Every readable kind has its own history (`endpoints/handlers/history.py`), but the
    audit log, whose events never change."""
    readable = "get" in kind.verbs and kind.resource != kinds.AUDIT_EVENTS.resource
    return subresource == HISTORY and readable


# Subresources that open a stream into a running container (exec, attach, port-forward).
CONNECT = ("exec", "attach", "portforward")


def verb_for(method: str, target: Route, query: dict[str, str]) -> str:
    """The Kubernetes verb (get, list, watch, create...) for a method on a route."""
    if target.kind is None:
        return "get"
    item = bool(target.name)
    if target.subresource == HISTORY:
        if method != "GET" or query.get("watch") in flags.TRUE:
            raise errors.method_not_allowed()
        return "get"
    if target.subresource in CONNECT and method in ("GET", "POST"):
        # A stream into a container: authorized as `create`, however it is opened.
        return "create"
    if method == "GET":
        if query.get("watch") in flags.TRUE:
            return "watch"
        return "get" if item else "list"
    if method == "POST" and target.subresource in ("binding", "token"):
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


@dataclass
class Prepared:
    """How far a request got: who sent it, what it names, which verb (for the audit log)."""

    user: ClusterUser | None = None
    target: Route | None = None
    verb: str = ""
    lane: str = Lane.CATCH_ALL
    # The stages entered and when: a stage's index in `apiserver.flow.STAGES`, then its
    # `perf_counter()`, in turn (the request flow's figure is drawn from them).
    marks: list[float] = field(default_factory=list)
