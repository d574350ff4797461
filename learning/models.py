"""What the training centre remembers: quiz questions, progress per learner, workshops.

Lessons themselves live in `learning/content/lessons.yaml` (text is data, reviewed like
code); progress rows name a lesson and step by slug so lesson edits never need a migration.
Every learner record hangs off the API server's `ClusterUser`, the identity the checks use.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apiserver.accounts import ClusterUser

# No 0/O, 1/I/L, 5/S or 2/Z: a code read aloud across a room should survive the trip.
JOIN_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
JOIN_CODE_LENGTH = 6


def new_join_code() -> str:
    """A short code an instructor can write on a whiteboard."""
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class StepProgress(models.Model):
    """One learner's record of one "try it" step: attempts, and when it first passed."""

    learner = models.ForeignKey(ClusterUser, on_delete=models.CASCADE, related_name="step_progress")
    lesson = models.SlugField(max_length=80)
    step = models.SlugField(max_length=80)
    attempts = models.PositiveIntegerField(default=0)
    passed_at = models.DateTimeField(null=True, blank=True)
    last_message = models.CharField(max_length=500, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "lesson", "step"], name="unique_step_progress"
            )
        ]
        verbose_name_plural = "step progress"

    def __str__(self) -> str:
        return f"{self.learner} {self.lesson}/{self.step}"

    @property
    def passed(self) -> bool:
        return self.passed_at is not None


class LessonAfresh(models.Model):
    """When a learner last started a lesson afresh.

    The audit log keeps every request, so the lesson's steps checked from it count only
    requests sent from `since` on: run again, the lesson has the outcome it had the first
    time. `since` is taken once afresh's own deletes are done, so they never count.
    """

    learner = models.ForeignKey(
        ClusterUser, on_delete=models.CASCADE, related_name="lessons_afresh"
    )
    lesson = models.SlugField(max_length=80)
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="unique_lesson_afresh")
        ]
        verbose_name_plural = "lessons started afresh"

    def __str__(self) -> str:
        return f"{self.learner} {self.lesson} afresh at {self.since:%H:%M:%S}"


class Quiz(models.Model):
    """A set of questions on one theme, answered at the learner's own pace."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    lesson = models.SlugField(max_length=80, blank=True, help_text="The lesson it follows.")

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """One question; its answer key lives in `data`, shaped by its type (see `clean`).

    - choice: {"choices": [{"text", "correct", "why"}]}
    - match: {"pairs": [{"left", "right"}], "why"}
    - order: {"steps": ["first", "second", ...], "why"}
    - do: {"check": "<check name>", "params": {...}, "why"}
    """

    class Type(models.TextChoices):
        CHOICE = "choice", "Multiple choice"
        MATCH = "match", "Match the pairs"
        ORDER = "order", "Put the steps in order"
        DO = "do", "Do it in the cluster"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    slug = models.SlugField(max_length=80)
    type = models.CharField(max_length=10, choices=Type.choices)
    prompt = models.TextField()
    data = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["quiz", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "slug"], name="unique_question_slug")
        ]

    def __str__(self) -> str:
        return f"{self.quiz.slug}/{self.slug}"

    def clean(self) -> None:
        """Refuse answer keys the quiz page could not mark, so admin edits stay playable."""
        from learning import grading

        problem = grading.problem_with(self.type, self.data)
        if problem:
            raise ValidationError({"data": problem})


class QuizAttempt(models.Model):
    """One run through a quiz; a retry starts a new attempt and keeps the old ones."""

    learner = models.ForeignKey(ClusterUser, on_delete=models.CASCADE, related_name="attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    started = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started", "-pk"]

    def __str__(self) -> str:
        return f"{self.learner} {self.quiz.slug} #{self.pk}"

    @property
    def score(self) -> int:
        return sum(1 for answer in self.answers.all() if answer.correct)


class Answer(models.Model):
    """What the learner answered to one question in one attempt, marked at once."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    given = models.JSONField(default=dict)
    correct = models.BooleanField(default=False)
    answered = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="unique_answer")
        ]

    def __str__(self) -> str:
        return f"{self.attempt} {self.question.slug} {'right' if self.correct else 'wrong'}"


class Workshop(models.Model):
    """A class run by an instructor; learners join with its code while it is open."""

    title = models.CharField(max_length=200)
    code = models.CharField(max_length=JOIN_CODE_LENGTH, unique=True, default=new_join_code)
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshops"
    )
    is_open = models.BooleanField(default=True)
    code_required = models.BooleanField(
        default=False,
        help_text="Every learner must type the code: the join link does not carry it.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"


class Participant(models.Model):
    """A learner who joined a workshop; their ClusterUser was made for it."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="participants")
    learner = models.ForeignKey(ClusterUser, on_delete=models.CASCADE, related_name="workshops")
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "learner"], name="unique_participant")
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.workshop.code}"


class ScenarioRun(models.Model):
    """An outage, slowdown or overload an instructor ran: when it was in force, and who.

    The API server keeps only the scenario in force now; lesson checks need to know later
    whether a learner's request fell inside one, so the dashboard writes this history.
    """

    name = models.CharField(max_length=20)
    started = models.DateTimeField(db_index=True)
    ends = models.DateTimeField(help_text="Planned end, or when the instructor ended it early.")
    started_by = models.CharField(max_length=150, blank=True)
    workshop = models.ForeignKey(
        Workshop, on_delete=models.SET_NULL, null=True, blank=True, related_name="scenario_runs"
    )

    class Meta:
        ordering = ["-started", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.started:%H:%M:%S}-{self.ends:%H:%M:%S}"


class Scenario(models.Model):
    """The outage, slowdown or overload in force now, if any.

    One row at most; every server process reads it (briefly cached), so a scenario
    started from the dashboard applies to all of them, and ends by itself at `ends`.
    """

    class Name(models.TextChoices):
        OUTAGE = "outage"
        SLOWDOWN = "slowdown"
        OVERLOAD = "overload"

    name = models.CharField(max_length=20, choices=Name.choices)
    started = models.DateTimeField()
    ends = models.DateTimeField()
    started_by = models.CharField(max_length=100, blank=True)
    delay_ms = models.PositiveIntegerField(default=0, help_text="Slowdown: added per request.")
    capacity = models.FloatField(default=1.0, help_text="Overload: share of learner capacity.")

    def __str__(self) -> str:
        return f"{self.name} until {self.ends:%H:%M:%S}"
