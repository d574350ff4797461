"""The live quiz's pages: the learner's question, the instructor's buttons, the big screen.

Every read and write goes through the front door (`learning.livequiz`); the live regions
are Server-Sent Events fed by watches opened as the visitor: a learner watches the room's
ConfigMaps (RBAC lets only joined learners), the big screen watches them too and, as the
instructor, every answer ConfigMap of the workshop across namespaces.
"""

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apiserver.accounts import ClusterUser
from learning import livequiz, workshops
from learning.livequiz import Live, Refused
from learning.models import Participant, Workshop
from learning.views import (
    HtmxHttpRequest,
    _own_workshop,
    _staff_still,
    _streamed_workshop,
    back_to_dashboard,
    instructor_only,
)
from shop import live
from shop.api import collection_path
from shop.learners import current_learner, learner_required

PAGE = "learning/live_quiz.html"
BOARD = "learning/_live_board.html"
# Answers arrive in bursts when a room answers at once: the big screen draws each half
# second's answers in one render.
BOARD_SETTLE = 0.5


def _workshop_of(learner: ClusterUser) -> Workshop | None:
    """The workshop this learner joined last, if any."""
    joined = Participant.objects.filter(learner=learner).select_related("workshop").last()
    return joined.workshop if joined else None


def _question_context(
    learner: ClusterUser, workshop: Workshop, found: Live | None, mine: int | None
) -> dict[str, Any]:
    moment = livequiz.now()
    context: dict[str, Any] = {"workshop": workshop, "live": found, "mine": mine}
    if found is not None:
        context["options"] = livequiz.options(found, mine)
        context["open"] = found.is_open(moment) and mine is None
        context["seconds_left"] = found.seconds_left(moment)
        context["letter"] = livequiz.LETTERS[mine] if mine is not None and mine < 8 else ""
    return context


def _page(
    request: HtmxHttpRequest, notice: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    learner = request.learner
    workshop = _workshop_of(learner)
    context: dict[str, Any] = {"learner": learner, "workshop": workshop}
    if workshop is not None:
        try:
            found = livequiz.current(learner, workshop)
        except Refused as refused:
            found, error = None, error or refused.message
        mine = livequiz.own_answer(learner, workshop, found.round) if found else None
        context.update(_question_context(learner, workshop, found, mine))
        context["live_room"] = livequiz.room(workshop)
        context["stream_url"] = reverse("learning:live-quiz-events")
        context["sse_events"] = ",".join([*live.EVENT_TYPES, live.SYNC])
    context["notice"], context["error"] = notice, error
    template = f"{PAGE}#question" if request.htmx else PAGE
    return render(request, template, context, status=status)


@require_GET
@learner_required
def live_quiz(request: HtmxHttpRequest) -> HttpResponse:
    """The room's live question on the learner's own device, with its countdown."""
    return _page(request)


class _Question:
    """The live question a learner's stream last saw, kept from the watch's own events
    (as an informer keeps its cache), so a new question is drawn without a request."""

    def __init__(self) -> None:
        self.live: Live | None = None
        self.known = False
        self.drawn = False

    def follow(self, lines: list[live.Line]) -> None:
        for line in lines:  # newest first
            if line.name == livequiz.QUESTION:
                self.live = None if line.type == "DELETED" else Live.read(line.object)
                self.known = True
                return


@require_GET
async def live_quiz_events(request: HtmxHttpRequest) -> HttpResponse:
    """The learner's question as Server-Sent Events, fed by their watch on the room."""
    learner = await sync_to_async(current_learner)(request)
    workshop = await sync_to_async(_workshop_of)(learner) if learner is not None else None
    if learner is None or workshop is None:
        return HttpResponse(
            "Join a workshop first.", status=403, content_type="text/plain; charset=utf-8"
        )
    seen = _Question()

    def region(lines: list[live.Line]) -> str:
        seen.follow(lines)
        if not seen.known:  # a stream resumed, or a room with no question: ask once
            try:
                seen.live = livequiz.current(learner, workshop)
            except Refused:
                seen.live = None
            seen.known = True
        found = seen.live
        # A new round cannot have an answer yet; on the first draw and at a reveal, ask.
        ask = found is not None and (not seen.drawn or found.revealed)
        mine = livequiz.own_answer(learner, workshop, found.round) if ask else None
        seen.drawn = True
        context = _question_context(learner, workshop, found, mine)
        return render_to_string(f"{PAGE}#question", context, request=request)

    path = collection_path("", "v1", "configmaps", livequiz.room(workshop))
    return await live.respond(request, learner, [(path, {})], region)


_ANSWERED_TWICE = (
    "You have already answered this question. Your answer is a ConfigMap named {name} in "
    "your namespace, and names are unique within a namespace, so the API server refused a "
    "second one with 409 AlreadyExists."
)


@require_POST
@learner_required
def live_answer(request: HtmxHttpRequest) -> HttpResponse:
    """Send the learner's answer: a ConfigMap created in their namespace, as they are."""
    learner = request.learner
    workshop = _workshop_of(learner)
    if workshop is None:
        return _page(request, error="Join a workshop first.", status=403)
    number = request.POST.get("round", "")
    try:
        sent = livequiz.answer(
            learner, workshop, int(number) if number.isdigit() else -1, request.POST.get("choice")
        )
    except Refused as refused:
        status = 200 if request.htmx else refused.status
        return _page(request, error=refused.message, status=status)
    if sent.status == 409:
        name = livequiz.answer_name(workshop, int(number))
        status = 200 if request.htmx else 409
        return _page(request, error=_ANSWERED_TWICE.format(name=name), status=status)
    if not sent.ok:
        error = f"The API server answered {sent.status} {sent.reason}: {sent.message}"
        return _page(request, error=error, status=200 if request.htmx else sent.status)
    notice = (
        f"Answer received: the API server stored ConfigMap {sent.metadata.get('name')} in "
        f"{learner.namespace} (201 Created)."
    )
    if request.htmx:
        return _page(request, notice=notice)
    messages.success(request, notice)
    return redirect("learning:live-quiz")


# The instructor ----------------------------------------------------------------------


def _back(request: HttpRequest, workshop: Workshop, notice: str = "", error: str = ""):
    return back_to_dashboard(request, workshop, "live-quiz", notice, error)


@require_POST
@instructor_only
def live_start(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Put a question from the bank to the room, with a timer."""
    workshop = _own_workshop(request, code)
    picked = request.POST.get("question", "")
    seconds = request.POST.get("seconds", "")
    question = livequiz.live_questions().filter(pk=picked).first() if picked.isdigit() else None
    if question is None or not seconds.isdigit():
        return _back(request, workshop, error="Choose a question and a timer first.")
    identity = workshops.instructor_identity(request.user)
    try:
        started = livequiz.start(identity, workshop, question, int(seconds))
    except Refused as refused:
        return _back(request, workshop, error=refused.message)
    return _back(
        request, workshop, notice=f"Question {started.round} is live for {started.seconds} s."
    )


@require_POST
@instructor_only
def live_reveal(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Close the question, show the right answer and add the points."""
    workshop = _own_workshop(request, code)
    identity = workshops.instructor_identity(request.user)
    try:
        shown = livequiz.reveal(identity, workshop)
    except Refused as refused:
        return _back(request, workshop, error=refused.message)
    return _back(request, workshop, notice=f"Question {shown.round} revealed.")


@require_POST
@instructor_only
def live_end(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Take the question down; the scores stay for the next one."""
    workshop = _own_workshop(request, code)
    identity = workshops.instructor_identity(request.user)
    if livequiz.end(identity, workshop):
        return _back(request, workshop, notice="The live question is down.")
    return _back(request, workshop, notice="No question was live.")


@require_GET
@staff_member_required
async def big_screen_events(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The big screen's quiz as Server-Sent Events: the instructor watches the room (the
    question, the scores) and every answer of the workshop, in every namespace, by label;
    each half second's answers redraw the histogram once."""
    found = await sync_to_async(_streamed_workshop)(request, code)
    if isinstance(found, HttpResponse):
        return found
    workshop = found
    identity = await sync_to_async(workshops.instructor_identity)(request.user)

    def region(lines: list[live.Line]) -> str:
        context = {"workshop": workshop, **livequiz.board(identity, workshop)}
        return render_to_string(BOARD, context, request=request)

    selector = {"labelSelector": f"{livequiz.LABEL_WORKSHOP}={workshop.code}"}
    watches = [
        (collection_path("", "v1", "configmaps", livequiz.room(workshop)), {}),
        (collection_path("", "v1", "configmaps"), selector),
    ]
    return await live.respond(
        request,
        identity,
        watches,
        region,
        _staff_still(request.user.pk),
        settle=BOARD_SETTLE,
    )
