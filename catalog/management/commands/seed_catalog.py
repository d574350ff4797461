"""Fill the warehouse from the official Kubernetes Python client.

Safe to run again: rows are matched on their natural keys and updated in place.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from catalog import analogy
from catalog.models import ApiGroup, ApiVersion, KindField, ResourceKind
from catalog.sources import KindInfo, discover_kinds


class Command(BaseCommand):
    help = "Seed the catalog of resource kinds from the official Kubernetes client's API data."

    def handle(self, *args, **options) -> None:
        kinds = discover_kinds()
        with transaction.atomic():
            counts = seed(kinds)
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog seeded: {counts['groups']} departments, {counts['versions']} versions, "
                f"{counts['kinds']} kinds, {counts['fields']} fields."
            )
        )


def seed(kinds: list[KindInfo]) -> dict[str, int]:
    """Create or update every group, version, kind and field; return how many of each."""
    versions_by_group: dict[str, list[str]] = {}
    for info in kinds:
        versions_by_group.setdefault(info.group, [])
        if info.version not in versions_by_group[info.group]:
            versions_by_group[info.group].append(info.version)

    groups: dict[str, ApiGroup] = {}
    for name, versions in versions_by_group.items():
        department, pitch = analogy.department(name)
        preferred = max(versions, key=lambda v: int(v[1:]))
        groups[name], _ = ApiGroup.objects.update_or_create(
            name=name,
            defaults={"department": department, "pitch": pitch, "preferred_version": preferred},
        )

    version_rows: dict[tuple[str, str], ApiVersion] = {}
    field_count = 0
    for info in kinds:
        key = (info.group, info.version)
        if key not in version_rows:
            version_rows[key], _ = ApiVersion.objects.get_or_create(
                group=groups[info.group], version=info.version
            )
        stuff, holds, breaks = analogy.product(info.group, info.kind)
        kind, _ = ResourceKind.objects.update_or_create(
            api_version=version_rows[key],
            plural=info.plural,
            defaults={
                "kind": info.kind,
                "singular": info.singular,
                "short_names": info.short_names,
                "categories": info.categories,
                "namespaced": info.namespaced,
                "verbs": info.sorted_verbs,
                "subresources": sorted(info.subresources),
                "description": info.description,
                "model_name": info.model_name,
                "stuff": stuff,
                "analogy_holds": holds,
                "analogy_breaks": breaks,
            },
        )
        kind.fields.all().delete()
        KindField.objects.bulk_create(
            KindField(
                resource_kind=kind,
                path=f.path,
                type_name=f.type_name,
                required=f.required,
                description=f.description,
                depth=f.depth,
                position=position,
            )
            for position, f in enumerate(info.fields)
        )
        field_count += len(info.fields)
    return {
        "groups": len(groups),
        "versions": len(version_rows),
        "kinds": len(kinds),
        "fields": field_count,
    }
