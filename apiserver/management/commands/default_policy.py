"""`manage.py default_policy`: store the default RBAC policy and learners' RoleBindings."""

from django.core.management.base import BaseCommand

from apiserver import accounts


class Command(BaseCommand):
    help = (
        "Store the default ClusterRoles and ClusterRoleBindings, and each learner's "
        "RoleBinding in their namespace, where missing (run at start-up)."
    )

    def handle(self, *args, **options) -> None:
        made = accounts.write_default_policy()
        self.stdout.write(f"RBAC policy: {made} objects stored.")
