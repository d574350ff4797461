"""Run the control plane in its own process, beside `serve --no-controlplane` elsewhere."""

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandParser

from controlplane.runner import ControlPlane, run


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
    await run(stop)
