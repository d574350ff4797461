"""Reload the quiz fixture: a quiz for every lesson, and corrected answers."""

from django.db import migrations


def load(apps, schema_editor):
    from learning import quizdata

    quizdata.load(apps.get_model("learning", "Quiz"), apps.get_model("learning", "Question"))


class Migration(migrations.Migration):
    dependencies = [("learning", "0005_workshop_code_required")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
