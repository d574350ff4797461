"""The training centre's pages: lessons, Grand Central, quizzes, workshops.

Plain function views. htmx requests get a fragment of the same template
("page.html#partial"); plain requests get the page, and plain POSTs redirect, so every page
works without JavaScript. Who may see what is decided here, never only in a template.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from apiserver import limits, readmodel
from apiserver.accounts import ClusterUser
from apiserver.readmodel import Scope
from controlplane import replay
from learning import (
    afresh,
    checks,
    grading,
    lessons,
    livequiz,
    progress,
    quizreview,
    scenarios,
    workshops,
)
from learning.forms import JoinForm, WorkshopForm
from learning.models import (
    JOIN_CODE_LENGTH,
    Answer,
    Participant,
    Question,
    Quiz,
    QuizAttempt,
    Workshop,
)
from shop import flowfigure, live
from shop.api import collection_path
from shop.learners import current_learner, learner_required

SESSION_LAST_CHECK = "learning_last_check"
SESSION_HINTS = "learning_hints"
CLIENT_KINDS = [
    "browser",
    "kubectl",
    "python-client",
    "scheduler",
    "kubelet",
    "controller",
    "other",
]
FEED_ROWS = 40
COUNT_WINDOW = timedelta(minutes=5)
# The live pages watch the audit log through the API: its AuditEvents.
AUDIT = ("audit.warehouse.dev", "v1", "auditevents")
# Traffic is heavy: Grand Central draws the events of each half second at once (at most
# two renders a second), the dashboard and the scenario panel those of each second.
TRAFFIC_SETTLE = 0.5
BOARD_SETTLE = 1.0
# Quiz answers are not API requests, so no watch sees them: a quiet dashboard is drawn
# again this often, and sent only if it changed.
BOARD_REFRESH_SECONDS = 10.0


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    learner: ClusterUser


# Lessons ------------------------------------------------------------------------------


def _hints_key(lesson: lessons.Lesson, step: lessons.Step) -> str:
    return f"{lesson.slug}/{step.slug}"


def _hints_shown(request: HttpRequest, lesson: lessons.Lesson, step: lessons.Step) -> int:
    """How many of a step's hints this visitor has revealed (kept in their session)."""
    value = (request.session.get(SESSION_HINTS) or {}).get(_hints_key(lesson, step), 0)
    return min(max(value, 0), len(step.hints)) if isinstance(value, int) else 0


def _reveal_hint(request: HttpRequest, lesson: lessons.Lesson, step: lessons.Step) -> int:
    """Reveal the step's next hint, if one is left; how many are shown now."""
    shown = min(_hints_shown(request, lesson, step) + 1, len(step.hints))
    revealed = dict(request.session.get(SESSION_HINTS) or {})
    revealed[_hints_key(lesson, step)] = shown
    request.session[SESSION_HINTS] = revealed
    return shown


def _practice_state(step: lessons.Step, learner: ClusterUser | None) -> dict[str, Any] | None:
    """What a step's practice controls show: the learner's run in force, or the seller's kind."""
    if not step.practice or learner is None:
        return None
    if step.practice == "seller":
        return {"kind": "seller", "served": scenarios.seller_kind_served()}
    return {
        "kind": step.practice,
        "active": scenarios.practice_in_force(learner),
        "durations": scenarios.PRACTICE_SECONDS,
    }


def _item(
    request: HttpRequest,
    lesson: lessons.Lesson,
    step: lessons.Step,
    learner: ClusterUser | None,
    *,
    passed: bool = False,
    result: checks.CheckResult | None = None,
) -> dict[str, Any]:
    """One step as the lesson page draws it: its check, hints revealed so far, practice."""
    shown = _hints_shown(request, lesson, step)
    return {
        "step": step,
        "lesson": lesson,
        "available": checks.is_available(step),
        "passed": passed,
        "result": result,
        "hints_shown": step.hints[:shown],
        "hints_left": len(step.hints) - shown,
        "practice": _practice_state(step, learner),
    }


def _step_items(
    request: HttpRequest,
    lesson: lessons.Lesson,
    learner: ClusterUser | None,
    last: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    passed = progress.passed_steps(learner)
    items = []
    for step in lesson.steps:
        result = None
        if last and last.get("lesson") == lesson.slug and last.get("step") == step.slug:
            result = checks.CheckResult(
                bool(last.get("passed")),
                str(last.get("message", "")),
                str(last.get("evidence", "")),
            )
        done = (lesson.slug, step.slug) in passed
        items.append(_item(request, lesson, step, learner, passed=done, result=result))
    return items


@require_GET
def index(request: HtmxHttpRequest) -> HttpResponse:
    """The guided path: every lesson with the learner's progress through its steps."""
    learner = current_learner(request)
    passed = progress.passed_steps(learner)
    path = []
    for lesson in lessons.all_lessons():
        available = [s for s in lesson.steps if checks.is_available(s)]
        done = sum(1 for s in available if (lesson.slug, s.slug) in passed)
        path.append({"lesson": lesson, "available": len(available), "done": done})
    participation = None
    if learner is not None:
        participation = (
            Participant.objects.filter(learner=learner).select_related("workshop").last()
        )
    context = {
        "learner": learner,
        "path": path,
        "participation": participation,
        "quizzes": Quiz.objects.all(),
    }
    return render(request, "learning/index.html", context)


@require_GET
def lesson(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """One lesson: its sections, the side-by-side panel and its checked steps."""
    found = lessons.get(slug)
    if found is None:
        raise Http404("No such lesson")
    learner = current_learner(request)
    last = request.session.pop(SESSION_LAST_CHECK, None)
    all_lessons = lessons.all_lessons()
    items = _step_items(request, found, learner, last)
    context = {
        **_steps_context(found, items),
        "learner": learner,
        "afresh": afresh.targets(found),
        "previous": all_lessons[found.number - 2] if found.number > 1 else None,
        "next": all_lessons[found.number] if found.number < len(all_lessons) else None,
    }
    return render(request, "learning/lesson.html", context)


def _steps_context(lesson: lessons.Lesson, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "lesson": lesson,
        "steps": items,
        "available": sum(1 for item in items if item["available"]),
        "done": sum(1 for item in items if item["available"] and item["passed"]),
    }


@require_POST
def start_afresh(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Start a lesson afresh: delete, as the learner, what its steps made in their
    namespace, wait until it is gone, and forget their passes and hints in it."""
    found = lessons.get(slug)
    if found is None:
        raise Http404("No such lesson")
    learner = current_learner(request)
    if learner is None:
        return _afresh_refused(
            request, "Pick a learner name first: there is nothing of yours to start afresh.", 403
        )
    if request.POST.get("confirm") != "yes":
        return _afresh_refused(
            request, "Confirm with the button under “Start this lesson afresh”.", 400
        )
    outcome = afresh.start_afresh(learner, found)
    _forget_hints(request, found)
    if request.htmx:
        items = _step_items(request, found, learner, None)
        context = {**_steps_context(found, items), "learner": learner, "outcome": outcome}
        return render(request, "learning/lesson.html#afresh-done", context)
    if outcome.deleted:
        said = f"Started afresh. Deleted, as you: {', '.join(outcome.deleted)}."
    else:
        said = "Started afresh. Nothing this lesson makes was left in your namespace."
    said += (
        " Your passes and hints here are cleared, and steps checked from the request log "
        "count only requests you send from now on."
    )
    if outcome.still_going:
        said += (
            f" Still going when the page stopped waiting: {', '.join(outcome.still_going)}. "
            "Wait until kubectl get all no longer lists them before you start again, or the "
            "new objects may get other names."
        )
    if outcome.refused:
        said += f" Refused: {'; '.join(outcome.refused)}."
    (messages.success if outcome.clean else messages.warning)(request, said)
    # No fragment: the message is shown at the top of the page, where it is read first.
    return redirect(reverse("learning:lesson", args=[found.slug]))


def _afresh_refused(request: HtmxHttpRequest, message: str, status: int) -> HttpResponse:
    """A refusal as text, or for htmx as the outcome region's content (the form swaps in
    these codes, so a lapsed session does not leave the button silently doing nothing)."""
    if request.htmx:
        return HttpResponse(format_html('<p class="learn-no">{}</p>', message), status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _forget_hints(request: HttpRequest, lesson: lessons.Lesson) -> None:
    """Hide again the hints this visitor revealed in the lesson, and its last check."""
    revealed = dict(request.session.get(SESSION_HINTS) or {})
    for step in lesson.steps:
        revealed.pop(_hints_key(lesson, step), None)
    request.session[SESSION_HINTS] = revealed
    last = request.session.get(SESSION_LAST_CHECK)
    if isinstance(last, dict) and last.get("lesson") == lesson.slug:
        del request.session[SESSION_LAST_CHECK]


@require_POST
@learner_required
def check_step(request: HtmxHttpRequest, slug: str, step: str) -> HttpResponse:
    """Run a step's check through the API as the learner; a fragment for htmx, else redirect."""
    found = lessons.get(slug)
    target = found.step(step) if found else None
    if found is None or target is None:
        raise Http404("No such step")
    if not checks.is_available(target):
        result = checks.CheckResult(False, "This step cannot be checked yet: it is coming soon.")
        passed = False
    else:
        result, record = progress.check_step(request.learner, found, target)
        passed = record.passed
        if not result.passed and target.hints:
            _reveal_hint(request, found, target)
    if request.htmx:
        item = _item(request, found, target, request.learner, passed=passed, result=result)
        # The hint a miss revealed goes to the step's hints, swapped in out of band.
        return render(request, "learning/lesson.html#checked", {"item": item})
    request.session[SESSION_LAST_CHECK] = {
        "lesson": found.slug,
        "step": target.slug,
        "passed": result.passed,
        "message": result.message,
        "evidence": result.evidence,
    }
    return redirect(reverse("learning:lesson", args=[found.slug]) + f"#step-{target.slug}")


def _lesson_step(slug: str, step: str) -> tuple[lessons.Lesson, lessons.Step]:
    found = lessons.get(slug)
    target = found.step(step) if found else None
    if found is None or target is None:
        raise Http404("No such step")
    return found, target


def _back_to(lesson: lessons.Lesson, step: lessons.Step) -> HttpResponse:
    return redirect(reverse("learning:lesson", args=[lesson.slug]) + f"#step-{step.slug}")


@require_POST
def hint(request: HtmxHttpRequest, slug: str, step: str) -> HttpResponse:
    """Reveal a step's next hint, one at a time; the hints fragment for htmx, else redirect."""
    found, target = _lesson_step(slug, step)
    _reveal_hint(request, found, target)
    if request.htmx:
        item = _item(request, found, target, current_learner(request))
        return render(request, "learning/lesson.html#hints", {"item": item})
    return _back_to(found, target)


@require_POST
@learner_required
def practice(request: HtmxHttpRequest, slug: str, step: str) -> HttpResponse:
    """Start or end the learner's own practice run for a step (an outage, slowdown or
    overload of their own requests only), or invite the practice seller."""
    found, target = _lesson_step(slug, step)
    if not target.practice:
        raise Http404("This step has no practice run")
    action = request.POST.get("action", "")
    seconds = request.POST.get("seconds", "")
    error = notice = ""
    if target.practice == "seller":
        notice = scenarios.invite_seller()[1] if action == "start" else ""
        error = "" if notice else "Choose one of the actions offered."
    elif action == "stop":
        ended = scenarios.stop_practice(request.learner)
        notice = "Your practice run ended." if ended else "No practice run was in force."
    elif action == "start" and seconds.isdigit() and int(seconds) in scenarios.PRACTICE_SECONDS:
        if scenarios.start_practice(target.practice, int(seconds), request.learner):
            notice = f"Your practice {target.practice} runs for {seconds} seconds."
        else:
            error = "A practice run of yours is already in force: end it first."
    else:
        error = "Choose one of the actions and durations offered."
    if request.htmx:
        item = _item(request, found, target, request.learner)
        context = {"item": item, "notice": notice, "error": error}
        return render(
            request, "learning/lesson.html#practice", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return _back_to(found, target)


# Grand Central ------------------------------------------------------------------------


def _is_instructor(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


@dataclass(frozen=True)
class Traffic:
    """What one visitor of Grand Central sees: the AuditEvents RBAC lets them watch.

    An instructor (cluster-admin) watches every namespace; a learner their own namespace
    (their requests and the control plane's work on their orders there), or with "mine"
    only their own requests in it. A visitor without a learner name has no identity to
    watch with, so sees nothing.
    """

    label: str  # all, yours, mine or none
    identity: ClusterUser | None = None
    namespace: str = ""  # "" with an identity: every namespace
    user: str = ""  # only this user's requests

    @property
    def scope(self) -> Scope:
        if self.label == "all":
            return Scope(everyone=True)
        return Scope(namespace=self.namespace)

    @property
    def path(self) -> str:
        return collection_path(*AUDIT, self.namespace)

    @property
    def query(self) -> dict[str, str]:
        return {"fieldSelector": f"user.username={self.user}"} if self.user else {}


def _visible_traffic(request: HttpRequest, learner: ClusterUser | None, mine: bool) -> Traffic:
    if mine and learner is not None:
        return Traffic("mine", learner, learner.namespace, learner.username)
    if _is_instructor(request):
        return Traffic("all", workshops.instructor_identity(request.user))
    if learner is not None:
        return Traffic("yours", learner, learner.namespace)
    return Traffic("none")


def _traffic_context(traffic: Traffic, mine: bool) -> dict[str, Any]:
    """The counts and the newest requests, read from the same log the watch follows."""
    feed: list[dict[str, Any]] = []
    counted: dict[str, int] = {}
    if traffic.identity is not None:
        match = {"user": traffic.user} if traffic.user else {}
        since = timezone.now() - COUNT_WINDOW
        counted = readmodel.client_counts(traffic.scope, since=since, **match)
        feed = readmodel.requests(traffic.scope, limit=FEED_ROWS, **match)
    counts = [{"client": c, "count": counted.pop(c, 0)} for c in CLIENT_KINDS]
    counts[-1]["count"] += sum(counted.values())
    for record in feed:
        record["kind"] = record["client"] if record["client"] in CLIENT_KINDS else "other"
    return {
        "mine": mine,
        "scope": traffic.label,
        "namespace": traffic.namespace,
        "counts": counts,
        "busiest": max((c["count"] for c in counts), default=0) or 1,
        "feed": feed,
        # The same rows on the request-flow figure: each from its client to where it stopped.
        "board": flowfigure.for_traffic(feed, "station-board"),
        "feed_url": reverse("learning:grand-central") + ("?mine=1" if mine else ""),
    }


def _traffic_for(request: HttpRequest) -> tuple[Traffic, bool]:
    learner = current_learner(request)
    mine = request.GET.get("mine") == "1" and learner is not None
    return _visible_traffic(request, learner, mine), mine


@require_GET
def grand_central(request: HtmxHttpRequest) -> HttpResponse:
    """The front door live: the newest requests from every kind of client, then a watch."""
    traffic, mine = _traffic_for(request)
    context = _traffic_context(traffic, mine)
    context["learner"] = current_learner(request)
    if traffic.identity is not None:
        context["stream_url"] = reverse("learning:grand-central-events") + (
            "?mine=1" if mine else ""
        )
        context["sse_events"] = ",".join([*live.EVENT_TYPES, live.SYNC])
    template = "learning/grand_central.html"
    if request.htmx:
        template += "#traffic"
    return render(request, template, context)


def _staff_still(user_pk: int) -> Callable[[], bool]:
    """Whether the instructor behind a stream may still watch: active staff."""

    def check() -> bool:
        return get_user_model().objects.filter(pk=user_pk, is_active=True, is_staff=True).exists()

    return check


def _may_still_watch(request: HttpRequest, traffic: Traffic) -> Callable[[], bool] | None:
    """None for a learner: a revoked token ends the watch itself; an instructor's staff
    account is asked before each message."""
    identity = traffic.identity
    if identity is not None and identity.role == ClusterUser.Role.LEARNER:
        return None
    return _staff_still(request.user.pk)


@require_GET
async def grand_central_events(request: HtmxHttpRequest) -> HttpResponse:
    """Grand Central's traffic as Server-Sent Events, fed by a watch on AuditEvents.

    The watch is opened through the front door as the visitor (an instructor's identity,
    or the learner), so RBAC decides whose requests arrive. The log is not listed first:
    the watch starts at its newest record and the region is drawn at once; each half
    second's requests are then drawn in one render.
    """
    traffic, mine = await sync_to_async(_traffic_for)(request)
    if traffic.identity is None:
        return HttpResponse(
            "Pick a learner name first.", status=403, content_type="text/plain; charset=utf-8"
        )
    allowed = await sync_to_async(_may_still_watch)(request, traffic)

    def region(lines: list[live.Line]) -> str:
        context = _traffic_context(traffic, mine)
        return render_to_string("learning/grand_central.html#traffic", context, request=request)

    return await live.respond(
        request,
        traffic.identity,
        [(traffic.path, traffic.query)],
        region,
        allowed,
        now=lambda: str(readmodel.newest_request_id()),
        settle=TRAFFIC_SETTLE,
    )


# Quizzes ------------------------------------------------------------------------------


def _question_item(
    question: Question, answer: Answer | None, attempt: QuizAttempt, review: bool = False
) -> dict[str, Any]:
    """One question as this attempt shows it: options in the attempt's own order."""
    data = question.data or {}
    item: dict[str, Any] = {
        "question": question,
        "answer": answer,
        "why": data.get("why", ""),
        "review": review,
        "feedback": (answer.given or {}).get("feedback", []) if answer else [],
    }
    if question.type == "choice":
        choices = data.get("choices", [])
        order = grading.shuffled(attempt.pk, question.pk, len(choices))
        item["options"] = [(i, choices[i]["text"]) for i in order]
        if len(item["feedback"]) == len(choices):
            item["feedback"] = [item["feedback"][i] for i in order]
    elif question.type == "match":
        pairs = data.get("pairs", [])
        item["lefts"] = [(i, p["left"]) for i, p in enumerate(pairs)]
        order = grading.shuffled(attempt.pk, question.pk, len(pairs))
        item["rights"] = [(i, pairs[i]["right"]) for i in order]
    elif question.type == "order":
        steps = data.get("steps", [])
        order = grading.shuffled(attempt.pk, question.pk, len(steps))
        item["steps"] = [(i, steps[i]) for i in order]
        item["positions"] = list(range(1, len(steps) + 1))
    return item


def _score(attempt: QuizAttempt, total: int) -> dict[str, int]:
    answers = list(attempt.answers.all())
    return {
        "right": sum(1 for a in answers if a.correct),
        "answered": len(answers),
        "total": total,
    }


@require_GET
@learner_required
def quiz_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every quiz with this learner's best score so far, and the questions due for review."""
    best = progress.best_scores([request.learner.pk]).get(request.learner.pk, {})
    quizzes = [
        {"quiz": q, "total": q.questions.count(), "best": best.get(q.slug, 0)}
        for q in Quiz.objects.all()
    ]
    context = {
        "quizzes": quizzes,
        "review": quizreview.due(request.learner),
        "learner": request.learner,
    }
    return render(request, "learning/quizzes.html", context)


def _quiz_context(request: HtmxHttpRequest, quiz: Quiz) -> dict[str, Any]:
    attempt = progress.current_attempt(request.learner, quiz)
    answers = {a.question_id: a for a in attempt.answers.all()}
    missed = quizreview.missed_before(attempt)
    questions = quizreview.ordered(list(quiz.questions.all()), missed)
    return {
        "quiz": quiz,
        "attempt": attempt,
        "items": [
            _question_item(q, answers.get(q.pk), attempt, review=q.pk in missed) for q in questions
        ],
        "score": _score(attempt, len(questions)),
        "learner": request.learner,
    }


@require_GET
@learner_required
def quiz(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A quiz's questions, each answered on its own with immediate feedback."""
    found = get_object_or_404(Quiz, slug=slug)
    return render(request, "learning/quiz.html", _quiz_context(request, found))


@require_POST
@learner_required
def answer(request: HtmxHttpRequest, slug: str, question_id: int) -> HttpResponse:
    """Mark one answer at once; the first answer in an attempt counts (except failed "do it")."""
    found = get_object_or_404(Quiz, slug=slug)
    question = get_object_or_404(Question, pk=question_id, quiz=found)
    attempt = progress.current_attempt(request.learner, found)
    existing = attempt.answers.filter(question=question).first()
    error = ""
    if existing is None:
        problem = grading.problem_with(question.type, question.data)
        if problem:
            verdict = grading.Verdict(valid=False, error="This question is being repaired.")
        else:
            verdict = grading.grade(question.type, question.data, request.POST, request.learner)
        if not verdict.valid:
            error = verdict.error
        elif question.type == "do" and not verdict.correct:
            error = verdict.feedback[0]["text"] if verdict.feedback else "Not yet."
        else:
            try:
                with transaction.atomic():
                    existing = Answer.objects.create(
                        attempt=attempt,
                        question=question,
                        correct=verdict.correct,
                        given={"answer": verdict.given, "feedback": verdict.feedback},
                    )
            except IntegrityError:
                existing = attempt.answers.filter(question=question).first()
    if request.htmx:
        review = question.pk in quizreview.missed_before(attempt)
        item = _question_item(question, existing, attempt, review=review)
        item["error"] = error
        total = found.questions.count()
        context = {"item": item, "quiz": found, "score": _score(attempt, total), "oob": True}
        return render(request, "learning/quiz.html#question", context)
    if error:
        messages.error(request, f"{question.prompt[:80]}: {error}")
    return redirect(reverse("learning:quiz", args=[found.slug]) + f"#question-{question.pk}")


@require_POST
@learner_required
def retry(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Start the quiz again; earlier attempts stay on the results page."""
    found = get_object_or_404(Quiz, slug=slug)
    QuizAttempt.objects.create(learner=request.learner, quiz=found)
    return redirect("learning:quiz", slug=found.slug)


@require_GET
@learner_required
def results(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The latest attempt question by question, and the scores of earlier attempts."""
    found = get_object_or_404(Quiz, slug=slug)
    context = _quiz_context(request, found)
    total = context["score"]["total"]
    context["history"] = [
        {"attempt": a, "score": _score(a, total)}
        for a in QuizAttempt.objects.filter(learner=request.learner, quiz=found).prefetch_related(
            "answers"
        )
    ]
    return render(request, "learning/results.html", context)


# Workshops ----------------------------------------------------------------------------


def _linked_code(code: str) -> str:
    """The code a join link carries, unless its workshop wants every learner to type it."""
    typed = "".join(ch for ch in code.upper() if ch.isalnum())
    if typed and Workshop.objects.filter(code=typed, code_required=True).exists():
        return ""
    return code


@require_http_methods(["GET", "POST"])
def join(request: HtmxHttpRequest) -> HttpResponse:
    """Join a workshop with its code and a display name; no account needed."""
    initial = {"code": _linked_code(request.GET.get("code", "")[:20])}
    form = JoinForm(request.POST or None, initial=initial)
    if request.method == "POST":
        try:
            limits.check("join", request)
        except limits.TooManyAttempts as error:
            return limits.refused(request, error)
    if request.method == "POST" and form.is_valid():
        try:
            workshop, learner = workshops.join(
                request, form.cleaned_data["code"], form.cleaned_data["display_name"]
            )
        except workshops.CannotJoin as problem:
            form.add_error("code", str(problem))
        else:
            livequiz.admit(workshop, learner)
            messages.success(
                request,
                f"Welcome to {workshop.title}, {learner.display_name}! "
                f"Your namespace is {learner.namespace}.",
            )
            return redirect("learning:index")
    status = 400 if form.errors else 200
    return render(request, "learning/join.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@staff_member_required
def workshop_list(request: HtmxHttpRequest) -> HttpResponse:
    """The instructor's workshops, and a form to start a new one."""
    form = WorkshopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for _ in range(10):
            try:
                with transaction.atomic():
                    created = Workshop.objects.create(
                        title=form.cleaned_data["title"],
                        code_required=form.cleaned_data["code_required"],
                        instructor=request.user,
                    )
            except IntegrityError:
                continue
            return redirect("learning:dashboard", code=created.code)
        form.add_error(None, "Could not find a free join code. Please try again.")
    mine = Workshop.objects.all()
    if not request.user.is_superuser:
        mine = mine.filter(instructor=request.user)
    context = {"form": form, "workshops": mine.annotate(joined=Count("participants"))}
    return render(request, "learning/workshops.html", context)


class NotYourWorkshop(Exception):
    """A staff user asked for a workshop someone else runs."""


def _own_workshop(request: HttpRequest, code: str) -> Workshop:
    """The workshop `code` if this user runs it (or is a superuser); 404 or NotYourWorkshop."""
    if not (code.isascii() and code.isalnum() and len(code) == JOIN_CODE_LENGTH):
        raise Http404("No such workshop")
    workshop = get_object_or_404(Workshop, code=code.upper())
    if workshop.instructor_id != request.user.pk and not request.user.is_superuser:
        raise NotYourWorkshop(code)
    return workshop


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "learning/forbidden.html", status=403)


def instructor_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only (others go to the admin login); a stranger's workshop gets a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotYourWorkshop:
            return _forbidden(request)

    return staff_member_required(wrapper)


@require_GET
@instructor_only
def dashboard(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Who joined, their progress, their orders in flight and failed, and the leaderboard."""
    workshop = _own_workshop(request, code)
    identity = workshops.instructor_identity(request.user)
    context = {
        "board": workshops.board(workshop, identity),
        "workshop": workshop,
        "stream_url": reverse("learning:dashboard-events", args=[workshop.code]),
        "sse_events": ",".join([*live.EVENT_TYPES, live.SYNC]),
        "join_url": request.build_absolute_uri(reverse("learning:join")),
        # Panels sit outside the board and keep themselves up to date.
        "panels": [] if request.htmx else workshops.panels(request, workshop),
    }
    template = "learning/dashboard.html"
    if request.htmx:
        template += "#board"
    return render(request, template, context)


@require_GET
@instructor_only
def export_class(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The class so far as a file `manage.py replay_class` sends again (`controlplane.replay`):
    every write its learners made, in order."""
    workshop = _own_workshop(request, code)
    namespaces = sorted(
        p.learner.namespace for p in workshop.participants.select_related("learner")
    )
    scenario = replay.export(namespaces)
    response = JsonResponse(scenario, json_dumps_params={"indent": 2, "sort_keys": True})
    response["Content-Disposition"] = f'attachment; filename="class-{workshop.code}.json"'
    return response


@require_GET
@instructor_only
def big_screen(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The join code for the projector: huge, with the join link and its QR code, so a
    room can join from across the hall; only the workshop's instructor may put it up."""
    workshop = _own_workshop(request, code)
    link = workshops.join_link(request, workshop)
    context = {
        "workshop": workshop,
        "join_link": link,
        "join_url": request.build_absolute_uri(reverse("learning:join")),
        "qr_svg": workshops.join_qr_svg(link),
        **livequiz.screen(request, workshop),
    }
    return render(request, "learning/big_screen.html", context)


def _streamed_workshop(request: HttpRequest, code: str) -> Workshop | HttpResponse:
    """The workshop a dashboard stream follows, or the refusal its page would get."""
    try:
        return _own_workshop(request, code)
    except NotYourWorkshop:
        return _forbidden(request)


def _everyone_watched(workshop: Workshop) -> tuple[set[str], set[str]]:
    """The namespaces and user names of the workshop's learners, as the board knows them."""
    learners = [p.learner for p in workshop.participants.select_related("learner")]
    return {lr.namespace for lr in learners}, {lr.username for lr in learners}


class _Learners:
    """Which AuditEvents concern a workshop's board: its learners' requests, and those into
    their namespaces (the control plane's work on their orders). A new namespace may be a
    new joiner. The board's own reads (cluster-wide, as the instructor) are not among them,
    or each redraw would cause the next."""

    def __init__(self, workshop: Workshop) -> None:
        self.namespaces, self.users = _everyone_watched(workshop)

    def keep(self, event: live.WatchEvent) -> bool:
        obj = event.object
        namespace = str((obj.get("metadata") or {}).get("namespace", ""))
        user = str((obj.get("user") or {}).get("username", ""))
        ref = obj.get("objectRef") or {}
        joining = ref.get("resource") == "namespaces" and obj.get("verb") == "create"
        return namespace in self.namespaces or user in self.users or joining


def _all_traffic() -> list[tuple[str, dict[str, str]]]:
    """An instructor's watch: every AuditEvent, in every namespace."""
    return [(collection_path(*AUDIT), {})]


@require_GET
@staff_member_required
async def dashboard_events(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The dashboard's board as Server-Sent Events, fed by the instructor's watch on every
    AuditEvent: each learner action through the API (orders, lesson checks, kubectl) and
    the control plane's work on their orders redraws it, at most once a second.

    Quiz answers are not API requests, so no watch sees them: a quiet board is drawn again
    every BOARD_REFRESH_SECONDS and sent only if it changed.
    """
    found = await sync_to_async(_streamed_workshop)(request, code)
    if isinstance(found, HttpResponse):
        return found
    workshop = found
    identity = await sync_to_async(workshops.instructor_identity)(request.user)
    learners = await sync_to_async(_Learners)(workshop)

    def region(lines: list[live.Line]) -> str:
        learners.namespaces, learners.users = _everyone_watched(workshop)
        context = {"board": workshops.board(workshop, identity), "workshop": workshop}
        return render_to_string("learning/dashboard.html#board", context, request=request)

    def watched(opened: live.Stream) -> live.Stream:
        return live.Only(opened, learners.keep)

    return await live.respond(
        request,
        identity,
        _all_traffic(),
        region,
        _staff_still(request.user.pk),
        now=lambda: str(readmodel.newest_request_id()),
        wrap=watched,
        settle=BOARD_SETTLE,
        idle=BOARD_REFRESH_SECONDS,
        refresh=True,
    )


@require_POST
@instructor_only
def toggle(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Open or close the workshop for joining; people already in stay in."""
    workshop = _own_workshop(request, code)
    workshop.is_open = not workshop.is_open
    workshop.save(update_fields=["is_open"])
    state = "open" if workshop.is_open else "closed"
    messages.success(request, f"The workshop is now {state} for joining.")
    return redirect("learning:dashboard", code=workshop.code)


@require_POST
@instructor_only
def require_code(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Turn on or off whether every learner must type the code rather than follow a link."""
    workshop = _own_workshop(request, code)
    workshop.code_required = request.POST.get("code_required") == "on"
    workshop.save(update_fields=["code_required"])
    if workshop.code_required:
        messages.success(request, "Every learner must now type the join code.")
    else:
        messages.success(request, "The join link now carries the code.")
    return redirect("learning:dashboard", code=workshop.code)


def _participant(workshop: Workshop, learner_id: int) -> Participant:
    return get_object_or_404(
        Participant.objects.select_related("learner"), workshop=workshop, learner_id=learner_id
    )


@require_POST
@instructor_only
def reset(request: HtmxHttpRequest, code: str, learner_id: int) -> HttpResponse:
    """Empty a learner's namespace through the API, as the instructor."""
    workshop = _own_workshop(request, code)
    participant = _participant(workshop, learner_id)
    identity = workshops.instructor_identity(request.user)
    emptied = workshops.reset_namespace(identity, participant.learner)
    messages.success(
        request,
        f"Emptied {emptied} kind(s) of object in {participant.learner.namespace}.",
    )
    return redirect("learning:dashboard", code=workshop.code)


@require_POST
@instructor_only
def revoke(request: HtmxHttpRequest, code: str, learner_id: int) -> HttpResponse:
    """Revoke a learner's token (or give access back): they can no longer call the API."""
    workshop = _own_workshop(request, code)
    learner = _participant(workshop, learner_id).learner
    if learner.is_active:
        workshops.revoke(learner)
        messages.success(request, f"Revoked {learner.name}'s token; their kubeconfig is dead.")
    else:
        workshops.restore(learner)
        messages.success(request, f"{learner.name} may use the API again with a new token.")
    return redirect("learning:dashboard", code=workshop.code)


# Scenarios ----------------------------------------------------------------------------

SCENARIO_PANEL = "learning/_scenarios.html"


def _scenario_panel(
    request: HtmxHttpRequest, workshop: Workshop, notice: str = "", error: str = ""
) -> HttpResponse:
    """After a scenario POST: the panel for htmx, else back to the dashboard with a message."""
    if request.htmx:
        context = {
            "workshop": workshop,
            "panel": scenarios.panel_context(request, workshop),
            "notice": notice,
            "error": error,
        }
        return render(request, SCENARIO_PANEL, context)
    return back_to_dashboard(request, workshop, "scenarios", notice, error)


def back_to_dashboard(
    request: HttpRequest, workshop: Workshop, panel: str, notice: str = "", error: str = ""
) -> HttpResponse:
    """After a control's POST without htmx: the dashboard at that panel, with the outcome as
    a message."""
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(reverse("learning:dashboard", args=[workshop.code]) + f"#{panel}")


@require_GET
@instructor_only
def scenario(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The scenario in force and its time left (for htmx); a plain visit sees the board."""
    workshop = _own_workshop(request, code)
    if not request.htmx:
        return redirect(reverse("learning:dashboard", args=[workshop.code]) + "#scenarios")
    context = {"workshop": workshop, "panel": scenarios.panel_context(request, workshop)}
    return render(request, f"{SCENARIO_PANEL}#status", context)


@require_POST
@instructor_only
def scenario_start(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Start an outage, slowdown or overload for the whole cluster, for a chosen time."""
    workshop = _own_workshop(request, code)
    name = request.POST.get("name", "")
    seconds = request.POST.get("seconds", "")
    choice = scenarios.BY_NAME.get(name)
    if choice is None or not seconds.isdigit() or int(seconds) not in scenarios.DURATIONS:
        return _scenario_panel(
            request, workshop, error="Choose one of the scenarios and durations offered."
        )
    identity = workshops.instructor_identity(request.user)
    scenarios.start(choice.name, int(seconds), identity, workshop)
    return _scenario_panel(
        request, workshop, notice=f"{choice.title} started for {seconds} seconds."
    )


@require_POST
@instructor_only
def scenario_stop(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """End the scenario in force at once; the control plane catches up by itself."""
    workshop = _own_workshop(request, code)
    if scenarios.stop():
        return _scenario_panel(request, workshop, notice="Scenario ended: the door is open again.")
    return _scenario_panel(request, workshop, notice="No scenario was running.")


def _refused(event: live.WatchEvent) -> bool:
    """A request the door turned away: what an outage (503) or an overload (429) shows."""
    return (event.object.get("responseStatus") or {}).get("code") in (429, 503)


class _Countdown:
    """When the scenario last drawn ends: the quiet spell before the panel is drawn again is
    until then (or a keep-alive), asked on the event loop, so it reads no database."""

    def __init__(self) -> None:
        self.ends: Any = None

    def seconds(self) -> float:
        if self.ends is None:
            return live.KEEPALIVE_SECONDS
        left = (self.ends - timezone.now()).total_seconds()
        return min(max(left, 0.0) + 0.2, live.KEEPALIVE_SECONDS)


@require_GET
@staff_member_required
async def scenario_events(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The scenario panel's status as Server-Sent Events.

    Fed by the instructor's watch on AuditEvents, kept to the requests the door refused:
    a scenario's effects (every 503 of an outage, every 429 of an overload) redraw the
    panel, with its count of refusals and time left, at most once a second. Starting or
    ending a scenario is not an API request (it switches the server's fault hook), so no
    watch sees it: the panel is also drawn when the scenario is due to end, and at each
    keep-alive (sent only if it changed), which is when another instructor's start shows.
    """
    found = await sync_to_async(_streamed_workshop)(request, code)
    if isinstance(found, HttpResponse):
        return found
    workshop = found
    identity = await sync_to_async(workshops.instructor_identity)(request.user)
    countdown = _Countdown()

    def region(lines: list[live.Line]) -> str:
        panel = scenarios.panel_context(request, workshop)
        countdown.ends = panel["active"].ends if panel["active"] else None
        context = {"workshop": workshop, "panel": panel}
        return render_to_string(f"{SCENARIO_PANEL}#status", context, request=request)

    def watched(opened: live.Stream) -> live.Stream:
        return live.Only(opened, _refused)

    return await live.respond(
        request,
        identity,
        _all_traffic(),
        region,
        _staff_still(request.user.pk),
        now=lambda: str(readmodel.newest_request_id()),
        wrap=watched,
        settle=BOARD_SETTLE,
        idle=countdown.seconds,
        refresh=True,
    )
