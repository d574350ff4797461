"""Workshops: joining without an account, and what the instructor's dashboard shows.

A joiner becomes an ordinary shop learner (a `ClusterUser` with its own namespace), signed
in through `shop.learners.sign_in`, so the shop pages know them at once. The instructor acts
on the cluster as a `ClusterUser` with the instructor role, through the same API pipeline.
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import segno
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from apiserver import accounts, readmodel
from apiserver.accounts import ClusterUser
from apiserver.client import Client, Exchange, collection_path
from learning import lessons, progress
from learning.checks import IMAGE_ERRORS
from learning.models import Participant, Question, Workshop
from shop.learners import FrontDoorClosed, NameTaken, current_learner, sign_in

USER_AGENT = "warehouse-dashboard"
FAILING = {*IMAGE_ERRORS, "CrashLoopBackOff", "CreateContainerConfigError"}
SUFFIX_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class CannotJoin(Exception):
    """The code names no open workshop."""


def instructor_identity(user: AbstractBaseUser) -> ClusterUser:
    """The API identity a staff user acts as on the cluster, created on first use."""
    identity, _ = ClusterUser.objects.get_or_create(
        name=f"instructor-{user.pk}",
        defaults={"role": ClusterUser.Role.INSTRUCTOR, "display_name": user.get_username()},
    )
    return identity


def _learner_name(display_name: str) -> str:
    """A DNS label from the display name plus a short random tail, e.g. ada-lovelace-k3q9."""
    base = slugify(display_name)[:40].strip("-") or "learner"
    if accounts.is_reserved(base) or accounts.is_reserved(f"{base}-"):
        base = f"learner-{base}"[:40].strip("-")
    tail = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(4))
    return f"{base}-{tail}"


def join(request: HttpRequest, code: str, display_name: str) -> tuple[Workshop, ClusterUser]:
    """Sign this browser in as a new learner of the open workshop `code`.

    A browser already in this workshop keeps its learner, so joining twice is harmless.
    """
    workshop = Workshop.objects.filter(code=code).first()
    if workshop is None:
        raise CannotJoin("There is no workshop with that code. Check it with your instructor.")
    if not workshop.is_open:
        raise CannotJoin("This workshop is closed for joining. Ask your instructor to open it.")
    current = current_learner(request)
    if current is not None and workshop.participants.filter(learner=current).exists():
        return workshop, current
    for _ in range(10):
        try:
            learner, _ = sign_in(request, _learner_name(display_name), display_name)
        except NameTaken:
            continue
        except FrontDoorClosed:
            raise CannotJoin(
                "The cluster's front door is not answering right now, so we cannot open a "
                "namespace for you. Try again in a minute."
            ) from None
        Participant.objects.get_or_create(workshop=workshop, learner=learner)
        return workshop, learner
    raise CannotJoin("We could not find a free name for you. Please try again.")


def _as_instructor(identity: ClusterUser, method: str, path: str) -> Exchange:
    return Client(identity, "browser", USER_AGENT).exchange(method, path)


def _pod_state(pod: dict[str, Any]) -> str:
    """running, failed, in_flight or done: how an order looks from the dashboard."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    reasons = {
        ((c.get("state") or {}).get("waiting") or {}).get("reason")
        for c in status.get("containerStatuses") or []
        if isinstance(c, dict)
    }
    if phase == "Failed" or reasons & FAILING:
        return "failed"
    if phase == "Running":
        return "running"
    if phase == "Succeeded":
        return "done"
    return "in_flight"


@dataclass
class Row:
    """One learner's line on the dashboard."""

    participant: Participant
    steps: int = 0
    quiz_points: int = 0
    pods: dict[str, int] = field(default_factory=dict)

    @property
    def learner(self) -> ClusterUser:
        return self.participant.learner

    @property
    def points(self) -> int:
        return self.steps + self.quiz_points


@dataclass
class Board:
    workshop: Workshop
    rows: list[Row]
    total_steps: int
    total_questions: int
    cluster_error: str = ""

    @property
    def joined(self) -> int:
        return len(self.rows)

    @property
    def leaderboard(self) -> list[Row]:
        return sorted(self.rows, key=lambda r: (-r.points, r.participant.joined))[:10]


def board(workshop: Workshop, identity: ClusterUser) -> Board:
    """Everything the dashboard shows, read once per poll (one API list for all Pods)."""
    participants = list(workshop.participants.select_related("learner"))
    ids = [p.learner_id for p in participants]
    steps = progress.steps_passed_counts(ids)
    scores = progress.best_scores(ids)
    rows = [
        Row(
            participant=p,
            steps=steps.get(p.learner_id, 0),
            quiz_points=sum(scores.get(p.learner_id, {}).values()),
            pods={"running": 0, "in_flight": 0, "failed": 0, "done": 0},
        )
        for p in participants
    ]
    error = ""
    if rows:
        response = _as_instructor(identity, "GET", "/api/v1/pods")
        if response.status == 200:
            by_namespace = {row.learner.namespace: row for row in rows}
            for pod in (response.body or {}).get("items", []):
                row = by_namespace.get(pod.get("metadata", {}).get("namespace", ""))
                if row is not None:
                    state = _pod_state(pod)
                    row.pods[state] = row.pods.get(state, 0) + 1
        else:
            error = f"The API server answered {response.status} when listing Pods."
    questions = Question.objects.count()
    return Board(
        workshop=workshop,
        rows=rows,
        total_steps=len(lessons.checkable_steps()),
        total_questions=questions,
        cluster_error=error,
    )


def reset_namespace(identity: ClusterUser, learner: ClusterUser) -> int:
    """Delete everything in the learner's namespace through the API; how many kinds emptied.

    Everything but the learner's share of the cluster (its ResourceQuota and LimitRange),
    which is the room's, not the learner's. Their RoleBinding goes with the rest (and any
    they made to share the namespace), so it is made again: the learner starts afresh, not
    locked out.
    """
    emptied = 0
    for kind in readmodel.resources_in_namespace(learner.namespace):
        if not kind["namespaced"] or "deletecollection" not in kind["verbs"]:
            continue
        if kind["group"] == "" and kind["plural"] in accounts.SHARE_RESOURCES.values():
            continue
        path = collection_path(kind["group"], kind["version"], kind["plural"], learner.namespace)
        if _as_instructor(identity, "DELETE", path).status < 300:
            emptied += 1
    accounts.grant_learner(learner)
    return emptied


def revoke(learner: ClusterUser) -> None:
    """Lock the learner out: their token stops working and their session ends."""
    learner.is_active = False
    learner.save(update_fields=["is_active"])
    learner.rotate_token()


def restore(learner: ClusterUser) -> None:
    """Let a revoked learner back in (with the new token; old kubeconfigs stay dead)."""
    learner.is_active = True
    learner.save(update_fields=["is_active"])


@dataclass(frozen=True)
class Panel:
    """An extra section of the instructor dashboard, contributed by another app."""

    template: str
    context: Callable[[HttpRequest, Workshop], dict[str, Any] | None]


PANELS: list[Panel] = []


def register_panel(
    template: str, context: Callable[[HttpRequest, Workshop], dict[str, Any] | None]
) -> None:
    """Show `template` on every dashboard, e.g. controls for outage and overload scenarios.

    `context(request, workshop)` gives the template its `panel` variable, or None to hide
    it. Call this from your AppConfig.ready(); your own views handle the panel's forms.
    """
    if all(panel.template != template for panel in PANELS):
        PANELS.append(Panel(template, context))


def panels(request: HttpRequest, workshop: Workshop) -> list[dict[str, Any]]:
    """The registered panels to render now, each as {"template", "context"}."""
    shown = []
    for panel in PANELS:
        context = panel.context(request, workshop)
        if context is not None:
            shown.append({"template": panel.template, "context": context})
    return shown


def join_link(request: HttpRequest, workshop: Workshop) -> str:
    """The join page's full address, carrying the code unless learners must type it."""
    url = request.build_absolute_uri(reverse("learning:join"))
    return url if workshop.code_required else f"{url}?code={workshop.code}"


# The QR code's modules are one SVG unit each, with the four-module quiet zone the
# standard asks for; CSS sizes it, so it stays sharp on any projector.
QR_SCALE = 1
QR_BORDER = 4
QR_INK = "#000"


def join_qr_svg(url: str, element_id: str = "join-qr") -> SafeString:
    """`url` as a QR code in inline SVG, named by its <title> for screen readers.

    segno draws the modules in black; they are switched to currentColor so the page's
    colours (dark-on-light in both schemes, as phone cameras expect) decide.
    """
    svg = segno.make(url, micro=False).svg_inline(
        scale=QR_SCALE,
        border=QR_BORDER,
        dark=QR_INK,
        title=f"QR code that opens {url}",
        svgclass="qr",
        lineclass="qr__modules",
        omitsize=True,
    )
    svg = svg.replace(f'stroke="{QR_INK}"', 'stroke="currentColor"', 1)
    svg = svg.replace("<title>", f'<title id="{element_id}-title">', 1)
    svg = re.sub(
        r"^<svg ",
        f'<svg id="{element_id}" role="img" aria-labelledby="{element_id}-title" ',
        svg,
        count=1,
    )
    return mark_safe(svg)  # segno escapes the title; the rest is its own markup
