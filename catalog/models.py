"""The warehouse: which kinds of Kubernetes object exist, grouped like store departments.

An API group is a department, a version is an edition of its stock, and a resource
kind is a product you can order. Rows are seeded from the official Kubernetes client
(`manage.py seed_catalog`); CustomResourceDefinitions add kinds at run time.
"""

from django.db import models
from django.urls import reverse


class ApiGroup(models.Model):
    """A department of the warehouse: `apps`, `batch`, or "" for the core group."""

    name = models.CharField(max_length=253, unique=True, blank=True)
    department = models.CharField(max_length=100, help_text="The Amazon department name.")
    pitch = models.TextField(blank=True, help_text="What this department sells, in shop words.")
    preferred_version = models.CharField(max_length=63, blank=True)
    is_custom = models.BooleanField(default=False, help_text="Added by a CustomResourceDefinition.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or "core"

    @property
    def slug(self) -> str:
        return self.name or "core"


class ApiVersion(models.Model):
    """One version of a group's API, such as `apps/v1` or the core `v1`."""

    group = models.ForeignKey(ApiGroup, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=63)

    class Meta:
        ordering = ["group__name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["group", "version"], name="unique_group_version")
        ]

    def __str__(self) -> str:
        return self.group_version

    @property
    def group_version(self) -> str:
        """The `apiVersion` string objects carry: `v1` for core, `apps/v1` otherwise."""
        return f"{self.group.name}/{self.version}" if self.group.name else self.version

    @property
    def is_preferred(self) -> bool:
        return self.group.preferred_version == self.version


class ResourceKind(models.Model):
    """A product in the warehouse: one kind of object served at one group/version."""

    api_version = models.ForeignKey(ApiVersion, on_delete=models.CASCADE, related_name="kinds")
    kind = models.CharField(max_length=100)
    plural = models.CharField(max_length=100)
    singular = models.CharField(max_length=100)
    short_names = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    namespaced = models.BooleanField()
    verbs = models.JSONField(default=list)
    subresources = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    model_name = models.CharField(
        max_length=100, blank=True, help_text="The official Python client's model class."
    )
    is_custom = models.BooleanField(default=False)
    schema = models.JSONField(
        default=dict, blank=True, help_text="openAPIV3Schema of a custom kind, if any."
    )
    printer_columns = models.JSONField(
        default=list,
        blank=True,
        help_text="additionalPrinterColumns of a custom kind: what `kubectl get` shows.",
    )

    # The Amazon side of the product, in our own words.
    stuff = models.CharField(max_length=200, blank=True, help_text="What kind of stuff this is.")
    analogy_holds = models.TextField(blank=True)
    analogy_breaks = models.TextField(blank=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["api_version", "plural"], name="unique_kind_plural")
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.api_version})"

    def get_absolute_url(self) -> str:
        return reverse(
            "catalog:product",
            kwargs={
                "group": self.api_version.group.slug,
                "version": self.api_version.version,
                "plural": self.plural,
            },
        )

    @property
    def group(self) -> ApiGroup:
        return self.api_version.group

    @property
    def scope(self) -> str:
        return "Namespaced" if self.namespaced else "Cluster"

    @property
    def is_preferred(self) -> bool:
        return self.api_version.is_preferred

    @property
    def resource_name(self) -> str:
        """What kubectl calls it: `deployments.apps`, or just `pods` in the core group."""
        group = self.api_version.group.name
        return f"{self.plural}.{group}" if group else self.plural


class KindField(models.Model):
    """One line of a product's spec sheet: a field you may fill in when ordering."""

    resource_kind = models.ForeignKey(ResourceKind, on_delete=models.CASCADE, related_name="fields")
    path = models.CharField(max_length=300, help_text="Dotted path, e.g. spec.containers[].image")
    type_name = models.CharField(max_length=200)
    required = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["resource_kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["resource_kind", "path"], name="unique_kind_field")
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]
