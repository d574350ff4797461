"""Admission: what kube-apiserver does to a body before it is stored.

An ordered chain of small plug-ins, each declaring the kinds and operations it handles:
decoding (the body has the kind's shape), mutating (defaults), validation (the object's
rules) and validating (checks that look beyond the object). Every field error is
collected and reported together as one 422 Invalid, with the real server's field paths
and messages, so learners meet the errors they will meet at work. (ResourceQuota is
checked by the store, inside the write's transaction under the namespace's quota lock, so
concurrent creates cannot overshoot it; see `registry/quota.py`.)
"""

import threading
import time
from typing import Any

from apiserver.admission import (
    customresourcedefinitions,
    decoding,
    defaults,
    limitranger,
    validation,
)
from apiserver.admission.plugin import Attributes, Plugin
from apiserver.models import ClusterUser
from apiserver.rbac import escalation
from apiserver.registry.kinds import Kind
from apiserver.registry.validation import Causes

CHAIN: tuple[Plugin, ...] = (
    decoding.PLUGIN,
    defaults.PLUGIN,
    limitranger.PLUGIN,
    validation.PLUGIN,
    customresourcedefinitions.PLUGIN,
    escalation.PLUGIN,
)


class _Clock(threading.local):
    """Seconds this thread spent admitting since the pipeline last set it to None: the
    request flow's figure shows admission's time apart from the store's."""

    seconds: float | None = None


clock = _Clock()


def admit(
    kind: Kind,
    obj: dict[str, Any],
    field_validation: str,
    old: dict[str, Any] | None = None,
    user: ClusterUser | None = None,
) -> list[str]:
    """Run `obj` through the chain; returns warnings, raises 400, 403 or 422 on refusal."""
    started = time.perf_counter()
    try:
        attributes = Attributes(kind, obj, old, field_validation, user)
        causes = Causes()
        for plugin in CHAIN:
            if plugin.handles(attributes):
                plugin.run(attributes, causes)
                if plugin.stage == "decoding":
                    for path in attributes.missing:
                        causes.required(path)
        causes.raise_if_any(kind, decoding.name_of(obj))
        return attributes.warnings
    finally:
        clock.seconds = (clock.seconds or 0.0) + time.perf_counter() - started


def decode(kind: Kind, obj: dict[str, Any], field_validation: str) -> list[str]:
    """Only the decoding step, for objects answered and never stored (the self reviews)."""
    attributes = Attributes(kind, obj, None, field_validation)
    causes = Causes()
    for plugin in CHAIN:
        if plugin.stage == "decoding" and plugin.handles(attributes):
            plugin.run(attributes, causes)
    causes.raise_if_any(kind, decoding.name_of(obj))
    return attributes.warnings
