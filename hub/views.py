"""Site-wide views that belong to no single app."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from apiserver import limits


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login page, with each address allowed only so many password tries."""
    if request.method == "POST":
        try:
            limits.check("admin-login", request)
        except limits.TooManyAttempts as error:
            return limits.refused(request, error)
    return admin.site.login(request)
