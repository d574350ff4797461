"""Roles, ClusterRoles, RoleBindings and ClusterRoleBindings: named like path segments.

Their names may hold a colon (`system:discovery`), as kube-apiserver's RBAC validation
allows. Escalation is refused in admission (`apiserver.rbac.escalation`).
"""

from apiserver.registry.strategy import Strategy

GROUP = "rbac.authorization.k8s.io"

STRATEGIES = tuple(
    Strategy(resource=f"{GROUP}/{plural}", name_is_path_segment=True)
    for plural in ("roles", "clusterroles", "rolebindings", "clusterrolebindings")
)
