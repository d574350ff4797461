from django.apps import AppConfig


class LearningConfig(AppConfig):
    """The training centre: lessons with checked steps, quizzes and workshops."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "learning"
    verbose_name = "Learning"

    def ready(self) -> None:
        from apiserver.filters import faults as fault_hook
        from learning import checks, faults, livequiz, scenarios, system_checks  # noqa: F401 - registers checks

        fault_hook.register(faults.apply, quiet=faults.quiet)
        scenarios.register_panel()
        livequiz.register_panel()
