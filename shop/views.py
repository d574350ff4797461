"""The shop's pages: sign in as a learner, order a product, read the receipt, see orders.

Every order, look-up and cancellation is a request through `apiserver.client`, never a
direct write to the store, so the pages can show the exact HTTP exchange and the
API server checks a browser exactly as it checks kubectl.
"""

from typing import Any

import yaml
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, trigger_client_event
from django_htmx.middleware import HtmxDetails

from apiserver import limits, readmodel
from apiserver.accounts import ClusterUser
from apiserver.server.kubeconfig import api_url, kubeconfig_for
from catalog.models import ResourceKind
from shop import api, kubectl, live, receipts, tracker, tracking
from shop.forms import LearnerForm, OrderForm, PodChoiceForm
from shop.learners import (
    FrontDoorClosed,
    NameTaken,
    current_learner,
    is_new_name,
    learner_required,
    safe_next,
    sign_in,
    sign_out,
)
from shop.manifests import PodChoice, example_manifest, pod_manifest

SESSION_LAST_ORDER = "shop_last_order"
SESSION_LAST_CANCEL = "shop_last_cancel"
SESSION_TRACKING = "shop_tracking"
# How many orders' last known timelines the session keeps, for orders that have gone.
TRACKING_MEMORY = 20
# htmx stops polling an element whose request answers 286.
STOP_POLLING = 286

# The kinds "Your orders" watches, one watch each: where deliveries end (Pods, and
# Endpoints for Services) and the supplies no Pod shows (ConfigMaps, Secrets, claims).
ORDERS_WATCHED = ("pods", "endpoints", "configmaps", "secrets", "persistentvolumeclaims")

# Kinds whose changes touch nothing else on the list: a live page lists only them again.
SUPPLIES = {
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "PersistentVolumeClaim": "persistentvolumeclaims",
}
ENDPOINTS_SHELF = "endpoints"

# The kinds a learner usually orders, listed on "Your orders" in this order.
ORDER_KINDS: list[tuple[str, str, str]] = [
    ("", "v1", "pods"),
    ("apps", "v1", "deployments"),
    ("apps", "v1", "replicasets"),
    ("apps", "v1", "statefulsets"),
    ("apps", "v1", "daemonsets"),
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
    ("", "v1", "services"),
    ("", "v1", "configmaps"),
    ("", "v1", "secrets"),
    ("", "v1", "persistentvolumeclaims"),
]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    learner: ClusterUser


def _kind_or_404(group: str, version: str, plural: str) -> ResourceKind:
    return get_object_or_404(
        ResourceKind.objects.select_related("api_version__group"),
        api_version__group__name=api.group_name(group),
        api_version__version=version,
        plural=plural,
    )


def _is_secret(kind: ResourceKind) -> bool:
    return kind.api_version.group.name == "" and kind.plural == "secrets"


def _kind_path(kind: ResourceKind, namespace: str, name: str = "") -> str:
    """The API path of a kind's collection, or of one object when `name` is given."""
    parts = (
        kind.api_version.group.name,
        kind.api_version.version,
        kind.plural,
        namespace if kind.namespaced else "",
    )
    return api.object_path(*parts, name) if name else api.collection_path(*parts)


def _resource_arg(kind: ResourceKind) -> str:
    return kubectl.resource_arg(kind.plural, kind.api_version.group.name, kind.is_custom)


def order_url(page: str, kind: ResourceKind, namespace: str, name: str) -> str:
    """One order's page: its receipt, tracking or history (the `shop:` URL name `page`)."""
    return reverse(
        f"shop:{page}",
        kwargs={
            "namespace": namespace,
            "group": kind.api_version.group.slug,
            "version": kind.api_version.version,
            "plural": kind.plural,
            "name": name,
        },
    )


def _receipt_url(kind: ResourceKind, namespace: str, name: str) -> str:
    return order_url("receipt", kind, namespace, name)


def history_url(kind: ResourceKind, namespace: str, name: str) -> str:
    """The order-history page of one object (`shop.history`)."""
    return order_url("history", kind, namespace, name)


def _tracked_kind(kind: ResourceKind) -> str:
    """The kind's name for the tracking rules; a custom kind only borrows the generic ones."""
    return "" if kind.is_custom else kind.kind


def _track_url(kind: ResourceKind, namespace: str, name: str) -> str:
    return order_url("track", kind, namespace, name)


def _object_key(kind: ResourceKind, namespace: str, name: str) -> str:
    return "/".join(
        [namespace, kind.api_version.group.slug, kind.api_version.version, kind.plural, name]
    )


# Sign-in ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def learner(request: HtmxHttpRequest) -> HttpResponse:
    """Pick a learner name (no account, no password) and get a kubeconfig for it."""
    signed_in = current_learner(request)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LearnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            if is_new_name(name):
                limits.check("learner-name", request)
            sign_in(request, name, form.cleaned_data["display_name"])
        except limits.TooManyAttempts as error:
            return limits.refused(request, error)
        except FrontDoorClosed:
            form.add_error(
                "name",
                "The cluster's front door is not answering right now (an outage exercise, or "
                "a very busy moment), so a new name cannot be checked and opened. Try again in "
                "a minute; a name you already have still works.",
            )
        except NameTaken:
            form.add_error(
                "name",
                "That name is taken by someone else. Pick another one: names are first come, "
                "first served, and only the browser that chose a name can use it again.",
            )
        else:
            return redirect(next_url or reverse("shop:learner"))
    context = {
        "form": form,
        "learner": signed_in,
        "next": next_url or "",
        "api_url": api_url(),
        "kubeconfig_name": f"warehouse-{signed_in.name}.kubeconfig" if signed_in else "",
    }
    return render(request, "shop/learner.html", context)


@require_POST
def learner_sign_out(request: HtmxHttpRequest) -> HttpResponse:
    """Stop being this learner in this browser; the name stays reserved for it."""
    sign_out(request)
    return redirect("shop:learner")


@require_GET
@learner_required
def kubeconfig(request: HtmxHttpRequest) -> HttpResponse:
    """The learner's kubeconfig as a file, so kubectl can shop with the same token."""
    text = kubeconfig_for(request.learner, api_url())
    response = HttpResponse(text, content_type="application/yaml")
    filename = f"warehouse-{request.learner.name}.kubeconfig"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# Ordering -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@learner_required
def order(request: HtmxHttpRequest, group: str, version: str, plural: str) -> HttpResponse:
    """Order one object of a kind: the form POSTs it to the API server as the learner."""
    kind = _kind_or_404(group, version, plural)
    namespace = request.learner.namespace
    is_pod = kind.api_version.group.name == "" and kind.kind == "Pod"
    pod_form = None
    if is_pod:
        pod_form = PodChoiceForm(request.GET if "image" in request.GET else None)
    context: dict[str, Any] = {
        "kind": kind,
        "namespace": namespace,
        "pod_form": pod_form,
        "order_url": request.path,
        "ticket": None,
    }

    if request.method == "GET":
        if pod_form is not None and pod_form.is_bound and pod_form.is_valid():
            manifest = pod_manifest(namespace, PodChoice(**pod_form.cleaned_data))
        else:
            manifest = example_manifest(kind, namespace)
        context["form"] = OrderForm(initial={"manifest": manifest})
        return _render_order(request, context)

    form = OrderForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return _render_order(request, context)

    path = _kind_path(kind, namespace)
    exchange = api.call(request.learner, "POST", path, body=form.parsed, secret=_is_secret(kind))
    ticket = receipts.make_ticket(
        exchange,
        receipts.order_story(exchange, namespace),
        kubectl.create(_manifest_for_command(kind, form), namespace),
        kind=kind.kind,
        namespace=namespace,
    )
    context["ticket"] = ticket
    if not exchange.ok:
        return _render_order(request, context)

    ticket["key"] = _object_key(kind, ticket["namespace"], ticket["name"])
    request.session[SESSION_LAST_ORDER] = receipts.for_session(ticket)
    receipt_url = _receipt_url(kind, ticket["namespace"] or namespace, ticket["name"])
    if not request.htmx:
        return redirect(receipt_url)
    context["receipt_url"] = receipt_url
    context["track_url"] = _track_url(kind, ticket["namespace"] or namespace, ticket["name"])
    return push_url(_render_order(request, context), receipt_url)


def _manifest_for_command(kind: ResourceKind, form: OrderForm) -> str:
    """The order's own text for the kubectl command; a Secret's values are hidden."""
    if _is_secret(kind):
        return yaml.safe_dump(
            api.redact_secret(form.parsed), sort_keys=False, default_flow_style=False
        )
    return form.cleaned_data["manifest"]


def _render_order(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    template = "shop/order.html#order-area" if request.htmx else "shop/order.html"
    return render(request, template, context)


@require_GET
@learner_required
def receipt(
    request: HtmxHttpRequest, namespace: str, group: str, version: str, plural: str, name: str
) -> HttpResponse:
    """One order as the API server has it now, read back through the front door."""
    kind = _kind_or_404(group, version, plural)
    path = _kind_path(kind, namespace, name)
    exchange = api.call(request.learner, "GET", path, secret=_is_secret(kind))
    ticket = receipts.make_ticket(
        exchange,
        receipts.lookup_story(exchange, namespace),
        kubectl.get(_resource_arg(kind), name, namespace),
        kind=kind.kind,
        namespace=namespace,
        name=name,
    )
    checkout = request.session.get(SESSION_LAST_ORDER)
    if not checkout or checkout.get("key") != _object_key(kind, namespace, name):
        checkout = None
    body = exchange.body
    if _is_secret(kind):
        body = api.redact_secret(body)
    context = {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "ticket": ticket,
        "checkout": checkout,
        "object_yaml": (
            yaml.safe_dump(body, sort_keys=False, default_flow_style=False) if exchange.ok else ""
        ),
        "status": _receipt_status(request.learner, kind, namespace, name, body)
        if exchange.ok
        else None,
        "track_url": _track_url(kind, namespace, name),
        "history_url": history_url(kind, namespace, name),
        "delete_command": kubectl.delete(_resource_arg(kind), name, namespace),
    }
    status = 200 if exchange.ok else exchange.status
    return render(request, "shop/receipt.html", context, status=status)


def _receipt_status(
    learner: ClusterUser, kind: ResourceKind, namespace: str, name: str, body: dict[str, Any]
) -> tracking.Status:
    """The same words as the tracking page; a Service needs its Endpoints for them."""
    endpoints = None
    if _tracked_kind(kind) == "Service":
        found = api.call(learner, "GET", api.object_path("", "v1", "endpoints", namespace, name))
        endpoints = found.body if found.ok else None
    return tracking.status_of(_tracked_kind(kind), body, endpoints)


@require_POST
@learner_required
def delete_order(
    request: HtmxHttpRequest, namespace: str, group: str, version: str, plural: str, name: str
) -> HttpResponse:
    """Cancel an order: a DELETE through the pipeline, refused outside your own namespace."""
    kind = _kind_or_404(group, version, plural)
    path = _kind_path(kind, namespace, name)
    exchange = api.call(request.learner, "DELETE", path, secret=_is_secret(kind))
    ticket = receipts.make_ticket(
        exchange,
        receipts.cancel_story(exchange, namespace),
        kubectl.delete(_resource_arg(kind), name, namespace),
        kind=kind.kind,
        namespace=namespace,
        name=name,
    )
    if not request.htmx:
        request.session[SESSION_LAST_CANCEL] = receipts.for_session(ticket)
        return redirect("shop:orders")
    response = render(request, "shop/orders.html#last-action", {"last_action": ticket})
    return trigger_client_event(response, "orders-changed")


# Order history ------------------------------------------------------------------------


@require_GET
@learner_required
def orders(request: HtmxHttpRequest) -> HttpResponse:
    """Everything the learner has ordered, read with one list request per kind.

    A refresh sends `since`, the revision it last showed: the newest change in the
    learner's own namespace, as the ETag of the first list. That list is sent
    conditionally (If-None-Match), so the API server still authenticates, authorizes and
    audits it, but while nothing in this namespace changed it answers 304 after a single
    index lookup, the page is left as it is (204) and the other lists are never sent.
    Other learners' writes, or the control plane's elsewhere, no longer re-render it.
    """
    since = request.GET.get("since", "") if request.htmx else ""
    context = _orders_context(request.learner, since)
    if context is None:
        return HttpResponse(status=204)
    if not request.htmx:
        context["last_action"] = request.session.pop(SESSION_LAST_CANCEL, None)
    context["stream_url"] = reverse("shop:orders-events")
    context["sse_events"] = ",".join([*live.EVENT_TYPES, live.SYNC])
    template = "shop/orders.html#orders" if request.htmx else "shop/orders.html"
    return render(request, template, context)


def _orders_context(
    learner: ClusterUser,
    since: str = "",
    shelves: dict[str, list[dict[str, Any]]] | None = None,
    only: set[str] | None = None,
) -> dict[str, Any] | None:
    """The order list read as the learner; None when nothing changed since `since`.

    A live page keeps what it listed in `shelves` (plural -> items) and, when it knows
    which kinds changed, lists `only` those again, like an informer's cache: a new
    ConfigMap costs one list, not one per kind.
    """
    namespace = learner.namespace
    first_path, first = "", None
    if only is None:
        first_path, first = _conditional_first_list(learner, namespace, since)
        if first is not None and first.status == 304:
            return None
    revision = _etag_revision(first.response.headers.get("etag", "")) if first else ""
    order_kinds = _order_kinds()
    found: list[tuple[ResourceKind, dict[str, Any]]] = []
    calls: list[dict[str, Any]] = []
    for kind in order_kinds:
        if only is not None and shelves is not None and kind.plural not in only:
            found.extend((kind, item) for item in shelves.get(kind.plural, []))
            continue
        path = api.collection_path(
            kind.api_version.group.name, kind.api_version.version, kind.plural, namespace
        )
        if first is not None and path == first_path:
            exchange = first
        else:
            exchange = api.call(learner, "GET", path, secret=_is_secret(kind))
        calls.append({"method": "GET", "path": path, "status": exchange.status})
        if not exchange.ok:
            continue
        items = exchange.body.get("items") or []
        if shelves is not None:
            shelves[kind.plural] = items
        found.extend((kind, item) for item in items)
    if only is not None and shelves is not None and "endpoints" not in only:
        endpoints = shelves.get(ENDPOINTS_SHELF, {})
    else:
        endpoints = _endpoints_by_name(learner, namespace, found, calls)
        if shelves is not None:
            shelves[ENDPOINTS_SHELF] = endpoints
    rows = [_order_row(kind, namespace, item, endpoints) for kind, item in found]
    rows.sort(key=lambda row: (row["sort_key"], row["kind"], row["name"]), reverse=True)
    return {
        "namespace": namespace,
        "rows": rows,
        "calls": calls,
        "revision": revision,
        "kubectl_list": kubectl.list_all([_resource_arg(k) for k in order_kinds], namespace),
        "kubectl_watch": kubectl.watch_all("pods", namespace),
    }


def _conditional_first_list(
    learner: ClusterUser, namespace: str, since: str
) -> tuple[str, api.Exchange | None]:
    """The first orderable kind's list, sent with If-None-Match: W/"since" (W/"" = none).

    The kind comes from the API server's cached catalog index, so a poll that changes
    nothing costs no catalog query; (path, None) when no orderable kind is served.
    """
    for group, version, plural in ORDER_KINDS:
        if not readmodel.serves(group, version, plural):
            continue
        path = api.collection_path(group, version, plural, namespace)
        tag = since if since.isdigit() else ""
        exchange = api.call(
            learner,
            "GET",
            path,
            secret=(group, plural) == ("", "secrets"),
            headers={"if-none-match": f'W/"{tag}"'},
        )
        return path, exchange
    return "", None


def _etag_revision(etag: str) -> str:
    """The revision inside the pipeline's W/"123" ETag, or "" if there is none."""
    value = etag.removeprefix("W/").strip('"')
    return value if value.isdigit() else ""


_order_kinds_read: tuple[int, list[ResourceKind]] | None = None


def _order_kinds() -> list[ResourceKind]:
    """The orderable kinds the catalog actually has, in ORDER_KINDS order.

    Read again only when the served catalog may have changed: a live page asks on every
    event, and the rows carry each kind's whole schema.
    """
    global _order_kinds_read
    state = readmodel.catalog_state()
    if _order_kinds_read is None or _order_kinds_read[0] != state:
        _order_kinds_read = (state, _read_order_kinds())
    return _order_kinds_read[1]


def _read_order_kinds() -> list[ResourceKind]:
    found = {
        (k.api_version.group.name, k.api_version.version, k.plural): k
        for k in ResourceKind.objects.select_related("api_version__group").filter(
            plural__in={plural for _, _, plural in ORDER_KINDS}
        )
    }
    return [found[key] for key in ORDER_KINDS if key in found]


def _endpoints_by_name(
    learner: ClusterUser,
    namespace: str,
    found: list[tuple[ResourceKind, dict[str, Any]]],
    calls: list[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """A Service is only "delivered" once it has ready endpoints: one more list, if needed."""
    if not any(_tracked_kind(kind) == "Service" for kind, _ in found):
        return {}
    path = api.collection_path("", "v1", "endpoints", namespace)
    exchange = api.call(learner, "GET", path)
    calls.append({"method": "GET", "path": path, "status": exchange.status})
    items = exchange.body.get("items") or [] if exchange.ok else []
    return {str((e.get("metadata") or {}).get("name", "")): e for e in items}


def _order_row(
    kind: ResourceKind,
    namespace: str,
    item: dict[str, Any],
    endpoints: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    meta = item.get("metadata") or {}
    name = str(meta.get("name", ""))
    created = parse_datetime(str(meta.get("creationTimestamp", ""))) if meta else None
    status = tracking.status_of(_tracked_kind(kind), item, endpoints.get(name))
    return {
        "kind": kind.kind,
        "name": name,
        "created": created,
        "sort_key": str(meta.get("creationTimestamp", "")),
        "resource_version": meta.get("resourceVersion", ""),
        "uid": meta.get("uid", ""),
        "status": status.kube,
        "step": status.shop,
        "tone": status.tone,
        "receipt_url": _receipt_url(kind, namespace, name),
        "track_url": _track_url(kind, namespace, name),
        "history_url": history_url(kind, namespace, name),
        "delete_url": reverse(
            "shop:delete",
            kwargs={
                "namespace": namespace,
                "group": kind.api_version.group.slug,
                "version": kind.api_version.version,
                "plural": kind.plural,
                "name": name,
            },
        ),
        "kubectl_delete": kubectl.delete(_resource_arg(kind), name, namespace),
    }


# Tracking -----------------------------------------------------------------------------


@require_GET
@learner_required
def track(
    request: HtmxHttpRequest, namespace: str, group: str, version: str, plural: str, name: str
) -> HttpResponse:
    """Where an order is on its way; the page then watches it (see `track_events`).

    Everything is read as the learner through the pipeline, so another learner's order is
    refused by authorization (403), and an order that has gone answers 404: both become
    friendly pages. An htmx request gets the live region alone (286 once it is final).
    """
    kind = _kind_or_404(group, version, plural)
    memory: dict[str, Any] = request.session.get(SESSION_TRACKING) or {}
    checkout = request.session.get(SESSION_LAST_ORDER) or {}
    context = _track_context(request.learner, kind, namespace, name, memory, checkout)
    if context["remembered"]:
        request.session[SESSION_TRACKING] = memory
    seen = request.GET.get("seen", "")
    context["oob"] = bool(request.htmx)
    context["announce"] = not request.htmx or seen != context["status"].signature
    if request.htmx:
        code = STOP_POLLING if context["final"] else 200
        return render(request, "shop/tracking.html#live", context, status=code)
    if context["state"] != "forbidden":
        context["stream_url"] = reverse(
            "shop:track-events",
            kwargs={
                "namespace": namespace,
                "group": group,
                "version": version,
                "plural": plural,
                "name": name,
            },
        )
        context["sse_events"] = ",".join([*live.EVENT_TYPES, live.SYNC])
    code = {"gone": 404, "forbidden": 403}.get(context["state"], 200)
    return render(request, "shop/tracking.html", context, status=code)


def _track_context(
    learner: ClusterUser,
    kind: ResourceKind,
    namespace: str,
    name: str,
    memory: dict[str, Any],
    checkout: dict[str, Any],
) -> dict[str, Any]:
    """The tracking page's context, read as the learner; `memory` keeps the last timelines."""
    key = _object_key(kind, namespace, name)
    snapshot = tracking.gather(
        learner,
        kind.api_version.group.name,
        kind.api_version.version,
        kind.plural,
        kind.kind,
        namespace if kind.namespaced else "",
        name,
        secret=_is_secret(kind),
    )
    exchange = snapshot.exchange
    track_url = _track_url(kind, namespace, name)
    line: tracking.Timeline | None = None
    family: tracker.Node | None = None
    object_yaml = ""
    remembered = False
    if exchange.ok:
        state = "ok"
        if checkout.get("key") == key:
            snapshot.related.first_version = str(checkout.get("resource_version", ""))
        line = tracking.timeline(
            _tracked_kind(kind), exchange.body, snapshot.related, timezone.now()
        )
        remembered = _remember(memory, key, line)
        family = tracker.tree(_tracked_kind(kind), exchange.body, snapshot.related)
        body = api.redact_secret(exchange.body) if _is_secret(kind) else exchange.body
        object_yaml = yaml.safe_dump(body, sort_keys=False, default_flow_style=False)
        status = line.status
    elif exchange.status == 404:
        state, status = "gone", tracking.GONE
        line = tracking.recall(memory.get(key))
    elif exchange.status in (401, 403):
        state, status = "forbidden", tracking.Status("Not your order", exchange.reason, "problem")
    else:
        state, status = "unavailable", tracking.Status("Checking", exchange.reason, "problem")
        line = tracking.recall(memory.get(key))
    return {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "state": state,
        "status": status,
        "final": status.final or state == "forbidden",
        "line": line,
        "tracker": _tracker(kind, state, line, exchange, snapshot.related),
        "tree": family,
        "message": exchange.message,
        "http_status": exchange.status,
        "calls": snapshot.calls,
        "object_yaml": object_yaml,
        "track_url": track_url,
        "history_url": history_url(kind, namespace, name),
        "receipt_url": _receipt_url(kind, namespace, name),
        "kubectl_watch": kubectl.watch(_resource_arg(kind), name, namespace),
        "remembered": remembered,
        "log": _pod_log(learner, kind, namespace, name, exchange.body) if state == "ok" else None,
    }


def _tracker(
    kind: ResourceKind,
    state: str,
    line: tracking.Timeline | None,
    exchange: api.Exchange,
    related: tracking.Related,
) -> tracker.Tracker | None:
    """The progress bar: from the live timeline, or from the last one seen once it is gone."""
    if line is None:
        return None
    obj = exchange.body if state == "ok" else None
    return tracker.build(
        _tracked_kind(kind), line, timezone.now(), obj, related, gone=state == "gone"
    )


# How many of a container's last lines the tracking page shows.
LOG_LINES = 20


def _pod_log(
    learner: ClusterUser, kind: ResourceKind, namespace: str, name: str, pod: dict[str, Any]
) -> dict[str, str] | None:
    """A Pod's first container's last lines, read through the API as `kubectl logs` does;
    None for other kinds. A container that has not started says so in the kubelet's words."""
    if kind.is_custom or (kind.api_version.group.name, kind.kind) != ("", "Pod"):
        return None
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    container = str(containers[0].get("name", ""))
    exchange = api.call(
        learner,
        "GET",
        _kind_path(kind, namespace, name) + "/log",
        query={"container": container, "tailLines": str(LOG_LINES)},
    )
    text = exchange.response.content().decode("utf-8", "replace") if exchange.ok else ""
    return {
        "command": kubectl.logs(name, namespace, container if len(containers) > 1 else ""),
        "text": text,
        "refusal": "" if exchange.ok else exchange.message or exchange.reason,
    }


def _remember(memory: dict[str, Any], key: str, line: tracking.Timeline) -> bool:
    """Keep the latest timeline (for when the order is gone); True if it changed."""
    saved = tracking.remember(line)
    if memory.get(key) == saved:
        return False
    memory.pop(key, None)
    memory[key] = saved
    while len(memory) > TRACKING_MEMORY:
        memory.pop(next(iter(memory)))
    return True


# Live pages ---------------------------------------------------------------------------


@require_GET
async def track_events(
    request: HtmxHttpRequest, namespace: str, group: str, version: str, plural: str, name: str
) -> HttpResponse:
    """The tracking page's live region as Server-Sent Events, fed by a watch on the order.

    The watch is `GET <collection>?watch=true&fieldSelector=metadata.name=<name>` as the
    learner, so a refusal (another learner's order: 403) is an ordinary HTTP error here,
    before any event; `Last-Event-ID` resumes it from the last resourceVersion shown.
    """
    learner, memory, checkout = await sync_to_async(_live_session)(request)
    if learner is None:
        return _not_signed_in()
    kind = await sync_to_async(_kind_or_404)(group, version, plural)
    watches = await sync_to_async(_tracking_watches)(learner, kind, namespace, name)
    shown = {"signature": ""}

    def region(lines: list[live.Line]) -> str:
        context = _track_context(learner, kind, namespace, name, memory, checkout)
        signature = context["status"].signature
        context.update(
            oob=True, announce=signature != shown["signature"], watching=True, watch_lines=lines
        )
        shown["signature"] = signature
        return render_to_string("shop/tracking.html#live", context, request=request)

    return await live.respond(request, learner, watches, region)


def _tracking_watches(
    learner: ClusterUser, kind: ResourceKind, namespace: str, name: str
) -> list[tuple[str, dict[str, str]]]:
    """What a tracking page watches: the order, and whatever its journey is read from.

    A Service is delivered by its Endpoints, a workload by its Pods (and a Deployment's
    tree by its ReplicaSets, whose status its controller writes after the Pods change):
    each is one more watch (as `kubectl get` would need one per kind), so their changes
    redraw the page too.
    """
    watches = [(_kind_path(kind, namespace), {"fieldSelector": f"metadata.name={name}"})]
    found = (kind.api_version.group.name, kind.kind)
    if found == ("", "Service"):
        path = api.collection_path("", "v1", "endpoints", namespace)
        watches.append((path, {"fieldSelector": f"metadata.name={name}"}))
    elif found in tracking.WORKLOADS:
        exchange = api.call(learner, "GET", _kind_path(kind, namespace, name))
        selector = tracking.pod_selector(exchange.body) if exchange.ok else ""
        if selector:
            path = api.collection_path("", "v1", "pods", namespace)
            watches.append((path, {"labelSelector": selector}))
        if selector and found == ("apps", "Deployment"):
            path = api.collection_path("apps", "v1", "replicasets", namespace)
            watches.append((path, {"labelSelector": selector}))
    return watches


@require_GET
async def orders_events(request: HtmxHttpRequest) -> HttpResponse:
    """The order list as Server-Sent Events: watches on the learner's `ORDERS_WATCHED`.

    Pods are where every delivery ends, and Endpoints say when a Service is delivered;
    ConfigMaps, Secrets and PersistentVolumeClaims no Pod shows. The other kinds on the
    list are read again whenever one of these changes.
    """
    learner, _, _ = await sync_to_async(_live_session)(request)
    if learner is None:
        return _not_signed_in()
    watches = [
        (api.collection_path("", "v1", plural, learner.namespace), {}) for plural in ORDERS_WATCHED
    ]

    shelves: dict[str, Any] = {}
    accounted = {"up_to": 0}

    def region(lines: list[live.Line]) -> str:
        news = [
            line
            for line in lines
            if line.resource_version.isdigit() and int(line.resource_version) > accounted["up_to"]
        ]
        accounted["up_to"] = max([accounted["up_to"], *(int(n.resource_version) for n in news)])
        kinds = {line.kind for line in news}
        # Every change is among the lines unless they overflowed: then list everything.
        complete = len(news) < live.RECENT
        only = None
        if shelves and news and complete and kinds <= SUPPLIES.keys():
            # Supplies touch nothing else on the list, and each event carries its object.
            for line in sorted(news, key=lambda line: int(line.resource_version)):
                _shelve(shelves.setdefault(SUPPLIES[line.kind], []), line)
            only = set()
        context = _orders_context(learner, shelves=shelves, only=only) or {}
        context["watch_lines"] = lines
        context["oob"] = True
        return render_to_string("shop/orders.html#live", context, request=request)

    return await live.respond(request, learner, watches, region)


def _shelve(shelf: list[dict[str, Any]], line: live.Line) -> None:
    """Bring a kept list up to date with one watch event, as an informer's cache does."""
    name = line.name
    shelf[:] = [item for item in shelf if (item.get("metadata") or {}).get("name") != name]
    if line.type != "DELETED":
        shelf.append(line.object)


def _live_session(
    request: HtmxHttpRequest,
) -> tuple[ClusterUser | None, dict[str, Any], dict[str, Any]]:
    """The learner and what the session remembers, read once when a stream opens.

    A streaming response cannot save the session later, so the stream keeps its own copy.
    """
    learner = current_learner(request)
    if learner is not None:
        request.learner = learner
    memory = dict(request.session.get(SESSION_TRACKING) or {})
    return learner, memory, dict(request.session.get(SESSION_LAST_ORDER) or {})


def _not_signed_in() -> HttpResponse:
    return HttpResponse(
        "Pick a learner name first.", status=403, content_type="text/plain; charset=utf-8"
    )
