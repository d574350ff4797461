"""Give every learner's namespace its share of the cluster, if it opened without one."""

from django.core.management.base import BaseCommand

from apiserver import accounts
from apiserver.accounts import ClusterUser
from apiserver.client import ApiError


class Command(BaseCommand):
    help = (
        "Create the ResourceQuota and LimitRange a learner's namespace opens with, in every "
        "learner namespace that lacks them (those opened before shares existed)."
    )

    def handle(self, *args, **options) -> None:
        learners = ClusterUser.objects.filter(role=ClusterUser.Role.LEARNER).exclude(namespace="")
        for learner in learners.order_by("namespace"):
            try:
                created = accounts.ensure_share(learner.namespace)
            except ApiError as error:
                if error.code != 404:
                    raise
                continue  # not opened yet: it gets its share when it is
            if created:
                self.stdout.write(f"{learner.namespace}: {created} object(s) created")
