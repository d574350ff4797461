from django.urls import path

from shop import history, views

app_name = "shop"

urlpatterns = [
    path("learner/", views.learner, name="learner"),
    path("learner/sign-out/", views.learner_sign_out, name="sign-out"),
    path("learner/kubeconfig/", views.kubeconfig, name="kubeconfig"),
    path("order/<str:group>/<str:version>/<str:plural>/", views.order, name="order"),
    path("orders/", views.orders, name="orders"),
    path("orders/events/", views.orders_events, name="orders-events"),
    path(
        "orders/<str:namespace>/<str:group>/<str:version>/<str:plural>/<str:name>/",
        views.receipt,
        name="receipt",
    ),
    path(
        "orders/<str:namespace>/<str:group>/<str:version>/<str:plural>/<str:name>/delete/",
        views.delete_order,
        name="delete",
    ),
    path(
        "orders/<str:namespace>/<str:group>/<str:version>/<str:plural>/<str:name>/track/",
        views.track,
        name="track",
    ),
    path(
        "orders/<str:namespace>/<str:group>/<str:version>/<str:plural>/<str:name>/history/",
        history.history,
        name="history",
    ),
    path(
        "orders/<str:namespace>/<str:group>/<str:version>/<str:plural>/<str:name>/track/events/",
        views.track_events,
        name="track-events",
    ),
]
