"""Missed questions come back: a question answered wrong is asked again, first, next time.

A light form of spaced repetition. A question counts as missed while the learner's latest
answer to it is wrong; answering it right in a later attempt clears it. The next attempt at
the quiz puts its missed questions first, and the quiz list gathers them as a review set.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from apiserver.accounts import ClusterUser
from learning.models import Answer, Question, Quiz, QuizAttempt


def _latest_marks(answers: Iterable[tuple[int, bool]]) -> dict[int, bool]:
    """Each question's latest mark, from answers ordered oldest first."""
    latest: dict[int, bool] = {}
    for question_id, correct in answers:
        latest[question_id] = correct
    return latest


def missed_before(attempt: QuizAttempt) -> set[int]:
    """Questions the learner had wrong when `attempt` began, so this attempt asks them first.

    Only earlier attempts count, so answering in this one never reorders its page.
    """
    rows = (
        Answer.objects.filter(
            attempt__learner_id=attempt.learner_id,
            attempt__quiz_id=attempt.quiz_id,
            attempt_id__lt=attempt.pk,
        )
        .order_by("attempt_id", "answered", "pk")
        .values_list("question_id", "correct")
    )
    return {question for question, correct in _latest_marks(rows).items() if not correct}


def ordered(questions: list[Question], missed: set[int]) -> list[Question]:
    """Missed questions first, each group in the quiz's own order."""
    return [q for q in questions if q.pk in missed] + [q for q in questions if q.pk not in missed]


@dataclass
class ReviewSet:
    """One quiz's questions due for review."""

    quiz: Quiz
    questions: list[Question] = field(default_factory=list)


def due(learner: ClusterUser) -> list[ReviewSet]:
    """Every quiz with questions whose latest answer by this learner is wrong."""
    rows = (
        Answer.objects.filter(attempt__learner=learner)
        .order_by("attempt_id", "answered", "pk")
        .values_list("question_id", "correct")
    )
    wrong = {question for question, correct in _latest_marks(rows).items() if not correct}
    sets: dict[int, ReviewSet] = {}
    for question in Question.objects.filter(pk__in=wrong).select_related("quiz"):
        sets.setdefault(question.quiz_id, ReviewSet(question.quiz)).questions.append(question)
    return sorted(sets.values(), key=lambda s: (s.quiz.position, s.quiz.slug))
