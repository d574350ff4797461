"""The shop's way into the cluster: the API server's loopback client, as the learner.

Pages never touch the store. They send the same request kubectl's HTTP call would be,
through `apiserver.client` (authentication, fairness, authorization, admission, store,
audit, watchers), and keep both halves so the page can show them to the learner.
"""

from typing import Any

from apiserver.accounts import ClusterUser
from apiserver.client import (
    ApiError,
    Client,
    EventStream,
    Exchange,
    collection_path,
    object_path,
    redact_secret,
)

USER_AGENT = "warehouse-web"
CLIENT = "browser"

__all__ = [
    "ApiError",
    "EventStream",
    "Exchange",
    "call",
    "collection_path",
    "group_name",
    "group_slug",
    "object_path",
    "open_watch",
    "redact_secret",
]


def group_slug(group: str) -> str:
    """How a group appears in the shop's URLs: "core" stands for the unnamed group."""
    return group or "core"


def group_name(slug: str) -> str:
    """The API group behind a URL slug."""
    return "" if slug == "core" else slug


def call(
    user: ClusterUser,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    secret: bool = False,
    headers: dict[str, str] | None = None,
) -> Exchange:
    """Send one request as `user`, the way a browser order travels.

    `secret` hides Secret values when the exchange is shown on a page; `headers` adds
    request headers (lower case), e.g. a conditional list's if-none-match.
    """
    client = Client(user, CLIENT, USER_AGENT)
    return client.exchange(method, path, body, query, headers=headers, secret=secret)


async def open_watch(
    user: ClusterUser, path: str, query: dict[str, str], resource_version: str = ""
) -> EventStream:
    """Open a watch on a collection as `user`, the way a browser's live page follows it.

    Audited as a `watch` by the `browser` client; a refusal raises `ApiError`.
    """
    client = Client(user, CLIENT, USER_AGENT)
    return await client.open_stream(path, query, resource_version)
