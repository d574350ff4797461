"""The API server's paths: every Kubernetes API path goes to one view, and health checks.

The patterns are named once here; `hub.middleware` routes the same paths past the page
middleware by matching these very patterns.
"""

import re

from django.urls import re_path

from apiserver.server import views

app_name = "apiserver"

API_PATHS = r"(?:api|apis|openapi)(?:/.*)?|version/?"
HEALTH_PATHS = r"healthz|livez|readyz"

urlpatterns = [
    re_path(rf"^(?:{HEALTH_PATHS})$", views.health, name="health"),
    re_path(rf"^(?:{API_PATHS})$", views.api, name="api"),
]


def view_for(path: str):
    """The API server's view for a request path (with its leading slash), or None."""
    relative = path.removeprefix("/")
    if _API.fullmatch(relative):
        return views.api
    if _HEALTH.fullmatch(relative):
        return views.health
    return None


_API = re.compile(API_PATHS)
_HEALTH = re.compile(HEALTH_PATHS)
