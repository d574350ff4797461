"""Workshops: carol runs one, learners join with its code, and her dashboard follows them."""

import pytest
from django.test import Client

from apiserver.models import AuditRecord, ClusterUser, StoredObject
from learning import workshops
from learning.models import JOIN_ALPHABET, Question, Workshop
from learning.workshops import instructor_identity
from tests.learning.conftest import api, pod

pytestmark = pytest.mark.usefixtures("quizzes")


def new_workshop(carol: Client, title: str = "Kubernetes API 101") -> Workshop:
    response = carol.post("/learn/workshops/", {"title": title})
    assert response.status_code == 302
    return Workshop.objects.get(title=title)


def join(code: str, name: str, client: Client | None = None) -> tuple[Client, object]:
    browser = client or Client()
    response = browser.post("/join/", {"code": code, "display_name": name})
    return browser, response


def joined_learner(workshop: Workshop, display_name: str) -> ClusterUser:
    return workshop.participants.get(learner__display_name=display_name).learner


def board(carol: Client, workshop: Workshop) -> str:
    response = carol.get(f"/learn/workshops/{workshop.code}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_carol_creates_a_workshop_with_a_short_unambiguous_code(carol):
    workshop = new_workshop(carol)
    assert len(workshop.code) == 6
    assert set(workshop.code) <= set(JOIN_ALPHABET)
    assert not set(workshop.code) & set("O0I1L")
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert workshop.code in page and "Nobody has joined yet." in page


def test_creating_workshops_needs_a_staff_login(shopper, alice):
    for client in (shopper, alice):
        response = client.get("/learn/workshops/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_learner_joins_with_a_valid_code_and_gets_a_namespace_and_kubeconfig(carol):
    workshop = new_workshop(carol)
    browser, response = join(workshop.code.lower()[:3] + " " + workshop.code[3:], "Ada Lovelace")
    assert response.status_code == 302 and response["Location"] == "/learn/"
    ada = joined_learner(workshop, "Ada Lovelace")
    assert ada.name.startswith("ada-lovelace-") and ada.namespace == ada.name
    assert ada.role == ClusterUser.Role.LEARNER
    page = browser.get("/learn/").content.decode()
    assert f"Welcome to {workshop.title}, Ada Lovelace!" in page
    assert "/learner/kubeconfig/" in page
    kubeconfig = browser.get("/learner/kubeconfig/")
    assert kubeconfig.status_code == 200 and ada.token in kubeconfig.content.decode()
    assert "Ada Lovelace" in browser.get("/orders/").content.decode()


def test_joining_twice_from_the_same_browser_keeps_the_same_learner(carol):
    workshop = new_workshop(carol)
    browser, _ = join(workshop.code, "Ada")
    join(workshop.code, "Ada again", browser)
    assert workshop.participants.count() == 1


def test_an_unknown_code_gets_a_friendly_error(carol):
    new_workshop(carol)
    _, response = join("ZZZZZZ", "Ada")
    assert response.status_code == 400
    assert "There is no workshop with that code" in response.content.decode()
    _, response = join("ABC", "Ada")
    assert "A workshop code has 6 letters and digits" in response.content.decode()
    assert not ClusterUser.objects.filter(display_name="Ada").exists()


def test_a_closed_workshop_refuses_new_joiners(carol):
    workshop = new_workshop(carol)
    assert carol.post(f"/learn/workshops/{workshop.code}/toggle/").status_code == 302
    _, response = join(workshop.code, "Late Larry")
    assert response.status_code == 400
    assert "This workshop is closed for joining" in response.content.decode()
    carol.post(f"/learn/workshops/{workshop.code}/toggle/")
    _, response = join(workshop.code, "Late Larry")
    assert response.status_code == 302


def test_what_a_joiner_types_is_escaped_everywhere(carol):
    workshop = new_workshop(carol)
    browser, _ = join(workshop.code, "<script>alert(1)</script>")
    for page in (board(carol, workshop), browser.get("/learn/").content.decode()):
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_learners_cannot_touch_each_others_namespaces(carol):
    workshop = new_workshop(carol)
    join(workshop.code, "Ann")
    join(workshop.code, "Ben")
    ann, ben = joined_learner(workshop, "Ann"), joined_learner(workshop, "Ben")
    assert ann.namespace != ben.namespace
    assert api(ann, "POST", f"/api/v1/namespaces/{ann.namespace}/pods", pod("web")).status == 201
    assert api(ben, "GET", f"/api/v1/namespaces/{ann.namespace}/pods/web").status == 403
    assert api(ben, "POST", f"/api/v1/namespaces/{ann.namespace}/pods", pod("x")).status == 403
    assert api(ben, "GET", f"/api/v1/namespaces/{ben.namespace}/pods/web").status == 404


def test_the_dashboard_shows_joined_count_progress_pods_and_quiz_scores(carol):
    workshop = new_workshop(carol)
    ann_browser, _ = join(workshop.code, "Ann")
    join(workshop.code, "Ben")
    ann = joined_learner(workshop, "Ann")
    pods = f"/api/v1/namespaces/{ann.namespace}/pods"
    api(ann, "POST", pods, pod("web"))
    api(ann, "POST", pods, pod("broken", "nosuch/parcel:never"))
    ann_browser.post("/learn/lessons/front-door/order-web/check/", HTTP_HX_REQUEST="true")
    question = Question.objects.get(slug="who-talks")
    right = next(i for i, c in enumerate(question.data["choices"]) if c.get("correct"))
    ann_browser.post(f"/learn/quizzes/front-door/{question.pk}/", {"choice": right})

    page = board(carol, workshop)
    assert "<html" not in page
    assert '<strong id="joined-count">2</strong>' in page
    ann_row = page[page.index(f'data-learner="{ann.name}"') :].split("</tr>")[0]
    assert '<td class="steps-passed">1 / ' in ann_row
    assert '<td class="quiz-points">1</td>' in ann_row
    assert "<td>2</td>" in ann_row  # two orders in flight: nothing has scheduled them yet
    assert "Ann: 2 points" in page and "Ben: 0 points" in page
    assert page.index("Ann: 2 points") < page.index("Ben: 0 points")


def test_the_dashboard_counts_failed_orders(carol, control_plane):
    workshop = new_workshop(carol)
    join(workshop.code, "Ann")
    ann = joined_learner(workshop, "Ann")
    api(ann, "POST", f"/api/v1/namespaces/{ann.namespace}/pods", pod("broken", "nosuch/x:1"))
    control_plane.step(times=3)
    ann_row = board(carol, workshop).split(f'data-learner="{ann.name}"')[1].split("</tr>")[0]
    assert '<td class="gc-status--error">1</td>' in ann_row


def test_the_dashboard_reads_pods_through_the_api_as_the_instructor(carol):
    workshop = new_workshop(carol)
    join(workshop.code, "Ann")
    board(carol, workshop)
    identity = instructor_identity(carol.user)
    assert identity.role == ClusterUser.Role.INSTRUCTOR
    assert AuditRecord.objects.filter(user=identity.username, path="/api/v1/pods").exists()


def test_the_full_dashboard_page_watches_its_board(carol):
    workshop = new_workshop(carol)
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert "<html" in page
    assert f'sse-connect="/learn/workshops/{workshop.code}/events/"' in page
    assert "hx-trigger" not in page


def test_only_the_workshops_instructor_or_a_superuser_sees_the_dashboard(
    carol, dave, alice, shopper, store_manager
):
    workshop = new_workshop(carol)
    url = f"/learn/workshops/{workshop.code}/"
    refused = dave.get(url)
    assert refused.status_code == 403 and "Not your workshop" in refused.content.decode()
    assert dave.get(url, HTTP_HX_REQUEST="true").status_code == 403
    assert dave.post(f"{url}toggle/").status_code == 403
    assert alice.get(url)["Location"].startswith("/admin/login/")
    assert shopper.get(url)["Location"].startswith("/admin/login/")
    assert store_manager.get(url).status_code == 200
    assert carol.get("/learn/workshops/NOPE42/").status_code == 404
    assert carol.get("/learn/workshops/%00%01x/").status_code == 404
    assert carol.post("/learn/workshops/%00/toggle/").status_code == 404
    assert workshop.title not in dave.get("/learn/workshops/").content.decode()


def test_carol_resets_a_learners_namespace_through_the_api(carol):
    workshop = new_workshop(carol)
    join(workshop.code, "Ann")
    join(workshop.code, "Ben")
    ann, ben = joined_learner(workshop, "Ann"), joined_learner(workshop, "Ben")
    api(ann, "POST", f"/api/v1/namespaces/{ann.namespace}/pods", pod("web"))
    api(
        ann,
        "POST",
        f"/api/v1/namespaces/{ann.namespace}/configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c"},
            "data": {"a": "b"},
        },
    )
    api(ben, "POST", f"/api/v1/namespaces/{ben.namespace}/pods", pod("web"))
    response = carol.post(f"/learn/workshops/{workshop.code}/learners/{ann.pk}/reset/")
    assert response.status_code == 302
    assert api(ann, "GET", f"/api/v1/namespaces/{ann.namespace}/pods/web").status == 404
    assert not StoredObject.objects.filter(namespace=ann.namespace, name="c").exists()
    assert api(ben, "GET", f"/api/v1/namespaces/{ben.namespace}/pods/web").status == 200
    identity = instructor_identity(carol.user)
    deleted = AuditRecord.objects.filter(user=identity.username, verb="deletecollection")
    # pods, configmaps and her RoleBinding, which the reset makes again: she can go on.
    assert deleted.filter(namespace=ann.namespace).count() == 3
    assert api(ann, "GET", f"/api/v1/namespaces/{ann.namespace}/pods").status == 200
    # Her share of the cluster stays.
    assert StoredObject.objects.filter(namespace=ann.namespace, name="warehouse-quota").exists()


def test_carol_revokes_a_learners_token(carol):
    workshop = new_workshop(carol)
    ann_browser, _ = join(workshop.code, "Ann")
    ann = joined_learner(workshop, "Ann")
    old_token = ann.token
    carol.post(f"/learn/workshops/{workshop.code}/learners/{ann.pk}/revoke/")
    ann.refresh_from_db()
    assert not ann.is_active and ann.token != old_token
    assert api(ann, "GET", f"/api/v1/namespaces/{ann.namespace}/pods").status == 401
    assert ann_browser.get("/learner/kubeconfig/").status_code == 302
    assert "revoked" in board(carol, workshop)
    carol.post(f"/learn/workshops/{workshop.code}/learners/{ann.pk}/revoke/")
    ann.refresh_from_db()
    assert ann.is_active


def test_controls_only_act_on_the_workshops_own_learners(carol, dave, alice):
    mine, his = new_workshop(carol), new_workshop(dave, "Dave's class")
    join(his.code, "Zed")
    zed = joined_learner(his, "Zed")
    assert carol.post(f"/learn/workshops/{mine.code}/learners/{zed.pk}/revoke/").status_code == 404
    alice_user = ClusterUser.objects.get(name="alice")
    assert (
        carol.post(f"/learn/workshops/{mine.code}/learners/{alice_user.pk}/reset/").status_code
        == 404
    )
    zed.refresh_from_db()
    assert zed.is_active


def test_another_app_can_add_a_panel_to_the_dashboard(carol, monkeypatch, tmp_path, settings):
    (tmp_path / "scenario_panel.html").write_text(
        "<section><h2>Scenarios for {{ workshop.code }}</h2><p>{{ panel.state }}</p></section>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    monkeypatch.setattr(workshops, "PANELS", [])
    workshops.register_panel("scenario_panel.html", lambda request, w: {"state": "no outage"})
    workshops.register_panel("hidden.html", lambda request, w: None)
    workshop = new_workshop(carol)
    page = carol.get(f"/learn/workshops/{workshop.code}/").content.decode()
    assert f"<h2>Scenarios for {workshop.code}</h2><p>no outage</p>" in page
