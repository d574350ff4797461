"""Alice takes her learner account to the terminal: the kubeconfig download."""

import yaml
from django.test import Client

from tests.shop.conftest import SERVER, learner


def test_kubeconfig_downloads_as_a_named_yaml_file(alice):
    response = alice.get("/learner/kubeconfig/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml"
    assert response["Content-Disposition"] == 'attachment; filename="warehouse-alice.kubeconfig"'
    config = yaml.safe_load(response.content)
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == SERVER
    assert cluster["cluster"]["certificate-authority-data"]
    (user,) = config["users"]
    assert user["user"]["token"] == learner("alice").token
    (context,) = config["contexts"]
    assert context["context"]["namespace"] == "alice"


def test_each_learner_gets_only_their_own_token(alice, bob):
    config = yaml.safe_load(bob.get("/learner/kubeconfig/").content)

    (user,) = config["users"]
    assert user["user"]["token"] == learner("bob").token
    assert learner("alice").token not in bob.get("/learner/kubeconfig/").content.decode()


def test_kubeconfig_needs_a_learner():
    response = Client().get("/learner/kubeconfig/")

    assert response.status_code == 302
    assert response["Location"] == "/learner/?next=%2Flearner%2Fkubeconfig%2F"
