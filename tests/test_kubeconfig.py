import base64
import io
import stat

import pytest
import yaml
from django.core.management import CommandError, call_command

from apiserver.models import ClusterUser, StoredObject
from apiserver.registry import store
from apiserver.server import tls
from apiserver.server.kubeconfig import KubeconfigError, ensure_user, kubeconfig_for

SERVER = "https://127.0.0.1:6443"


@pytest.fixture(autouse=True)
def state_dir(tmp_path, settings):
    settings.STATE_DIR = tmp_path
    settings.WAREHOUSE_API_HOSTS = []
    settings.WAREHOUSE_API_URL = SERVER
    return tmp_path


@pytest.fixture
def alice(db) -> ClusterUser:
    return ClusterUser.objects.create(name="alice", namespace="alice")


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("kubeconfig", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_kubeconfig_names_server_ca_token_and_namespace(alice):
    config = yaml.safe_load(kubeconfig_for(alice, SERVER))

    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == SERVER
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == tls.ca_pem()
    assert "insecure-skip-tls-verify" not in cluster["cluster"]
    (user,) = config["users"]
    assert user == {"name": "alice", "user": {"token": alice.token}}
    (context,) = config["contexts"]
    assert context["context"] == {"cluster": cluster["name"], "user": "alice", "namespace": "alice"}
    assert config["current-context"] == context["name"]


@pytest.mark.parametrize("server", ["http://127.0.0.1:6443", "127.0.0.1:6443", "https://"])
def test_kubeconfig_refuses_anything_but_https(alice, server):
    with pytest.raises(KubeconfigError, match="https://"):
        kubeconfig_for(alice, server)


def test_command_creates_learner_with_own_namespace(db):
    out, err = _run("alice")

    user = ClusterUser.objects.get(name="alice")
    assert (user.role, user.namespace, user.is_active) == ("learner", "alice", True)
    assert "Created learner alice" in err
    config = yaml.safe_load(out)
    assert config["users"][0]["user"]["token"] == user.token
    assert config["clusters"][0]["cluster"]["server"] == SERVER


def test_command_is_idempotent(db):
    first, _ = _run("alice")
    second, err = _run("alice")

    assert first == second
    assert ClusterUser.objects.filter(name="alice").count() == 1
    assert "Created" not in err


def test_command_takes_a_server_url(db):
    out, _ = _run("alice", "--server", "https://localhost:7443/")

    assert yaml.safe_load(out)["clusters"][0]["cluster"]["server"] == "https://localhost:7443"


def test_command_warns_when_the_certificate_misses_the_host(db):
    _, err = _run("alice", "--server", "https://shop.example:6443")

    assert "does not name shop.example" in err
    assert "WAREHOUSE_API_HOSTS" in err


def test_command_refuses_plain_http(db):
    with pytest.raises(CommandError, match="kubectl sends its token only over HTTPS"):
        _run("alice", "--server", "http://127.0.0.1:8000")
    assert not ClusterUser.objects.exists()


@pytest.mark.parametrize(
    "name", ["Alice", "al_ice", "-alice", "alice-", "a" * 64, "alice.smith", "ali ce"]
)
def test_command_refuses_names_that_are_not_dns_labels(db, name):
    with pytest.raises(CommandError, match="not a valid learner name"):
        _run("--", name)
    assert not ClusterUser.objects.exists()


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_command_refuses_the_clusters_own_namespaces(db, name):
    with pytest.raises(CommandError, match="reserved"):
        _run(name)


def test_instructor_flag_creates_or_promotes(db, alice):
    _run("bob", "--instructor")
    _run("alice", "--instructor")

    assert ClusterUser.objects.get(name="bob").role == "instructor"
    alice.refresh_from_db()
    assert alice.role == "instructor"


def test_without_the_flag_an_instructor_stays_one(db):
    ClusterUser.objects.create(name="carol", role="instructor", namespace="carol")

    _run("carol")

    assert ClusterUser.objects.get(name="carol").role == "instructor"


def test_deactivated_and_system_users_get_no_kubeconfig(db):
    ClusterUser.objects.create(name="dave", namespace="dave", is_active=False)
    ClusterUser.objects.create(name="scheduler", role="system")

    with pytest.raises(CommandError, match="deactivated"):
        _run("dave")
    with pytest.raises(CommandError, match="control-plane user"):
        _run("scheduler")


def test_output_file_is_private(db, tmp_path):
    target = tmp_path / "alice.yaml"

    out, err = _run("alice", "-o", str(target))

    assert out == ""
    assert f"KUBECONFIG={target}" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert yaml.safe_load(target.read_text())["users"][0]["name"] == "alice"


def test_ensure_user_returns_whether_it_created(db):
    user, created = ensure_user("erin")
    again, created_again = ensure_user("erin")

    assert (created, created_again) == (True, False)
    assert again.pk == user.pk


def test_command_creates_the_learners_namespace_once(db):
    _run("alice")
    _run("alice")

    assert store.namespace_exists("alice")
    rows = StoredObject.objects.filter(resource__endswith="namespaces", name="alice")
    assert rows.count() == 1
