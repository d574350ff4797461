"""Authorization: may this identity do this verb to this resource here? Asked of RBAC.

The answer comes from the Roles, ClusterRoles and bindings in the store (`apiserver.rbac`):
a learner is admin of their own namespace through a RoleBinding, everyone signed in may
read discovery and the cluster-scoped shelves, instructors are bound to cluster-admin, and
the control plane's components are in `system:masters`.
"""

from apiserver import errors
from apiserver.filters.requestinfo import Route
from apiserver.models import ClusterUser
from apiserver.rbac import authorizer
from apiserver.rbac.rules import Request

# Questions about the caller, answered at once and never stored.
SELF_REVIEWS = {
    "authorization.k8s.io/selfsubjectaccessreviews",
    "authorization.k8s.io/selfsubjectrulesreviews",
    "authentication.k8s.io/selfsubjectreviews",
}


def request_for(verb: str, target: Route, path: str = "") -> Request:
    """The authorizer's view of a routed request (kube-apiserver's authorizer.Attributes)."""
    kind = target.kind
    if kind is None:
        return Request(verb=verb, path=path or "/")
    return Request(
        verb=verb,
        group=kind.group,
        resource=kind.plural,
        subresource=target.subresource,
        namespace=(target.namespace or "") if kind.namespaced else "",
        name=target.name,
    )


def forbidden(user: ClusterUser, request: Request) -> errors.ApiError:
    """The 403 kube-apiserver answers, naming the user, the verb and what was asked for."""
    if not request.is_resource:
        return errors.forbidden(
            f'forbidden: User "{user.username}" cannot {request.verb} path "{request.path}"'
        )
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    if request.namespace:
        scope = f'in the namespace "{request.namespace}"'
    else:
        scope = "at the cluster scope"
    return errors.forbidden(
        f'{subject} is forbidden: User "{user.username}" cannot {request.verb} resource '
        f'"{request.combined}" in API group "{request.group}" {scope}',
        request.resource,
        request.name,
        request.group,
    )


def authorize(user: ClusterUser, verb: str, target: Route, path: str = "") -> None:
    """Raise 403 Forbidden unless RBAC allows `verb` on `target` (or on the URL `path`)."""
    request = request_for(verb, target, path)
    if not authorizer.decide(user, request)[0]:
        raise forbidden(user, request)
