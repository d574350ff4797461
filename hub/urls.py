from django.contrib import admin
from django.urls import include, path

from hub.views import admin_login

urlpatterns = [
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("", include("apiserver.server.urls")),
    path("", include("catalog.urls")),
    path("", include("shop.urls")),
    path("", include("learning.urls")),
]

handler404 = "catalog.views.not_found"
