"""Who may call the API: the identities the API server authenticates, as other apps see them.

Learners, instructors and system components are `ClusterUser` rows with a bearer token.
Other apps (the shop's sign-in, workshops, the control plane) name and create identities
through this module rather than reaching into the API server's models. A learner's own
Namespace is created here too, through the front door like any other object, so admission
and the audit log see it.
"""

import os
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings

from apiserver.models import DNS_LABEL, ClusterUser, new_token
from apiserver.quantities import parse_quantity
from apiserver.registry.quota import OBJECTS, format_quantity

__all__ = [
    "DNS_LABEL",
    "RESERVED_NAMES",
    "RESERVED_PREFIXES",
    "ClusterUser",
    "ensure_namespace",
    "ensure_share",
    "grant_learner",
    "is_reserved",
    "learner_share",
    "new_token",
    "open_learner",
    "system_user",
    "write_default_policy",
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


def ensure_namespace(name: str, share: bool = True) -> bool:
    """Create the Namespace `name` through the API server unless it exists; True if it did.

    Sent as a POST by a system identity, as a cluster's account tooling would; an answer of
    409 AlreadyExists means another request made it first, which is just as good. Any other
    refusal (an outage, say) raises `client.ApiError`. A namespace created here gets the
    learner's `share` of the cluster (its ResourceQuota and LimitRange) unless told not to;
    one that existed is left as it is, since it may be someone else's.
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
    if share:
        ensure_share(name)
    return True


def ensure_share(namespace: str) -> int:
    """Create whichever of the learner's share objects the namespace lacks; how many it did.

    For namespaces opened before learners had shares, too (`manage.py learner_shares`):
    an object that exists already (409) is left as it is.
    """
    from apiserver.client import ApiError

    client = _accounts_client()
    created = 0
    for obj in learner_share(namespace):
        try:
            client.create(SHARE_RESOURCES[obj["kind"]], obj, namespace=namespace)
        except ApiError as error:
            if error.code != 409:
                raise
        else:
            created += 1
    return created


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
            ensure_share(learner.namespace)
            grant_learner(learner)
            made += 1
    return made


# The learner's share of the cluster --------------------------------------------------

QUOTA_NAME = "warehouse-quota"
LIMIT_RANGE_NAME = "warehouse-defaults"
SHARE_RESOURCES = {"ResourceQuota": "resourcequotas", "LimitRange": "limitranges"}
# What each container is given when it states nothing, as a LimitRange's defaults.
DEFAULT_REQUEST = {"cpu": Decimal("0.025"), "memory": Decimal(64 * 2**20)}
DEFAULT_LIMIT = {"cpu": Decimal("0.1"), "memory": Decimal(128 * 2**20)}
# No share is ever smaller: the lessons ask for five Pods at most at once (a 3-replica
# Deployment, the web Pod, one with a bad image), and with the shop's well-known examples
# all applied beside them, ten (tests/hostile/test_quota.py applies them all).
LESSON_PODS = 10


def _node_setting(name: str, default: str) -> str:
    """The simulated nodes' size, read as the control plane's Config reads it."""
    value = getattr(settings, name, None)
    return str(value) if value is not None else os.environ.get(name, default)


def _cluster_capacity() -> dict[str, Decimal]:
    nodes = int(_node_setting("WAREHOUSE_NODES", "3"))
    return {
        "pods": nodes * parse_quantity(_node_setting("WAREHOUSE_NODE_PODS", "110")),
        "cpu": nodes * parse_quantity(_node_setting("WAREHOUSE_NODE_CPU", "4")),
        "memory": nodes * parse_quantity(_node_setting("WAREHOUSE_NODE_MEMORY", "8Gi")),
    }


def learner_hard() -> dict[str, str]:
    """A learner's hard limits: the nodes shared by the room WAREHOUSE_EXPECTED_LEARNERS
    expects, so a room that size can never crowd one learner out, but never less than
    the lessons' own examples need."""
    learners = max(1, int(getattr(settings, "WAREHOUSE_EXPECTED_LEARNERS", 30)))
    capacity = _cluster_capacity()
    pods = max(LESSON_PODS, int(capacity["pods"]) // learners)
    mebi = Decimal(2**20)
    cpu = max(
        pods * DEFAULT_REQUEST["cpu"],
        (capacity["cpu"] / learners).quantize(Decimal("0.001"), ROUND_FLOOR),
    )
    memory = max(
        pods * DEFAULT_REQUEST["memory"],
        (capacity["memory"] / learners / mebi).to_integral_value(ROUND_FLOOR) * mebi,
    )
    hard = {
        "pods": pods,
        "requests.cpu": cpu,
        "requests.memory": memory,
        "limits.cpu": max(pods * DEFAULT_LIMIT["cpu"], 2 * cpu),
        "limits.memory": max(pods * DEFAULT_LIMIT["memory"], 2 * memory),
        "count/events": getattr(settings, "WAREHOUSE_NAMESPACE_EVENT_QUOTA", 1000),
        OBJECTS: getattr(settings, "WAREHOUSE_NAMESPACE_QUOTA", 200),
    }
    return {key: format_quantity(key, Decimal(value)) for key, value in hard.items()}


def learner_share(namespace: str) -> list[dict]:
    """The objects that give a learner's namespace its fair share of the cluster: a
    ResourceQuota on what it may hold, and a LimitRange so that containers stating no
    requests still count against it (as in Kubernetes, a quota on requests.cpu refuses
    such Pods unless a LimitRange fills the requests in)."""
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "namespace": namespace},
        "spec": {"hard": learner_hard()},
    }

    def amounts(values: dict[str, Decimal]) -> dict[str, str]:
        return {key: format_quantity(key, value) for key, value in values.items()}

    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": LIMIT_RANGE_NAME, "namespace": namespace},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": amounts(DEFAULT_LIMIT),
                    "defaultRequest": amounts(DEFAULT_REQUEST),
                }
            ]
        },
    }
    return [quota, limit_range]
