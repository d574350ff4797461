"""Events: the tracking-page notes ("Out for delivery") every component leaves on objects.

They are core/v1 `Event` objects created through the API, so `kubectl get events` and
`kubectl describe` (which selects them by involvedObject fields) show them. Like client-go's
event correlator, a repeat of the same note increments `count` instead of adding a row.
"""

import itertools
from datetime import datetime

from apiserver.client import ApiError, Client
from controlplane.clock import stamp

_sequence = itertools.count()
# How many distinct events a recorder remembers for folding repeats (oldest forgotten first).
MEMORY = 4096


def involved_object(obj: dict, field_path: str = "") -> dict:
    """An ObjectReference to `obj`, as events and endpoints carry it."""
    meta = obj["metadata"]
    reference = {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "apiVersion": obj.get("apiVersion", "v1"),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if not reference["namespace"]:
        del reference["namespace"]
    if field_path:
        reference["fieldPath"] = field_path
    return reference


def event_manifest(
    obj: dict,
    kind: str,
    reason: str,
    message: str,
    now: datetime,
    component: str,
    host: str = "",
    field_path: str = "",
    action: str = "",
) -> dict:
    """A new core/v1 Event about `obj`, named like client-go names them: ``<name>.<hex>``."""
    meta = obj["metadata"]
    nanos = int(now.timestamp() * 1_000_000_000) + next(_sequence)
    source = {"component": component}
    if host:
        source["host"] = host
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{nanos:x}",
            "namespace": meta.get("namespace") or "default",
        },
        "involvedObject": involved_object(obj, field_path),
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp(now),
        "lastTimestamp": stamp(now),
        "count": 1,
        "type": kind,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }
    if action:
        event["action"] = action
    return event


class EventRecorder:
    """Records events for one component, folding repeats into a growing count."""

    def __init__(self, client: Client, component: str, host: str = "") -> None:
        self.client = client
        self.component = component
        self.host = host
        self._seen: dict[tuple, tuple[str, str, int]] = {}

    def record(
        self,
        obj: dict,
        kind: str,
        reason: str,
        message: str,
        now: datetime,
        field_path: str = "",
        component: str = "",
        action: str = "",
    ) -> dict | None:
        """Create the event, or bump the count of the identical one recorded before."""
        component = component or self.component
        meta = obj["metadata"]
        key = (
            meta.get("namespace", ""),
            obj.get("kind"),
            meta["name"],
            meta.get("uid"),
            field_path,
            kind,
            reason,
            message,
            component,
        )
        if key in self._seen:
            namespace, name, count = self._seen[key]
            try:
                event = self.client.patch(
                    "events",
                    name,
                    namespace,
                    {"count": count + 1, "lastTimestamp": stamp(now)},
                )
            except ApiError as error:
                if error.code != 404:
                    raise
            else:
                self._seen[key] = (namespace, name, count + 1)
                return event
        for _ in range(3):
            body = event_manifest(
                obj, kind, reason, message, now, component, self.host, field_path, action
            )
            try:
                event = self.client.create("events", body)
            except ApiError as error:
                if error.code == 404:  # the namespace is gone, and the object with it
                    return None
                if error.code == 403:  # the namespace's event quota is full: drop, as
                    return None  # client-go's broadcaster drops what it cannot write
                if error.reason == "AlreadyExists":
                    continue
                raise
            if len(self._seen) >= MEMORY:
                del self._seen[next(iter(self._seen))]
            self._seen[key] = (event["metadata"]["namespace"], event["metadata"]["name"], 1)
            return event
        return None

    def forget(self, uid: str) -> None:
        """Drop the correlation memory for a deleted object."""
        self._seen = {key: value for key, value in self._seen.items() if key[3] != uid}
