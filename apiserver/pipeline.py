"""The one path every request takes, the chapter's figure in code.

    request info -> authentication -> priority and fairness -> authorization
                 -> admission -> registry and storage -> audit -> watchers

The HTTPS views, the web pages and the control plane (through `apiserver.client`) all
call `handle()` or `open_watch()`, so nothing reaches the store without passing every gate
and leaving an audit record. Each gate is a small module under `filters/`; what happens
after the gates is one handler per verb under `endpoints/handlers/`; admission runs inside
the writing handlers as the chain under `admission/`; the store and each kind's strategy
live under `registry/`. A store commit wakes the watchers (`endpoints/watch.py`).

The stages are defined once, in `flow.py`: each request notes which it entered and when
(`Prepared.marks`), and its response carries the result as a `flow.Trail`, which the
pages draw as the chapter's figure.
"""

import contextlib
import logging
import time

from django.db import OperationalError

from apiserver import admission, errors, flow, onloop
from apiserver.endpoints import discovery, openapiv2
from apiserver.endpoints import watch as streams
from apiserver.endpoints.handlers import HANDLERS, auditevents, connect, reviews
from apiserver.endpoints.handlers import watch as watch_handler
from apiserver.endpoints.request import ApiRequest, ApiResponse
from apiserver.filters import audit, fairness, faults
from apiserver.filters.authentication import authenticate
from apiserver.filters.authorization import SELF_REVIEWS, authorize
from apiserver.filters.requestinfo import Prepared, Route, guess_client, route, verb_for
from apiserver.rbac import authorizer
from apiserver.registry import crds, store
from apiserver.registry.auditevents import RESOURCE as AUDIT_EVENTS

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "Prepared",
    "guess_client",
    "handle",
    "open_exec",
    "open_watch",
]

log = logging.getLogger(__name__)

# Subresources only ever created: a Pod's binding and its streams (exec, attach,
# port-forward), a ServiceAccount's token.
CREATED_ONLY = ("binding", "token", "exec", "attach", "portforward")


def _enter(prepared: Prepared, stage: int) -> None:
    """Note that the request reached `stage` now (a stage's index in `flow.STAGES`)."""
    marks = prepared.marks
    marks.append(stage)
    marks.append(time.perf_counter())


def _admit_lane(request: ApiRequest, prepared: Prepared) -> None:
    """Priority and fairness: the caller's lane, any classroom fault, then its rate limit."""
    _enter(prepared, flow.FAIRNESS)
    lane = fairness.lane_for(prepared.user)
    prepared.lane = lane
    try:
        capacity = faults.apply(lane, prepared.user)
        fairness.check_rate(prepared.user, lane, capacity, request.remote_addr)
    except errors.ApiError:
        # Refused before routing; name the target anyway, for the audit log.
        with contextlib.suppress(errors.ApiError):
            prepared.target = prepared.target or route(request.path)
            prepared.verb = verb_for(request.method, prepared.target, request.query)
        raise


def prepare(request: ApiRequest, into: Prepared | None = None) -> Prepared:
    """The gates before a handler: request info, authentication, fairness, authorization.

    Shared by `handle()` and `open_watch()`. Which client is calling is known first; the
    path is resolved to a kind after authentication, so a stranger asking for an unknown
    path gets 401 and only a signed-in caller learns it is 404, as with kube-apiserver
    (whose RequestInfo filter only parses; the 404 comes from the handler).
    """
    prepared = into if into is not None else Prepared()
    if request.path.rstrip("/") == "/version" and not request.headers.get("authorization"):
        # Like system:public-info-viewer: anyone may ask which version this is.
        prepared.target = Route(document="version")
        _admit_lane(request, prepared)
        return prepared
    _enter(prepared, flow.AUTHENTICATION)
    try:
        prepared.user = request.user = authenticate(request)
    except errors.ApiError:
        # No working credentials: the catch-all lane's buckets (this address's and the
        # lane's) say whether it even gets its 401, so a flood of bad tokens costs little.
        _admit_lane(request, prepared)
        _enter(prepared, flow.AUTHENTICATION)
        raise
    _admit_lane(request, prepared)
    _enter(prepared, flow.REQUEST_INFO)
    try:
        prepared.target = target = route(request.path)
        prepared.verb = verb = verb_for(request.method, target, request.query)
        if target.document and request.method != "GET":
            raise errors.method_not_allowed()
        if target.kind is not None and verb not in target.kind.verbs and not target.subresource:
            raise errors.method_not_allowed()
        if target.subresource and (verb == "create") != (target.subresource in CREATED_ONLY):
            raise errors.method_not_allowed()
    except errors.ApiError:
        # kube-apiserver's 404 or 405 for what it does not serve comes from behind the
        # gates, where the registry is consulted.
        _enter(prepared, flow.STORE)
        raise
    _enter(prepared, flow.AUTHORIZATION)
    authorize(prepared.user, verb, target, request.path)
    return prepared


def _dispatch(request: ApiRequest, prepared: Prepared) -> ApiResponse:
    """After the gates: discovery documents, or the verb's handler (admission, the store)."""
    target = prepared.target
    if target.document == "openapi-v2":
        return openapiv2.serve(request)
    if target.kind is None:
        return discovery.serve(request, target)
    if prepared.verb == "watch":
        raise errors.bad_request("watch requests are served by the streaming endpoint")
    if target.kind.resource in SELF_REVIEWS and prepared.verb == "create":
        return reviews.handle(request, target, prepared.user)
    if target.kind.resource == AUDIT_EVENTS:
        return auditevents.handle(request, target, prepared.verb)
    return HANDLERS[prepared.verb](request, target)


def _arrived(request: ApiRequest) -> tuple[float, Prepared]:
    """When a request came and who sent it (kubectl, a browser...), before any gate."""
    started = time.perf_counter()
    if not request.client:
        request.client = guess_client(request.headers.get("user-agent", ""))
    return started, Prepared(marks=[flow.REQUEST_INFO, started])


def _audited(
    request: ApiRequest,
    prepared: Prepared,
    response: ApiResponse,
    started: float,
    admitted: float | None = None,
    written: int = 0,
) -> ApiResponse:
    """Write the audit row, then give the response the request's way through the stages.

    The stage that refused is the one the request was in when it was turned away; past
    the gates (the handler), the status code says whether admission or the store spoke.
    """
    marks = prepared.marks
    refused_at = None
    if response.status >= 400:
        refused_at = int(marks[-2])
        if refused_at == flow.STORE:
            refused_at = flow.refused_after_gates(response.status)
    _enter(prepared, flow.AUDIT)
    audit.record(request, prepared, response.status, started, written)
    _enter(prepared, flow.END)
    response.trail = flow.Trail(marks, response.status, refused_at, request.method, admitted)
    return response


def _refused(
    request: ApiRequest, prepared: Prepared, error: errors.ApiError, started: float
) -> ApiResponse:
    """A stream that will not open: audited, and answered as a Status."""
    response = ApiResponse(error.code, error.status(), error.headers)
    return _audited(request, prepared, response, started)


def open_watch(request: ApiRequest, first_reads: bool = False) -> streams.Follower | ApiResponse:
    """A watch request through the same gates, audited once when it opens.

    Answers the open stream (which the HTTP view streams and the loopback client polls),
    or the refusal as a response. The stream holds one of its user's watch seats
    (`follower.seat`); whoever serves it gives the seat back when it ends. With
    `first_reads`, the stream's first reads are done here too (`follower.opening`), so a
    busy store is refused and audited before the HTTP view sends its 200.
    """
    started, prepared = _arrived(request)
    seat = None
    try:
        prepare(request, prepared)
        if prepared.verb != "watch":
            raise errors.method_not_allowed()
        seat = fairness.take_watch_seat(prepared.user, fairness.Lane(prepared.lane))
        follower = watch_handler.handle(request, prepared.target)
        if first_reads:
            follower.opening = streams.first_reads(follower.kind, follower.namespace, request.query)
        follower.user = prepared.user
        follower.seat, seat = seat, None
    except errors.ApiError as error:
        return _refused(request, prepared, error, started)
    except OperationalError:
        log.warning("cluster store busy opening a watch on %s", request.path)
        return _refused(request, prepared, errors.storage_busy(), started)
    finally:
        if seat is not None:
            seat.release()
    audit.record(request, prepared, 200, started)
    return follower


def open_exec(request: ApiRequest) -> connect.ExecSession | ApiResponse:
    """A WebSocket stream into a container through the same gates, audited when it opens.

    The upgrade is a GET, authorized as `create` on the subresource, as Kubernetes does.
    Answers the session to stream, or the refusal as a response (sent instead of the
    upgrade). Like a watch, an open stream holds no in-flight seat.
    """
    started, prepared = _arrived(request)
    try:
        prepare(request, prepared)
        target = prepared.target
        if target.kind is None or target.subresource not in connect.SUBRESOURCES:
            raise errors.bad_request("only exec, attach and portforward are streamed")
        if target.subresource == "portforward":
            connect.handle(request, target)
        session = connect.open_session(request, target)
    except errors.ApiError as error:
        return _refused(request, prepared, error, started)
    except OperationalError:
        return _refused(request, prepared, errors.storage_busy(), started)
    audit.record(request, prepared, 101, started)
    return session


def handle(request: ApiRequest) -> ApiResponse:
    """Run one request through the whole pipeline; never raises, always answers."""
    started, prepared = _arrived(request)
    admission.clock.seconds = None
    outer_writer = store.authorship.enter("", request.client)
    try:
        prepare(request, prepared)
        if prepared.user is not None:
            store.authorship.writer = prepared.user.username
        _enter(prepared, flow.FAIRNESS)  # a seat in flight, or a short wait in line
        with fairness.in_flight(fairness.Lane(prepared.lane)):
            _enter(prepared, flow.STORE)
            response = _dispatch(request, prepared)
        crds.follow(prepared.target.kind, prepared.verb, response.status)
        authorizer.follow(prepared.target.kind, prepared.verb, response.status)
    except errors.ApiError as error:
        response = ApiResponse(error.code, error.status(), error.headers)
    except OperationalError:
        # A locked SQLite file or an exhausted connection pool: the write (if any) was rolled
        # back, so the honest answer is "busy, try again", as an overloaded API server says.
        log.warning("cluster store busy serving %s %s", request.method, request.path)
        error = errors.storage_busy()
        response = ApiResponse(error.code, error.status(), error.headers)
    except onloop.WouldBlock:
        raise  # a read on the event loop met a wait: it is served on a thread instead
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        error = errors.internal()
        response = ApiResponse(error.code, error.status())
    written = store.authorship.leave(outer_writer)
    if response.status >= 400:
        written = 0  # rolled back: nothing it wrote is in the log
    return _audited(request, prepared, response, started, admission.clock.seconds, written)
