"""The API server's own records: who may call it, the cluster store, and the audit log."""

import re
import secrets

from django.db import models

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


class ClusterUser(models.Model):
    """Someone (or something) holding a bearer token for the API server.

    Learners get one namespace of their own; instructors may act on every namespace;
    system users are the simulated control plane (scheduler, kubelets, controllers).
    """

    class Role(models.TextChoices):
        LEARNER = "learner"
        INSTRUCTOR = "instructor"
        SYSTEM = "system"
        # Never stored: a ServiceAccount's token names the account, not a row here.
        SERVICE_ACCOUNT = "serviceaccount"

    name = models.CharField(max_length=63, unique=True, help_text="A DNS label, e.g. alice.")
    display_name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    namespace = models.CharField(
        max_length=63, blank=True, help_text="The learner's own namespace."
    )
    token = models.CharField(max_length=100, unique=True, default=new_token)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def username(self) -> str:
        """The user name Kubernetes would report, e.g. in audit records."""
        if self.role == self.Role.SYSTEM:
            return f"system:{self.name}"
        if self.role == self.Role.SERVICE_ACCOUNT:
            return f"system:serviceaccount:{self.namespace}:{self.name}"
        return self.name

    def rotate_token(self) -> str:
        self.token = new_token()
        self.save(update_fields=["token"])
        return self.token


class Counter(models.Model):
    """A cluster-wide counter, like etcd's revision: every write takes the next value.

    Incrementing the single row inside the write's transaction locks it until commit,
    so writes commit in resourceVersion order and a watcher reading "after N" misses nothing.
    """

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class StoredObject(models.Model):
    """The current state of one API object, keyed like etcd: group/plural, namespace, name."""

    resource = models.CharField(max_length=300, help_text="group/plural, e.g. apps/deployments")
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    uid = models.UUIDField()
    resource_version = models.BigIntegerField()
    generation = models.BigIntegerField(default=1)
    body = models.TextField(help_text="The object as JSON, exactly as served.")
    created = models.DateTimeField()
    updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "namespace", "name"], name="unique_stored_object"
            )
        ]
        indexes = [models.Index(fields=["namespace"], name="stored_object_namespace")]

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace}/{self.name}"


class Revision(models.Model):
    """One change to the store, append-only; its id is the resourceVersion it produced."""

    class EventType(models.TextChoices):
        ADDED = "ADDED"
        MODIFIED = "MODIFIED"
        DELETED = "DELETED"

    id = models.BigIntegerField(primary_key=True)
    resource = models.CharField(max_length=300)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    event_type = models.CharField(max_length=10, choices=EventType.choices)
    body = models.TextField()
    created = models.DateTimeField()
    # Who wrote it, through which request: the order history's "who changed what".
    writer = models.CharField(max_length=100, blank=True, default="")
    client = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["resource", "id"], name="revision_resource_id"),
            # A namespace's newest change in one lookup (the shop's "anything new?" poll).
            models.Index(fields=["namespace", "id"], name="revision_namespace_id"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.event_type} {self.resource} {self.namespace}/{self.name}"


class TrimmedHistory(models.Model):
    """How many of one object's oldest revisions the per-object bound removed
    (WAREHOUSE_REVISION_KEEP_PER_OBJECT), so its history says so rather than starting
    mid-way in silence. True while the log still holds every revision of it after `through`;
    housekeeping forgets it once compaction has gone past."""

    resource = models.CharField(max_length=300)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    removed = models.BigIntegerField(
        default=0, help_text="Revisions removed, of the incarnation the newest of them was."
    )
    through = models.BigIntegerField(help_text="The newest revision removed.")
    from_creation = models.BooleanField(
        default=False,
        help_text="The removed run starts at the object's creation: none went uncounted.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "namespace", "name"], name="unique_trimmed_history"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace}/{self.name}: {self.removed} to {self.through}"


class AuditRecord(models.Model):
    """One request through the front door, for the Grand Central live view."""

    timestamp = models.DateTimeField(db_index=True)
    user = models.CharField(max_length=100, blank=True)
    client = models.CharField(max_length=20)
    verb = models.CharField(max_length=20)
    resource = models.CharField(max_length=300, blank=True)
    subresource = models.CharField(max_length=50, blank=True)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=1000)
    status_code = models.PositiveSmallIntegerField()
    latency_ms = models.FloatField()
    lane = models.CharField(
        max_length=20, blank=True, default="", help_text="Priority lane: system, learner..."
    )
    resource_version = models.BigIntegerField(
        null=True, blank=True, help_text="The newest revision this request wrote, if any."
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.verb} {self.path} {self.status_code}"
