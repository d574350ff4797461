import json
import uuid

from django.db import migrations
from django.utils import timezone

NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]


def create(apps, schema_editor):
    """The counter row and the namespaces every cluster starts with."""
    Counter = apps.get_model("apiserver", "Counter")
    StoredObject = apps.get_model("apiserver", "StoredObject")
    Revision = apps.get_model("apiserver", "Revision")
    counter, _ = Counter.objects.get_or_create(name="resourceVersion", defaults={"value": 0})
    now = timezone.now().replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for name in NAMESPACES:
        if StoredObject.objects.filter(resource="/namespaces", namespace="", name=name).exists():
            continue
        counter.value += 1
        uid = uuid.uuid4()
        body = {
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "uid": str(uid),
                "resourceVersion": str(counter.value),
                "creationTimestamp": stamp,
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        text = json.dumps(body, separators=(",", ":"))
        Revision.objects.create(
            id=counter.value,
            resource="/namespaces",
            namespace="",
            name=name,
            event_type="ADDED",
            body=text,
            created=now,
        )
        StoredObject.objects.create(
            resource="/namespaces",
            namespace="",
            name=name,
            uid=uid,
            resource_version=counter.value,
            generation=0,
            body=text,
            created=now,
            updated=now,
        )
    counter.save()


class Migration(migrations.Migration):
    dependencies = [("apiserver", "0002_store_and_audit")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
