"""Where each product sits: the REST path of a kind, built in one place for the whole app.

The core group lives under /api/<version>, every named group under /apis/<group>/<version>;
namespaced kinds add /namespaces/<namespace>. The API server routes these paths, its
loopback client builds them, and the product pages print them.
"""


def api_prefix(group: str, version: str) -> str:
    """/api/v1 for the core group, /apis/<group>/<version> for every named group."""
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def collection_path(group: str, version: str, plural: str, namespace: str = "") -> str:
    """Where a list of this kind lives, e.g. /api/v1/namespaces/alice/pods."""
    if namespace:
        return f"{api_prefix(group, version)}/namespaces/{namespace}/{plural}"
    return f"{api_prefix(group, version)}/{plural}"


def object_path(group: str, version: str, plural: str, namespace: str, name: str) -> str:
    """Where one object lives, e.g. /api/v1/namespaces/alice/pods/web."""
    return f"{collection_path(group, version, plural, namespace)}/{name}"
