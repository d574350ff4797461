"""The one loopback client: how every other part of the app talks to the API server.

The control plane, the shop's pages, lesson checks, workshops and classroom scenarios all
send their requests through `Client`, which hands each one to `pipeline.handle()` as the
caller it names. So authentication, priority and fairness, authorization, admission and
the audit log apply to them exactly as to kubectl over HTTPS; only the network hop is
skipped (kube-apiserver's own loopback client does the same).

Resources are named the way kubectl names them: a plural (`pods`, `deployments`) or, where
a plural is shared, `group/plural` (`events.k8s.io/events`); their paths come from
`catalog.paths`, the one place the app builds REST paths.
"""

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from asgiref.sync import sync_to_async

from apiserver import errors
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.models import ClusterUser
from catalog.paths import collection_path, object_path

__all__ = [
    "ApiError",
    "Client",
    "EventStream",
    "Exchange",
    "Watch",
    "WatchEvent",
    "collection_path",
    "nudged_by",
    "object_path",
]

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
CONFLICT_RETRIES = 5
Mutation = Callable[[dict], dict | None]


class ApiError(Exception):
    """A non-2xx answer, carrying the server's Status object."""

    def __init__(self, code: int, status: dict | None) -> None:
        self.code = code
        self.status = status or {}
        self.reason = self.status.get("reason", "")
        super().__init__(f"{code} {self.reason}: {self.status.get('message', '')}")


# --- paths -------------------------------------------------------------------------------


def resolve(resource: str) -> tuple[str, str, str, bool]:
    """(group, version, plural, namespaced) for `pods`, `deployments` or `apps/deployments`.

    A bare plural means the core group's kind if there is one (so `events` is v1 Events),
    else the only served kind with that plural, at its group's preferred version.
    """
    from apiserver.registry import kinds

    index = kinds.index()
    group, _, plural = resource.rpartition("/")
    kind = index.by_resource.get(f"{group}/{plural}")
    if kind is None and "/" not in resource:
        kind = index.by_plural.get(plural)
    if kind is None:
        raise KeyError(f"the API server serves no resource {resource!r}")
    return kind.group, kind.version, kind.plural, kind.namespaced


def path_for(resource: str, namespace: str | None = None, name: str | None = None) -> str:
    """The REST path, e.g. ``/apis/apps/v1/namespaces/shop/deployments/web``."""
    group, version, plural, namespaced = resolve(resource)
    scope = namespace if namespaced and namespace else ""
    if name:
        return object_path(group, version, plural, scope, name)
    return collection_path(group, version, plural, scope)


# --- one exchange ------------------------------------------------------------------------


@dataclass
class Exchange:
    """One request through the front door and its answer, ready to show on a page."""

    request: ApiRequest
    response: ApiResponse
    secret: bool = False

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def ok(self) -> bool:
        return 200 <= self.response.status < 300

    @property
    def body(self) -> dict[str, Any]:
        return self.response.body or {}

    @property
    def is_status(self) -> bool:
        return self.body.get("kind") == "Status"

    @property
    def reason(self) -> str:
        """Kubernetes' one-word reason (NotFound, Invalid, ...) or the HTTP phrase."""
        if self.is_status and self.body.get("reason"):
            return str(self.body["reason"])
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def message(self) -> str:
        return str(self.body.get("message", "")) if self.is_status else ""

    @property
    def causes(self) -> list[dict[str, str]]:
        """The per-field complaints of a 422 Invalid answer."""
        details = self.body.get("details") or {}
        causes = details.get("causes") if isinstance(details, dict) else None
        return [c for c in causes or [] if isinstance(c, dict)]

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) and not self.is_status else {}

    @property
    def flow(self) -> dict[str, Any] | None:
        """The request's way through the API server's stages, as plain data for a page:
        each stage's part (passed, refused, skipped, unreached) and milliseconds."""
        trail = self.response.trail
        return trail.as_data() if trail is not None else None

    @property
    def http_request(self) -> str:
        """The raw HTTP text of the request, body pretty-printed for reading."""
        request = self.request
        if request.body:
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = None
            if parsed is not None:
                if self.secret:
                    parsed = redact_secret(parsed)
                request = replace(request, body=json.dumps(parsed, indent=2).encode())
        return request.as_http()

    @property
    def http_response(self) -> str:
        """The raw HTTP text of the response; Secret values are hidden."""
        response = self.response
        if self.secret and isinstance(response.body, dict):
            response = ApiResponse(
                response.status, redact_secret(response.body), dict(response.headers)
            )
        return response.as_http()

    def raise_for_status(self) -> dict[str, Any]:
        """The body of a 2xx answer; any other answer raises ApiError."""
        if self.status >= 400:
            raise ApiError(self.status, self.response.body)
        return self.body


def redact_secret(obj: Any) -> Any:
    """A copy of a Secret (or list of them) with its values replaced, names kept."""
    if not isinstance(obj, dict):
        return obj
    shown = dict(obj)
    if isinstance(shown.get("items"), list):
        shown["items"] = [redact_secret(item) for item in shown["items"]]
    for key in ("data", "stringData"):
        if isinstance(shown.get(key), dict):
            shown[key] = dict.fromkeys(shown[key], "(hidden)")
    return shown


# --- the client --------------------------------------------------------------------------


class Watch:
    """An open watch, read without waiting: `poll()` returns the events since the last call."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    @property
    def resource_version(self) -> str:
        return self._stream.resource_version

    @property
    def place(self) -> tuple[str, str | None]:
        """What it follows: (the kind's storage key, the namespace or None for all)."""
        return self._stream.kind.resource, self._stream.namespace

    def poll(self) -> list[tuple[str, dict]]:
        """(event type, object) pairs, oldest first; 410 Gone raises ApiError (list again)."""
        try:
            return self._stream.poll()
        except errors.ApiError as error:
            raise ApiError(error.code, error.status()) from None

    def close(self) -> None:
        """Stop following; gives back the user's watch seat, if the lane counts them."""
        if self._stream.seat is not None:
            self._stream.seat.release()


@contextlib.asynccontextmanager
async def nudged_by(watches: Iterable[Watch]) -> AsyncIterator[asyncio.Event]:
    """An event set whenever a change these watches follow is committed, in this process
    or (through the watch feed's LISTEN on PostgreSQL) another: a synchronous informer
    waits on it and then polls its watches, instead of polling them on a timer."""
    from apiserver.endpoints import watch

    async with watch.any_change({w.place for w in watches}) as changed:
        yield changed


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch as it arrives: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."""

    type: str
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        """Where a watch resumed after this event starts ("" for an ERROR)."""
        meta = self.object.get("metadata")
        return str(meta.get("resourceVersion", "")) if isinstance(meta, dict) else ""

    @property
    def initial_end(self) -> bool:
        """The BOOKMARK that ends the current state of a `sendInitialEvents` watch."""
        meta = self.object.get("metadata")
        notes = meta.get("annotations") if isinstance(meta, dict) else None
        return (
            self.type == "BOOKMARK"
            and isinstance(notes, dict)
            and notes.get("k8s.io/initial-events-end") == "true"
        )

    @property
    def code(self) -> int:
        """The HTTP code an ERROR event carries (410 when the resourceVersion is too old)."""
        return int(self.object.get("code") or 0) if self.type == "ERROR" else 0


class EventStream:
    """A watch opened through the pipeline, read by async code as it happens.

    The same stream the HTTPS view sends to kubectl (`endpoints.watch.events`), handed
    over as `WatchEvent`s; it holds one of its user's watch seats until it ends or
    `close()` is called, so whoever opens one closes it, however the reader goes away.
    """

    def __init__(self, opened: Any, query: dict[str, str]) -> None:
        self._opened = opened
        self._query = query

    async def events(self) -> AsyncIterator[WatchEvent]:
        """Events until the watch's timeout, an ERROR (a 401 when the token that opened it is
        revoked), or the reader stops (seat given back)."""
        from apiserver.endpoints import watch

        opened = self._opened
        try:
            stream = watch.events(
                opened.kind, opened.namespace, self._query, opened.as_table, owner=opened.owner
            )
            try:
                async for chunk in stream:
                    for line in chunk.splitlines():
                        if line.strip():
                            event = json.loads(line)
                            yield WatchEvent(str(event.get("type", "")), event.get("object") or {})
            finally:
                await stream.aclose()
        finally:
            self.close()

    def close(self) -> None:
        """Give the watch seat back; safe to call more than once."""
        if self._opened.seat is not None:
            self._opened.seat.release()


class Client:
    """Requests as one identity; verbs return plain dicts and raise ApiError on failure.

    `client` is what the audit log and Grand Central call the caller (browser, scheduler,
    kubelet, controller...); `user_agent` is the header it sends, as a real client would.
    """

    def __init__(self, user: ClusterUser, client: str, user_agent: str = "") -> None:
        self.user = user
        self.client = client
        self.user_agent = user_agent or f"warehouse-{client}"

    def exchange(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = JSON,
        secret: bool = False,
    ) -> Exchange:
        """Send one request and keep both halves, for pages that show the HTTP exchange."""
        from apiserver.pipeline import handle

        sent = {"accept": JSON, "user-agent": self.user_agent, **(headers or {})}
        raw = b""
        if body is not None:
            sent["content-type"] = content_type
            raw = json.dumps(body, allow_nan=False).encode()
        request = ApiRequest(
            method=method,
            path=path,
            query=dict(query or {}),
            headers=sent,
            body=raw,
            client=self.client,
            user=self.user,
        )
        return Exchange(request=request, response=handle(request), secret=secret)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str = JSON,
    ) -> dict:
        return self.exchange(
            method, path, body, query, content_type=content_type
        ).raise_for_status()

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict:
        return self.request("GET", path_for(resource, namespace, name))

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> dict:
        query = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        return self.request("GET", path_for(resource, namespace), query=query)

    def create(self, resource: str, obj: dict, namespace: str | None = None) -> dict:
        namespace = namespace or obj.get("metadata", {}).get("namespace")
        return self.request("POST", path_for(resource, namespace), obj)

    def replace(self, resource: str, obj: dict, subresource: str = "") -> dict:
        meta = obj["metadata"]
        path = path_for(resource, meta.get("namespace"), meta["name"])
        return self.request("PUT", f"{path}/{subresource}" if subresource else path, obj)

    def patch(
        self,
        resource: str,
        name: str,
        namespace: str | None,
        patch: dict,
        subresource: str = "",
        content_type: str = MERGE_PATCH,
    ) -> dict:
        path = path_for(resource, namespace, name)
        if subresource:
            path = f"{path}/{subresource}"
        return self.request("PATCH", path, patch, content_type=content_type)

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = None,
        grace_period: int | None = None,
        uid: str | None = None,
        propagation: str = "",
    ) -> dict:
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        if propagation:
            options["propagationPolicy"] = propagation
        if uid:
            options["preconditions"] = {"uid": uid}
        return self.request("DELETE", path_for(resource, namespace, name), options)

    def update(self, resource: str, name: str, namespace: str | None, mutate: Mutation) -> dict:
        """Read, change, write back with the read resourceVersion; re-read on 409."""
        return self._read_modify_write(resource, name, namespace, mutate, "")

    def update_status(
        self, resource: str, name: str, namespace: str | None, mutate: Mutation
    ) -> dict:
        """Like `update`, through the status subresource."""
        return self._read_modify_write(resource, name, namespace, mutate, "status")

    def bind(self, namespace: str, name: str, node: str, uid: str | None = None) -> dict:
        """Assign a Pod to a node with the binding subresource, as kube-scheduler does."""
        binding: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        if uid:
            binding["metadata"]["uid"] = uid
        return self.request("POST", f"{path_for('pods', namespace, name)}/binding", binding)

    def watch(
        self, resource: str, namespace: str | None = None, resource_version: str = ""
    ) -> Watch:
        """Open a watch through the pipeline (authenticated, authorized, audited once).

        Its `poll()` hands over the events committed since the last call without waiting,
        which is how a synchronous informer follows a kind.
        """
        from apiserver.pipeline import open_watch

        query = {"watch": "true"}
        if resource_version:
            query["resourceVersion"] = resource_version
        request = ApiRequest(
            method="GET",
            path=path_for(resource, namespace),
            query=query,
            headers={"accept": JSON, "user-agent": self.user_agent},
            client=self.client,
            user=self.user,
        )
        opened = open_watch(request)
        if isinstance(opened, ApiResponse):
            raise ApiError(opened.status, opened.body)
        return Watch(opened)

    async def open_stream(
        self, path: str, query: dict[str, str] | None = None, resource_version: str = ""
    ) -> EventStream:
        """Open a watch on a collection `path` for async code; refusals raise ApiError.

        Authenticated, authorized, fair-queued and audited once as a `watch` by this
        client, exactly like `kubectl get -w`; the events come from the same stream.
        """
        from apiserver.endpoints import watch
        from apiserver.pipeline import open_watch

        sent = {"watch": "true", **(query or {})}
        if resource_version:
            sent["resourceVersion"] = resource_version
        request = ApiRequest(
            method="GET",
            path=path,
            query=sent,
            headers={"accept": JSON, "user-agent": self.user_agent},
            client=self.client,
            user=self.user,
        )
        opened = await sync_to_async(open_watch)(request)
        if isinstance(opened, ApiResponse):
            raise ApiError(opened.status, opened.body)
        stream = EventStream(opened, sent)
        try:
            if watch.pooled():
                # The stream polls from other threads: this one's connection goes back now.
                await sync_to_async(watch.release_connection)()
        except BaseException:
            stream.close()
            raise
        return stream

    def _read_modify_write(
        self, resource: str, name: str, namespace: str | None, mutate: Mutation, sub: str
    ) -> dict:
        for attempt in range(CONFLICT_RETRIES):
            current = self.get(resource, name, namespace)
            desired = mutate(copy.deepcopy(current))
            if desired is None or desired == current:
                return current
            try:
                return self.replace(resource, desired, sub)
            except ApiError as error:
                if error.code != 409 or attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")
