"""Quizzes are edited here; progress and workshops are visible for support."""

from django.contrib import admin

from learning.models import (
    Answer,
    LessonAfresh,
    Participant,
    Question,
    Quiz,
    QuizAttempt,
    StepProgress,
    Workshop,
)


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ["position", "slug", "type", "prompt", "data"]


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "lesson", "position"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["slug", "quiz", "type", "position"]
    list_filter = ["quiz", "type"]
    search_fields = ["slug", "prompt"]


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ["learner"]


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ["title", "code", "instructor", "is_open", "created"]
    list_filter = ["is_open"]
    readonly_fields = ["code"]
    inlines = [ParticipantInline]


@admin.register(StepProgress)
class StepProgressAdmin(admin.ModelAdmin):
    list_display = ["learner", "lesson", "step", "attempts", "passed_at"]
    list_filter = ["lesson"]
    raw_id_fields = ["learner"]


@admin.register(LessonAfresh)
class LessonAfreshAdmin(admin.ModelAdmin):
    list_display = ["learner", "lesson", "since"]
    list_filter = ["lesson"]
    raw_id_fields = ["learner"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    readonly_fields = ["question", "given", "correct", "answered"]


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ["learner", "quiz", "started"]
    raw_id_fields = ["learner"]
    inlines = [AnswerInline]
