from django.apps import AppConfig


class LearningConfig(AppConfig):
    """The training centre: lessons with checked steps, quizzes and workshops."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "learning"
    verbose_name = "Learning"

    def ready(self) -> None:
        from learning import checks, scenarios, system_checks  # noqa: F401 - registers checks

        scenarios.register_panel()
