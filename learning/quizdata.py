"""Loading the quiz fixture into the database, for the data migration and `load_quizzes`.

Takes the model classes as arguments so the migration can pass its historical models.
"""

from pathlib import Path
from typing import Any

import yaml

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "quizzes.yaml"
KEY_FIELDS = {"choices", "pairs", "steps", "check", "params", "why"}


def read(path: Path = FIXTURE) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or []


def load(quiz_model: Any, question_model: Any, path: Path = FIXTURE) -> int:
    """Create or update every quiz and question in the fixture; returns how many questions."""
    count = 0
    for position, raw in enumerate(read(path), start=1):
        quiz, _ = quiz_model.objects.update_or_create(
            slug=raw["slug"],
            defaults={
                "title": raw["title"],
                "intro": raw.get("intro", ""),
                "lesson": raw.get("lesson", ""),
                "position": position,
            },
        )
        for number, question in enumerate(raw.get("questions", []), start=1):
            question_model.objects.update_or_create(
                quiz=quiz,
                slug=question["slug"],
                defaults={
                    "type": question["type"],
                    "prompt": question["prompt"],
                    "position": number,
                    "data": {k: v for k, v in question.items() if k in KEY_FIELDS},
                },
            )
            count += 1
    return count
