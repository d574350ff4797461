"""Whose rules apply to a caller, read from the stored Roles, ClusterRoles and bindings.

The policy is read from the store once and kept until it changes: a write through this
process drops it at once, and every request checks, at most once a second, the newest
revision of the four RBAC kinds, so a change made through another server process applies
within a second (kube-apiserver's RBAC authorizer reads informer caches, with the same
kind of short delay). A refusal is not given from a policy older than a tenth of a second:
it is checked against the newest first, so a learner made by another process (`manage.py
kubeconfig`) is let in at once, while the allowed requests of the hot path stay cached.
The rules one caller gets in one namespace are worked out once per policy, so the hot
path is a dictionary look-up and a few rule matches.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from apiserver.labels import selector_matches
from apiserver.models import ClusterUser, Revision, StoredObject
from apiserver.rbac import bootstrap
from apiserver.rbac.rules import Request, Rule, allows

RBAC = bootstrap.RBAC_GROUP
RESOURCES = tuple(
    f"{RBAC}/{plural}"
    for plural in ("roles", "clusterroles", "rolebindings", "clusterrolebindings")
)
RECHECK_SECONDS = 1.0
# A refusal's policy is at most this old (see the module's docstring).
REFUSAL_RECHECK_SECONDS = 0.1
READS = {"get", "list", "watch"}
# Answers remembered per policy: a room asks the same few questions over and over.
DECISIONS_KEPT = 50_000


def user_info(user: ClusterUser) -> tuple[str, tuple[str, ...]]:
    """The user name and groups Kubernetes would see for this identity."""
    if user.role == ClusterUser.Role.SYSTEM:
        groups: tuple[str, ...] = (bootstrap.SUPERUSERS, bootstrap.AUTHENTICATED)
    elif user.role == ClusterUser.Role.INSTRUCTOR:
        groups = (bootstrap.INSTRUCTORS, bootstrap.AUTHENTICATED)
    elif user.role == ClusterUser.Role.SERVICE_ACCOUNT:
        groups = (
            "system:serviceaccounts",
            f"system:serviceaccounts:{user.namespace}",
            bootstrap.AUTHENTICATED,
        )
    else:
        groups = (bootstrap.LEARNERS, bootstrap.AUTHENTICATED)
    return user.username, groups


@dataclass(frozen=True)
class Grant:
    """One rule a caller holds, and the binding it came through (for `auth can-i` reasons)."""

    rule: Rule
    source: str


@dataclass
class Policy:
    """Every Role, ClusterRole and binding, as of one revision of the store."""

    cluster_roles: dict[str, dict[str, Any]]
    roles: dict[tuple[str, str], dict[str, Any]]
    cluster_bindings: list[dict[str, Any]]
    bindings: dict[str, list[dict[str, Any]]]
    granted: dict[tuple, tuple[Grant, ...]] = field(default_factory=dict)
    decided: dict[tuple, tuple[bool, str]] = field(default_factory=dict)

    def role_rules(self, ref: Any, namespace: str) -> list[Rule] | None:
        """The rules a roleRef points at; None when the role does not exist."""
        if not isinstance(ref, dict):
            return None
        if ref.get("kind") == "ClusterRole":
            role = self.cluster_roles.get(ref.get("name", ""))
        elif ref.get("kind") == "Role" and namespace:
            role = self.roles.get((namespace, ref.get("name", "")))
        else:
            role = None
        return None if role is None else _rules_of(role)

    def grants(self, username: str, groups: tuple[str, ...], namespace: str) -> tuple[Grant, ...]:
        """Every rule this caller holds in `namespace` ("" for the cluster scope only)."""
        key = (username, groups, namespace)
        found = self.granted.get(key)
        if found is None:
            found = tuple(self._collect(username, groups, namespace))
            self.granted[key] = found
        return found

    def _collect(self, username: str, groups: tuple[str, ...], namespace: str):
        scoped = [(b, "") for b in self.cluster_bindings]
        if namespace:
            scoped += [(b, namespace) for b in self.bindings.get(namespace, ())]
        for binding, where in scoped:
            subject = _matching_subject(binding, username, groups, where)
            if subject is None:
                continue
            rules = self.role_rules(binding.get("roleRef"), where) or []
            source = _source(binding, where, subject)
            for rule in rules:
                yield Grant(rule, source)


def _rules_of(role: dict[str, Any]) -> list[Rule]:
    rules = role.get("rules")
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def _matching_subject(
    binding: dict[str, Any], username: str, groups: tuple[str, ...], namespace: str
) -> dict[str, Any] | None:
    subjects = binding.get("subjects")
    for subject in subjects if isinstance(subjects, list) else ():
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "User" and name == username:
            return subject
        if kind == "Group" and name in groups:
            return subject
        if kind == "ServiceAccount":
            account_ns = subject.get("namespace") or namespace
            if username == f"system:serviceaccount:{account_ns}:{name}":
                return subject
    return None


def _source(binding: dict[str, Any], namespace: str, subject: dict[str, Any]) -> str:
    ref = binding.get("roleRef") or {}
    name = binding["metadata"]["name"]
    where = f'RoleBinding "{name}/{namespace}"' if namespace else f'ClusterRoleBinding "{name}"'
    return (
        f'RBAC: allowed by {where} of {ref.get("kind")} "{ref.get("name")}" '
        f'to {subject.get("kind")} "{subject.get("name")}"'
    )


def _aggregate(cluster_roles: dict[str, dict[str, Any]]) -> None:
    """Fill each aggregated ClusterRole's rules from the roles its selectors pick, as
    Kubernetes' clusterrole-aggregation controller writes them. Aggregated roles may pick
    one another (`admin` gathers `edit`, which gathers `view`), so repeat until settled."""
    aggregated = {
        name: selectors
        for name, role in cluster_roles.items()
        if isinstance(
            selectors := (role.get("aggregationRule") or {}).get("clusterRoleSelectors"), list
        )
    }
    for _ in range(len(aggregated) + 1):
        changed = False
        for name, selectors in aggregated.items():
            rules: list[Rule] = []
            for other_name, other in cluster_roles.items():
                labels = (other.get("metadata") or {}).get("labels") or {}
                if other_name != name and any(selector_matches(s, labels) for s in selectors):
                    rules.extend(r for r in _rules_of(other) if r not in rules)
            if rules != cluster_roles[name].get("rules"):
                cluster_roles[name]["rules"] = rules
                changed = True
        if not changed:
            return


def _load() -> Policy:
    rows = StoredObject.objects.filter(resource__in=RESOURCES).values_list(
        "resource", "namespace", "name", "body"
    )
    cluster_roles = {r["metadata"]["name"]: r for r in bootstrap.CLUSTER_ROLES}
    cluster_roles = json.loads(json.dumps(cluster_roles))
    cluster_bindings = {b["metadata"]["name"]: b for b in bootstrap.CLUSTER_ROLE_BINDINGS}
    roles: dict[tuple[str, str], dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, Any]]] = {}
    for resource, namespace, name, body in rows:
        obj = json.loads(body)
        plural = resource.rpartition("/")[2]
        if plural == "clusterroles":
            cluster_roles[name] = obj
        elif plural == "clusterrolebindings":
            cluster_bindings[name] = obj
        elif plural == "roles":
            roles[(namespace, name)] = obj
        else:
            bindings.setdefault(namespace, []).append(obj)
    _aggregate(cluster_roles)
    return Policy(cluster_roles, roles, list(cluster_bindings.values()), bindings)


def _newest_revision() -> int:
    table = Revision._meta.db_table
    marks = ", ".join(["%s"] * len(RESOURCES))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table} WHERE resource IN ({marks})", list(RESOURCES))
        row = cursor.fetchone()
    return int(row[0] or 0)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.policy: Policy | None = None
        self.revision = -1
        self.checked = 0.0

    def current(self, within: float = RECHECK_SECONDS) -> Policy:
        """The policy, checked against the store's newest revision if older than `within`."""
        now = time.monotonic()
        policy = self.policy
        if policy is not None and now - self.checked < within:
            return policy
        revision = _newest_revision()
        with self.lock:
            if self.policy is None or revision != self.revision:
                self.policy = _load()
                self.revision = revision
            self.checked = now
            return self.policy

    def invalidate(self) -> None:
        with self.lock:
            self.policy = None
            self.revision = -1


_cache = _Cache()


def invalidate() -> None:
    """Forget the policy; the next request reads it again (after an RBAC write)."""
    _cache.invalidate()


def follow(kind: Any, verb: str, status: int) -> None:
    """After a write to a Role or binding succeeds, the next request reads the new policy."""
    if kind is not None and kind.resource in RESOURCES and verb not in READS and status < 300:
        invalidate()


def policy(within: float = RECHECK_SECONDS) -> Policy:
    return _cache.current(within)


def is_superuser(user: ClusterUser) -> bool:
    return user.role == ClusterUser.Role.SYSTEM


def decide(user: ClusterUser, request: Request) -> tuple[bool, str]:
    """Allowed or not, and the reason `kubectl auth can-i` may show."""
    if is_superuser(user):
        return True, f"allowed because member of {bootstrap.SUPERUSERS}"
    username, groups = user_info(user)
    key = (username, groups, request)
    answer = _decide(policy(), key)
    if not answer[0]:
        answer = _decide(policy(REFUSAL_RECHECK_SECONDS), key)
    return answer


def _decide(current: Policy, key: tuple) -> tuple[bool, str]:
    answer = current.decided.get(key)
    if answer is None:
        username, groups, request = key
        answer = False, ""
        for grant in current.grants(username, groups, request.namespace):
            if allows(grant.rule, request):
                answer = True, grant.source
                break
        if len(current.decided) >= DECISIONS_KEPT:
            current.decided.clear()
        current.decided[key] = answer
    return answer


def rules_for(user: ClusterUser, namespace: str) -> list[Rule]:
    """Every rule the caller holds in `namespace` (cluster-wide ones included).

    Asked by reviews and escalation checks, off the hot path, so always from a policy as
    fresh as a refusal's: a learner just made elsewhere sees her rules at once."""
    if is_superuser(user):
        return list(bootstrap.CLUSTER_ROLES[0]["rules"])
    username, groups = user_info(user)
    current = policy(REFUSAL_RECHECK_SECONDS)
    return [grant.rule for grant in current.grants(username, groups, namespace)]
