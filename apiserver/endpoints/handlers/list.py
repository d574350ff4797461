"""list: every object of a kind, with selectors, paging and conditional lists."""

import base64
import json
from typing import Any

from apiserver import errors
from apiserver.endpoints import tables
from apiserver.endpoints.handlers import common
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.endpoints.selectors import fields_match, labels_match, parse_fields, parse_labels
from apiserver.filters.requestinfo import Route
from apiserver.registry import store
from apiserver.registry.kinds import Kind


def _decode_continue(token: str) -> str:
    try:
        start = json.loads(base64.urlsafe_b64decode(token.encode()).decode())["start"]
    except (ValueError, KeyError, TypeError):
        start = None
    if not isinstance(start, str):
        raise errors.bad_request("continue key is not valid")
    return start


def _encode_continue(start: str, revision: int) -> str:
    raw = json.dumps({"start": start, "rv": revision}).encode()
    return base64.urlsafe_b64encode(raw).decode()


# Query parameters that choose which items a list holds.
SELECTING = ("labelSelector", "fieldSelector", "continue")


def select(kind: Kind, objects: list[dict[str, Any]], query: dict[str, str]) -> list[dict]:
    """Apply labelSelector and fieldSelector to a list of objects."""
    label_terms = parse_labels(query.get("labelSelector", ""))
    field_terms = parse_fields(query.get("fieldSelector", ""), kind)
    if not label_terms and not field_terms:
        return objects
    return [
        obj
        for obj in objects
        if labels_match(label_terms, obj.get("metadata", {}).get("labels"))
        and fields_match(field_terms, obj)
    ]


def namespace_etag(namespace: str) -> str:
    """A weak validator for every list in `namespace`: its newest change's revision."""
    return f'W/"{store.namespace_revision(namespace)}"'


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match's weak comparison: any listed tag (W/ or not) equal to ours, or *."""
    ours = etag.removeprefix("W/")
    tags = (tag.strip() for tag in header.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == ours for tag in tags)


def handle(request: ApiRequest, target: Route) -> ApiResponse:
    """A list; a namespaced list asked conditionally (If-None-Match) may answer 304.

    Kubernetes has no ETags on lists, and a list's resourceVersion is cluster-wide, so
    "did anything change?" there means "did anyone write?". A client that sends
    If-None-Match (the shop's polling pages; kubectl never does) gets an ETag naming the
    newest revision in that namespace instead, and 304 Not Modified while it holds: one
    index lookup, and the caller was authenticated and authorized for the list like any
    other. Clients that do not ask pay nothing.
    """
    kind = target.kind
    headers: dict[str, str] = {}
    condition = request.headers.get("if-none-match")
    if condition is not None and target.namespace is not None:
        headers["etag"] = etag = namespace_etag(target.namespace)
        if _etag_matches(condition, etag):
            return ApiResponse(304, None, headers)
    if common.wants_table(request) or any(request.query.get(name) for name in SELECTING):
        objects, revision = store.list_objects(kind, target.namespace)
    else:
        texts, revision = store.list_texts(kind, target.namespace)
        limit = request.query.get("limit", "")
        if not (limit.isascii() and limit.isdigit() and 0 < int(limit) < len(texts)):
            return StoredList(kind, texts, revision, headers)
        objects = [json.loads(text) for text in texts]
    objects = [common.served(kind, o) for o in select(kind, objects, request.query)]
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    start = request.query.get("continue")
    if start:
        first_key = _decode_continue(start)
        objects = [o for o in objects if _key(o) >= first_key]
    limit = request.query.get("limit", "")
    if limit.isascii() and limit.isdigit() and 0 < int(limit) < len(objects):
        rest = objects[int(limit) :]
        objects = objects[: int(limit)]
        meta["continue"] = _encode_continue(_key(rest[0]), revision)
        meta["remainingItemCount"] = len(rest)
    if common.wants_table(request):
        include = request.query.get("includeObject", "Metadata")
        return ApiResponse(200, tables.table(kind, objects, include, meta), headers)
    body = {
        "kind": f"{kind.kind}List",
        "apiVersion": kind.api_version,
        "metadata": meta,
        "items": objects,
    }
    return ApiResponse(200, body, headers)


class StoredList(common.AsStored):
    """A plain list (no selector, paging or Table): sent over HTTP, each item in the version
    asked for goes out as stored, spliced into the list; an item that needs converting is
    converted as usual."""

    def __init__(self, kind: Kind, texts: list[str], revision: int, headers: dict) -> None:
        self._kind, self._texts, self._revision = kind, texts, revision
        super().__init__(200, headers)

    def parse(self) -> dict[str, Any]:
        items = [common.served(self._kind, json.loads(text)) for text in self._texts]
        return {**self._head(), "items": items}

    def content(self) -> bytes:
        if self.parsed:
            return super().content()
        kind = self._kind
        as_stored = common.stored_prefix(kind)
        items = [
            text
            if text.startswith(as_stored)
            else store.dumps(common.served(kind, json.loads(text)))
            for text in self._texts
        ]
        head = store.dumps(self._head())
        return f'{head[:-1]},"items":[{",".join(items)}]}}'.encode()

    def _head(self) -> dict[str, Any]:
        return {
            "kind": f"{self._kind.kind}List",
            "apiVersion": self._kind.api_version,
            "metadata": {"resourceVersion": str(self._revision)},
        }


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
