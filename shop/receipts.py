"""What an exchange with the API server means, told twice: in shop words and in API words.

A "ticket" is a small dict describing one exchange. It is what the pages render, and it
fits in the session, so a receipt can still be shown after a redirect.
"""

from typing import Any

from shop.api import Exchange

# Raw HTTP kept in the session is cut at this length; the page says so when it happens.
SESSION_TEXT_LIMIT = 16 * 1024

_ORDER_OK = [
    "Signed in: the website recognised you from your learner token.",
    "Allowed: you ordered for your own delivery address, namespace {namespace}.",
    "Order form checked: nothing required was missing, and the usual defaults were filled in.",
    "In the order book: stored under order number {uid}.",
    "Anyone tracking orders for your delivery address was told at once.",
]

_REFUSED: dict[int, str] = {
    400: "The website could not accept this order form as written: {message}",
    401: "The website did not recognise you. Sign in again and retry.",
    403: "Refused at the till: you may only order for your own delivery address "
    "(namespace {namespace}), and only products the shop lets learners buy.",
    404: "The shop has no such thing at that address: either the product is not sold here "
    "or the order does not exist (any more).",
    405: "This product cannot be handled that way.",
    409: "You already have an order under this name for this product. Pick another name, "
    "or cancel the old order first.",
    410: "That page of results has expired; start again.",
    413: "The order form is too big for the website to accept.",
    415: "The order form was in a format the website does not read.",
    422: "The clerk checked your order form and marked some fields that are missing or "
    "wrong. Nothing was charged and nothing was stored.",
    429: "The website is busy right now; try again in a moment.",
}


def order_story(exchange: Exchange, namespace: str) -> dict[str, Any]:
    """The Amazon side of placing an order (POST)."""
    if exchange.ok:
        uid = exchange.metadata.get("uid", "?")
        return {
            "headline": "Order placed",
            "steps": [step.format(namespace=namespace, uid=uid) for step in _ORDER_OK],
        }
    return _refusal("Order refused", exchange, namespace)


def lookup_story(exchange: Exchange, namespace: str) -> dict[str, Any]:
    """The Amazon side of looking up one order (GET)."""
    if exchange.ok:
        return {
            "headline": "Your order, as the order book has it now",
            "steps": [
                "The website looked the order up in the order book and showed you its "
                "current page, including what the restocking staff and the couriers have "
                "written on it since (the status).",
                "Looking never changes anything: the order number stays the same.",
            ],
        }
    return _refusal("Order not shown", exchange, namespace)


def cancel_story(exchange: Exchange, namespace: str) -> dict[str, Any]:
    """The Amazon side of cancelling an order (DELETE)."""
    if exchange.ok:
        return {
            "headline": "Order cancelled",
            "steps": [
                "The website checked that the order is for your own delivery address, "
                "then crossed it out of the order book.",
                "Whoever was preparing it hears about the cancellation and stops.",
            ],
        }
    return _refusal("Cancellation refused", exchange, namespace)


def make_ticket(
    exchange: Exchange,
    story: dict[str, Any],
    kubectl: str,
    kind: str,
    namespace: str,
    name: str = "",
) -> dict[str, Any]:
    """Everything a page shows about one exchange, as plain data."""
    meta = exchange.metadata
    return {
        "method": exchange.request.method,
        "path": exchange.request.path,
        "status": exchange.status,
        "ok": exchange.ok,
        "reason": exchange.reason,
        "message": exchange.message,
        "causes": exchange.causes,
        "kind": kind,
        "namespace": meta.get("namespace") or namespace,
        "name": meta.get("name") or name,
        "uid": meta.get("uid", ""),
        "resource_version": meta.get("resourceVersion", ""),
        "amazon": story,
        "http_request": exchange.http_request,
        "http_response": exchange.http_response,
        "kubectl": kubectl,
        # Its way through the API server's stages, drawn on the receipt (plain data).
        "flow": exchange.flow,
    }


def for_session(ticket: dict[str, Any]) -> dict[str, Any]:
    """A copy small enough for the session: long raw HTTP is cut and marked as cut."""
    small = dict(ticket)
    for key in ("http_request", "http_response", "kubectl"):
        text = small[key]
        if len(text) > SESSION_TEXT_LIMIT:
            small[key] = text[:SESSION_TEXT_LIMIT] + "\n... (cut here to keep the page small)"
    return small


def _refusal(headline: str, exchange: Exchange, namespace: str) -> dict[str, Any]:
    template = _REFUSED.get(exchange.status)
    if exchange.status == 400 and "namespace" in exchange.message:
        template = (
            "The delivery address written on the form (metadata.namespace) is not yours. "
            "Leave it out, or write your own address, {namespace}."
        )
    if template is None:
        template = (
            "Something went wrong inside the website. Nothing was charged; try again."
            if exchange.status >= 500
            else "The website turned the request down: {message}"
        )
    text = template.format(namespace=namespace, message=exchange.message or exchange.reason)
    return {"headline": headline, "steps": [text]}
