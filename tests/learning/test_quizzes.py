"""Quizzes: alice answers each type of question, right and wrong, and tries again."""

import pytest
from django.core.management import call_command
from django.utils.html import escape

from learning import grading
from learning.models import Answer, Question, Quiz, QuizAttempt
from tests.learning.conftest import api, deployment, learner

pytestmark = pytest.mark.usefixtures("quizzes")


def question(slug: str) -> Question:
    return Question.objects.get(slug=slug)


def answer(client, q: Question, data: dict, htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/learn/quizzes/{q.quiz.slug}/{q.pk}/", data, **headers)


def right_choice(q: Question) -> int:
    return next(i for i, c in enumerate(q.data["choices"]) if c.get("correct"))


def wrong_choice(q: Question) -> int:
    return next(i for i, c in enumerate(q.data["choices"]) if not c.get("correct"))


def front_door_total() -> int:
    return Question.objects.filter(quiz__slug="front-door").count()


def test_there_are_at_least_twelve_questions_of_all_four_types():
    assert Question.objects.count() >= 12
    assert set(Question.objects.values_list("type", flat=True)) == {
        "choice",
        "match",
        "order",
        "do",
    }
    for q in Question.objects.all():
        assert grading.problem_with(q.type, q.data) == "", q


def test_the_quiz_page_needs_a_learner(shopper):
    assert shopper.get("/learn/quizzes/front-door/")["Location"].startswith("/learner/")


def test_the_quiz_page_shows_a_form_per_question(alice):
    page = alice.get("/learn/quizzes/front-door/").content.decode()
    for q in Quiz.objects.get(slug="front-door").questions.all():
        assert f'action="/learn/quizzes/front-door/{q.pk}/"' in page
    assert 'type="radio"' in page and "<select" in page


def test_a_right_multiple_choice_answer_scores_with_its_explanation(alice):
    q = question("who-talks")
    response = answer(alice, q, {"choice": right_choice(q)})
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "Right!" in fragment and "The binding is written through the front door" in fragment
    assert 'id="quiz-score" class="learn-score" hx-swap-oob="true"' in fragment
    assert "Score: 1 right out of 1 answered" in fragment


def test_a_wrong_multiple_choice_answer_explains_every_choice(alice):
    q = question("kubectl-is")
    picked = wrong_choice(q)
    fragment = answer(alice, q, {"choice": picked}).content.decode()
    assert "Not quite." in fragment
    for choice in q.data["choices"]:
        assert escape(choice["why"]) in fragment
    assert "your answer" in fragment and "the right answer" in fragment
    assert Answer.objects.get(question=q).correct is False


def test_the_first_answer_counts_until_a_retry(alice):
    q = question("kubectl-is")
    answer(alice, q, {"choice": wrong_choice(q)})
    fragment = answer(alice, q, {"choice": right_choice(q)}).content.decode()
    assert "Not quite." in fragment
    assert Answer.objects.filter(question=q).count() == 1

    assert alice.post("/learn/quizzes/front-door/retry/").status_code == 302
    assert "Right!" in answer(alice, q, {"choice": right_choice(q)}).content.decode()
    assert QuizAttempt.objects.filter(learner__name="alice").count() == 2


def test_matching_all_pairs_is_right(alice):
    q = question("mapping")
    data = {f"pair-{i}": i for i in range(len(q.data["pairs"]))}
    fragment = answer(alice, q, data).content.decode()
    assert "Right!" in fragment and "The shop&#x27;s website → The API server" in fragment


def test_swapping_two_pairs_is_wrong_and_shows_the_right_matches(alice):
    q = question("mapping")
    data = {f"pair-{i}": i for i in range(len(q.data["pairs"]))}
    data["pair-0"], data["pair-1"] = 1, 0
    fragment = answer(alice, q, data).content.decode()
    assert "Not quite." in fragment
    assert "(it is: Resources and their objects)" in fragment


def test_putting_the_gates_in_order_is_right(alice):
    q = question("gates")
    data = {f"position-{i}": i + 1 for i in range(len(q.data["steps"]))}
    assert "Right!" in answer(alice, q, data).content.decode()


def test_putting_admission_before_authorization_is_wrong(alice):
    q = question("gates")
    data = {f"position-{i}": i + 1 for i in range(len(q.data["steps"]))}
    authorization = q.data["steps"].index(
        "Authorization decides whether that user may create this kind here"
    )
    admission = authorization + 1
    data[f"position-{authorization}"], data[f"position-{admission}"] = (
        admission + 1,
        authorization + 1,
    )
    fragment = answer(alice, q, data).content.decode()
    assert "Not quite." in fragment and "(should be: Authorization decides" in fragment


def test_incomplete_or_nonsense_answers_are_refused_without_scoring(alice):
    gates, mapping, choice = question("gates"), question("mapping"), question("who-talks")
    repeated = {f"position-{i}": 1 for i in range(len(gates.data["steps"]))}
    assert "Use each position once" in answer(alice, gates, repeated).content.decode()
    assert "Match every item" in answer(alice, mapping, {"pair-0": "x"}).content.decode()
    assert "Pick one of the answers" in answer(alice, choice, {"choice": "99"}).content.decode()
    assert not Answer.objects.exists()
    plain = answer(alice, choice, {}, htmx=False)
    assert plain.status_code == 302
    assert "Pick one of the answers" in alice.get(plain["Location"]).content.decode()


def test_a_do_it_question_checks_alices_real_objects(alice):
    q = question("three-replicas")
    fragment = answer(alice, q, {}).content.decode()
    assert "You have no Deployments yet." in fragment
    assert not Answer.objects.exists()
    api(learner("alice"), "POST", "/apis/apps/v1/namespaces/alice/deployments", deployment("s", 3))
    assert "Right!" in answer(alice, q, {}).content.decode()
    assert Answer.objects.get(question=q).correct


def test_a_question_of_another_quiz_is_a_404(alice):
    q = question("gates")
    assert alice.post(f"/learn/quizzes/front-door/{q.pk}/", {}).status_code == 404


def test_the_results_page_shows_score_and_attempts(alice):
    who, kubectl_is = question("who-talks"), question("kubectl-is")
    answer(alice, who, {"choice": right_choice(who)})
    answer(alice, kubectl_is, {"choice": wrong_choice(kubectl_is)})
    total = front_door_total()
    page = alice.get("/learn/quizzes/front-door/results/").content.decode()
    assert f"This attempt: 1 of {total} right (2 answered)" in page
    assert page.count("not answered") == total - 2
    alice.post("/learn/quizzes/front-door/retry/")
    page = alice.get("/learn/quizzes/front-door/results/").content.decode()
    assert f"This attempt: 0 of {total} right" in page and f"1 of {total}</li>" in page


def test_the_quiz_list_shows_the_best_score(alice):
    who = question("who-talks")
    answer(alice, who, {"choice": right_choice(who)})
    alice.post("/learn/quizzes/front-door/retry/")
    page = alice.get("/learn/quizzes/").content.decode()
    assert f"1 of {front_door_total()}" in page


def test_load_quizzes_is_idempotent_and_keeps_admin_additions(capsys):
    quiz = Quiz.objects.get(slug="front-door")
    Question.objects.create(
        quiz=quiz, slug="extra", type="choice", prompt="?", data={"choices": []}, position=99
    )
    before = Question.objects.count()
    call_command("load_quizzes")
    assert Question.objects.count() == before
    assert "Loaded" in capsys.readouterr().out


def test_the_admin_refuses_an_answer_key_it_could_not_mark(store_manager):
    quiz = Quiz.objects.get(slug="front-door")
    q = quiz.questions.first()
    response = store_manager.post(
        f"/admin/learning/question/{q.pk}/change/",
        {
            "quiz": quiz.pk,
            "slug": q.slug,
            "type": "choice",
            "prompt": q.prompt,
            "data": '{"choices": [{"text": "a"}, {"text": "b"}]}',
            "position": 1,
        },
    )
    assert response.status_code == 200
    assert "Mark exactly one choice as correct." in response.content.decode()
