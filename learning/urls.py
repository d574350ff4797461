from django.urls import path

from learning import views

app_name = "learning"

urlpatterns = [
    path("learn/", views.index, name="index"),
    path("learn/lessons/<slug:slug>/", views.lesson, name="lesson"),
    path("learn/lessons/<slug:slug>/<slug:step>/check/", views.check_step, name="check"),
    path("learn/grand-central/", views.grand_central, name="grand-central"),
    path("learn/grand-central/events/", views.grand_central_events, name="grand-central-events"),
    path("learn/quizzes/", views.quiz_list, name="quizzes"),
    path("learn/quizzes/<slug:slug>/", views.quiz, name="quiz"),
    path("learn/quizzes/<slug:slug>/results/", views.results, name="results"),
    path("learn/quizzes/<slug:slug>/retry/", views.retry, name="retry"),
    path("learn/quizzes/<slug:slug>/<int:question_id>/", views.answer, name="answer"),
    path("learn/workshops/", views.workshop_list, name="workshops"),
    path("learn/workshops/<str:code>/", views.dashboard, name="dashboard"),
    path("learn/workshops/<str:code>/events/", views.dashboard_events, name="dashboard-events"),
    path("learn/workshops/<str:code>/big-screen/", views.big_screen, name="big-screen"),
    path("learn/workshops/<str:code>/toggle/", views.toggle, name="toggle"),
    path("learn/workshops/<str:code>/require-code/", views.require_code, name="require-code"),
    path("learn/workshops/<str:code>/learners/<int:learner_id>/reset/", views.reset, name="reset"),
    path(
        "learn/workshops/<str:code>/learners/<int:learner_id>/revoke/", views.revoke, name="revoke"
    ),
    path("learn/workshops/<str:code>/scenario/", views.scenario, name="scenario"),
    path(
        "learn/workshops/<str:code>/scenario/events/",
        views.scenario_events,
        name="scenario-events",
    ),
    path(
        "learn/workshops/<str:code>/scenario/start/",
        views.scenario_start,
        name="scenario-start",
    ),
    path("learn/workshops/<str:code>/scenario/stop/", views.scenario_stop, name="scenario-stop"),
    path("join/", views.join, name="join"),
]
