"""Who may call the API: the identities the API server authenticates, as other apps see them.

Learners, instructors and system components are `ClusterUser` rows with a bearer token.
Other apps (the shop's sign-in, workshops, the control plane) name and create identities
through this module rather than reaching into the API server's models. A learner's own
Namespace is created here too, through the front door like any other object, so admission
and the audit log see it.
"""

from apiserver.models import DNS_LABEL, ClusterUser, new_token

__all__ = [
    "DNS_LABEL",
    "RESERVED_NAMES",
    "RESERVED_PREFIXES",
    "ClusterUser",
    "ensure_namespace",
    "grant_learner",
    "write_default_policy",
    "is_reserved",
    "new_token",
    "open_learner",
    "system_user",
]

# The system identity that opens learners' namespaces, and how the audit log names it.
ACCOUNTS_USER = "warehouse-accounts"
ACCOUNTS_CLIENT = "accounts"
# The overload scenario's flooding learner: its namespace must stay the scenario's.
NOISY_NEIGHBOUR = "noisy-neighbour"

# Names a learner may never pick: the cluster's own namespaces and the app's own identities.
# A learner name becomes a namespace and an identity, so sharing one would share its objects.
RESERVED_NAMES = frozenset({"default", ACCOUNTS_USER, NOISY_NEIGHBOUR})
# kube-system and friends, system:... users, instructors' identities (instructor-<id>),
# nodes and the app's own components.
RESERVED_PREFIXES = ("kube-", "system-", "system:", "instructor-", "node-", "node:", "warehouse-")


def is_reserved(name: str) -> bool:
    """True if `name` belongs to the cluster or the app itself, never to a learner."""
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def system_user(name: str) -> ClusterUser:
    """The system identity a component acts as, created on first use."""
    user, _ = ClusterUser.objects.get_or_create(
        name=name, defaults={"role": ClusterUser.Role.SYSTEM, "display_name": name}
    )
    return user


def _accounts_client():
    from apiserver.client import Client

    return Client(system_user(ACCOUNTS_USER), ACCOUNTS_CLIENT)


def ensure_namespace(name: str) -> bool:
    """Create the Namespace `name` through the API server unless it exists; True if it did.

    Sent as a POST by a system identity, as a cluster's account tooling would; an answer of
    409 AlreadyExists means another request made it first, which is just as good. Any other
    refusal (an outage, say) raises `client.ApiError`.
    """
    from apiserver.client import ApiError

    client = _accounts_client()
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
    }
    try:
        client.create("namespaces", namespace)
    except ApiError as error:
        if error.code != 409:
            raise
        return False
    return True


def grant_learner(learner: ClusterUser) -> None:
    """Bind the learner to `admin` in their own namespace, through the API server.

    This RoleBinding is all that lets a learner act there: RBAC decides, as in any cluster.
    Already there (409) is just as good; other refusals raise `client.ApiError`.
    """
    from apiserver.client import ApiError
    from apiserver.rbac.bootstrap import learner_binding

    try:
        _accounts_client().create(
            "rolebindings", learner_binding(learner.namespace, learner.username), learner.namespace
        )
    except ApiError as error:
        if error.code != 409:
            raise


def open_learner(learner: ClusterUser) -> bool:
    """The learner's namespace and their rights in it; True if the namespace was new.

    For callers that already know the name is this learner's (the shop's sign-in decides
    that itself, since a new learner must never adopt a namespace someone else made).
    """
    created = ensure_namespace(learner.namespace)
    grant_learner(learner)
    return created


def write_default_policy() -> int:
    """Store the default ClusterRoles and bindings and each learner's RoleBinding, where
    missing, through the API server; how many objects it made.

    Run at start-up, as kube-apiserver writes its bootstrap policy: `kubectl get
    clusterroles` then shows what authorizes everyone, and learners who signed up before
    authorization was RBAC keep their rights in their namespace. Objects already stored
    are left as they are.
    """
    from apiserver.client import ApiError
    from apiserver.rbac import authorizer, bootstrap
    from apiserver.registry import kinds

    if kinds.lookup(bootstrap.RBAC_GROUP, "v1", "clusterroles") is None:
        return 0  # no catalog yet: nothing is served, nothing to authorize
    client = _accounts_client()
    made = 0
    aggregated = authorizer.policy().cluster_roles
    wanted = [("clusterroles", role) for role in bootstrap.CLUSTER_ROLES]
    wanted += [("clusterrolebindings", binding) for binding in bootstrap.CLUSTER_ROLE_BINDINGS]
    for resource, obj in wanted:
        if resource == "clusterroles" and "aggregationRule" in obj:
            obj = {**obj, "rules": aggregated[obj["metadata"]["name"]]["rules"]}
        try:
            client.create(resource, obj)
            made += 1
        except ApiError as error:
            if error.code != 409:
                raise
    learners = ClusterUser.objects.filter(role=ClusterUser.Role.LEARNER, is_active=True)
    for learner in learners.exclude(namespace=""):
        try:
            client.get("rolebindings", bootstrap.LEARNER_BINDING, learner.namespace)
        except ApiError as error:
            if error.code != 404:
                raise
            ensure_namespace(learner.namespace)
            grant_learner(learner)
            made += 1
    return made
