from django.contrib import admin

from catalog.models import ApiGroup, ApiVersion, KindField, ResourceKind


class ApiVersionInline(admin.TabularInline):
    model = ApiVersion
    extra = 0


@admin.register(ApiGroup)
class ApiGroupAdmin(admin.ModelAdmin):
    list_display = ["display_name", "department", "preferred_version", "is_custom"]
    list_filter = ["is_custom"]
    search_fields = ["name", "department"]
    inlines = [ApiVersionInline]


@admin.register(ApiVersion)
class ApiVersionAdmin(admin.ModelAdmin):
    list_display = ["group_version", "group", "version", "is_preferred"]
    list_filter = ["group"]
    list_select_related = ["group"]
    search_fields = ["group__name", "version"]

    @admin.display(boolean=True, description="preferred")
    def is_preferred(self, obj: ApiVersion) -> bool:
        return obj.is_preferred


class KindFieldInline(admin.TabularInline):
    model = KindField
    extra = 0
    fields = ["position", "path", "type_name", "required", "depth", "description"]
    ordering = ["position"]


@admin.register(ResourceKind)
class ResourceKindAdmin(admin.ModelAdmin):
    list_display = ["kind", "api_version", "plural", "short_names", "namespaced", "is_custom"]
    list_filter = ["api_version__group", "namespaced", "is_custom"]
    list_select_related = ["api_version__group"]
    # short_names is a JSON list; searching its text finds `deploy` in ["deploy"].
    search_fields = ["kind", "plural", "singular", "short_names"]
    inlines = [KindFieldInline]
    fieldsets = [
        (None, {"fields": ["api_version", "kind", "plural", "singular", "short_names"]}),
        ("How it is sold", {"fields": ["namespaced", "verbs", "subresources", "categories"]}),
        ("Description", {"fields": ["description", "model_name", "is_custom", "schema"]}),
        ("The Amazon side", {"fields": ["stuff", "analogy_holds", "analogy_breaks"]}),
    ]


@admin.register(KindField)
class KindFieldAdmin(admin.ModelAdmin):
    list_display = ["path", "resource_kind", "type_name", "required", "depth"]
    list_filter = ["required", "resource_kind__api_version__group"]
    list_select_related = ["resource_kind__api_version__group"]
    search_fields = ["path", "type_name", "resource_kind__kind"]
    raw_id_fields = ["resource_kind"]
