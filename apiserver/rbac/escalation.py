"""No escalation: a Role or a binding may only grant what its author already holds.

kube-apiserver checks this when a Role, ClusterRole, RoleBinding or ClusterRoleBinding
is written: a learner who is admin of their own namespace may make Roles and bind them,
but a RoleBinding to `cluster-admin`, or a Role that may write `pods/status`, is refused
with 403 unless the author holds every right in it (or the `escalate` / `bind` verb on
that role). Here it is the last validating admission plug-in, which sees the caller.
"""

from typing import Any

from apiserver import errors
from apiserver.admission.plugin import Attributes, Plugin
from apiserver.models import ClusterUser
from apiserver.rbac import authorizer, bootstrap
from apiserver.rbac.rules import Request, describe, uncovered
from apiserver.registry.validation import Causes

ROLES = {"roles", "clusterroles"}
BINDINGS = {"rolebindings", "clusterrolebindings"}


def _holds(user: ClusterUser, verb: str, resource: str, name: str, namespace: str) -> bool:
    request = Request(
        verb=verb, group=bootstrap.RBAC_GROUP, resource=resource, name=name, namespace=namespace
    )
    return authorizer.decide(user, request)[0]


def _refuse(attributes: Attributes, user: ClusterUser, missing: list[dict[str, Any]]) -> None:
    kind = attributes.kind
    name = (attributes.obj.get("metadata") or {}).get("name", "")
    username, groups = authorizer.user_info(user)
    listed = "\n".join(describe(rule) for rule in missing)
    raise errors.forbidden(
        f'{kind.plural}.{kind.group} "{name}" is forbidden: user "{username}" '
        f"(groups=[{' '.join(f'"{g}"' for g in groups)}]) is attempting to grant RBAC permissions "
        f"not currently held:\n{listed}",
        kind.plural,
        name,
        kind.group,
    )


def _rules(obj: dict[str, Any]) -> list[dict[str, Any]]:
    rules = obj.get("rules")
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def _check(attributes: Attributes, causes: Causes) -> None:
    kind, obj, old = attributes.kind, attributes.obj, attributes.old
    if kind.plural in BINDINGS and old is not None and obj.get("roleRef") != old.get("roleRef"):
        causes.invalid("roleRef", obj.get("roleRef"), "cannot change roleRef")
    user = attributes.user
    if user is None or authorizer.is_superuser(user) or causes.items:
        return
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace", "") if kind.namespaced else ""
    name = meta.get("name", "")
    if kind.plural in ROLES:
        if _holds(user, "escalate", kind.plural, name, namespace):
            return
        wanted = _rules(obj)
        if kind.plural == "clusterroles" and obj.get("aggregationRule"):
            wanted = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    else:
        ref = obj.get("roleRef") if isinstance(obj.get("roleRef"), dict) else {}
        ref_plural = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
        if _holds(user, "bind", ref_plural, ref.get("name", ""), namespace):
            return
        found = authorizer.policy(authorizer.REFUSAL_RECHECK_SECONDS).role_rules(ref, namespace)
        if found is None:
            raise errors.not_found(ref_plural, ref.get("name", ""), bootstrap.RBAC_GROUP)
        wanted = found
    missing = uncovered(authorizer.rules_for(user, namespace), wanted)
    if missing:
        _refuse(attributes, user, missing)


PLUGIN = Plugin(
    name="RBACEscalation",
    stage="validating",
    run=_check,
    resources=frozenset(f"{bootstrap.RBAC_GROUP}/{p}" for p in ROLES | BINDINGS),
)
