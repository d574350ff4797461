"""Print a kubeconfig for a learner, creating the learner and their namespace if needed."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apiserver.server import tls
from apiserver.server.kubeconfig import (
    KubeconfigError,
    api_url,
    check_server,
    ensure_user,
    kubeconfig_for,
)


class Command(BaseCommand):
    help = (
        "Print a kubeconfig for LEARNER (created with their own namespace if new). "
        "Example: manage.py kubeconfig alice > alice.kubeconfig; "
        "KUBECONFIG=alice.kubeconfig kubectl get pods"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("learner", help="A DNS label such as alice; also their namespace.")
        parser.add_argument(
            "--server",
            help=(
                "The API server's https URL (default: WAREHOUSE_API_URL if set, else where "
                "`manage.py serve` serves it, else https://127.0.0.1:6443)."
            ),
        )
        parser.add_argument(
            "--instructor",
            action="store_true",
            help="Make (or promote) the user an instructor, who may use every namespace.",
        )
        parser.add_argument(
            "-o",
            "--output",
            type=Path,
            help="Write to this file (mode 0600, it holds a token) instead of printing.",
        )

    def handle(self, *args, **options) -> None:
        try:
            server = check_server(options["server"] or api_url())
            user, created = ensure_user(options["learner"], instructor=options["instructor"])
            text = kubeconfig_for(user, server)
        except (KubeconfigError, RuntimeError) as error:
            raise CommandError(str(error)) from None
        if created:
            self.stderr.write(f"Created {user.role} {user.name} with namespace {user.namespace}.")
        self._warn_if_cert_misses(server)
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(text)
        self.stderr.write(f"Wrote {output}. Try: KUBECONFIG={output} kubectl get pods")

    def _warn_if_cert_misses(self, server: str) -> None:
        host = (urlsplit(server).hostname or "").lower()
        if host not in tls.server_hosts():
            self.stderr.write(
                self.style.WARNING(
                    f"The server certificate does not name {host}: add it to WAREHOUSE_API_HOSTS "
                    "and restart `manage.py serve`, or kubectl will refuse the connection."
                )
            )
