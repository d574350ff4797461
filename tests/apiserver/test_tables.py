"""Table output: the columns `kubectl get` prints, computed by the server."""

import pytest

from apiserver.registry.cells import human_duration
from tests.apiserver.conftest import TABLE_ACCEPT, configmap, deployment, pod, service


def _columns(table):
    return [(c["name"], c["priority"]) for c in table["columnDefinitions"]]


def test_pod_table_columns_and_row(api, alice):
    api.post("/api/v1/namespaces/alice/pods", alice, pod("web"))
    response = api.get("/api/v1/namespaces/alice/pods", alice, accept=TABLE_ACCEPT)
    table = response.json_body
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert _columns(table) == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    row = table["rows"][0]
    assert row["cells"][:4] == ["web", "0/1", "Pending", 0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "web"
    assert table["metadata"]["resourceVersion"].isdigit()


def test_running_pod_shows_ready_and_restarts(api, alice, scheduler):
    api.post("/api/v1/namespaces/alice/pods", alice, pod("web"))
    current = api.get("/api/v1/namespaces/alice/pods/web", scheduler).json_body
    current["status"] = {
        "phase": "Running",
        "podIP": "10.244.0.5",
        "containerStatuses": [
            {"name": "main", "ready": True, "restartCount": 2, "state": {"running": {}}}
        ],
    }
    api.put("/api/v1/namespaces/alice/pods/web/status", scheduler, current)
    table = api.get("/api/v1/namespaces/alice/pods/web", alice, accept=TABLE_ACCEPT).json_body
    cells = table["rows"][0]["cells"]
    assert cells[:4] == ["web", "1/1", "Running", 2]
    assert cells[5] == "10.244.0.5"


def test_crash_loop_reason_wins_over_phase(api, alice, scheduler):
    api.post("/api/v1/namespaces/alice/pods", alice, pod("web"))
    current = api.get("/api/v1/namespaces/alice/pods/web", scheduler).json_body
    current["status"] = {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "main",
                "ready": False,
                "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            }
        ],
    }
    api.put("/api/v1/namespaces/alice/pods/web/status", scheduler, current)
    table = api.get("/api/v1/namespaces/alice/pods", alice, accept=TABLE_ACCEPT).json_body
    assert table["rows"][0]["cells"][2] == "CrashLoopBackOff"


def test_deployment_table(api, alice):
    api.post("/apis/apps/v1/namespaces/alice/deployments", alice, deployment("shop", 3))
    table = api.get(
        "/apis/apps/v1/namespaces/alice/deployments", alice, accept=TABLE_ACCEPT
    ).json_body
    assert [name for name, priority in _columns(table) if priority == 0] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
    ]
    assert table["rows"][0]["cells"][:4] == ["shop", "0/3", 0, 0]
    assert table["rows"][0]["cells"][5:] == ["web", "nginx:1.27", "app=shop"]


def test_service_table(api, alice):
    api.post("/api/v1/namespaces/alice/services", alice, service("shop", 8080))
    table = api.get("/api/v1/namespaces/alice/services", alice, accept=TABLE_ACCEPT).json_body
    assert [name for name, _ in _columns(table)][:6] == [
        "Name",
        "Type",
        "Cluster-IP",
        "External-IP",
        "Port(s)",
        "Age",
    ]
    cells = table["rows"][0]["cells"]
    assert cells[1] == "ClusterIP"
    assert cells[3] == "<none>"
    assert cells[4] == "8080/TCP"


def test_configmap_secret_and_namespace_tables(api, alice):
    api.post("/api/v1/namespaces/alice/configmaps", alice, configmap("cfg", a="1", b="2"))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"k": "dg=="},
    }
    api.post("/api/v1/namespaces/alice/secrets", alice, secret)
    cm = api.get("/api/v1/namespaces/alice/configmaps", alice, accept=TABLE_ACCEPT).json_body
    assert [c["name"] for c in cm["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert cm["rows"][0]["cells"][:2] == ["cfg", 2]
    sec = api.get("/api/v1/namespaces/alice/secrets", alice, accept=TABLE_ACCEPT).json_body
    assert [c["name"] for c in sec["columnDefinitions"]] == ["Name", "Type", "Data", "Age"]
    assert sec["rows"][0]["cells"][:3] == ["s", "Opaque", 1]
    ns = api.get("/api/v1/namespaces/alice", alice, accept=TABLE_ACCEPT).json_body
    assert ns["rows"][0]["cells"][:2] == ["alice", "Active"]


def test_node_and_event_tables(api, carol):
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0"},
        },
    }
    api.post("/api/v1/nodes", carol, node)
    table = api.get("/api/v1/nodes", carol, accept=TABLE_ACCEPT).json_body
    cells = table["rows"][0]["cells"]
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Status",
        "Roles",
        "Age",
        "Version",
    ]
    assert cells[1] == "NotReady"  # a node's status is written by its kubelet, not on create
    assert cells[2] == "control-plane"
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.1"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Scheduled",
        "message": "Successfully assigned",
        "type": "Normal",
    }
    api.post("/api/v1/namespaces/default/events", carol, event)
    events = api.get("/api/v1/namespaces/default/events", carol, accept=TABLE_ACCEPT).json_body
    assert [c["name"] for c in events["columnDefinitions"] if c["priority"] == 0] == [
        "Last Seen",
        "Type",
        "Reason",
        "Object",
        "Message",
    ]
    assert events["rows"][0]["cells"][1:4] == ["Normal", "Scheduled", "pod/web"]


def test_other_kinds_get_name_and_age(api, alice):
    account = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"}}
    api.post("/api/v1/namespaces/alice/limitranges", alice, account)
    table = api.get("/api/v1/namespaces/alice/limitranges", alice, accept=TABLE_ACCEPT).json_body
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]


def test_include_object_choices(api, alice):
    api.post("/api/v1/namespaces/alice/pods", alice, pod("web"))
    path = "/api/v1/namespaces/alice/pods"
    full = api.get(path, alice, accept=TABLE_ACCEPT, includeObject="Object").json_body
    assert full["rows"][0]["object"]["kind"] == "Pod"
    bare = api.get(path, alice, accept=TABLE_ACCEPT, includeObject="None").json_body
    assert "object" not in bare["rows"][0]


def test_plain_json_when_table_is_not_asked_for(api, alice):
    assert api.get("/api/v1/namespaces/alice/pods", alice).json_body["kind"] == "PodList"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (200, "3m20s"),
        (600, "10m"),
        (7200, "120m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60 * 5, "3h5m"),
        (30 * 3600, "30h"),
        (50 * 3600, "2d2h"),
        (10 * 86400, "10d"),
        (800 * 86400, "2y70d"),
        (-5, "<invalid>"),
    ],
)
def test_human_duration_matches_kubectl(seconds, text):
    assert human_duration(seconds) == text
