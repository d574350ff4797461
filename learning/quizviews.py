"""The quiz drawn from the learner's own traffic (see `quiztraffic`): page and answers.

Its questions change as the learner works, so they are not stored as `Question` rows;
the answers given are kept in the learner's session, keyed by the event they were about.
"""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from apiserver.accounts import ClusterUser
from learning import quiztraffic
from shop.learners import learner_required

SESSION_KEY = "learning_traffic_answers"
# Events come and go; only this many of the latest answers are remembered.
KEEP = 40


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    learner: ClusterUser


def _answers(request: HttpRequest) -> dict[str, dict[str, Any]]:
    answers = request.session.get(SESSION_KEY)
    return answers if isinstance(answers, dict) else {}


def _item(learner: ClusterUser, question: quiztraffic.Generated, given: Any) -> dict[str, Any]:
    """A question as this learner sees it, with every choice explained once answered."""
    shown = question.shown_to(learner)
    item: dict[str, Any] = {"question": question, "choices": shown, "given": None}
    if isinstance(given, dict) and given.get("choice"):
        item["given"] = {
            "correct": given.get("choice") == question.right,
            "feedback": [
                {
                    "text": c.text,
                    "why": c.why,
                    "ok": c.key == question.right,
                    "picked": c.key == given.get("choice"),
                }
                for c in shown
            ],
        }
    return item


@require_GET
@learner_required
def traffic_quiz(request: HtmxHttpRequest) -> HttpResponse:
    """Questions about the learner's latest requests, read from their namespace's audit log."""
    events = quiztraffic.read_events(request.learner)
    answers = _answers(request)
    items = [
        _item(request.learner, q, answers.get(q.ref))
        for q in quiztraffic.questions(request.learner, events or [])
    ]
    context = {"items": items, "refused": events is None, "learner": request.learner}
    return render(request, "learning/quiz_traffic.html", context)


@require_POST
@learner_required
def traffic_answer(request: HtmxHttpRequest, kind: str, name: str) -> HttpResponse:
    """Mark an answer against the event read again; the first answer to a question counts."""
    question = quiztraffic.rebuild(request.learner, kind, name)
    if question is None:
        raise Http404("No such question about your requests.")
    answers = _answers(request)
    error = ""
    if question.ref not in answers:
        picked = request.POST.get("choice", "")
        if picked not in {c.key for c in question.choices}:
            error = "Pick one of the answers first."
        else:
            answers[question.ref] = {"choice": picked}
            request.session[SESSION_KEY] = dict(list(answers.items())[-KEEP:])
    if request.htmx:
        item = _item(request.learner, question, answers.get(question.ref))
        item["error"] = error
        return render(request, "learning/quiz_traffic.html#question", {"item": item})
    if error:
        messages.error(request, error)
    return redirect(reverse("learning:traffic-quiz") + f"#traffic-{kind}-{name}")
