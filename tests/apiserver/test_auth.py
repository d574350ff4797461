"""Authentication (bearer tokens) and authorization (a learner's own namespace)."""

import pytest

from apiserver.models import ClusterUser
from tests.apiserver.conftest import pod


def test_no_token_is_401_unauthorized(api, alice):
    response = api.get("/api/v1/namespaces/alice/pods", None)
    assert response.status_code == 401
    assert response.json_body["reason"] == "Unauthorized"
    assert response.json_body["kind"] == "Status"


def test_wrong_token_is_401(api, alice):
    response = api.client.get(
        "/api/v1/namespaces/alice/pods", headers={"authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401


def test_deactivated_user_is_401(api, alice):
    ClusterUser.objects.filter(pk=alice.pk).update(is_active=False)
    assert api.get("/api/v1/namespaces/alice/pods", alice).status_code == 401


def test_discovery_needs_a_token(api, alice):
    assert api.get("/apis", None).status_code == 401
    assert api.get("/apis", alice).status_code == 200


def test_bob_cannot_list_alices_pods(api, alice, bob):
    response = api.get("/api/v1/namespaces/alice/pods", bob)
    assert response.status_code == 403
    assert response.json_body["reason"] == "Forbidden"
    assert response.json_body["message"] == (
        'pods is forbidden: User "bob" cannot list resource "pods" in API group "" '
        'in the namespace "alice"'
    )


def test_bob_cannot_get_one_of_alices_deployments(api, alice, bob):
    response = api.get("/apis/apps/v1/namespaces/alice/deployments/shop", bob)
    assert response.json_body["message"] == (
        'deployments.apps "shop" is forbidden: User "bob" cannot get resource "deployments" '
        'in API group "apps" in the namespace "alice"'
    )


def test_bob_cannot_create_in_alices_namespace(api, alice, bob):
    response = api.post("/api/v1/namespaces/alice/pods", bob, pod("sneaky"))
    assert response.status_code == 403


def test_learners_cannot_list_across_namespaces(api, alice):
    response = api.get("/api/v1/pods", alice)
    assert response.status_code == 403
    assert response.json_body["message"].endswith("at the cluster scope")


def test_learners_read_cluster_scoped_kinds_but_cannot_write_them(api, alice):
    assert api.get("/api/v1/nodes", alice).status_code == 200
    assert api.get("/api/v1/namespaces", alice).status_code == 200
    assert api.get("/api/v1/namespaces/alice", alice).status_code == 200
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "mine"}}
    response = api.post("/api/v1/nodes", alice, node)
    assert response.status_code == 403
    assert response.json_body["message"] == (
        'nodes is forbidden: User "alice" cannot create resource "nodes" in API group "" '
        "at the cluster scope"
    )
    assert api.delete("/api/v1/namespaces/alice", alice).status_code == 403


@pytest.mark.parametrize("actor", ["carol", "scheduler"])
def test_instructors_and_system_users_act_anywhere(api, alice, actor, request):
    user = request.getfixturevalue(actor)
    created = api.post("/api/v1/namespaces/alice/pods", user, pod(f"by-{actor}"))
    assert created.status_code == 201
    assert api.get("/api/v1/pods", user).status_code == 200


def test_pre_authenticated_user_skips_the_token(call, alice):
    response = call("GET", "/api/v1/namespaces/alice/pods", alice)
    assert response.status == 200


def test_system_users_are_named_like_kubernetes(api, db):
    kubelet = ClusterUser.objects.create(name="kubelet", role="system", token="kubelet-token-1")
    response = api.post("/api/v1/nodes", kubelet, {"kind": "Node", "apiVersion": "v1"})
    assert response.status_code == 422
    assert kubelet.username == "system:kubelet"


def _can_i(api, user, verb, resource, namespace="", group="", name=""):
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": namespace,
                "verb": verb,
                "group": group,
                "resource": resource,
                "name": name,
            }
        },
    }
    response = api.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", user, review)
    assert response.status_code == 201
    return response.json_body["status"]


def test_kubectl_auth_can_i_answers_from_the_same_rules(api, alice):
    assert _can_i(api, alice, "create", "pods", "alice") == {
        "allowed": True,
        "reason": 'RBAC: allowed by RoleBinding "warehouse-learner/alice" of ClusterRole "admin" '
        'to User "alice"',
    }
    assert _can_i(api, alice, "create", "pods", "default") == {"allowed": False}
    assert _can_i(api, alice, "list", "nodes")["allowed"] is True
    assert _can_i(api, alice, "delete", "nodes", name="node-1")["allowed"] is False
    assert _can_i(api, alice, "get", "deployments", "alice", group="apps")["allowed"] is True


def test_kubectl_auth_whoami(api, alice, carol):
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    mine = api.post(path, alice, review).json_body["status"]["userInfo"]
    assert mine == {"username": "alice", "groups": ["warehouse:learners", "system:authenticated"]}
    theirs = api.post(path, carol, review).json_body["status"]["userInfo"]
    assert theirs["groups"][0] == "warehouse:instructors"


def test_the_token_owner_comes_back_whole_and_only_while_active(alice):
    from apiserver.filters.authentication import _active_owner

    found = _active_owner(alice.token)

    assert found is not None
    assert (found.pk, found.name, found.role, found.namespace) == (
        alice.pk,
        alice.name,
        alice.role,
        alice.namespace,
    )
    assert found.is_active is True
    assert found.created == alice.created  # left deferred, read on use
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert _active_owner(alice.token) is None
    assert _active_owner("no-such-token") is None
