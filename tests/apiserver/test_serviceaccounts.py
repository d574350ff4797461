"""ServiceAccounts: `kubectl create token` issues a token that acts as the account.

The token is a signed JWT naming `system:serviceaccount:<ns>:<name>`; it carries that
account's RBAC rights (none until a binding grants some), stops working when it expires,
when it was meant for another audience, or when its account is deleted.
"""

import base64
import json
import time
from types import SimpleNamespace

import jwt
import pytest

from apiserver import serviceaccounts
from apiserver.accounts import system_user
from apiserver.client import Client
from controlplane.controllers.common import World
from controlplane.controllers.serviceaccounts import ServiceAccountsController

ACCOUNTS = "/api/v1/namespaces/alice/serviceaccounts"
PODS = "/api/v1/namespaces/alice/pods"


def _account(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}


def _request(seconds: int | None = None, audiences: list[str] | None = None) -> dict:
    spec: dict = {}
    if seconds is not None:
        spec["expirationSeconds"] = seconds
    if audiences is not None:
        spec["audiences"] = audiences
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}


@pytest.fixture
def robot(api, alice) -> SimpleNamespace:
    """Alice's ServiceAccount `robot` and a token issued for it."""
    made = api.post(ACCOUNTS, alice, _account("robot"))
    assert made.status_code == 201, made.content
    issued = api.post(f"{ACCOUNTS}/robot/token", alice, _request())
    assert issued.status_code == 201, issued.content
    return SimpleNamespace(token=issued.json_body["status"]["token"], answer=issued.json_body)


def _bind_view(api, alice, account: str = "robot") -> None:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{account}-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": "alice"}],
    }
    made = api.post(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/alice/rolebindings", alice, binding
    )
    assert made.status_code == 201, made.content


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_token_request_answers_a_signed_token_naming_the_account(robot):
    status = robot.answer["status"]
    assert robot.answer["kind"] == "TokenRequest"
    assert robot.answer["spec"]["expirationSeconds"] == 3600
    claims = _claims(status["token"])
    assert claims["sub"] == "system:serviceaccount:alice:robot"
    assert claims["aud"] == [serviceaccounts.API_AUDIENCE]
    assert claims["kubernetes.io"]["serviceaccount"]["name"] == "robot"
    assert 3590 <= claims["exp"] - time.time() <= 3600
    assert status["expirationTimestamp"].endswith("Z")


def test_the_token_acts_as_the_account_with_its_own_rights(api, alice, robot):
    whoami = api.post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        robot,
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert whoami.status_code == 201, whoami.content
    info = whoami.json_body["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:alice:robot"
    assert set(info["groups"]) == {
        "system:serviceaccounts",
        "system:serviceaccounts:alice",
        "system:authenticated",
    }

    refused = api.get(PODS, robot)
    assert refused.status_code == 403
    assert (
        'User "system:serviceaccount:alice:robot" cannot list resource "pods"'
        in (refused.json_body["message"])
    )
    _bind_view(api, alice)
    assert api.get(PODS, robot).status_code == 200
    assert api.post(PODS, robot, {"apiVersion": "v1", "kind": "Pod"}).status_code == 403


def test_deleting_the_account_ends_its_tokens(api, alice, robot):
    _bind_view(api, alice)
    assert api.get(PODS, robot).status_code == 200
    assert api.delete(f"{ACCOUNTS}/robot", alice).status_code == 200
    assert api.get(PODS, robot).status_code == 401
    # A new account of the same name is another account: the old token stays dead.
    assert api.post(ACCOUNTS, alice, _account("robot")).status_code == 201
    assert api.get(PODS, robot).status_code == 401


def test_expired_forged_and_foreign_audience_tokens_are_refused(api, alice, robot):
    _bind_view(api, alice)
    claims = _claims(robot.token)
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, serviceaccounts._key(), "HS256")
    forged = jwt.encode(claims, b"someone else's key, just as long as ours", "HS256")
    for token in (expired, forged, robot.token[:-4] + "AAAA"):
        assert api.get(PODS, SimpleNamespace(token=token)).status_code == 401

    vault = api.post(f"{ACCOUNTS}/robot/token", alice, _request(audiences=["vault"]))
    assert vault.status_code == 201
    assert _claims(vault.json_body["status"]["token"])["aud"] == ["vault"]
    foreign = SimpleNamespace(token=vault.json_body["status"]["token"])
    assert api.get(PODS, foreign).status_code == 401


def test_token_requests_are_checked(api, alice, bob, robot):
    short = api.post(f"{ACCOUNTS}/robot/token", alice, _request(seconds=60))
    assert short.status_code == 422
    assert "may not specify a duration less than 10 minutes" in short.json_body["message"]
    missing = api.post(f"{ACCOUNTS}/nobody/token", alice, _request())
    assert missing.status_code == 404
    # Bob has no rights in alice's namespace, so cannot take a token for her account.
    assert api.post(f"{ACCOUNTS}/robot/token", bob, _request()).status_code == 403
    assert api.get(f"{ACCOUNTS}/robot/token", alice).status_code == 405
    long = api.post(f"{ACCOUNTS}/robot/token", alice, _request(seconds=10**7))
    assert long.json_body["spec"]["expirationSeconds"] == serviceaccounts.MAX_SECONDS


def test_every_namespace_gets_a_default_account(api, alice, bob):
    client = Client(system_user("controller-manager"), "controller")

    def world() -> World:
        return World(
            namespaces=client.list("namespaces")["items"],
            serviceaccounts=client.list("serviceaccounts")["items"],
        )

    controller = ServiceAccountsController(client, None, None, {})
    controller.sync(world(), None)
    names = {(a["metadata"]["namespace"], a["metadata"]["name"]) for a in world().serviceaccounts}
    assert {("alice", "default"), ("bob", "default")} <= names
    assert api.get(f"{ACCOUNTS}/default", alice).status_code == 200
    # Deleted, it is made again; a second pass over a complete world writes nothing.
    assert api.delete(f"{ACCOUNTS}/default", alice).status_code == 200
    controller.sync(world(), None)
    assert api.get(f"{ACCOUNTS}/default", alice).status_code == 200
    before = client.list("serviceaccounts")["metadata"]["resourceVersion"]
    controller.sync(world(), None)
    assert client.list("serviceaccounts")["metadata"]["resourceVersion"] == before
