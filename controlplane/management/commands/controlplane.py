"""Run the control plane in its own process, beside `serve --no-controlplane` elsewhere.

It runs every background task `serve` would (WAREHOUSE_BACKGROUND_TASKS), so the store's
housekeeping has exactly one home in production too.
"""

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

from controlplane.runner import ControlPlane


class Command(BaseCommand):
    help = "Run the scheduler, kubelets and controllers until Ctrl+C (or once, with --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Reconcile everything once, then exit."
        )

    def handle(self, *args, **options) -> None:
        if options["once"]:
            ControlPlane().run_once()
            self.stdout.write(self.style.SUCCESS("Control plane reconciled once."))
            return
        self.stdout.write(self.style.SUCCESS("Control plane running. Press Ctrl+C to stop."))
        self.stdout.flush()
        asyncio.run(_main())


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [import_string(path) for path in settings.WAREHOUSE_BACKGROUND_TASKS]
    await asyncio.gather(*(task(stop) for task in tasks))
