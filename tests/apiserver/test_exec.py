"""pods/NAME/exec: what the container holds for the shell, and the refusals before a stream."""

import base64

from apiserver import pipeline
from apiserver.endpoints.handlers.connect import ExecSession
from apiserver.endpoints.request import ApiRequest
from apiserver.registry import kinds, store
from controlplane import shell
from tests.apiserver.conftest import pod

PODS = "/api/v1/namespaces/alice/pods"


def _running(name: str) -> None:
    def change(obj: dict) -> dict:
        obj["spec"]["nodeName"] = "node-1"
        obj["status"] = {
            "phase": "Running",
            "podIP": "10.244.1.7",
            "containerStatuses": [
                {"name": c["name"], "state": {"running": {}}} for c in obj["spec"]["containers"]
            ],
        }
        return obj

    store.update(kinds.by_api_version_kind("v1", "Pod"), "alice", name, change)


def _exec(user, name: str, *command: str, **query: str):
    request = ApiRequest(
        "GET",
        f"{PODS}/{name}/exec",
        query={"command": " ".join(command), "stdout": "true", **query},
        headers={"authorization": f"Bearer {user.token}"},
        command=list(command),
    )
    return pipeline.open_exec(request)


def _printed(session: ExecSession, script: str) -> list[str]:
    runner = shell.Shell(session.box, trusting=False)
    return [str(value) for kind, value in runner.run(script) if kind in ("out", "err")]


def test_a_secret_volume_env_from_and_the_pods_fields(api, alice):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"password": base64.b64encode(b"s3cret").decode()},
    }
    assert api.post("/api/v1/namespaces/alice/secrets", alice, secret).status_code == 201
    body = pod("till", image="busybox:1.36")
    body["spec"]["containers"][0].update(
        envFrom=[{"secretRef": {"name": "db"}, "prefix": "DB_"}],
        env=[{"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        volumeMounts=[{"name": "db", "mountPath": "/secrets/db"}],
    )
    body["spec"]["volumes"] = [{"name": "db", "secret": {"secretName": "db"}}]
    assert api.post(PODS, alice, body).status_code == 201
    _running("till")

    session = _exec(alice, "till", "sh")
    assert isinstance(session, ExecSession), session
    assert _printed(session, "cat /secrets/db/password; echo $DB_password $ME") == [
        "s3cret",
        "s3cret till",
    ]
    assert _printed(session, "cat /etc/hosts")[-1] == "10.244.1.7\ttill"
    assert "search alice.svc.cluster.local" in _printed(session, "cat /etc/resolv.conf")[0]


def test_refused_before_the_stream_in_kubernetes_words(api, alice, bob):
    body = pod("shelf")
    body["spec"]["containers"].append({"name": "side", "image": "busybox:1.36"})
    assert api.post(PODS, alice, body).status_code == 201
    pending = _exec(alice, "shelf", "env", container="main")
    assert pending.body["message"] == "pod shelf does not have a host assigned"
    _running("shelf")
    chosen = _exec(alice, "shelf", "env")
    assert chosen.body["message"] == (
        "a container name must be specified for pod shelf, choose one of: [main side]"
    )
    assert _exec(alice, "shelf", "env", container="main").container == "main"
    assert _exec(alice, "ghost", "env").status == 404
    forbidden = _exec(bob, "shelf", "env", container="main")
    assert forbidden.status == 403
    assert 'cannot create resource "pods/exec"' in forbidden.body["message"]


def test_an_spdy_upgrade_is_told_to_use_a_newer_kubectl(api, alice):
    assert api.post(PODS, alice, pod("desk")).status_code == 201
    _running("desk")
    refused = api.post(f"{PODS}/desk/exec", alice, None, command="env", stdout="true")
    assert refused.status_code == 400
    assert "kubectl 1.30 and newer" in refused.json_body["message"]
