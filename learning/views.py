"""The training centre's pages: lessons, Grand Central, quizzes, workshops.

Plain function views. htmx requests get a fragment of the same template
("page.html#partial"); plain requests get the page, and plain POSTs redirect, so every page
works without JavaScript. Who may see what is decided here, never only in a template.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from apiserver import limits, readmodel
from apiserver.accounts import ClusterUser
from apiserver.readmodel import Scope
from learning import checks, grading, lessons, progress, scenarios, workshops
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
from shop.learners import current_learner, learner_required

SESSION_LAST_CHECK = "learning_last_check"
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
POLL = "every 2s"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    learner: ClusterUser


# Lessons ------------------------------------------------------------------------------


def _step_items(
    lesson: lessons.Lesson, learner: ClusterUser | None, last: dict[str, Any] | None
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
        items.append(
            {
                "step": step,
                "lesson": lesson,
                "available": checks.is_available(step),
                "passed": (lesson.slug, step.slug) in passed,
                "result": result,
            }
        )
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
    items = _step_items(found, learner, last)
    context = {
        "lesson": found,
        "learner": learner,
        "steps": items,
        "available": sum(1 for item in items if item["available"]),
        "done": sum(1 for item in items if item["available"] and item["passed"]),
        "previous": all_lessons[found.number - 2] if found.number > 1 else None,
        "next": all_lessons[found.number] if found.number < len(all_lessons) else None,
    }
    return render(request, "learning/lesson.html", context)


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
    if request.htmx:
        item = {"step": target, "lesson": found, "available": True, "passed": passed}
        item["result"] = result
        return render(request, "learning/lesson.html#result", {"item": item})
    request.session[SESSION_LAST_CHECK] = {
        "lesson": found.slug,
        "step": target.slug,
        "passed": result.passed,
        "message": result.message,
        "evidence": result.evidence,
    }
    return redirect(reverse("learning:lesson", args=[found.slug]) + f"#step-{target.slug}")


# Grand Central ------------------------------------------------------------------------


def _is_instructor(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


def _visible_traffic(request: HttpRequest, learner: ClusterUser | None, mine: bool) -> Scope:
    """Instructors see every request; learners their namespace's, their own and the system's."""
    own = Scope(user=learner.username, namespace=learner.namespace) if learner else Scope()
    if mine and learner is not None:
        return own
    if _is_instructor(request):
        return Scope(everyone=True)
    return Scope(user=own.user, namespace=own.namespace, system=True)


@require_GET
def grand_central(request: HtmxHttpRequest) -> HttpResponse:
    """The front door live: the newest requests from every kind of client, polled by htmx."""
    learner = current_learner(request)
    mine = request.GET.get("mine") == "1" and learner is not None
    scope = _visible_traffic(request, learner, mine)
    counted = readmodel.client_counts(scope, since=timezone.now() - COUNT_WINDOW)
    counts = [{"client": c, "count": counted.pop(c, 0)} for c in CLIENT_KINDS]
    counts[-1]["count"] += sum(counted.values())
    feed = readmodel.requests(scope, limit=FEED_ROWS)
    for record in feed:
        record["kind"] = record["client"] if record["client"] in CLIENT_KINDS else "other"
    context = {
        "learner": learner,
        "mine": mine,
        "scope": "all" if _is_instructor(request) and not mine else "yours",
        "counts": counts,
        "busiest": max((c["count"] for c in counts), default=0) or 1,
        "feed": feed,
        "poll": POLL,
        "feed_url": reverse("learning:grand-central") + ("?mine=1" if mine else ""),
    }
    template = "learning/grand_central.html"
    if request.htmx:
        template += "#traffic"
    return render(request, template, context)


# Quizzes ------------------------------------------------------------------------------


def _question_item(question: Question, answer: Answer | None) -> dict[str, Any]:
    data = question.data or {}
    item: dict[str, Any] = {"question": question, "answer": answer, "why": data.get("why", "")}
    if question.type == "choice":
        choices = data.get("choices", [])
        item["options"] = [(i, choices[i]["text"]) for i in range(len(choices))]
    elif question.type == "match":
        pairs = data.get("pairs", [])
        item["lefts"] = [(i, p["left"]) for i, p in enumerate(pairs)]
        item["rights"] = [(i, pairs[i]["right"]) for i in grading.shuffled(question.pk, len(pairs))]
    elif question.type == "order":
        steps = data.get("steps", [])
        item["steps"] = [(i, steps[i]) for i in grading.shuffled(question.pk, len(steps))]
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
    """Every quiz with this learner's best score so far."""
    best = progress.best_scores([request.learner.pk]).get(request.learner.pk, {})
    quizzes = [
        {"quiz": q, "total": q.questions.count(), "best": best.get(q.slug, 0)}
        for q in Quiz.objects.all()
    ]
    return render(
        request, "learning/quizzes.html", {"quizzes": quizzes, "learner": request.learner}
    )


def _quiz_context(request: HtmxHttpRequest, quiz: Quiz) -> dict[str, Any]:
    attempt = progress.current_attempt(request.learner, quiz)
    answers = {a.question_id: a for a in attempt.answers.all()}
    questions = list(quiz.questions.all())
    return {
        "quiz": quiz,
        "attempt": attempt,
        "items": [_question_item(q, answers.get(q.pk)) for q in questions],
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
        item = _question_item(question, existing)
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
        "poll": POLL,
        "join_url": request.build_absolute_uri(reverse("learning:join")),
        # Panels sit outside the polled board and refresh themselves.
        "panels": [] if request.htmx else workshops.panels(request, workshop),
    }
    template = "learning/dashboard.html"
    if request.htmx:
        template += "#board"
    return render(request, template, context)


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
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(reverse("learning:dashboard", args=[workshop.code]) + "#scenarios")


@require_GET
@instructor_only
def scenario(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The scenario in force and its time left, polled by htmx; a plain visit sees the board."""
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
