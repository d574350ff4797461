"""Signing in as a learner without accounts: the browser session remembers who you are.

A learner is a `ClusterUser` with a namespace of the same name. The session keeps the id of
every learner it created, so only that browser may come back to a name; anyone else who
picks it is told the name is taken.
"""

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from apiserver import accounts
from apiserver.accounts import ClusterUser
from apiserver.client import ApiError

log = logging.getLogger(__name__)

SESSION_LEARNER = "shop_learner_id"
SESSION_NAME = "shop_learner_name"
SESSION_OWNED = "shop_owned_learner_ids"


class NameTaken(Exception):
    """Someone else's browser, or the cluster itself, already holds this learner name."""


class FrontDoorClosed(Exception):
    """The API server cannot answer now, so a new name cannot be checked and opened."""


def current_learner(request: HttpRequest) -> ClusterUser | None:
    """The learner this browser is signed in as, or None."""
    learner_id = request.session.get(SESSION_LEARNER)
    if learner_id is None:
        return None
    learner = ClusterUser.objects.filter(
        pk=learner_id, role=ClusterUser.Role.LEARNER, is_active=True
    ).first()
    if learner is None:
        request.session.pop(SESSION_LEARNER, None)
        request.session.pop(SESSION_NAME, None)
    return learner


def sign_in(request: HttpRequest, name: str, display_name: str = "") -> tuple[ClusterUser, bool]:
    """Create or resume the learner `name` for this browser; return it and whether it is new.

    Raises NameTaken when the name belongs to a learner this browser did not create, is
    reserved, or names a Namespace that already exists: a new learner never adopts one (an
    instructor's demo, a scenario's), nor the Secrets inside it. Raises FrontDoorClosed for
    a new name while the API server cannot answer (an outage exercise): only its answer
    says whether the Namespace is free, so no name is handed out unchecked.
    """
    if accounts.is_reserved(name):
        raise NameTaken(name)
    owned = set(request.session.get(SESSION_OWNED, []))
    existing = ClusterUser.objects.filter(name=name).first()
    if existing is not None:
        mine = existing.pk in owned and existing.role == ClusterUser.Role.LEARNER
        if not mine or not existing.is_active:
            raise NameTaken(name)
        if display_name and display_name != existing.display_name:
            existing.display_name = display_name
            existing.save(update_fields=["display_name"])
        learner, created = existing, False
    else:
        try:
            with transaction.atomic():
                learner = ClusterUser.objects.create(
                    name=name,
                    display_name=display_name,
                    role=ClusterUser.Role.LEARNER,
                    namespace=name,
                )
                opened = _ensure_namespace(learner)
                if opened is False:
                    raise NameTaken(name)
                if opened is None or _grant(learner) is None:
                    raise FrontDoorClosed(name)
        except IntegrityError:
            # Another browser took the name between our look-up and our insert.
            raise NameTaken(name) from None
        created = True
    if not created and _ensure_namespace(learner) is not None:
        _grant(learner)
    if request.session.get(SESSION_LEARNER) != learner.pk:
        request.session.cycle_key()
    request.session[SESSION_LEARNER] = learner.pk
    request.session[SESSION_NAME] = learner.name
    request.session[SESSION_OWNED] = sorted(owned | {learner.pk})
    return learner, created


def sign_out(request: HttpRequest) -> None:
    """Forget the current learner; this browser may still resume the names it created."""
    for key in list(request.session.keys()):
        if key.startswith("shop_") and key != SESSION_OWNED:
            del request.session[key]


def safe_next(request: HttpRequest, target: str | None) -> str | None:
    """The `next` address if it stays on this site, else None."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def sign_in_url(next_url: str) -> str:
    """The sign-in page, remembering where to come back to."""
    return f"{reverse('shop:learner')}?{urlencode({'next': next_url})}"


def learner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send visitors who have not picked a learner name to the sign-in page first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        learner = current_learner(request)
        if learner is None:
            url = sign_in_url(_back_after_sign_in(request))
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return HttpResponseRedirect(url)
        request.learner = learner  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _back_after_sign_in(request: HttpRequest) -> str:
    """Where to return after signing in: the same page, or the order form a POST came from."""
    if request.method == "GET":
        return request.get_full_path()
    match = request.resolver_match
    if match is not None and match.url_name == "order":
        return request.path
    return reverse("shop:orders")


def is_new_name(name: str) -> bool:
    """True if no identity holds `name` yet, so signing in with it would create a learner."""
    return not ClusterUser.objects.filter(name=name).exists()


def _unanswered(error: ApiError) -> bool:
    """An outage or a busy door: the request may succeed later."""
    return error.code == 429 or error.code >= 500


def _grant(learner: ClusterUser) -> bool | None:
    """Have the API server bind the learner to their namespace; None if it could not answer."""
    try:
        accounts.grant_learner(learner)
    except ApiError as error:
        if not _unanswered(error):
            raise
        log.warning("learner %s not bound yet: %s", learner.name, error)
        return None
    return True


def _ensure_namespace(learner: ClusterUser) -> bool | None:
    """Have the API server create the learner's Namespace if it is missing.

    True if it was created, False if it existed already, None if the API could not answer.
    The answer comes from the API server (a POST as the accounts identity, refused with 409
    when the Namespace exists), so the check and the creation are one step. A door shut by
    an outage or too busy to answer must not stop a returning learner signing in: the next
    sign-in creates it.
    """
    try:
        return accounts.ensure_namespace(learner.namespace)
    except ApiError as error:
        if not _unanswered(error):
            raise
        log.warning("namespace %s not created yet: %s", learner.namespace, error)
        return None
