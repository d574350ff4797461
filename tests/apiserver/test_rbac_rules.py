"""PolicyRule matching and coverage, as RBAC's RuleAllows and Covers read them."""

import pytest

from apiserver.rbac.rules import Request, allows, describe, uncovered

PODS_READER = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}


@pytest.mark.parametrize(
    ("rule", "request_", "allowed"),
    [
        (PODS_READER, Request("get", "", "pods", namespace="a"), True),
        (PODS_READER, Request("delete", "", "pods", namespace="a"), False),
        (PODS_READER, Request("get", "apps", "pods", namespace="a"), False),
        (PODS_READER, Request("get", "", "pods", "log", namespace="a"), False),
        ({**PODS_READER, "resources": ["pods/log"]}, Request("get", "", "pods", "log"), True),
        (
            {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
            Request("update", "apps", "deployments", "scale"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]},
            Request("update", "apps", "deployments"),
            False,
        ),
        ({**PODS_READER, "resourceNames": ["web"]}, Request("get", "", "pods", name="web"), True),
        ({**PODS_READER, "resourceNames": ["web"]}, Request("get", "", "pods", name="db"), False),
        ({**PODS_READER, "resourceNames": ["web"]}, Request("list", "", "pods"), False),
        (
            {"nonResourceURLs": ["/apis/*"], "verbs": ["get"]},
            Request("get", path="/apis/apps"),
            True,
        ),
        (
            {"nonResourceURLs": ["/apis"], "verbs": ["get"]},
            Request("get", path="/apis/apps"),
            False,
        ),
        ({"nonResourceURLs": ["*"], "verbs": ["*"]}, Request("post", path="/anything"), True),
        (PODS_READER, Request("get", path="/api"), False),
    ],
)
def test_a_rule_allows_exactly_what_it_names(rule, request_, allowed):
    assert allows(rule, request_) is allowed


def test_a_star_is_covered_only_by_a_star():
    everything = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    mine = [{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "create"]}]

    assert uncovered(mine, [PODS_READER]) == [
        {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}
    ]
    assert uncovered([everything], [PODS_READER, everything]) == []
    assert uncovered(mine, [everything]) == [everything]


def test_named_rights_are_covered_by_unnamed_ones_but_not_the_reverse():
    named = {**PODS_READER, "resourceNames": ["web"]}

    assert uncovered([PODS_READER], [named]) == []
    assert uncovered([named], [PODS_READER]) != []


def test_refusals_print_rules_the_way_kube_apiserver_does():
    assert describe(PODS_READER) == '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}'
    assert describe({"nonResourceURLs": ["*"], "verbs": ["*"]}) == (
        '{NonResourceURLs:["*"], Verbs:["*"]}'
    )
