"""The store front and the product pages, rendered once per catalog state and shared.

These pages change only when the catalog does, and show nothing about who is looking
(no learner name, no CSRF token: they have no form that posts), so one rendering serves
every visitor until the catalog moves. Each page is kept with its gzip encoding and an
ETag, so a browser that has it gets a 304 and one that accepts gzip gets a fifth of the
bytes, neither costing a render or a compression.

Only the plain page is cached: a search (any query string) and htmx requests render as
before. The key is the catalog state the API server publishes (`readmodel.catalog_state`),
so a CRD that adds a kind shows on the next request; admin edits within seconds.
`hub.middleware` serves a cached page straight from the event loop while that state is
known to be current, skipping the page middleware's thread hops.
"""

import gzip
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified

from apiserver import readmodel

VARY = "Accept-Encoding, HX-Request, HX-History-Restore-Request"
CACHE_CONTROL = "no-cache"
# Only pages of real products are kept (a 404 never is); this bounds the memory regardless.
MAX_PAGES = 500
_GZIP_LEVEL = 6


@dataclass(frozen=True)
class Page:
    """One rendered page in both encodings, and the catalog state it was rendered at."""

    state: int
    content_type: str
    body: bytes
    gzipped: bytes
    etag: str  # of the plain body; the gzipped one's adds "-gzip"

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'


_pages: dict[str, Page] = {}
_lock = threading.Lock()


def clear() -> None:
    """Forget every page (tests, whose rolled-back catalogs can repeat a state)."""
    with _lock:
        _pages.clear()


def cacheable(request: HttpRequest) -> bool:
    """A plain GET of the page: no query string, not an htmx request."""
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and "HTTP_HX_REQUEST" not in request.META
    )


def current(request: HttpRequest) -> Page | None:
    """The cached page for this request if the catalog is known, without a query, not to have
    moved since it was rendered; for the event loop."""
    if not cacheable(request):
        return None
    return current_page(request.path)


def current_page(path: str) -> Page | None:
    """The cached page at `path` (of a plain GET) while the catalog has not moved; no query."""
    page = _pages.get(path)
    if page is None or page.state != readmodel.known_catalog_state():
        return None
    return page


def shared(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Serve the view's plain GET from the cache, rendering it only when the catalog moved."""

    @wraps(view)
    def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not cacheable(request):
            return view(request, *args, **kwargs)
        state = readmodel.catalog_state()
        page = _pages.get(request.path)
        if page is None or page.state != state:
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming or response.cookies:
                return response
            page = _store(request.path, state, response)
        return respond(request, page)

    return cached_view


def _store(path: str, state: int, response: HttpResponse) -> Page:
    body = bytes(response.content)
    page = Page(
        state=state,
        content_type=response["Content-Type"],
        body=body,
        gzipped=gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0),
        etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
    )
    with _lock:
        if len(_pages) >= MAX_PAGES and path not in _pages:
            _pages.clear()
        _pages[path] = page
    return page


def respond(request: HttpRequest, page: Page) -> HttpResponse:
    """The page, gzipped when the client accepts it, or a 304 when the client has it."""
    zipped = accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", ""))
    etag = page.gzip_etag if zipped else page.etag
    if _matches(request.META.get("HTTP_IF_NONE_MATCH", ""), (page.etag, page.gzip_etag)):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(page.gzipped if zipped else page.body)
        response["Content-Type"] = page.content_type
        response["Content-Length"] = str(len(response.content))
        if zipped:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = VARY
    return response


_CODING = re.compile(r"^\s*(gzip|x-gzip|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$", re.IGNORECASE)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (explicitly or by `*`), q=0 meaning no."""
    for item in header.split(","):
        match = _CODING.match(item)
        if match:
            try:
                return float(match.group(2) or "1") > 0
            except ValueError:
                return False
    return False


def _matches(header: str, etags: tuple[str, ...]) -> bool:
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/")
        if tag == "*" or tag in etags:
            return True
    return False
