"""Django system checks: catch broken lesson or quiz content at start-up, not in class."""

from typing import Any

from django.core import checks as django_checks

from learning import grading, lessons, quizdata


@django_checks.register()
def lesson_content(app_configs: Any = None, **kwargs: Any) -> list[django_checks.CheckMessage]:
    """Every step must name a registered check or say it is coming; quizzes must be markable."""
    from learning import checks

    problems: list[django_checks.CheckMessage] = []
    try:
        all_lessons = lessons.all_lessons()
        quizzes = quizdata.read()
    except Exception as error:  # noqa: BLE001 - report any unreadable content as one error
        return [django_checks.Error(f"Cannot read learning content: {error}", id="learning.E001")]
    for lesson in all_lessons:
        for step in lesson.steps:
            if not step.coming and step.check not in checks.CHECKS:
                problems.append(
                    django_checks.Error(
                        f"Step {lesson.slug}/{step.slug} names the unknown check {step.check!r}.",
                        hint="Register it with learning.checks.register, or mark the step coming.",
                        id="learning.E002",
                    )
                )
    for quiz in quizzes:
        for question in quiz.get("questions", []):
            data = {k: v for k, v in question.items() if k in quizdata.KEY_FIELDS}
            problem = grading.problem_with(question.get("type", ""), data)
            if problem:
                problems.append(
                    django_checks.Error(
                        f"Quiz question {quiz.get('slug')}/{question.get('slug')}: {problem}",
                        id="learning.E003",
                    )
                )
    return problems
