from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from catalog.models import ApiGroup, ResourceKind


@require_GET
def storefront(request: HttpRequest) -> HttpResponse:
    groups = ApiGroup.objects.prefetch_related("versions__kinds")
    return render(request, "catalog/storefront.html", {"groups": groups})


@require_GET
def product(request: HttpRequest, group: str, version: str, plural: str) -> HttpResponse:
    kind = get_object_or_404(
        ResourceKind.objects.select_related("api_version__group"),
        api_version__group__name="" if group == "core" else group,
        api_version__version=version,
        plural=plural,
    )
    return render(request, "catalog/product.html", {"kind": kind})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)
