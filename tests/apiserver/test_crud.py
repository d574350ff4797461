"""Create, read, update, delete: the everyday verbs, with Kubernetes' own answers."""

from tests.apiserver.conftest import configmap, deployment, pod, service

PODS = "/api/v1/namespaces/alice/pods"
DEPLOYMENTS = "/apis/apps/v1/namespaces/alice/deployments"


def test_alice_creates_gets_lists_and_deletes_a_pod(api, alice):
    created = api.post(PODS, alice, pod("web"))
    assert created.status_code == 201
    meta = created.json_body["metadata"]
    assert meta["namespace"] == "alice"
    assert meta["uid"]
    assert meta["resourceVersion"].isdigit()
    assert meta["creationTimestamp"].endswith("Z")

    fetched = api.get(f"{PODS}/web", alice)
    assert fetched.status_code == 200
    assert fetched.json_body == created.json_body

    listed = api.get(PODS, alice).json_body
    assert listed["kind"] == "PodList"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["web"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])

    deleted = api.delete(f"{PODS}/web", alice)
    assert deleted.status_code == 200
    assert deleted.json_body["kind"] == "Pod"
    assert api.get(f"{PODS}/web", alice).status_code == 404


def test_missing_object_is_404_not_found_in_kubectl_wording(api, alice):
    response = api.get(f"{PODS}/ghost", alice)
    assert response.status_code == 404
    assert response.json_body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "ghost" not found',
        "reason": "NotFound",
        "details": {"name": "ghost", "kind": "pods"},
        "code": 404,
    }


def test_named_group_messages_carry_the_group(api, alice):
    response = api.get(f"{DEPLOYMENTS}/ghost", alice)
    assert response.json_body["message"] == 'deployments.apps "ghost" not found'
    assert response.json_body["details"]["group"] == "apps"


def test_creating_an_existing_name_is_409_already_exists(api, alice):
    assert api.post(PODS, alice, pod("web")).status_code == 201
    again = api.post(PODS, alice, pod("web"))
    assert again.status_code == 409
    assert again.json_body["reason"] == "AlreadyExists"
    assert again.json_body["message"] == 'pods "web" already exists'


def test_update_with_a_stale_resource_version_is_409_conflict(api, alice):
    created = api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("cfg", a="1"))
    stale = created.json_body
    fresh = dict(stale, data={"a": "2"})
    assert api.put("/api/v1/namespaces/alice/configmaps/cfg", alice, fresh).status_code == 200
    late = dict(stale, data={"a": "3"})
    response = api.put("/api/v1/namespaces/alice/configmaps/cfg", alice, late)
    assert response.status_code == 409
    assert response.json_body["reason"] == "Conflict"
    assert response.json_body["message"] == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_a_stale_replace_is_a_conflict_even_when_it_would_also_be_invalid(api, alice):
    stale = api.post(PODS, alice, pod("web")).json_body
    fresh = api.get(f"{PODS}/web", alice).json_body
    fresh["metadata"]["labels"] = {"tier": "front"}
    assert api.put(f"{PODS}/web", alice, fresh).status_code == 200
    stale["spec"]["restartPolicy"] = "Never"  # a field a Pod update may not change

    response = api.put(f"{PODS}/web", alice, stale)

    assert response.status_code == 409
    assert response.json_body["reason"] == "Conflict"


def test_update_without_resource_version_is_unconditional(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("cfg", a="1"))
    body = configmap("cfg", a="2")
    response = api.put("/api/v1/namespaces/alice/configmaps/cfg", alice, body)
    assert response.status_code == 200
    assert response.json_body["data"] == {"a": "2"}


def test_put_of_a_missing_object_is_404(api, alice):
    response = api.put("/api/v1/namespaces/alice/configmaps/ghost", alice, configmap("ghost"))
    assert response.status_code == 404


def test_deployment_generation_moves_only_with_the_spec(api, alice):
    created = api.post(DEPLOYMENTS, alice, deployment("shop")).json_body
    assert created["metadata"]["generation"] == 1
    labelled = dict(created)
    labelled["metadata"] = dict(created["metadata"], labels={"team": "a"})
    after_label = api.put(f"{DEPLOYMENTS}/shop", alice, labelled).json_body
    assert after_label["metadata"]["generation"] == 1
    after_label["spec"]["replicas"] = 4
    after_spec = api.put(f"{DEPLOYMENTS}/shop", alice, after_label).json_body
    assert after_spec["metadata"]["generation"] == 2


def test_service_gets_a_cluster_ip_and_default_ports(api, alice):
    created = api.post("/api/v1/namespaces/alice/services", alice, service("shop", 8080))
    assert created.status_code == 201
    spec = created.json_body["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["clusterIP"].startswith("10.96.")
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]


def test_a_services_cluster_ip_may_not_change_once_set(api, alice):
    path = "/api/v1/namespaces/alice/services"
    created = api.post(path, alice, service("shop", 8080)).json_body
    ip = created["spec"]["clusterIP"]
    moved = dict(created, spec=dict(created["spec"], clusterIP="10.96.7.7"))
    refused = api.put(f"{path}/shop", alice, moved)
    assert refused.status_code == 422
    assert refused.json_body["message"] == (
        'Service "shop" is invalid: spec.clusterIPs[0]: Invalid value: '
        '[]string{"10.96.7.7"}: may not change once set'
    )
    # Sent again without it (`kubectl replace` of the first manifest), it keeps its IP.
    again = api.put(
        f"{path}/shop", alice, dict(service("shop", 9090), metadata=created["metadata"])
    )
    assert again.status_code == 200, again.json_body
    assert again.json_body["spec"]["clusterIP"] == ip
    external = {"type": "ExternalName", "externalName": "shop.example.com"}
    gone = api.put(f"{path}/shop", alice, dict(again.json_body, spec=external))
    assert gone.status_code == 200, gone.json_body


def test_configmap_round_trip_and_delete_returns_success_status(api, alice):
    path = "/api/v1/namespaces/alice/configmaps"
    assert api.post(path, alice, configmap("cfg", colour="blue")).status_code == 201
    assert api.get(f"{path}/cfg", alice).json_body["data"] == {"colour": "blue"}
    deleted = api.delete(f"{path}/cfg", alice)
    assert deleted.status_code == 200
    assert deleted.json_body["kind"] == "Status"
    assert deleted.json_body["status"] == "Success"
    assert deleted.json_body["details"]["name"] == "cfg"


def test_delete_collection_with_a_label_selector(api, alice):
    for name, tier in (("a", "front"), ("b", "front"), ("c", "back")):
        api.post(PODS, alice, pod(name, tier=tier))
    response = api.delete(PODS, alice, labelSelector="tier=front")
    assert response.status_code == 200
    remaining = [i["metadata"]["name"] for i in api.get(PODS, alice).json_body["items"]]
    assert remaining == ["c"]


def test_instructor_creates_a_namespace_and_objects_need_their_namespace(api, carol):
    missing = api.post("/api/v1/namespaces/shop/configmaps", carol, configmap("cfg"))
    assert missing.status_code == 404
    assert missing.json_body["message"] == 'namespaces "shop" not found'
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    created = api.post("/api/v1/namespaces", carol, namespace)
    assert created.status_code == 201
    assert created.json_body["status"] == {"phase": "Active"}
    assert created.json_body["metadata"]["labels"] == {"kubernetes.io/metadata.name": "shop"}
    assert api.post("/api/v1/namespaces/shop/configmaps", carol, configmap("c")).status_code == 201


def test_deleting_a_namespace_takes_its_contents(api, carol, alice):
    api.post(PODS, alice, pod("web"))
    assert api.delete("/api/v1/namespaces/alice", carol).status_code == 200
    assert api.get(f"{PODS}/web", carol).status_code == 404


def test_default_namespace_exists_after_migrate(api, carol):
    response = api.get("/api/v1/namespaces/default", carol)
    assert response.status_code == 200
    assert response.json_body["status"]["phase"] == "Active"


def test_nodes_are_cluster_scoped(api, carol, alice):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}
    created = api.post("/api/v1/nodes", carol, node)
    assert created.status_code == 201
    assert "namespace" not in created.json_body["metadata"]
    assert api.get("/api/v1/nodes/node-1", alice).status_code == 200


def test_all_namespaces_list_for_an_instructor(api, alice, bob, carol):
    api.post(PODS, alice, pod("a"))
    api.post("/api/v1/namespaces/bob/pods", bob, pod("b"))
    items = api.get("/api/v1/pods", carol).json_body["items"]
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [
        ("alice", "a"),
        ("bob", "b"),
    ]


def test_list_pagination_with_limit_and_continue(api, alice):
    for name in ("a", "b", "c"):
        api.post(PODS, alice, pod(name))
    first = api.get(PODS, alice, limit="2").json_body
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 1
    rest = api.get(PODS, alice, limit="2", **{"continue": first["metadata"]["continue"]})
    assert [i["metadata"]["name"] for i in rest.json_body["items"]] == ["c"]


def test_dry_run_stores_nothing(api, alice):
    response = api.post(PODS, alice, pod("web"), dryRun="All")
    assert response.status_code == 201
    assert api.get(f"{PODS}/web", alice).status_code == 404


def test_scale_subresource(api, alice):
    api.post(DEPLOYMENTS, alice, deployment("shop", replicas=2))
    scale = api.get(f"{DEPLOYMENTS}/shop/scale", alice).json_body
    assert scale["kind"] == "Scale"
    assert scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"]["selector"] == "app=shop"
    patched = api.patch(
        f"{DEPLOYMENTS}/shop/scale",
        alice,
        {"spec": {"replicas": 5}},
        "application/merge-patch+json",
    )
    assert patched.status_code == 200
    assert patched.json_body["spec"]["replicas"] == 5
    assert api.get(f"{DEPLOYMENTS}/shop", alice).json_body["spec"]["replicas"] == 5


def test_status_subresource_changes_only_status(api, alice, scheduler):
    created = api.post(DEPLOYMENTS, alice, deployment("shop")).json_body
    created["status"] = {"replicas": 2, "readyReplicas": 1}
    created["spec"]["replicas"] = 9
    # A controller's job: the learner's own `admin` role only reads status.
    assert api.put(f"{DEPLOYMENTS}/shop/status", alice, created).status_code == 403
    response = api.put(f"{DEPLOYMENTS}/shop/status", scheduler, created)
    assert response.status_code == 200
    assert response.json_body["status"] == {"replicas": 2, "readyReplicas": 1}
    assert response.json_body["spec"]["replicas"] == 2


def test_main_resource_writes_keep_the_stored_status(api, alice):
    api.post(PODS, alice, pod("web"))
    current = api.get(f"{PODS}/web", alice).json_body
    current["status"] = {"phase": "Running"}
    current["metadata"]["labels"] = {"app": "web", "x": "y"}
    updated = api.put(f"{PODS}/web", alice, current).json_body
    assert updated["status"]["phase"] == "Pending"
    assert updated["metadata"]["labels"]["x"] == "y"


def test_pod_specs_are_mostly_immutable(api, alice):
    current = api.post(PODS, alice, pod("web")).json_body
    current["spec"]["restartPolicy"] = "Never"
    response = api.put(f"{PODS}/web", alice, current)
    assert response.status_code == 422
    assert response.json_body["details"]["causes"][0]["reason"] == "FieldValueForbidden"
    current["spec"]["restartPolicy"] = "Always"
    current["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert api.put(f"{PODS}/web", alice, current).status_code == 200


def test_scheduler_binds_a_pod_once(api, alice, scheduler):
    api.post(PODS, alice, pod("web"))
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "web"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
    }
    bound = api.post(f"{PODS}/web/binding", scheduler, binding)
    assert bound.status_code == 201
    stored = api.get(f"{PODS}/web", alice).json_body
    assert stored["spec"]["nodeName"] == "node-1"
    assert stored["status"]["conditions"][0]["type"] == "PodScheduled"
    again = api.post(f"{PODS}/web/binding", scheduler, binding)
    assert again.status_code == 409


def test_a_pod_on_a_node_terminates_gracefully(api, alice, scheduler):
    api.post(PODS, alice, pod("web"))
    binding = {"metadata": {"name": "web"}, "target": {"kind": "Node", "name": "node-1"}}
    api.post(f"{PODS}/web/binding", scheduler, dict(binding, apiVersion="v1", kind="Binding"))
    first = api.delete(f"{PODS}/web", alice).json_body
    assert first["metadata"]["deletionTimestamp"]
    assert first["metadata"]["deletionGracePeriodSeconds"] == 30
    assert api.get(f"{PODS}/web", alice).status_code == 200
    final = api.delete(f"{PODS}/web", scheduler, {"gracePeriodSeconds": 0})
    assert final.status_code == 200
    assert api.get(f"{PODS}/web", alice).status_code == 404


def test_unscheduled_pods_go_at_once(api, alice):
    api.post(PODS, alice, pod("web"))
    api.delete(f"{PODS}/web", alice)
    assert api.get(f"{PODS}/web", alice).status_code == 404


def test_finalizers_hold_a_delete_until_removed(api, alice):
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    api.post("/api/v1/namespaces/alice/configmaps", alice, body)
    path = "/api/v1/namespaces/alice/configmaps/held"
    assert api.delete(path, alice).status_code == 200
    marked = api.get(path, alice).json_body
    assert marked["metadata"]["deletionTimestamp"]
    released = api.patch(
        path, alice, {"metadata": {"finalizers": None}}, "application/merge-patch+json"
    )
    assert released.status_code == 200
    assert api.get(path, alice).status_code == 404


def test_unsupported_method_is_405(api, alice):
    response = api.request("PUT", PODS, alice, pod("x"))
    assert response.status_code == 405
    assert response.json_body["reason"] == "MethodNotAllowed"
