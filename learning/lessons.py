"""The guided path, read from `content/lessons.yaml` once and kept in memory.

Lessons are text plus a list of checked steps; keeping them in a file (not the database)
means they are reviewed in pull requests and every environment teaches the same words.
"""

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONTENT = Path(__file__).resolve().parent / "content" / "lessons.yaml"


@dataclass(frozen=True)
class Section:
    heading: str
    body: str


@dataclass(frozen=True)
class PanelRow:
    """One line of the side-by-side panel: the shop's word and Kubernetes' word."""

    shop: str
    kube: str


@dataclass(frozen=True)
class Link:
    """A page of this site worth visiting with the lesson, e.g. a product or Grand Central."""

    text: str
    url: str


@dataclass(frozen=True)
class Step:
    """A "try it" task the app checks for real, through the API, as the learner."""

    slug: str
    title: str
    body: str
    check: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    hints: tuple[str, ...] = ()
    coming: str = ""
    # The API server's stage the step teaches (a key of `apiserver.flow.STAGES`), drawn
    # picked out on the request-flow figure beside it; "" for none.
    gate: str = ""
    # A practice run the learner may start alone for this step, so it needs nobody else:
    # "outage", "slowdown" or "overload" (touching only their own requests), or "seller"
    # (a custom kind registered for them); "" for none.
    practice: str = ""


PRACTICES = ("outage", "slowdown", "overload", "seller")


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    summary: str
    sections: tuple[Section, ...]
    panel: tuple[PanelRow, ...]
    breaks: str
    steps: tuple[Step, ...]
    links: tuple[Link, ...] = ()
    number: int = 0
    # A drawn figure shown after the text: "analogy-map" is the only one so far.
    figure: str = ""

    def step(self, slug: str) -> Step | None:
        return next((s for s in self.steps if s.slug == slug), None)


def _lesson(number: int, raw: dict[str, Any]) -> Lesson:
    return Lesson(
        slug=raw["slug"],
        title=raw["title"],
        summary=raw.get("summary", ""),
        sections=tuple(Section(s["heading"], s["body"]) for s in raw.get("sections", [])),
        panel=tuple(PanelRow(p["shop"], p["kube"]) for p in raw.get("panel", [])),
        breaks=raw.get("breaks", ""),
        steps=tuple(
            Step(
                slug=s["slug"],
                title=s["title"],
                body=s.get("body", ""),
                check=s["check"],
                params=dict(s.get("params") or {}),
                hints=tuple(s.get("hints") or ()),
                coming=s.get("coming", ""),
                gate=s.get("gate", ""),
                practice=s.get("practice", ""),
            )
            for s in raw.get("steps", [])
        ),
        links=tuple(
            Link(link["text"], link["url"])
            for link in raw.get("links", [])
            if _local(str(link.get("url", "")))
        ),
        number=number,
        figure=str(raw.get("figure", "")),
    )


def _local(url: str) -> bool:
    """Only paths on this site: no scheme, no other host, no script."""
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


@functools.cache
def all_lessons() -> tuple[Lesson, ...]:
    """Every lesson in path order."""
    with CONTENT.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or []
    return tuple(_lesson(number, item) for number, item in enumerate(raw, start=1))


def get(slug: str) -> Lesson | None:
    return next((lesson for lesson in all_lessons() if lesson.slug == slug), None)


def checkable_steps() -> list[tuple[Lesson, Step]]:
    """The steps a learner can pass today: those not waiting for a feature to land."""
    from learning import checks

    return [
        (lesson, step)
        for lesson in all_lessons()
        for step in lesson.steps
        if checks.is_available(step)
    ]


COVERAGE = CONTENT.parent / "coverage.yaml"
# The chapter's facts, as the README's analogy table and the request flow name them: the
# coverage table must teach, practise and ask each one.
CHAPTER_FACTS = (
    "resources",
    "api-catalog",
    "front-door",
    "clients",
    "crds",
    "watching",
    "authentication",
    "authorization",
    "admission",
    "store",
    "controllers",
    "fast",
    "unknown-kind",
)


@dataclass(frozen=True)
class Fact:
    """One fact of the chapter, and where it is explained, practised and asked."""

    fact: str
    statement: str
    sections: tuple[str, ...]  # "lesson/Section heading"
    steps: tuple[str, ...]  # "lesson/step"
    questions: tuple[str, ...]  # "quiz/question"


def coverage(path: Path = COVERAGE) -> tuple[Fact, ...]:
    """The coverage table, in its file's order."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or []
    return tuple(
        Fact(
            fact=str(item["fact"]),
            statement=str(item.get("statement", "")),
            sections=tuple(item.get("sections") or ()),
            steps=tuple(item.get("steps") or ()),
            questions=tuple(item.get("questions") or ()),
        )
        for item in raw
    )


def coverage_problems(
    facts: tuple[Fact, ...], quizzes: list[dict[str, Any]], required: tuple[str, ...] = ()
) -> list[str]:
    """Every way the table falls short: a required fact missing, a fact without a section,
    a checkable step or a question, or a reference to something that does not exist."""
    from learning import checks

    sections = {f"{lesson.slug}/{s.heading}" for lesson in all_lessons() for s in lesson.sections}
    steps = {
        f"{lesson.slug}/{step.slug}": step for lesson in all_lessons() for step in lesson.steps
    }
    questions = {
        f"{quiz.get('slug')}/{question.get('slug')}"
        for quiz in quizzes
        for question in quiz.get("questions") or []
    }
    problems = [
        f"{name}: not in the table"
        for name in required
        if name not in {fact.fact for fact in facts}
    ]
    for fact in facts:
        for kind, refs in (
            ("section", fact.sections),
            ("step", fact.steps),
            ("question", fact.questions),
        ):
            if not refs:
                problems.append(f"{fact.fact}: no {kind}")
        problems += [
            f"{fact.fact}: no section {ref!r}" for ref in fact.sections if ref not in sections
        ]
        for ref in fact.steps:
            step = steps.get(ref)
            if step is None:
                problems.append(f"{fact.fact}: no step {ref!r}")
            elif not checks.is_available(step):
                problems.append(f"{fact.fact}: step {ref!r} cannot be checked")
        problems += [
            f"{fact.fact}: no question {ref!r}" for ref in fact.questions if ref not in questions
        ]
    return problems
