"""Authorization is real RBAC: the stored Roles and bindings decide, and no one grants
what they do not hold.

alice and bob are learners (each admin of their own namespace through the RoleBinding
`warehouse-learner`), carol is an instructor (cluster-admin), the scheduler a component.
"""

import pytest

from apiserver import accounts
from apiserver.models import ClusterUser
from apiserver.rbac import authorizer
from tests.crds.conftest import widget, widget_crd
from tests.hostile.conftest import call_as

RBAC = "/apis/rbac.authorization.k8s.io/v1"
ALICE_ROLES = f"{RBAC}/namespaces/alice/roles"
ALICE_BINDINGS = f"{RBAC}/namespaces/alice/rolebindings"
ALICE_PODS = "/api/v1/namespaces/alice/pods"
GROUPS = '(groups=["warehouse:learners" "system:authenticated"])'


def _learner(name: str) -> ClusterUser:
    user = ClusterUser.objects.create(name=name, namespace=name)
    accounts.open_learner(user)
    return user


@pytest.fixture
def alice(db) -> ClusterUser:
    return _learner("alice")


@pytest.fixture
def bob(db) -> ClusterUser:
    return _learner("bob")


@pytest.fixture
def carol(db) -> ClusterUser:
    return ClusterUser.objects.create(name="carol", role=ClusterUser.Role.INSTRUCTOR)


def _binding(name: str, role_kind: str, role: str, user: str) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def _role(name: str, *rules: dict) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name},
        "rules": list(rules),
    }


def _pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
    }


def test_a_learners_rolebinding_to_cluster_admin_is_refused(alice):
    response = call_as(
        alice, "POST", ALICE_BINDINGS, _binding("me", "ClusterRole", "cluster-admin", "alice")
    )

    assert response.status == 403
    message = response.body["message"]
    assert message.startswith(
        'rolebindings.rbac.authorization.k8s.io "me" is forbidden: user "alice" '
        f"{GROUPS} is attempting to grant RBAC permissions not currently held:\n"
    )
    assert '{NonResourceURLs:["*"], Verbs:["*"]}' in message


def test_a_role_with_rights_its_author_lacks_is_refused(alice):
    writes_status = {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]}

    response = call_as(alice, "POST", ALICE_ROLES, _role("kubelet-ish", writes_status))

    assert response.status == 403
    assert response.body["message"].endswith(
        'not currently held:\n{APIGroups:[""], Resources:["pods/status"], Verbs:["update"]}'
    )


def test_a_learner_shares_read_access_with_a_neighbour_and_takes_it_back(alice, bob):
    reads = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    assert call_as(alice, "POST", ALICE_PODS, _pod("web")).status == 201
    assert call_as(bob, "GET", ALICE_PODS).status == 403

    assert call_as(alice, "POST", ALICE_ROLES, _role("pod-reader", reads)).status == 201
    granted = call_as(
        alice, "POST", ALICE_BINDINGS, _binding("bob-reads", "Role", "pod-reader", "bob")
    )
    assert granted.status == 201

    assert call_as(bob, "GET", ALICE_PODS).status == 200
    assert call_as(bob, "DELETE", f"{ALICE_PODS}/web").status == 403
    assert call_as(alice, "DELETE", f"{ALICE_BINDINGS}/bob-reads").status == 200
    assert call_as(bob, "GET", ALICE_PODS).status == 403


def test_binding_view_to_a_neighbour_is_within_a_learners_rights(alice, bob):
    granted = call_as(
        alice, "POST", ALICE_BINDINGS, _binding("bob-views", "ClusterRole", "view", "bob")
    )

    assert granted.status == 201
    assert call_as(bob, "GET", "/apis/apps/v1/namespaces/alice/deployments").status == 200
    assert call_as(bob, "GET", "/api/v1/namespaces/alice/secrets").status == 403


def test_a_learner_cannot_play_the_kubelet(alice, cluster_pod):
    pod = call_as(alice, "GET", f"{ALICE_PODS}/web").body
    pod["status"] = {"phase": "Running", "podIP": "10.0.0.9"}

    response = call_as(alice, "PUT", f"{ALICE_PODS}/web/status", pod)

    assert response.status == 403
    assert response.body["message"] == (
        'pods "web" is forbidden: User "alice" cannot update resource "pods/status" '
        'in API group "" in the namespace "alice"'
    )


@pytest.fixture
def cluster_pod(alice) -> None:
    assert call_as(alice, "POST", ALICE_PODS, _pod("web")).status == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/namespaces/alice/resourcequotas"),
        ("POST", "/api/v1/namespaces/alice/limitranges"),
        ("POST", f"{RBAC}/clusterroles"),
        ("POST", f"{RBAC}/clusterrolebindings"),
        ("POST", "/api/v1/namespaces"),
        ("POST", f"{RBAC}/namespaces/bob/rolebindings"),
    ],
)
def test_what_a_learners_admin_role_does_not_reach(alice, bob, method, path):
    body = {"metadata": {"name": "x"}}

    assert call_as(alice, method, path, body).status == 403


def test_the_role_a_binding_names_cannot_be_changed(alice, bob):
    call_as(alice, "POST", ALICE_BINDINGS, _binding("bob-views", "ClusterRole", "view", "bob"))
    current = call_as(alice, "GET", f"{ALICE_BINDINGS}/bob-views").body
    current["roleRef"]["name"] = "edit"

    response = call_as(alice, "PUT", f"{ALICE_BINDINGS}/bob-views", current)

    assert response.status == 422
    assert "roleRef: Invalid value" in response.body["message"]
    assert "cannot change roleRef" in response.body["message"]


def test_deleting_your_own_binding_locks_you_out_as_in_any_cluster(alice):
    assert call_as(alice, "DELETE", f"{ALICE_BINDINGS}/warehouse-learner").status == 200

    assert call_as(alice, "GET", ALICE_PODS).status == 403
    accounts.grant_learner(alice)  # what signing in again, or a reset, does
    assert call_as(alice, "GET", ALICE_PODS).status == 200


def test_instructors_are_bound_to_cluster_admin_and_may_bind_anything(carol, alice, bob):
    binding = {
        **_binding("alice-everywhere", "ClusterRole", "cluster-admin", "alice"),
        "kind": "ClusterRoleBinding",
    }
    assert call_as(alice, "GET", "/api/v1/namespaces/bob/pods").status == 403

    assert call_as(carol, "POST", f"{RBAC}/clusterrolebindings", binding).status == 201
    assert call_as(alice, "GET", "/api/v1/namespaces/bob/pods").status == 200


def test_can_i_list_reports_the_learners_rules(alice):
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": "alice"},
    }
    path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"

    status = call_as(alice, "POST", path, review).body["status"]

    rules = status["resourceRules"]
    assert any("pods" in r["resources"] and "create" in r["verbs"] for r in rules)
    assert not any("pods/status" in r["resources"] and "update" in r["verbs"] for r in rules)
    assert any("/apis/*" in r["nonResourceURLs"] for r in status["nonResourceRules"])
    elsewhere = call_as(alice, "POST", path, {**review, "spec": {"namespace": "bob"}})
    assert not any("pods" in r["resources"] for r in elsewhere.body["status"]["resourceRules"])


def test_can_i_asks_about_paths_too(alice):
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"nonResourceAttributes": {"verb": "get", "path": "/apis/apps"}},
    }
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    assert call_as(alice, "POST", path, review).body["status"]["allowed"] is True
    review["spec"]["nonResourceAttributes"]["path"] = "/metrics"
    assert call_as(alice, "POST", path, review).body["status"]["allowed"] is False


def test_a_custom_kind_reaches_learners_through_an_aggregated_role(carol, alice):
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    role_path = f"{RBAC}/clusterroles/warehouse:custom:widgets.shop.example.com"
    assert call_as(carol, "POST", crds, widget_crd()).status == 201
    role = call_as(carol, "GET", role_path).body
    assert role["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"

    path = "/apis/shop.example.com/v1/namespaces/alice/widgets"
    assert call_as(alice, "POST", path, widget("w")).status == 201

    call_as(carol, "DELETE", f"{crds}/widgets.shop.example.com")
    assert call_as(carol, "GET", role_path).status == 404


def test_the_policy_is_read_again_after_a_write_elsewhere(alice, bob):
    """A binding written behind this process's back (another server process, or `manage.py
    kubeconfig` making a learner) lets its subject in at once: a refusal is checked against
    the newest policy first. An allowed request is answered from the cached policy, so a
    binding removed elsewhere stops applying once that is checked again (a second)."""
    from apiserver.registry import kinds, store

    assert call_as(bob, "GET", ALICE_PODS).status == 403
    rolebindings = kinds.lookup("rbac.authorization.k8s.io", "v1", "rolebindings")
    binding = {
        **_binding("b", "ClusterRole", "view", "bob"),
        "metadata": {"name": "b", "namespace": "alice"},
    }
    store.create(rolebindings, binding)
    authorizer._cache.checked -= 2 * authorizer.REFUSAL_RECHECK_SECONDS
    assert call_as(bob, "GET", ALICE_PODS).status == 200

    store.delete(rolebindings, "alice", "b")
    authorizer._cache.checked -= 2 * authorizer.REFUSAL_RECHECK_SECONDS
    assert call_as(bob, "GET", ALICE_PODS).status == 200
    authorizer._cache.checked = 0.0  # as if a second had passed
    assert call_as(bob, "GET", ALICE_PODS).status == 403


def test_can_i_list_sees_a_binding_written_elsewhere_at_once(alice, bob):
    """`kubectl auth can-i --list` right after a grant made by another process lists it."""
    from apiserver.registry import kinds, store

    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": "alice"},
    }
    path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"

    def bob_may_list_pods() -> bool:
        rules = call_as(bob, "POST", path, review).body["status"]["resourceRules"]
        return any("pods" in r["resources"] and "list" in r["verbs"] for r in rules)

    assert not bob_may_list_pods()
    rolebindings = kinds.lookup("rbac.authorization.k8s.io", "v1", "rolebindings")
    binding = {
        **_binding("b", "ClusterRole", "view", "bob"),
        "metadata": {"name": "b", "namespace": "alice"},
    }
    store.create(rolebindings, binding)
    authorizer._cache.checked -= 2 * authorizer.REFUSAL_RECHECK_SECONDS
    assert bob_may_list_pods()


def test_the_default_policy_is_stored_once_and_old_learners_get_their_binding(carol):
    old_timer = ClusterUser.objects.create(name="dora", namespace="dora")
    accounts.ensure_namespace("dora")  # signed up before authorization was RBAC
    assert call_as(old_timer, "GET", "/api/v1/namespaces/dora/pods").status == 403

    made = accounts.write_default_policy()

    assert made > 10
    assert accounts.write_default_policy() == 0
    assert call_as(old_timer, "GET", "/api/v1/namespaces/dora/pods").status == 200
    admin = call_as(carol, "GET", f"{RBAC}/clusterroles/admin").body
    assert any("rolebindings" in rule["resources"] for rule in admin["rules"])
    assert admin["aggregationRule"]["clusterRoleSelectors"]


def test_a_learner_cannot_loosen_her_own_share(alice):
    quota_path = "/api/v1/namespaces/alice/resourcequotas/warehouse-quota"
    quota = call_as(alice, "GET", quota_path).body
    quota["spec"]["hard"]["pods"] = "1000"

    assert call_as(alice, "PUT", quota_path, quota).status == 403
    assert call_as(alice, "DELETE", quota_path).status == 403
    limits = "/api/v1/namespaces/alice/limitranges/warehouse-defaults"
    assert call_as(alice, "DELETE", limits).status == 403
    assert call_as(alice, "GET", limits).status == 200
