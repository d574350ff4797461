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

    name = models.CharField(max_length=63, unique=True, help_text="A DNS label, e.g. alice.")
    display_name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    namespace = models.CharField(max_length=63, blank=True, help_text="The learner's own namespace.")
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
        return self.name

    def rotate_token(self) -> str:
        self.token = new_token()
        self.save(update_fields=["token"])
        return self.token
