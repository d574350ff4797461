"""ControllerRevisions: the template history StatefulSets and DaemonSets keep.

Each template a StatefulSet or DaemonSet has had is frozen in a ControllerRevision named
`<owner>-<hash>`, numbered in order; going back to an older template renumbers its revision
as the newest, and revisions beyond revisionHistoryLimit that no Pod uses are deleted.
`kubectl rollout history` lists them.
"""

import json

from controlplane.controllers.common import Controller, World, live, owned, owner_reference

REVISION_LABEL = "controller-revision-hash"


def revision_number(revision: dict) -> int:
    return int(revision.get("revision") or 0)


def revision_manifest(owner: dict, name: str, labels: dict, number: int) -> dict:
    template = json.loads(json.dumps((owner.get("spec") or {}).get("template") or {}))
    meta = owner["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": dict((template.get("metadata") or {}).get("labels") or {}) | labels,
            "ownerReferences": [owner_reference(owner)],
        },
        "data": {"spec": {"template": {**template, "$patch": "replace"}}},
        "revision": number,
    }


def keep_revision(controller: Controller, owner: dict, world: World, name: str, labels: dict):
    """Make sure the owner's current template has the newest revision; prune old ones."""
    mine = owned(world.controllerrevisions, owner)
    top = max((revision_number(r) for r in mine), default=0)
    current = next((r for r in mine if r["metadata"]["name"] == name), None)
    namespace = owner["metadata"]["namespace"]
    if current is None:
        created = controller.client.create(
            "controllerrevisions", revision_manifest(owner, name, labels, top + 1)
        )
        world.put("controllerrevisions", created)
    elif revision_number(current) < top:

        def renumber(found: dict) -> dict:
            found["revision"] = top + 1
            return found

        updated = controller.client.update("controllerrevisions", name, namespace, renumber)
        world.put("controllerrevisions", updated)
    limit = int((owner.get("spec") or {}).get("revisionHistoryLimit", 10))
    in_use = {
        (p["metadata"].get("labels") or {}).get(REVISION_LABEL)
        for p in owned(world.pods, owner)
        if live(p)
    }
    idle = [
        r
        for r in owned(world.controllerrevisions, owner)
        if r["metadata"]["name"] != name
        and not {r["metadata"]["name"], (r["metadata"].get("labels") or {}).get(REVISION_LABEL)}
        & in_use
    ]
    for old in sorted(idle, key=revision_number)[: max(0, len(idle) - limit)]:
        controller.client.delete("controllerrevisions", old["metadata"]["name"], namespace)
        world.drop("controllerrevisions", old["metadata"]["uid"])
