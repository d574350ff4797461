"""PolicyRules: what one rule allows, and whether one set of rules covers another.

A rule names verbs, API groups, resources (`pods`, `pods/log`, `*/scale`), optionally
resource names, or non-resource URLs (`/apis`, `/openapi/*`). `*` matches anything.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ALL = "*"

Rule = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """What a request asks to do, as the authorizer sees it (kube-apiserver's Attributes)."""

    verb: str
    group: str = ""
    resource: str = ""  # plural; empty for a non-resource path
    subresource: str = ""
    namespace: str = ""  # "" for cluster-scoped, or a list across every namespace
    name: str = ""
    path: str = ""  # the URL path of a non-resource request (discovery, /version)

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _has(values: Iterable[str] | None, wanted: str) -> bool:
    values = values or ()
    return ALL in values or wanted in values


def _resource_matches(rule: Rule, request: Request) -> bool:
    for resource in rule.get("resources") or ():
        if resource in (ALL, request.combined):
            return True
        if request.subresource and resource == f"*/{request.subresource}":
            return True
    return False


def _url_matches(rule: Rule, path: str) -> bool:
    """`*` matches every path, `/apis/*` every path under /apis/, otherwise exactly."""
    return any(
        url in (ALL, path) or (url.endswith("*") and path.startswith(url[:-1]))
        for url in rule.get("nonResourceURLs") or ()
    )


def allows(rule: Rule, request: Request) -> bool:
    """True if `rule` allows `request` (RBAC's RuleAllows)."""
    if not _has(rule.get("verbs"), request.verb):
        return False
    if not request.is_resource:
        return _url_matches(rule, request.path)
    if not _has(rule.get("apiGroups"), request.group) or not _resource_matches(rule, request):
        return False
    names = rule.get("resourceNames") or ()
    return not names or request.name in names


def _simple(rule: Rule) -> list[Rule]:
    """One rule per verb × group × resource × name, so coverage can be checked piece by piece."""
    verbs = rule.get("verbs") or ()
    if rule.get("nonResourceURLs"):
        return [
            {"verbs": [verb], "nonResourceURLs": [url]}
            for url in rule["nonResourceURLs"]
            for verb in verbs
        ]
    names = rule.get("resourceNames") or [None]
    return [
        {"verbs": [verb], "apiGroups": [group], "resources": [resource]}
        | ({"resourceNames": [name]} if name is not None else {})
        for group in rule.get("apiGroups") or ()
        for resource in rule.get("resources") or ()
        for name in names
        for verb in verbs
    ]


def _covers_one(owner: Rule, wanted: Rule) -> bool:
    """Does `owner` allow everything the one-of-each rule `wanted` allows? A `*` in
    `wanted` is only covered by a `*` in `owner`."""
    if not _has(owner.get("verbs"), wanted["verbs"][0]):
        return False
    if "nonResourceURLs" in wanted:
        return _url_matches(owner, wanted["nonResourceURLs"][0])
    if not _has(owner.get("apiGroups"), wanted["apiGroups"][0]):
        return False
    resource = wanted["resources"][0]
    mine = owner.get("resources") or ()
    subresource = resource.partition("/")[2]
    if not (
        ALL in mine
        or resource in mine
        or (subresource and subresource != ALL and f"*/{subresource}" in mine)
    ):
        return False
    owner_names = owner.get("resourceNames") or ()
    if not owner_names:
        return True
    return bool(wanted.get("resourceNames")) and wanted["resourceNames"][0] in owner_names


def uncovered(owner: list[Rule], wanted: list[Rule]) -> list[Rule]:
    """The parts of `wanted` that no rule in `owner` covers (RBAC's Covers), compacted."""
    missing = [
        simple
        for rule in wanted
        for simple in _simple(rule)
        if not any(_covers_one(mine, simple) for mine in owner)
    ]
    return _compact(missing)


def _compact(rules: list[Rule]) -> list[Rule]:
    """Merge simple rules that differ only in their verb, keeping first-seen order."""
    merged: dict[tuple, Rule] = {}
    for rule in rules:
        key = tuple((k, tuple(v)) for k, v in rule.items() if k != "verbs")
        if key in merged:
            if rule["verbs"][0] not in merged[key]["verbs"]:
                merged[key]["verbs"].append(rule["verbs"][0])
        else:
            merged[key] = {k: list(v) for k, v in rule.items()}
    return list(merged.values())


def describe(rule: Rule) -> str:
    """A rule as kube-apiserver prints it in an escalation refusal."""

    def quoted(values: list[str]) -> str:
        return "[" + " ".join(f'"{v}"' for v in values) + "]"

    if rule.get("nonResourceURLs"):
        return (
            f"{{NonResourceURLs:{quoted(rule['nonResourceURLs'])}, Verbs:{quoted(rule['verbs'])}}}"
        )
    parts = [f"APIGroups:{quoted(rule['apiGroups'])}", f"Resources:{quoted(rule['resources'])}"]
    if rule.get("resourceNames"):
        parts.append(f"ResourceNames:{quoted(rule['resourceNames'])}")
    parts.append(f"Verbs:{quoted(rule['verbs'])}")
    return "{" + ", ".join(parts) + "}"
