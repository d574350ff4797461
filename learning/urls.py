from django.urls import path

from learning import livequiz_views, quizviews, views

app_name = "learning"

urlpatterns = [
    path("learn/", views.index, name="index"),
    path("learn/lessons/<slug:slug>/", views.lesson, name="lesson"),
    path("learn/lessons/<slug:slug>/afresh/", views.start_afresh, name="afresh"),
    path("learn/lessons/<slug:slug>/<slug:step>/check/", views.check_step, name="check"),
    path("learn/lessons/<slug:slug>/<slug:step>/hint/", views.hint, name="hint"),
    path("learn/lessons/<slug:slug>/<slug:step>/practice/", views.practice, name="practice"),
    path("learn/grand-central/", views.grand_central, name="grand-central"),
    path("learn/grand-central/events/", views.grand_central_events, name="grand-central-events"),
    path("learn/quizzes/", views.quiz_list, name="quizzes"),
    path("learn/quizzes/<slug:slug>/", views.quiz, name="quiz"),
    path("learn/quizzes/<slug:slug>/results/", views.results, name="results"),
    path("learn/quizzes/<slug:slug>/retry/", views.retry, name="retry"),
    path("learn/quizzes/<slug:slug>/<int:question_id>/", views.answer, name="answer"),
    path("learn/your-requests-quiz/", quizviews.traffic_quiz, name="traffic-quiz"),
    path(
        "learn/your-requests-quiz/<slug:kind>/<slug:name>/",
        quizviews.traffic_answer,
        name="traffic-answer",
    ),
    path("learn/live/", livequiz_views.live_quiz, name="live-quiz"),
    path("learn/live/events/", livequiz_views.live_quiz_events, name="live-quiz-events"),
    path("learn/live/answer/", livequiz_views.live_answer, name="live-answer"),
    path("learn/workshops/", views.workshop_list, name="workshops"),
    path("learn/workshops/<str:code>/", views.dashboard, name="dashboard"),
    path("learn/workshops/<str:code>/events/", views.dashboard_events, name="dashboard-events"),
    path("learn/workshops/<str:code>/class.json", views.export_class, name="export-class"),
    path("learn/workshops/<str:code>/big-screen/", views.big_screen, name="big-screen"),
    path(
        "learn/workshops/<str:code>/big-screen/events/",
        livequiz_views.big_screen_events,
        name="big-screen-events",
    ),
    path("learn/workshops/<str:code>/live/start/", livequiz_views.live_start, name="live-start"),
    path("learn/workshops/<str:code>/live/reveal/", livequiz_views.live_reveal, name="live-reveal"),
    path("learn/workshops/<str:code>/live/end/", livequiz_views.live_end, name="live-end"),
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
