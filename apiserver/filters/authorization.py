"""Authorization: may this identity do this verb to this resource here?"""

from apiserver import errors
from apiserver.filters.requestinfo import Route
from apiserver.models import ClusterUser

READ_VERBS = {"get", "list", "watch"}
# Questions about the caller, answered at once and never stored.
SELF_REVIEWS = {
    "authorization.k8s.io/selfsubjectaccessreviews",
    "authentication.k8s.io/selfsubjectreviews",
}


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
