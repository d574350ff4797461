"""The body must be the object the URL names: right apiVersion, kind, namespace and name."""

import uuid
from typing import Any

from apiserver import errors
from apiserver.registry.kinds import Kind


def check_identity(
    kind: Kind, obj: Any, namespace: str, url_name: str | None = None
) -> dict[str, Any]:
    """The body is the object the URL names: right apiVersion, kind, namespace and name."""
    if not isinstance(obj, dict):
        raise errors.bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            "the body must be a JSON object"
        )
    api_version = obj.get("apiVersion")
    body_kind = obj.get("kind")
    if api_version in (None, "") or body_kind in (None, ""):
        # kubectl always sends both; other clients may rely on the URL.
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        obj["apiVersion"] = obj["apiVersion"] or kind.api_version
        obj["kind"] = obj["kind"] or kind.kind
    elif api_version != kind.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({kind.api_version})"
        )
    elif body_kind != kind.kind:
        raise errors.bad_request(
            f'{body_kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"the kind in the data ({body_kind}) does not match the expected kind ({kind.kind})"
        )
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    if kind.namespaced:
        body_namespace = meta.get("namespace")
        if body_namespace not in (None, "") and body_namespace != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    if url_name is not None:
        body_name = meta.get("name")
        if body_name not in (None, "") and body_name != url_name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL "
                f"({url_name})"
            )
        meta["name"] = url_name
    elif not meta.get("name") and isinstance(meta.get("generateName"), str):
        meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
    return obj
