"""PodTemplates: a Pod spec kept on the shelf for others to copy."""

from typing import Any

from apiserver.registry.podspec import default_template
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes


def _default_podtemplate(obj: dict[str, Any], causes: Causes) -> None:
    default_template(obj.get("template"))


STRATEGY = Strategy(
    resource="/podtemplates",
    default=_default_podtemplate,
    delete_returns_object=True,
)
