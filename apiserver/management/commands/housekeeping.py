"""One housekeeping pass by hand: expire Events, compact the revision log, prune the audit log."""

from django.core.management.base import BaseCommand

from apiserver import housekeeping


class Command(BaseCommand):
    help = "Expire old Events, compact the revision log and prune the audit log, once."

    def handle(self, *args, **options) -> None:
        while True:
            report = housekeeping.run_once()
            self.stdout.write(
                f"{report.events} event(s) expired, {report.revisions} revision(s) compacted, "
                f"{report.audit} audit record(s) pruned"
            )
            if not report.unfinished:
                return
