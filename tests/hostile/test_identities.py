"""Identities are the keys to the cluster: nobody may take one that is not theirs, or farm them.

A learner name becomes a namespace, so a newcomer must never be handed a namespace that
already exists (an instructor's demo, a scenario's, the cluster's own), nor a name the app
keeps for itself. New names, join attempts and admin logins are limited per address, and a
workshop can insist that every learner types its code.
"""

import pytest
from django.test import Client

from apiserver import accounts, limits
from apiserver.client import Client as ApiClient
from apiserver.filters import fairness
from apiserver.models import ClusterUser
from apiserver.registry import kinds, store
from apiserver.server.kubeconfig import KubeconfigError, check_name
from learning.models import Workshop
from shop.learners import SESSION_LEARNER

SERVER = "https://127.0.0.1:6443"
TAKEN = "That name is taken by someone else"


@pytest.fixture(autouse=True)
def _ready(catalog, settings, tmp_path_factory):
    kinds.invalidate()
    settings.STATE_DIR = tmp_path_factory.getbasetemp() / "identities-state"
    settings.WAREHOUSE_API_HOSTS = []
    settings.WAREHOUSE_API_URL = SERVER
    yield
    kinds.invalidate()


@pytest.fixture
def limited(settings):
    """Per-address limits switched on, tight, in this process's memory."""
    settings.WAREHOUSE_RATE_LIMIT_BACKEND = "memory"
    settings.WAREHOUSE_NEW_LEARNERS_LIMIT = 2
    settings.WAREHOUSE_JOIN_LIMIT = 3
    settings.WAREHOUSE_ADMIN_LOGIN_LIMIT = 2
    fairness.reset()
    yield settings
    fairness.reset()


@pytest.fixture
def instructor(db, django_user_model):
    user = django_user_model.objects.create_user("carol", "carol@example.com", "pw", is_staff=True)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def _demo_namespace(name: str) -> None:
    """An instructor's namespace with a Secret in it, made before any learner picks the name."""
    accounts.ensure_namespace(name)
    admin = ApiClient(accounts.system_user("warehouse-demo"), "demo")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "answers", "namespace": name},
        "stringData": {"password": "hunter2"},
    }
    admin.create("secrets", secret, namespace=name)


# Namespace takeover --------------------------------------------------------------------


def test_a_new_learner_never_adopts_an_existing_namespace():
    _demo_namespace("demo")
    browser = Client()

    response = browser.post("/learner/", {"name": "demo"})

    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert not ClusterUser.objects.filter(name="demo").exists()
    assert SESSION_LEARNER not in browser.session
    assert store.namespace_exists("demo")


def test_a_taken_namespace_stays_taken_on_the_next_try():
    _demo_namespace("demo")
    browser = Client()
    browser.post("/learner/", {"name": "demo"})

    again = browser.post("/learner/", {"name": "demo"})

    assert TAKEN in again.content.decode()
    assert not ClusterUser.objects.filter(name="demo").exists()


def test_an_outage_hands_nobody_an_existing_namespace():
    """With the front door shut, nothing can say the namespace is free: no new name then."""
    from learning import faults

    _demo_namespace("demo")
    faults.start_scenario("outage", 60, "carol")
    try:
        response = Client().post("/learner/", {"name": "demo"})
    finally:
        faults.stop_scenario()
    again = Client().post("/learner/", {"name": "demo"})

    assert "front door is not answering" in response.content.decode()
    assert TAKEN in again.content.decode()
    assert not ClusterUser.objects.filter(name="demo").exists()


def test_a_learner_holds_rights_only_through_their_own_rolebinding():
    browser = Client()
    browser.post("/learner/", {"name": "alice"})
    alice = ClusterUser.objects.get(name="alice")
    demo = ApiClient(accounts.system_user("warehouse-demo"), "demo")

    binding = demo.get("rolebindings", "warehouse-learner", "alice")

    assert binding["roleRef"]["name"] == "admin"
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}
    ]
    assert ApiClient(alice, "kubectl").exchange("GET", "/api/v1/namespaces/demo/pods").status == 403


def test_the_overload_scenarios_namespace_is_not_for_learners():
    accounts.ensure_namespace(accounts.NOISY_NEIGHBOUR)

    response = Client().post("/learner/", {"name": accounts.NOISY_NEIGHBOUR})

    assert response.status_code == 200
    assert not ClusterUser.objects.filter(
        name=accounts.NOISY_NEIGHBOUR, role=ClusterUser.Role.LEARNER
    ).exists()


def test_the_browser_that_made_a_name_still_comes_back_to_its_namespace():
    browser = Client()
    assert browser.post("/learner/", {"name": "alice"}).status_code == 302
    browser.post("/learner/sign-out/")

    again = browser.post("/learner/", {"name": "alice"})

    assert again.status_code == 302
    assert browser.session[SESSION_LEARNER] == ClusterUser.objects.get(name="alice").pk


# Reserved names ------------------------------------------------------------------------


RESERVED = [
    "default",
    "kube-system",
    "kube-public",
    "system-admin",
    "instructor-1",
    "instructor-42",
    "noisy-neighbour",
    "warehouse-accounts",
    "node-1",
]


@pytest.mark.parametrize("name", RESERVED)
def test_reserved_names_cannot_be_picked(name):
    response = Client().post("/learner/", {"name": name})

    assert response.status_code == 200
    assert "belongs to the cluster itself" in response.content.decode()
    assert not ClusterUser.objects.filter(name=name, role=ClusterUser.Role.LEARNER).exists()


@pytest.mark.parametrize("name", RESERVED)
def test_one_place_says_which_names_are_reserved(name):
    assert accounts.is_reserved(name)
    with pytest.raises(KubeconfigError, match="reserved"):
        check_name(name)


@pytest.mark.parametrize("name", ["alice", "team-7", "kubernetes", "defaults", "instructor"])
def test_ordinary_names_are_not_reserved(name):
    assert not accounts.is_reserved(name)


def test_an_instructors_identity_cannot_be_claimed(instructor):
    from learning.workshops import instructor_identity

    identity = instructor_identity(instructor.user)

    response = Client().post("/learner/", {"name": identity.name})

    assert response.status_code == 200
    assert SESSION_LEARNER not in Client().session
    assert ClusterUser.objects.get(name=identity.name).role == ClusterUser.Role.INSTRUCTOR


def test_a_joiner_called_instructor_gets_an_ordinary_name(instructor):
    workshop = Workshop.objects.create(title="K8s 101", instructor=instructor.user)

    response = Client().post("/join/", {"code": workshop.code, "display_name": "Instructor"})

    assert response.status_code == 302
    joined = workshop.participants.get().learner
    assert not accounts.is_reserved(joined.name)


# Rate limits ---------------------------------------------------------------------------


def test_new_names_are_limited_per_address(limited):
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for name in ("farm-1", "farm-2"):
        assert browser.post("/learner/", {"name": name}).status_code == 302

    refused = browser.post("/learner/", {"name": "farm-3"})

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    page = refused.content.decode()
    assert "Please wait a little" in page and 'role="alert"' in page
    assert not ClusterUser.objects.filter(name="farm-3").exists()


def test_coming_back_to_your_own_name_is_not_counted(limited):
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for name in ("farm-1", "farm-2"):
        browser.post("/learner/", {"name": name})

    assert browser.post("/learner/", {"name": "farm-1"}).status_code == 302


def test_another_address_has_its_own_budget(limited):
    for name in ("farm-1", "farm-2"):
        Client(REMOTE_ADDR="203.0.113.7").post("/learner/", {"name": name})

    other = Client(REMOTE_ADDR="198.51.100.9").post("/learner/", {"name": "fresh"})

    assert other.status_code == 302


def test_a_forged_forwarded_for_header_buys_no_new_budget(limited):
    for index in range(2):
        Client(REMOTE_ADDR="203.0.113.7").post("/learner/", {"name": f"farm-{index}"})

    forged = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.8.7")
    assert forged.post("/learner/", {"name": "farm-9"}).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(limited):
    limited.WAREHOUSE_BEHIND_PROXY = True
    proxy = "10.0.0.1"
    for index in range(2):
        browser = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"evil, 203.0.113.{index}")
        assert browser.post("/learner/", {"name": f"farm-{index}"}).status_code == 302
    same = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.0")

    assert same.post("/learner/", {"name": "farm-9"}).status_code == 302
    assert same.post("/learner/", {"name": "farm-10"}).status_code == 429


def test_guessing_join_codes_is_limited_per_address(limited, instructor):
    Workshop.objects.create(title="K8s 101", instructor=instructor.user, code="K7MXQ3")
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for guess in ("AAAAAA", "BBBBBB", "CCCCCC"):
        assert guesser.post("/join/", {"code": guess, "display_name": "Eve"}).status_code == 400

    refused = guesser.post("/join/", {"code": "K7MXQ3", "display_name": "Eve"})

    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert not Workshop.objects.get(code="K7MXQ3").participants.exists()


def test_admin_login_attempts_are_limited_per_address(limited, django_user_model):
    django_user_model.objects.create_user("carol", "carol@example.com", "pw", is_staff=True)
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(2):
        wrong = browser.post("/admin/login/", {"username": "carol", "password": "guess"})
        assert wrong.status_code == 200

    refused = browser.post("/admin/login/", {"username": "carol", "password": "pw"})

    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert "_auth_user_id" not in browser.session
    assert browser.get("/admin/login/").status_code == 200


def test_limits_check_raises_with_a_wait(limited, rf):
    request = rf.post("/join/", REMOTE_ADDR="192.0.2.1")
    for _ in range(3):
        limits.check("join", request)

    with pytest.raises(limits.TooManyAttempts) as refused:
        limits.check("join", request)

    assert refused.value.retry_after >= 1


# Join codes ----------------------------------------------------------------------------


def test_a_workshop_can_require_the_code_to_be_typed(instructor):
    workshop = Workshop.objects.create(
        title="K8s 101", instructor=instructor.user, code_required=True
    )

    dashboard = instructor.get(f"/learn/workshops/{workshop.code}/").content.decode()
    join_page = Client().get(f"/join/?code={workshop.code}").content.decode()

    assert f"?code={workshop.code}" not in dashboard
    assert f'value="{workshop.code}"' not in join_page


def test_without_the_option_the_link_carries_the_code(instructor):
    workshop = Workshop.objects.create(title="K8s 101", instructor=instructor.user)

    dashboard = instructor.get(f"/learn/workshops/{workshop.code}/").content.decode()
    join_page = Client().get(f"/join/?code={workshop.code}").content.decode()

    assert f"?code={workshop.code}" in dashboard
    assert f'value="{workshop.code}"' in join_page


def test_the_instructor_turns_the_option_on_and_off_without_javascript(instructor):
    workshop = Workshop.objects.create(title="K8s 101", instructor=instructor.user)
    url = f"/learn/workshops/{workshop.code}/require-code/"

    on = instructor.post(url, {"code_required": "on"})
    workshop.refresh_from_db()
    assert on.status_code == 302 and workshop.code_required

    instructor.post(url, {})
    workshop.refresh_from_db()
    assert not workshop.code_required


def test_the_option_can_be_set_when_creating_a_workshop(instructor):
    page = instructor.get("/learn/workshops/").content.decode()
    assert 'name="code_required"' in page and "<label" in page

    instructor.post("/learn/workshops/", {"title": "Locked", "code_required": "on"})

    assert Workshop.objects.get(title="Locked").code_required


def test_only_the_workshops_instructor_changes_the_option(instructor, django_user_model):
    workshop = Workshop.objects.create(title="K8s 101", instructor=instructor.user)
    other = django_user_model.objects.create_user("dave", "d@example.com", "pw", is_staff=True)
    stranger = Client()
    stranger.force_login(other)

    response = stranger.post(
        f"/learn/workshops/{workshop.code}/require-code/", {"code_required": "on"}
    )

    assert response.status_code == 403
    workshop.refresh_from_db()
    assert not workshop.code_required


def test_joining_still_needs_the_code(instructor):
    workshop = Workshop.objects.create(
        title="K8s 101", instructor=instructor.user, code_required=True
    )

    response = Client().post("/join/", {"code": "", "display_name": "Eve"})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not workshop.participants.exists()
