"""Export a class: the learners' writes in some namespaces, in order, as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane import replay


class Command(BaseCommand):
    help = "Write the learners' requests in the given namespaces (or workshop) as a class file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--namespace", action="append", default=[], help="Repeatable.")
        parser.add_argument("--workshop", default="", help="A workshop's code: its learners.")
        parser.add_argument("-o", "--output", default="-", help="A file; - for stdout.")

    def handle(self, *args, **options) -> None:
        namespaces = list(options["namespace"])
        if options["workshop"]:
            from learning.models import Workshop

            workshop = Workshop.objects.filter(code=options["workshop"]).first()
            if workshop is None:
                raise CommandError(f"No workshop with the code {options['workshop']!r}.")
            namespaces += [p.learner.namespace for p in workshop.participants.all()]
        if not namespaces:
            raise CommandError("Name at least one --namespace, or a --workshop.")
        scenario = replay.export(sorted(set(namespaces)))
        text = json.dumps(scenario, indent=2, sort_keys=True) + "\n"
        if options["output"] == "-":
            self.stdout.write(text, ending="")
        else:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
            self.stderr.write(f"{len(scenario['steps'])} request(s) written to {options['output']}")
