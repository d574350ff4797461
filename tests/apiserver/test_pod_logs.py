"""GET pods/NAME/log: the kubelet's lines, shaped by the query as kube-apiserver does."""

from datetime import UTC, datetime, timedelta

import pytest

from apiserver.registry import kinds, store
from tests.apiserver.conftest import pod

PODS = "/api/v1/namespaces/alice/pods"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _started(name: str, seconds_ago: int, containers: list[str] | None = None) -> None:
    """Say, as a kubelet would, that the Pod's containers started `seconds_ago`."""
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds_ago)

    def change(obj: dict) -> dict:
        names = containers or [c["name"] for c in obj["spec"]["containers"]]
        obj["spec"]["nodeName"] = "node-1"
        obj["status"] = {
            "phase": "Running",
            "containerStatuses": [
                {"name": n, "state": {"running": {"startedAt": _stamp(started)}}, "lastState": {}}
                for n in names
            ],
        }
        return obj

    store.update(kinds.by_api_version_kind("v1", "Pod"), "alice", name, change)


@pytest.fixture
def ticker(api, alice) -> str:
    body = pod("ticker", image="busybox:1.36")
    body["spec"]["containers"][0]["command"] = [
        "sh",
        "-c",
        "echo hi; while true; do echo tick; sleep 10; done",
    ]
    assert api.post(PODS, alice, body).status_code == 201
    _started("ticker", 35)
    return f"{PODS}/ticker/log"


def _text(response) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_the_log_as_text_with_the_query_applied(api, alice, ticker):
    assert _text(api.get(ticker, alice)).splitlines() == ["hi", "tick", "tick", "tick", "tick"]
    assert _text(api.get(ticker, alice, tailLines="2")).splitlines() == ["tick", "tick"]
    assert _text(api.get(ticker, alice, tailLines="0")) == ""
    # Lines written in the last 12 s: the tick at 30 s (and, by the second, none older).
    recent = _text(api.get(ticker, alice, sinceSeconds="12")).splitlines()
    assert recent == ["tick"]
    assert _text(api.get(ticker, alice, limitBytes="5")) == "hi\nti"
    stamped = _text(api.get(ticker, alice, timestamps="true", tailLines="1"))
    assert stamped.endswith(".000000000Z tick\n")


def test_bad_options_and_other_learners_are_refused(api, alice, bob, ticker):
    assert api.get(ticker, alice, tailLines="many").status_code == 400
    assert api.get(ticker, alice, sinceSeconds="0").status_code == 422
    assert api.get(ticker, alice, container="sidecar").status_code == 400
    assert api.get(ticker, bob).status_code == 403
    assert api.get(f"{PODS}/nobody/log", alice).status_code == 404
    assert api.post(ticker, alice, {}).status_code == 405


def test_several_containers_need_a_name(api, alice):
    body = pod("pair")
    body["spec"]["containers"].append({"name": "sidecar", "image": "redis:7"})
    assert api.post(PODS, alice, body).status_code == 201
    _started("pair", 5)
    refused = api.get(f"{PODS}/pair/log", alice)
    assert refused.status_code == 400
    assert refused.json_body["message"] == (
        "a container name must be specified for pod pair, choose one of: [main sidecar]"
    )
    assert "Ready to accept connections" in _text(
        api.get(f"{PODS}/pair/log", alice, container="sidecar")
    )


def test_a_pod_that_has_not_started_has_no_log_yet(api, alice):
    assert api.post(PODS, alice, pod("early")).status_code == 201
    refused = api.get(f"{PODS}/early/log", alice)
    assert refused.status_code == 400
    assert refused.json_body["message"] == (
        'container "main" in pod "early" is waiting to start: ContainerCreating'
    )
