from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.storefront, name="storefront"),
    path("catalog/<str:group>/<str:version>/<str:plural>/", views.product, name="product"),
]
