import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from catalog import pagecache, shelf
from catalog.models import ApiGroup, ResourceKind
from catalog.versions import version_rank

_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,252}$")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _all_kinds() -> list[ResourceKind]:
    """Every product, without the long texts the shelves do not show."""
    kinds = ResourceKind.objects.select_related("api_version__group")
    return list(kinds.defer("description", "schema", "analogy_holds", "analogy_breaks"))


@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
@pagecache.shared
def storefront(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[: shelf.MAX_QUERY]
    scope = request.GET.get("scope", "all").strip().lower() or "all"
    notice = ""
    if scope not in shelf.SCOPES:
        notice = f"There is no “{scope[:40]}” scope, so every product is shown."
        scope = "all"

    stock = _all_kinds()
    found = [kind for kind in stock if not query or shelf.matches(kind, query)]
    if scope != "all":
        found = [kind for kind in found if kind.namespaced == (scope == "namespaced")]
    departments = shelf.departments(found)
    context = {
        "query": query,
        "scope": scope,
        "scopes": shelf.SCOPES,
        "notice": notice,
        "departments": departments,
        "count": len(found),
        "department_count": len(departments),
        "total": len(stock),
        "exact": shelf.exact_matches(found, query) if query else [],
    }
    template = "catalog/storefront.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@require_GET
@pagecache.shared
def product(request: HtmxHttpRequest, group: str, version: str, plural: str) -> HttpResponse:
    # Names in the API are DNS-like; anything else (even a NUL byte) is simply not stocked.
    if not all(_SEGMENT.match(part) for part in (group, version, plural)):
        raise Http404("No such product")
    kind = get_object_or_404(
        ResourceKind.objects.select_related("api_version__group"),
        api_version__group__name="" if group == "core" else group,
        api_version__version=version,
        plural=plural,
    )
    others = [k for k in _all_kinds() if k.pk != kind.pk]
    context = {
        "kind": kind,
        "editions": sorted(
            (k for k in others if k.group.pk == kind.group.pk and k.kind == kind.kind),
            key=lambda k: version_rank(k.api_version.version),
        ),
        "fields": [(f, f.path.removesuffix(f.name)) for f in kind.fields.all()],
        "ways_to_buy": shelf.ways_to_buy(kind, others),
        "subresources": shelf.subresources(kind),
        "commands": shelf.kubectl_commands(kind, others),
        "manifest": shelf.example_manifest(kind),
        "example_name": shelf.example_name(kind),
    }
    return render(request, "catalog/product.html", context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A friendly empty shelf, with a search for the last word of the address."""
    words = [part for part in request.path.lower().split("/") if part]
    guess = words[-1] if words and _SEGMENT.match(words[-1]) else ""
    if guess in {"catalog", "core"} or re.fullmatch(r"v\d+\w*", guess):
        guess = ""
    nearby, department = [], None
    if guess:
        nearby = [k for k in _all_kinds() if guess in {k.plural, k.singular, *k.short_names}]
        nearby.sort(key=lambda k: (k.group.name, version_rank(k.api_version.version)))
        department = ApiGroup.objects.filter(name=guess).first()
    context = {"guess": guess, "nearby": nearby, "department": department}
    return render(request, "404.html", context, status=404)
