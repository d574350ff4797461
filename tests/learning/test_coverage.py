"""The coverage table: every fact of the chapter is explained, practised and asked."""

import dataclasses

import pytest

from learning import checks, lessons, quizdata

QUIZZES = quizdata.read()


@pytest.fixture
def table() -> tuple[lessons.Fact, ...]:
    return lessons.coverage()


def test_every_chapter_fact_has_a_section_a_checked_step_and_a_question(table):
    problems = lessons.coverage_problems(table, QUIZZES, lessons.CHAPTER_FACTS)
    assert problems == []


def test_every_fact_is_named_once_and_says_what_it_is(table):
    names = [fact.fact for fact in table]
    assert len(names) == len(set(names))
    assert set(lessons.CHAPTER_FACTS) <= set(names)
    for fact in table:
        assert len(fact.statement) > 30, fact.fact


def test_every_checkable_step_teaches_some_fact(table):
    covered = {ref for fact in table for ref in fact.steps}
    for lesson, step in lessons.checkable_steps():
        assert f"{lesson.slug}/{step.slug}" in covered, f"{lesson.slug}/{step.slug}"


def test_a_missing_fact_is_reported(table):
    problems = lessons.coverage_problems(table[1:], QUIZZES, lessons.CHAPTER_FACTS)
    assert [p for p in problems if p.endswith("not in the table")] == [
        f"{table[0].fact}: not in the table"
    ]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("sections", (), "no section"),
        ("steps", (), "no step"),
        ("questions", (), "no question"),
        ("sections", ("front-door/No such heading",), "no section 'front-door/No such heading'"),
        ("steps", ("front-door/no-such-step",), "no step 'front-door/no-such-step'"),
        ("steps", ("no-such-lesson/order-web",), "no step 'no-such-lesson/order-web'"),
        (
            "questions",
            ("front-door/no-such-question",),
            "no question 'front-door/no-such-question'",
        ),
        ("questions", ("no-such-quiz/who-talks",), "no question 'no-such-quiz/who-talks'"),
    ],
)
def test_a_fact_lacking_anything_or_naming_what_does_not_exist_is_reported(
    table, field, value, problem
):
    broken = dataclasses.replace(table[0], **{field: value})
    assert lessons.coverage_problems((table[0],), QUIZZES) == []
    assert lessons.coverage_problems((broken,), QUIZZES) == [f"{broken.fact}: {problem}"]


def test_a_step_that_cannot_be_checked_does_not_cover_a_fact(table, monkeypatch):
    fact = next(f for f in table if "front-door/order-web" in f.steps)
    monkeypatch.delitem(checks.CHECKS, "object_exists")
    problems = lessons.coverage_problems((fact,), QUIZZES)
    assert f"{fact.fact}: step 'front-door/order-web' cannot be checked" in problems
