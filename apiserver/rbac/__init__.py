"""Role-based access control: the authorization gate, as kube-apiserver's RBAC authorizer.

    rules.py       does one PolicyRule allow a request; do some rules cover others
    bootstrap.py   the default ClusterRoles and bindings every cluster starts with
    authorizer.py  whose rules apply to a caller, read from the stored Roles and bindings
    escalation.py  no one grants, through a Role or a binding, what they do not hold

Roles, ClusterRoles, RoleBindings and ClusterRoleBindings are ordinary stored objects:
`kubectl create rolebinding` changes what the next request may do.
"""
