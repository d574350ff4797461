from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apiserver.server.urls")),
    path("", include("catalog.urls")),
    path("", include("shop.urls")),
    path("", include("learning.urls")),
]

handler404 = "catalog.views.not_found"
