"""Replay an exported class on this (fresh) database, on a seeded control plane."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane import replay


class Command(BaseCommand):
    help = "Send a class file's requests again, with the control plane seeded and on its own clock."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scenario", help="A file written by export_class.")
        parser.add_argument("--seed", type=int, default=1, help="The control plane's seed.")
        parser.add_argument(
            "--histories", default="", help="Also write every revision of the class here (JSON)."
        )

    def handle(self, *args, **options) -> None:
        try:
            with open(options["scenario"], encoding="utf-8") as source:
                scenario = json.load(source)
            answers = replay.replay(scenario, options["seed"])
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        refused = [code for code in answers if code >= 400]
        self.stdout.write(
            f"Replayed {len(answers)} request(s) with seed {options['seed']}; "
            f"{len(refused)} refused."
        )
        if options["histories"]:
            with open(options["histories"], "w", encoding="utf-8") as out:
                json.dump(replay.histories(scenario["learners"]), out, indent=1)
