"""`manage.py load_quizzes`: (re)load the quiz fixture, e.g. after editing it."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning import grading, quizdata
from learning.models import Question, Quiz


class Command(BaseCommand):
    help = "Create or update the self-paced quizzes from learning/fixtures/quizzes.yaml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=quizdata.FIXTURE)

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        if not path.exists():
            raise CommandError(f"No quiz file at {path}")
        for quiz in quizdata.read(path):
            for question in quiz.get("questions", []):
                data = {k: v for k, v in question.items() if k in quizdata.KEY_FIELDS}
                problem = grading.problem_with(question.get("type", ""), data)
                if problem:
                    raise CommandError(f"{quiz['slug']}/{question.get('slug')}: {problem}")
        count = quizdata.load(Quiz, Question, path)
        self.stdout.write(self.style.SUCCESS(f"Loaded {count} questions."))
