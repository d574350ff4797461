"""Kubernetes' version priority, the one ordering of API versions used everywhere.

GA versions come first, then beta, then alpha; within each stage the higher major version
wins, then the higher minor (v2 > v1 > v2beta1 > v1beta2 > v1beta1 > v1alpha1). Versions
that do not follow the pattern sort last. Discovery, the catalog's shelves and the product
pages all order versions this way, as kube-apiserver orders them in discovery.
"""

import re

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_rank(version: str) -> tuple[int, int, int, str]:
    """A sort key: smaller means preferred."""
    match = _VERSION.match(version)
    if not match:
        return (3, 0, 0, version)
    stage = {"": 0, "beta": 1, "alpha": 2}[match[2] or ""]
    return (stage, -int(match[1]), -int(match[3] or 0), "")
