"""Saving and summing up what each learner has done: steps passed and quiz scores."""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apiserver.accounts import ClusterUser
from learning import checks, lessons
from learning.checks import CheckResult
from learning.models import Answer, LessonAfresh, Quiz, QuizAttempt, StepProgress


def check_step(
    learner: ClusterUser, lesson: lessons.Lesson, step: lessons.Step
) -> tuple[CheckResult, StepProgress]:
    """Run a step's check as the learner and remember the outcome; a pass is kept for good.

    After the learner started the lesson afresh, the check counts only requests sent since.
    """
    result = checks.run(step.check, learner, step.params, since=started_afresh(learner, lesson))
    with transaction.atomic():
        record, _ = StepProgress.objects.select_for_update().get_or_create(
            learner=learner, lesson=lesson.slug, step=step.slug
        )
        record.attempts = F("attempts") + 1
        record.last_message = result.message[:500]
        if result.passed and record.passed_at is None:
            record.passed_at = timezone.now()
        record.save()
    record.refresh_from_db()
    return result, record


def started_afresh(learner: ClusterUser, lesson: lessons.Lesson) -> datetime | None:
    """When the learner last started `lesson` afresh, or None if they never did."""
    return (
        LessonAfresh.objects.filter(learner=learner, lesson=lesson.slug)
        .values_list("since", flat=True)
        .first()
    )


def passed_steps(learner: ClusterUser | None) -> set[tuple[str, str]]:
    """(lesson, step) pairs this learner has passed."""
    if learner is None:
        return set()
    return set(
        StepProgress.objects.filter(learner=learner, passed_at__isnull=False).values_list(
            "lesson", "step"
        )
    )


def current_attempt(learner: ClusterUser, quiz: Quiz) -> QuizAttempt:
    """The learner's latest attempt at `quiz`, started now if there is none."""
    attempt = QuizAttempt.objects.filter(learner=learner, quiz=quiz).first()
    if attempt is None:
        attempt = QuizAttempt.objects.create(learner=learner, quiz=quiz)
    return attempt


def best_scores(learner_ids: list[int]) -> dict[int, dict[str, int]]:
    """For each learner, their best score per quiz slug (correct answers in one attempt)."""
    best: dict[int, dict[str, int]] = {i: {} for i in learner_ids}
    rows = (
        Answer.objects.filter(attempt__learner_id__in=learner_ids, correct=True)
        .values_list("attempt_id", "attempt__learner_id", "attempt__quiz__slug")
        .order_by()
    )
    per_attempt: dict[tuple[int, int, str], int] = {}
    for attempt_id, learner_id, quiz_slug in rows:
        key = (attempt_id, learner_id, quiz_slug)
        per_attempt[key] = per_attempt.get(key, 0) + 1
    for (_, learner_id, quiz_slug), score in per_attempt.items():
        scores = best.setdefault(learner_id, {})
        scores[quiz_slug] = max(scores.get(quiz_slug, 0), score)
    return best


def steps_passed_counts(learner_ids: list[int]) -> dict[int, int]:
    """How many available steps each learner has passed."""
    available = {(lesson.slug, step.slug) for lesson, step in lessons.checkable_steps()}
    counts = dict.fromkeys(learner_ids, 0)
    rows = StepProgress.objects.filter(
        learner_id__in=learner_ids, passed_at__isnull=False
    ).values_list("learner_id", "lesson", "step")
    for learner_id, lesson, step in rows:
        if (lesson, step) in available:
            counts[learner_id] += 1
    return counts
