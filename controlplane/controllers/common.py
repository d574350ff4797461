"""What every controller shares: the World snapshot, owner references, selectors, conditions,
Pods from a template, and the `Controller` base with the writes they all make.

The helpers are pure (dicts in, dicts out); `Controller` does the writes through the API
and leaves the events a real controller manager would.
"""

import hashlib
import json
import math
import random
from collections.abc import Callable
from datetime import datetime

from apiserver.client import ApiError, Client
from controlplane.clock import stamp
from controlplane.events import EventRecorder
from controlplane.scheduler import is_active
from controlplane.workqueue import RETRY_LATER as RETRY_LATER
from controlplane.workqueue import BackOff, Retries

HASH_LABEL = "pod-template-hash"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class World:
    """One consistent snapshot of what the controllers look at, updated as they write.

    One list per watched kind, named by its plural (`world.pods`); which kinds there are
    is decided by the controllers' registry, not here.
    """

    def __init__(self, **objects: list[dict]) -> None:
        self.objects = {resource: list(items) for resource, items in objects.items()}

    def __getattr__(self, resource: str) -> list[dict]:
        try:
            return self.__dict__["objects"][resource]
        except KeyError:
            raise AttributeError(resource) from None

    def put(self, resource: str, obj: dict) -> None:
        """Replace (or add) an object in the snapshot after a write."""
        items = self.objects.setdefault(resource, [])
        uid = obj["metadata"]["uid"]
        for position, existing in enumerate(items):
            if existing["metadata"]["uid"] == uid:
                items[position] = obj
                return
        items.append(obj)

    def drop(self, resource: str, uid: str) -> None:
        self.objects[resource] = [
            o for o in self.objects.get(resource, []) if o["metadata"]["uid"] != uid
        ]


def safe_encode(text: str) -> str:
    """apimachinery's SafeEncodeString: no vowels, no look-alike characters."""
    return "".join(SAFE_ALPHABET[ord(char) % len(SAFE_ALPHABET)] for char in text)


def template_hash(template: dict, collisions: int = 0) -> str:
    """The pod-template-hash: FNV-1a 32 over the template, encoded like the real controller."""
    clean = json.loads(json.dumps(template))
    (clean.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    data = json.dumps(clean, sort_keys=True, separators=(",", ":")).encode()
    if collisions:
        data += str(collisions).encode()
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(value))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))


class Names:
    """The suffixes of generated names, each drawn from its owner alone.

    The n-th name an owner asks for comes from the control plane's seed, the owner's
    namespace, kind and name, and n, hashed with SHA-256 (Python's own `hash()` is salted
    per process). So a Deployment deleted and made again in a clean namespace gets the
    same Pod names, whatever the rest of the room did in between. The count is kept per
    owner uid: an owner made again under the same name is new, and counts from 0 again.
    """

    MEMORY = 10_000  # owners remembered; the one unused longest is forgotten first

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._asked: dict[str, int] = {}

    def suffix(self, owner: dict, length: int = 5) -> str:
        meta = owner["metadata"]
        uid = meta.get("uid", "")
        asked = self._asked.pop(uid, 0)
        self._asked[uid] = asked + 1
        if len(self._asked) > self.MEMORY:
            del self._asked[next(iter(self._asked))]
        parts = [self.seed, meta.get("namespace", ""), owner.get("kind", ""), meta["name"], asked]
        digest = hashlib.sha256(json.dumps(parts).encode()).digest()
        return random_suffix(random.Random(int.from_bytes(digest, "big")), length)


def owner_reference(owner: dict, block: bool = True) -> dict:
    meta = owner["metadata"]
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


def controller_uid(obj: dict) -> str | None:
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid")
    return None


def owned(items: list[dict], owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [item for item in items if controller_uid(item) == uid]


def pod_ready(pod: dict) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def running_and_ready(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and pod_ready(pod)


def live(pod: dict) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted."""
    return is_active(pod) and not pod["metadata"].get("deletionTimestamp")


def condition(
    previous: list[dict],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    update_time: bool = False,
) -> dict:
    """A condition that keeps its transition time while its status does not change."""
    before = next((c for c in previous if c.get("type") == kind), None)
    time = stamp(now)
    made = {"type": kind, "status": status}
    if update_time:
        same_text = before and before.get("reason") == reason and before.get("message") == message
        made["lastUpdateTime"] = before.get("lastUpdateTime", time) if same_text else time
    same = before and before.get("status") == status
    made["lastTransitionTime"] = before.get("lastTransitionTime", time) if same else time
    made["reason"] = reason
    made["message"] = message
    return made


def int_or_percent(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        amount = int(value[:-1]) * total / 100
        return math.ceil(amount) if round_up else math.floor(amount)
    return int(value or 0)


def pod_from_template(owner: dict, name: str, extra_labels: dict | None = None) -> dict:
    template = json.loads(json.dumps((owner.get("spec") or {}).get("template") or {}))
    meta = template.get("metadata") or {}
    labels = dict(meta.get("labels") or {}) | (extra_labels or {})
    pod_meta = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations"):
        pod_meta["annotations"] = meta["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec")}


class Controller:
    """One controller of the controller manager, reconciling one kind through the API.

    `sync` runs before the scheduler and kubelets in a step; `sync_status` after them, as
    status follows what the kubelets just reported. `next_due` names a time this controller
    must act although no write will announce it (a CronJob's next schedule, say).
    """

    kind = ""  # the kind it reconciles; the garbage collector treats it as an owner
    resource = ""  # that kind's plural, as the client names it
    component = ""  # who its events say they come from

    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        names: Names,
        owners: dict[str, str],
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.names = names
        self.owners = owners
        self.retries = Retries(recorder, self.component)

    def sync(self, world: World, now: datetime) -> None:
        """Create and delete what the objects ask for."""

    def sync_status(self, world: World, now: datetime) -> None:
        """Report what exists, after the kubelets moved."""

    def next_due(self) -> datetime | None:
        return None

    def each(
        self,
        items: list[dict],
        sync_one: Callable[[dict, World, datetime], None],
        world: World,
        now: datetime,
        skip_deleting: bool = True,
    ) -> None:
        """Reconcile objects one by one, like a work queue: a conflict on one is retried on
        the next pass, and one that fails outright backs off alone while the rest go on."""
        what = sync_one.__name__
        for obj in list(items):
            if skip_deleting and obj["metadata"].get("deletionTimestamp"):
                continue
            self.retries.run(obj, now, lambda obj=obj: sync_one(obj, world, now), what)

    def record(self, obj: dict, kind: str, reason: str, message: str, now: datetime) -> None:
        self.recorder.record(obj, kind, reason, message, now, component=self.component)

    def create_pod(
        self,
        owner: dict,
        world: World,
        now: datetime,
        name: str = "",
        shape: Callable[[dict], None] | None = None,
    ) -> dict | None:
        """Create one Pod from the owner's template, changed by `shape`; None if refused,
        and BackOff (after the FailedCreate event) if forbidden, as by a full quota.

        Without a `name` it is the owner's plus five characters, as generateName would
        give, drawn from the owner alone (`Names`); a taken name is tried again with the
        owner's next ones.
        """
        for _ in range(5):
            chosen = name or f"{owner['metadata']['name']}-{self.names.suffix(owner)}"
            manifest = pod_from_template(owner, chosen)
            if shape is not None:
                shape(manifest)
            try:
                pod = self.client.create("pods", manifest)
            except ApiError as error:
                if error.reason == "AlreadyExists" and not name:
                    continue
                if error.code in (403, 409, 422):
                    self.pod_event(owner, "create", chosen, now, error)
                    if error.code == 403:
                        # A full quota stays full for a while: ask again after a backoff,
                        # not on every pass, as the real controllers' rate-limited queues do.
                        raise BackOff(error.status.get("message", "")) from error
                    return None
                raise
            world.put("pods", pod)
            self.pod_event(owner, "create", chosen, now)
            return pod
        return None

    def delete_pod(self, owner: dict, pod: dict, world: World, now: datetime) -> None:
        meta = pod["metadata"]
        try:
            deleted = self.client.delete("pods", meta["name"], meta["namespace"], uid=meta["uid"])
        except ApiError as error:
            if error.code != 404:
                raise
            world.drop("pods", meta["uid"])
            return
        if deleted.get("kind") == "Pod":
            world.put("pods", deleted)
        else:
            world.drop("pods", meta["uid"])
        self.pod_event(owner, "delete", meta["name"], now)

    def pod_event(
        self, owner: dict, verb: str, name: str, now: datetime, error: ApiError | None = None
    ) -> None:
        """The events of client-go's pod control: "Created pod: web-x7k2p" and the like."""
        if error is not None:
            message = f"Error creating: {error.status.get('message', '')}"
            self.record(owner, "Warning", "FailedCreate", message, now)
        elif verb == "create":
            self.record(owner, "Normal", "SuccessfulCreate", f"Created pod: {name}", now)
        else:
            self.record(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {name}", now)

    def write_status(self, resource: str, obj: dict, status: dict, world: World) -> None:
        meta = obj["metadata"]

        def change(current: dict) -> dict:
            current["status"] = status
            return current

        world.put(
            resource, self.client.update_status(resource, meta["name"], meta["namespace"], change)
        )
