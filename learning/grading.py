"""Marking quiz answers: one function per question type, all pure except "do it".

Questions are data (see `Question.data`); these functions read that data, so a new
question written in the admin needs no code. The page shows options in an order drawn from
the attempt and the question (`shuffled`): each learner and each retry sees its own order,
and a reload keeps it. Forms send an option's index in the answer key, never its place on
the page, so the mark cannot depend on where an option was shown.
"""

import random
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from apiserver.accounts import ClusterUser


@dataclass
class Verdict:
    """The mark for one answer, with what to tell the learner about it."""

    valid: bool
    correct: bool = False
    given: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    feedback: list[dict[str, Any]] = field(default_factory=list)


def problem_with(kind: str, data: Any) -> str:
    """Why an answer key cannot be marked, or "" when it is fine."""
    if not isinstance(data, dict):
        return "The data must be a JSON object."
    if kind == "choice":
        choices = data.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            return 'Give at least two "choices".'
        if not all(isinstance(c, dict) and c.get("text") for c in choices):
            return 'Every choice needs a "text".'
        if sum(1 for c in choices if c.get("correct")) != 1:
            return "Mark exactly one choice as correct."
    elif kind == "match":
        pairs = data.get("pairs")
        if not isinstance(pairs, list) or len(pairs) < 2:
            return 'Give at least two "pairs".'
        if not all(isinstance(p, dict) and p.get("left") and p.get("right") for p in pairs):
            return 'Every pair needs a "left" and a "right".'
        if len({p["right"] for p in pairs}) != len(pairs):
            return "Every right-hand side must be different."
    elif kind == "order":
        steps = data.get("steps")
        if not isinstance(steps, list) or len(steps) < 2:
            return 'Give at least two "steps", in the right order.'
        if not all(isinstance(s, str) and s for s in steps):
            return "Every step must be a non-empty string."
    elif kind == "do":
        from learning import checks

        if data.get("check") not in checks.CHECKS:
            return f'"check" must be one of: {", ".join(sorted(checks.CHECKS))}.'
        if not isinstance(data.get("params", {}), dict):
            return '"params" must be an object.'
    else:
        return f"Unknown question type {kind!r}."
    return ""


def shuffled(attempt_id: int, question_id: int, count: int) -> list[int]:
    """Indexes 0..count-1 in the order this attempt shows them, the same on every reload.

    A string seed is hashed the same way in every process, so each server agrees.
    """
    order = list(range(count))
    random.Random(f"quiz:{attempt_id}:{question_id}").shuffle(order)
    return order


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def grade(
    kind: str, data: dict[str, Any], post: QueryDict, learner: ClusterUser | None = None
) -> Verdict:
    """Mark the submitted form for a question of `kind` with answer key `data`."""
    if kind == "choice":
        return _choice(data, post)
    if kind == "match":
        return _match(data, post)
    if kind == "order":
        return _order(data, post)
    if kind == "do" and learner is not None:
        return _do(data, learner)
    return Verdict(valid=False, error="This question cannot be answered here.")


def _choice(data: dict[str, Any], post: QueryDict) -> Verdict:
    choices = data["choices"]
    picked = _int(post.get("choice"))
    if picked is None or not 0 <= picked < len(choices):
        return Verdict(valid=False, error="Pick one of the answers first.")
    chosen = choices[picked]
    # Every option with its explanation, so a learner learns why each distractor is wrong.
    feedback = [
        {
            "index": index,
            "text": choice["text"],
            "ok": bool(choice.get("correct")),
            "picked": index == picked,
            "why": choice.get("why", ""),
        }
        for index, choice in enumerate(choices)
    ]
    return Verdict(
        valid=True, correct=bool(chosen.get("correct")), given={"choice": picked}, feedback=feedback
    )


def _match(data: dict[str, Any], post: QueryDict) -> Verdict:
    pairs = data["pairs"]
    given = {}
    for index in range(len(pairs)):
        value = _int(post.get(f"pair-{index}"))
        if value is None or not 0 <= value < len(pairs):
            return Verdict(valid=False, error="Match every item on the left before checking.")
        given[str(index)] = value
    feedback = [
        {
            "left": pair["left"],
            "given": pairs[given[str(i)]]["right"],
            "right": pair["right"],
            "ok": given[str(i)] == i,
        }
        for i, pair in enumerate(pairs)
    ]
    return Verdict(
        valid=True, correct=all(f["ok"] for f in feedback), given=given, feedback=feedback
    )


def _order(data: dict[str, Any], post: QueryDict) -> Verdict:
    steps = data["steps"]
    given = {}
    for index in range(len(steps)):
        value = _int(post.get(f"position-{index}"))
        if value is None or not 1 <= value <= len(steps):
            return Verdict(valid=False, error="Give every step a position before checking.")
        given[str(index)] = value
    if len(set(given.values())) != len(steps):
        return Verdict(valid=False, error="Use each position once: no two steps can share one.")
    placed = sorted(range(len(steps)), key=lambda i: given[str(i)])
    feedback = [
        {"position": pos, "given": steps[i], "right": steps[pos - 1], "ok": i == pos - 1}
        for pos, i in enumerate(placed, start=1)
    ]
    return Verdict(
        valid=True, correct=all(f["ok"] for f in feedback), given=given, feedback=feedback
    )


def _do(data: dict[str, Any], learner: ClusterUser) -> Verdict:
    from learning import checks

    result = checks.run(data["check"], learner, data.get("params") or {})
    return Verdict(
        valid=True,
        correct=result.passed,
        given={"message": result.message},
        feedback=[{"text": result.message, "ok": result.passed, "why": result.evidence}],
    )
