"""The quiz bank measures: enough questions, one quiz per lesson, answers not given away.

Options are shuffled per learner and per attempt and stay put on a reload; the right
answer sits in no favourite place, neither in the fixture nor on the pages learners see;
and questions a learner missed come back first next time.
"""

import re
from collections import Counter

import pytest
from django.test import Client

from learning import lessons, quizdata
from learning.models import Question, Quiz
from tests.learning.conftest import learner
from tests.shop.conftest import signed_in

pytestmark = pytest.mark.usefixtures("quizzes")

MOST_IN_ONE_PLACE = 0.40
ARTICLE = re.compile(r'<article id="question-(\d+)".*?</article>', re.S)
RADIO = re.compile(r'name="choice" value="(\d+)"')
PAIR_OPTION = re.compile(r'<select name="pair-0".*?</select>', re.S)
ORDER_LABEL = re.compile(r'<select name="position-(\d+)"')
OPTION_VALUE = re.compile(r'<option value="(\d+)">')


def bank() -> list[dict]:
    return quizdata.read()


def fixture_questions() -> list[tuple[str, dict]]:
    return [(quiz["slug"], q) for quiz in bank() for q in quiz.get("questions", [])]


def fixture_choices() -> list[dict]:
    return [q for _, q in fixture_questions() if q["type"] == "choice"]


def right_index(choices: list[dict]) -> int:
    return next(i for i, c in enumerate(choices) if c.get("correct"))


def shown(page: str) -> dict[int, list[int]]:
    """For each unanswered question on a quiz page, its options' keys in the order shown."""
    orders = {}
    for match in ARTICLE.finditer(page):
        article = match.group(0)
        if 'name="choice"' in article:
            orders[int(match.group(1))] = [int(v) for v in RADIO.findall(article)]
        elif 'name="pair-0"' in article:
            select = PAIR_OPTION.search(article).group(0)
            orders[int(match.group(1))] = [int(v) for v in OPTION_VALUE.findall(select)]
        elif 'name="position-0"' in article:
            orders[int(match.group(1))] = [int(v) for v in ORDER_LABEL.findall(article)]
    return orders


def article_ids(page: str) -> list[int]:
    return [int(m.group(1)) for m in ARTICLE.finditer(page)]


def quiz_page(client: Client, slug: str) -> str:
    response = client.get(f"/learn/quizzes/{slug}/")
    assert response.status_code == 200
    return response.content.decode()


def post_answer(client: Client, q: Question, data: dict) -> str:
    url = f"/learn/quizzes/{q.quiz.slug}/{q.pk}/"
    return client.post(url, data, HTTP_HX_REQUEST="true").content.decode()


# The bank itself --------------------------------------------------------------------------


def test_the_bank_holds_at_least_forty_questions_in_the_fixture_and_the_database():
    assert len(fixture_questions()) >= 40
    assert Question.objects.count() >= 40


def test_every_lesson_has_its_own_quiz():
    quizzes_by_lesson = Counter(quiz["lesson"] for quiz in bank())
    for lesson in lessons.all_lessons():
        assert quizzes_by_lesson[lesson.slug] >= 1, f"lesson {lesson.slug} has no quiz"
        assert Quiz.objects.filter(lesson=lesson.slug).exists()
    known = {lesson.slug for lesson in lessons.all_lessons()}
    assert set(quizzes_by_lesson) <= known, "a quiz follows a lesson that does not exist"


def test_the_original_quiz_slugs_are_kept():
    assert {"front-door", "inside-a-create", "shop-and-cluster"} <= {q["slug"] for q in bank()}


def test_every_question_and_every_choice_explains_itself():
    for quiz, q in fixture_questions():
        assert str(q.get("why", "")).strip(), f"{quiz}/{q['slug']} has no why"
        for choice in q.get("choices", []):
            assert str(choice.get("why", "")).strip(), f"{quiz}/{q['slug']}: {choice['text']}"


def test_no_place_in_the_fixture_holds_more_than_two_fifths_of_the_right_answers():
    places = Counter(right_index(q["choices"]) for q in fixture_choices())
    total = sum(places.values())
    assert total >= 20
    assert max(places.values()) / total <= MOST_IN_ONE_PLACE, places


def test_the_right_answer_is_rarely_the_longest():
    longest = 0
    questions = fixture_choices()
    for q in questions:
        lengths = [len(c["text"]) for c in q["choices"]]
        if lengths[right_index(q["choices"])] >= max(lengths):
            longest += 1
    assert longest / len(questions) <= MOST_IN_ONE_PLACE, f"{longest} of {len(questions)}"


def test_every_choice_question_offers_at_least_three_answers():
    for q in fixture_choices():
        assert len(q["choices"]) >= 3, q["slug"]


# Shuffling through the pages --------------------------------------------------------------


def test_two_learners_see_their_own_orders_and_a_reload_keeps_them(alice, bob):
    alice_first = shown(quiz_page(alice, "inside-a-create"))
    assert shown(quiz_page(alice, "inside-a-create")) == alice_first
    bob_first = shown(quiz_page(bob, "inside-a-create"))
    assert shown(quiz_page(bob, "inside-a-create")) == bob_first
    assert alice_first.keys() == bob_first.keys()
    assert len(alice_first) >= 8
    assert alice_first != bob_first
    # The same options, only their order differs.
    for question_id, order in alice_first.items():
        assert sorted(order) == sorted(bob_first[question_id])


def test_a_retry_reshuffles_and_then_holds_still(alice):
    before = shown(quiz_page(alice, "overload"))
    alice.post("/learn/quizzes/overload/retry/")
    after = shown(quiz_page(alice, "overload"))
    assert before.keys() == after.keys()
    assert before != after
    assert shown(quiz_page(alice, "overload")) == after


def test_an_htmx_answer_keeps_the_order_of_the_page(alice):
    q = Question.objects.get(slug="server-down")
    on_page = shown(quiz_page(alice, "front-door"))[q.pk]
    fragment = post_answer(alice, q, {"choice": right_index(q.data["choices"])})
    texts = [q.data["choices"][i]["text"] for i in on_page]
    positions = [fragment.index(text) for text in texts]
    assert positions == sorted(positions), "the feedback lists the options as they were shown"


def test_the_mark_follows_the_answer_not_where_it_was_shown(alice):
    q = Question.objects.get(slug="apf-limits")
    right = right_index(q.data["choices"])
    places = set()
    for _ in range(8):
        order = shown(quiz_page(alice, "overload"))[q.pk]
        places.add(order.index(right))
        assert "Right!" in post_answer(alice, q, {"choice": right})
        alice.post("/learn/quizzes/overload/retry/")
    assert len(places) >= 2, "the right answer was shown in several places"
    wrong = next(i for i in range(len(q.data["choices"])) if i != right)
    assert "Not quite." in post_answer(alice, q, {"choice": wrong})


def test_no_place_on_the_pages_holds_more_than_two_fifths_of_the_right_answers():
    """Over a sample of learners and attempts, where each right answer was shown."""
    choices = {q.pk: q.data["choices"] for q in Question.objects.filter(type="choice")}
    places: Counter[int] = Counter()
    slugs = list(Quiz.objects.values_list("slug", flat=True))
    for name in ("ann", "ben", "cat", "dan"):
        client = signed_in(name)
        for _ in range(2):
            for slug in slugs:
                for question_id, order in shown(quiz_page(client, slug)).items():
                    if question_id in choices:
                        places[order.index(right_index(choices[question_id]))] += 1
                client.post(f"/learn/quizzes/{slug}/retry/")
    total = sum(places.values())
    assert total == 8 * len(choices)
    assert max(places.values()) / total <= MOST_IN_ONE_PLACE, places


# Missed questions come back ---------------------------------------------------------------


def test_a_missed_question_comes_first_in_the_next_attempt_until_answered_right(alice):
    missed = Question.objects.get(slug="kubectl-is")
    kept = Question.objects.get(slug="who-talks")
    choices = missed.data["choices"]
    wrong = next(i for i, c in enumerate(choices) if not c.get("correct"))
    post_answer(alice, missed, {"choice": wrong})
    post_answer(alice, kept, {"choice": right_index(kept.data["choices"])})

    page = quiz_page(alice, "front-door")
    assert "Missed last time" not in page, "the attempt it was missed in stays as it was"
    listing = alice.get("/learn/quizzes/").content.decode()
    assert "Due for review" in listing and "What is kubectl, seen from the API server?" in listing

    alice.post("/learn/quizzes/front-door/retry/")
    page = quiz_page(alice, "front-door")
    ids = article_ids(page)
    assert ids[0] == missed.pk
    assert page.count("Missed last time") == 1
    every = Quiz.objects.get(slug="front-door").questions.values_list("pk", flat=True)
    assert set(ids) == set(every)

    assert "Right!" in post_answer(alice, missed, {"choice": right_index(choices)})
    alice.post("/learn/quizzes/front-door/retry/")
    page = quiz_page(alice, "front-door")
    assert "Missed last time" not in page
    assert article_ids(page)[0] != missed.pk
    assert "Due for review" not in alice.get("/learn/quizzes/").content.decode()


def test_the_review_set_starts_the_quiz_again_with_the_missed_question_first(alice, bob):
    q = Question.objects.get(slug="apf-429")
    wrong = next(i for i, c in enumerate(q.data["choices"]) if not c.get("correct"))
    post_answer(alice, q, {"choice": wrong})
    listing = alice.get("/learn/quizzes/").content.decode()
    assert 'action="/learn/quizzes/overload/retry/"' in listing
    response = alice.post("/learn/quizzes/overload/retry/")
    assert response["Location"] == "/learn/quizzes/overload/"
    assert article_ids(quiz_page(alice, "overload"))[0] == q.pk
    # Bob never missed it: his page keeps the quiz's own order.
    assert "Due for review" not in bob.get("/learn/quizzes/").content.decode()
    first = Quiz.objects.get(slug="overload").questions.first()
    assert article_ids(quiz_page(bob, "overload"))[0] == first.pk
    assert learner("alice").attempts.filter(quiz__slug="overload").count() == 2
