"""The default policy every cluster starts with: kube-apiserver's bootstrap roles, trimmed
to the kinds this cluster serves, and the bindings that give each kind of caller its rights.

    system:masters            the control plane's own components: every right, no RBAC check
    warehouse:instructors     cluster-admin, through a ClusterRoleBinding
    system:authenticated      discovery, "who am I / what may I do", and reading the
                              cluster-scoped shelves (nodes, namespaces, custom kinds...)
    a learner                 `admin` in their own namespace, through a RoleBinding made when
                              the namespace is opened (see `apiserver.accounts`)

`admin`, `edit` and `view` are aggregated, as in Kubernetes: they gather the rules of every
ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-<name>: "true"`, which is how a
custom kind's rights reach them. The policy is written to the store at start-up so `kubectl
get clusterroles` shows it; a default someone deletes reads as its built-in definition until
the next start writes it back, as kube-apiserver's start-up reconciliation does.
"""

from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
AUDIT_GROUP = "audit.warehouse.dev"
SUPERUSERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
INSTRUCTORS = "warehouse:instructors"
LEARNERS = "warehouse:learners"
LEARNER_ROLE = "admin"
LEARNER_BINDING = "warehouse-learner"
AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-{}"
CLUSTER_READER_LABEL = "warehouse-cluster-reader"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
ALL_VERBS = ["*"]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


# What `edit` may change and `view` may read in a namespace; status subresources are only
# ever read, so a learner cannot pretend to be a kubelet or a controller.
_WORKLOADS = {
    "": [
        "pods",
        "pods/attach",
        "pods/exec",
        "pods/portforward",
        "pods/proxy",
        "configmaps",
        "endpoints",
        "persistentvolumeclaims",
        "podtemplates",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "secrets",
        "serviceaccounts",
        "services",
        "services/proxy",
    ],
    "apps": [
        "controllerrevisions",
        "daemonsets",
        "deployments",
        "deployments/rollback",
        "deployments/scale",
        "replicasets",
        "replicasets/scale",
        "statefulsets",
        "statefulsets/scale",
    ],
    "autoscaling": ["horizontalpodautoscalers"],
    "batch": ["cronjobs", "jobs"],
    "coordination.k8s.io": ["leases"],
    "discovery.k8s.io": ["endpointslices"],
    "networking.k8s.io": ["ingresses", "networkpolicies"],
    "policy": ["poddisruptionbudgets"],
    "resource.k8s.io": ["resourceclaims", "resourceclaimtemplates"],
}
_READ_ONLY = {
    "": [
        "bindings",
        "events",
        "limitranges",
        "namespaces",
        "namespaces/status",
        "pods/log",
        "pods/status",
        "persistentvolumeclaims/status",
        "replicationcontrollers/status",
        "resourcequotas",
        "resourcequotas/status",
        "services/status",
    ],
    "apps": [
        "daemonsets/status",
        "deployments/status",
        "replicasets/status",
        "statefulsets/status",
    ],
    "autoscaling": ["horizontalpodautoscalers/status"],
    "batch": ["cronjobs/status", "jobs/status"],
    "events.k8s.io": ["events"],
    "networking.k8s.io": ["ingresses/status"],
    "policy": ["poddisruptionbudgets/status"],
}
_SECRETS = {"secrets"}


def _history(resources: list[str]) -> list[str]:
    """The order-history subresource of each object kind named (the warehouse's own)."""
    return [f"{r}/history" for r in resources if "/" not in r]


def _view_rules() -> list[dict[str, Any]]:
    rules = []
    for group, resources in _WORKLOADS.items():
        readable = [r for r in resources if r not in _SECRETS and "/" not in r]
        rules.append(_rule([group], readable, READ))
        rules.append(_rule([group], _history(readable), ["get"]))
    rules.extend(_rule([group], resources, READ) for group, resources in _READ_ONLY.items())
    rules.extend(
        _rule([group], _history(resources), ["get"])
        for group, resources in _READ_ONLY.items()
        if _history(resources)
    )
    return rules


def _edit_rules() -> list[dict[str, Any]]:
    rules = [_rule([group], resources, READ + WRITE) for group, resources in _WORKLOADS.items()]
    rules.append(_rule([""], _history(sorted(_SECRETS)), ["get"]))
    rules.append(_rule([""], ["pods/eviction", "serviceaccounts/token"], ["create"]))
    # Events are the control plane's notes, but a learner may add one, as before RBAC.
    rules.append(_rule(["", "events.k8s.io"], ["events"], READ + WRITE))
    return rules


def _admin_rules() -> list[dict[str, Any]]:
    return [
        _rule([RBAC_GROUP], ["roles", "rolebindings"], READ + WRITE),
        _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    ]


def _cluster_role(
    name: str,
    rules: list[dict[str, Any]] | None = None,
    aggregate_to: tuple[str, ...] = (),
    aggregated_from: str = "",
) -> dict[str, Any]:
    labels = dict(BOOTSTRAP_LABEL)
    labels.update({AGGREGATE_LABEL.format(to): "true" for to in aggregate_to})
    role: dict[str, Any] = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules or [],
    }
    if aggregated_from:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [
                {"matchLabels": {AGGREGATE_LABEL.format(aggregated_from): "true"}}
            ]
        }
    return role


def _binding(name: str, role: str, groups: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": name,
            "labels": dict(BOOTSTRAP_LABEL),
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
    }


# Cluster-scoped shelves anyone signed in may look at (the catalog is public in the shop).
_CLUSTER_READABLE = {
    "": ["namespaces", "nodes", "persistentvolumes", "componentstatuses"],
    "apiextensions.k8s.io": ["customresourcedefinitions"],
    "apiregistration.k8s.io": ["apiservices"],
    "networking.k8s.io": ["ingressclasses"],
    "node.k8s.io": ["runtimeclasses"],
    "scheduling.k8s.io": ["priorityclasses"],
    "storage.k8s.io": ["storageclasses", "csidrivers", "csinodes"],
    RBAC_GROUP: ["clusterroles", "clusterrolebindings"],
    "flowcontrol.apiserver.k8s.io": ["flowschemas", "prioritylevelconfigurations"],
}

CLUSTER_ROLES: tuple[dict[str, Any], ...] = (
    _cluster_role(
        "cluster-admin",
        [_rule(["*"], ["*"], ALL_VERBS), {"nonResourceURLs": ["*"], "verbs": ALL_VERBS}],
    ),
    _cluster_role("admin", aggregated_from="admin"),
    _cluster_role("edit", aggregated_from="edit", aggregate_to=("admin",)),
    _cluster_role("view", aggregated_from="view", aggregate_to=("edit",)),
    _cluster_role("system:aggregate-to-admin", _admin_rules(), aggregate_to=("admin",)),
    _cluster_role("system:aggregate-to-edit", _edit_rules(), aggregate_to=("edit",)),
    _cluster_role("system:aggregate-to-view", _view_rules(), aggregate_to=("view",)),
    _cluster_role(
        "system:discovery",
        [
            {
                "nonResourceURLs": [
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
                "verbs": ["get"],
            }
        ],
    ),
    _cluster_role(
        "system:public-info-viewer",
        [
            {
                "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                "verbs": ["get"],
            }
        ],
    ),
    _cluster_role(
        "system:basic-user",
        [
            _rule(
                ["authorization.k8s.io"],
                ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ["create"],
            ),
            _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
        ],
    ),
    # The request log of a namespace is its admin's to read: a learner sees the traffic
    # into their own namespace, an instructor (cluster-admin) all of it.
    _cluster_role(
        "warehouse:audit-reader",
        [_rule([AUDIT_GROUP], ["auditevents"], READ)],
        aggregate_to=("admin",),
    ),
    _cluster_role("warehouse:cluster-reader", aggregated_from=CLUSTER_READER_LABEL),
    _cluster_role(
        "system:aggregate-to-warehouse-cluster-reader",
        [_rule([group], resources, READ) for group, resources in _CLUSTER_READABLE.items()],
        aggregate_to=(CLUSTER_READER_LABEL,),
    ),
)

CLUSTER_ROLE_BINDINGS: tuple[dict[str, Any], ...] = (
    _binding("cluster-admin", "cluster-admin", [SUPERUSERS]),
    _binding("warehouse:instructors", "cluster-admin", [INSTRUCTORS]),
    _binding("system:discovery", "system:discovery", [AUTHENTICATED]),
    _binding(
        "system:public-info-viewer", "system:public-info-viewer", [AUTHENTICATED, UNAUTHENTICATED]
    ),
    _binding("system:basic-user", "system:basic-user", [AUTHENTICATED]),
    _binding("warehouse:cluster-reader", "warehouse:cluster-reader", [AUTHENTICATED]),
)


def learner_binding(namespace: str, username: str) -> dict[str, Any]:
    """The RoleBinding that makes a learner the admin of their own namespace, and of no other."""
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": LEARNER_BINDING, "namespace": namespace},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": LEARNER_ROLE},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": username}],
    }


def custom_kind_role(crd_name: str, group: str, plural: str, namespaced: bool) -> dict[str, Any]:
    """The ClusterRole through which a custom kind reaches people, as a CRD's author labels
    one by hand: a namespaced kind (with its status and scale, since a learner may play the
    seller's controller) aggregates into `admin` and `edit`; a cluster-scoped one is read
    by everyone signed in, through `warehouse:cluster-reader`."""
    if namespaced:
        rule = _rule([group], [plural, f"{plural}/status", f"{plural}/scale"], READ + WRITE)
        into: tuple[str, ...] = ("admin", "edit")
    else:
        rule, into = _rule([group], [plural], READ), (CLUSTER_READER_LABEL,)
    rules = [rule, _rule([group], _history([plural]), ["get"])]
    role = _cluster_role(f"warehouse:custom:{crd_name}", rules, aggregate_to=into)
    del role["metadata"]["annotations"]
    for key in BOOTSTRAP_LABEL:
        del role["metadata"]["labels"][key]
    return role
