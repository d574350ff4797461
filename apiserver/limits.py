"""Limits per client address on what costs the cluster an identity or guesses a secret.

New learner names (each one a namespace), workshop join attempts (each code a guess) and
admin login attempts draw from token buckets kept by the same backend as the API's priority
and fairness: this process's memory by default, Redis when configured, or off. A refused
attempt gets a 429 page with Retry-After, never a server error.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from apiserver.filters import fairness


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `seconds`, refilled steadily; the settings name both."""

    count_setting: str
    seconds_setting: str
    default_count: int
    default_seconds: int
    what: str

    def bucket(self, action: str, address: str) -> fairness.Bucket:
        count = max(1, int(getattr(settings, self.count_setting, self.default_count)))
        seconds = max(1, int(getattr(settings, self.seconds_setting, self.default_seconds)))
        return fairness.Bucket(f"attempts:{action}:{address}", count / seconds, count)


LIMITS = {
    "learner-name": Limit(
        "WAREHOUSE_NEW_LEARNERS_LIMIT", "WAREHOUSE_NEW_LEARNERS_SECONDS", 10, 3600, "new names"
    ),
    "join": Limit("WAREHOUSE_JOIN_LIMIT", "WAREHOUSE_JOIN_SECONDS", 20, 600, "join attempts"),
    "admin-login": Limit(
        "WAREHOUSE_ADMIN_LOGIN_LIMIT", "WAREHOUSE_ADMIN_LOGIN_SECONDS", 10, 600, "sign-in attempts"
    ),
}


class TooManyAttempts(Exception):
    """This address used up its attempts; `retry_after` says how many seconds to wait."""

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(f"too many {LIMITS[action].what}; retry after {retry_after}s")
        self.action = action
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the proxy's last X-Forwarded-For hop if trusted.

    Only a proxy the settings vouch for (WAREHOUSE_BEHIND_PROXY) may name the client; the
    right-most entry is the one that proxy appended, the rest a client could have forged.
    """
    if getattr(settings, "WAREHOUSE_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def check(action: str, request: HttpRequest) -> None:
    """Take one attempt of `action` for this address, or raise TooManyAttempts."""
    bucket = LIMITS[action].bucket(action, client_address(request))
    wait = fairness.backend().take([bucket])
    if wait > 0:
        raise TooManyAttempts(action, max(1, math.ceil(wait)))


def refused(request: HttpRequest, error: TooManyAttempts) -> HttpResponse:
    """The 429 page: what happened, and when to try again (also in Retry-After)."""
    minutes = max(1, math.ceil(error.retry_after / 60))
    context = {"what": LIMITS[error.action].what, "minutes": minutes}
    html = render_to_string("429.html", context, request=request)
    response = HttpResponse(html, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response
