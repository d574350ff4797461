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
