"""Load the self-paced quizzes from learning/fixtures/quizzes.yaml."""

from django.db import migrations


def load(apps, schema_editor):
    from learning import quizdata

    quizdata.load(apps.get_model("learning", "Quiz"), apps.get_model("learning", "Question"))


class Migration(migrations.Migration):
    dependencies = [("learning", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
