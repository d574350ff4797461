"""Label and field selectors, as `kubectl get -l` and `--field-selector` send them."""

import re
from collections.abc import Callable
from typing import Any

from apiserver import errors
from apiserver.registry import strategies
from apiserver.registry.kinds import Kind

Requirement = Callable[[dict[str, str]], bool]

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_COMPARE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas that are not inside a `( ... )` value set."""
    parts, depth, current = [], 0, []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_labels(selector: str) -> list[Requirement]:
    """Requirements for `app=web,tier!=db,env in (a,b),!legacy,team`; all must hold."""
    requirements: list[Requirement] = []
    for part in _split(selector or ""):
        if match := _SET.match(part):
            key, op, raw = match.groups()
            values = {v.strip() for v in raw.split(",") if v.strip()}
            if op == "in":
                requirements.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                requirements.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif match := _COMPARE.match(part):
            key, op, value = match.groups()
            if op == "!=":
                requirements.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                requirements.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif match := _EXISTS.match(part):
            negate, key = match.groups()
            if negate:
                requirements.append(lambda labels, k=key: k not in labels)
            else:
                requirements.append(lambda labels, k=key: k in labels)
        else:
            raise errors.bad_request(f"unable to parse requirement: {part.strip()!r}")
    return requirements


def labels_match(requirements: list[Requirement], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return all(requirement(labels) for requirement in requirements)


_FIELD_RE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$")


def parse_fields(selector: str, kind: Kind) -> list[tuple[str, bool, str]]:
    """(path, equal?, value) triples; unsupported paths are a 400 like the real server.

    Every kind may be selected on its name and namespace; its strategy names the rest.
    """
    extra = strategies.for_kind(kind).field_selectors
    allowed = ("metadata.name", "metadata.namespace", *extra)
    terms = []
    for part in (selector or "").split(","):
        if not part.strip():
            continue
        match = _FIELD_RE.match(part)
        if not match:
            raise errors.bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        path, op, value = match.groups()
        if path not in allowed:
            raise errors.bad_request(f"field label not supported: {path}")
        terms.append((path, op != "!=", value))
    return terms


def field_value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for step in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(step)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    if isinstance(current, dict) and path == "source":
        return str(current.get("component", ""))
    return str(current)


def fields_match(terms: list[tuple[str, bool, str]], obj: dict[str, Any]) -> bool:
    return all((field_value(obj, path) == value) == equal for path, equal, value in terms)
