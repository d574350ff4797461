"""Mutating: fill the fields a real cluster fills (a Pod's restartPolicy, a Service's IP).

The defaults themselves live in each kind's registry strategy.
"""

from apiserver.admission.plugin import Attributes, Plugin
from apiserver.registry import strategies
from apiserver.registry.validation import Causes


def _default(attributes: Attributes, causes: Causes) -> None:
    strategies.for_kind(attributes.kind).default(attributes.obj, causes)


PLUGIN = Plugin("DefaultFields", "mutating", _default)
