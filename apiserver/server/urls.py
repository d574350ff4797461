from django.urls import path, re_path

from apiserver.server import views

app_name = "apiserver"

urlpatterns = [
    path("healthz", views.health, name="healthz"),
    path("livez", views.health, name="livez"),
    path("readyz", views.health, name="readyz"),
    re_path(r"^(?:api|apis|openapi)(?:/.*)?$", views.api, name="api"),
    re_path(r"^version/?$", views.api, name="version"),
]
