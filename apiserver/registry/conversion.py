"""Resources kept in one stored version and converted for the other versions they are served in.

Most resources served in several versions (a CRD's, for instance) have one shape, so serving
another version only relabels `apiVersion`. A HorizontalPodAutoscaler's v1 and v2 differ in
shape: it is stored as v2, as kube-apiserver stores it, and converted on the way in and out.
"""

from collections.abc import Callable
from typing import Any

from apiserver.registry.autoscaling import horizontalpodautoscalers as hpa
from apiserver.registry.kinds import Kind

Convert = Callable[[dict[str, Any]], dict[str, Any]]

# resource -> what makes a written object, in whichever version, the stored one
STORAGE: dict[str, Convert] = {"autoscaling/horizontalpodautoscalers": hpa.to_storage}
# (stored kind, wanted apiVersion) -> conversion from any other version
CONVERSIONS: dict[tuple[str, str], Convert] = {
    ("HorizontalPodAutoscaler", hpa.V1): hpa.to_v1,
    ("HorizontalPodAutoscaler", hpa.V2): hpa.to_v2,
}


def as_version(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """`obj` in `api_version`: converted where the shapes differ, else relabelled in place."""
    if obj.get("apiVersion") == api_version:
        return obj
    convert = CONVERSIONS.get((obj.get("kind", ""), api_version))
    if convert is None:
        obj["apiVersion"] = api_version
        return obj
    return convert(obj)


def converted(kind: Kind) -> bool:
    """Whether writes to `kind` are converted before they are stored."""
    return kind.resource in STORAGE


def to_storage(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    """A written object in the version its resource is stored in, with that version's defaults."""
    store = STORAGE.get(kind.resource)
    return obj if store is None else store(obj)
