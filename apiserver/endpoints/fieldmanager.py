"""Who set which field: `metadata.managedFields`, and server-side apply's ownership rules.

A field set is a Python set of paths; a path is a tuple of FieldsV1 elements: `f:name`
for a field, `k:{"name":"web"}` for an item of a keyed list, `v:"x"` for a member of a
set list. A list item or a map that is itself owned (not only its children) is a member
as well as a prefix of other members; encoded as FieldsV1 it carries a `.` key.

Writes (create, update, patch) are `Update` operations: the writer takes every field it
added or changed, silently, from whoever held it. Server-side apply is an `Apply`
operation: the applier owns exactly what it sent, changing a field another manager owns
is a conflict unless forced, and fields it stops sending that nobody else owns go away.
"""

import json
from datetime import datetime
from typing import Any

from apiserver import errors
from apiserver.endpoints.request import ApiRequest
from apiserver.registry.cells import timestamp

Path = tuple[str, ...]
FieldSet = set[Path]

APPLY = "Apply"
UPDATE = "Update"

# Keyed lists of the built-in types (listType=map) and their keys, tried in order.
LIST_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "containers": (("name",),),
    "initContainers": (("name",),),
    "ephemeralContainers": (("name",),),
    "env": (("name",),),
    "volumes": (("name",),),
    "volumeMounts": (("mountPath",),),
    "volumeDevices": (("devicePath",),),
    "ports": (("containerPort", "protocol"), ("port", "protocol")),
    "imagePullSecrets": (("name",),),
    "hostAliases": (("ip",),),
    "conditions": (("type",),),
    "ownerReferences": (("uid",),),
    "resourceClaims": (("name",),),
    "topologySpreadConstraints": (("topologyKey", "whenUnsatisfiable"),),
}
# Defaults the server fills into a list key the client left out.
KEY_DEFAULTS = {"protocol": "TCP"}
# Lists of plain values that are sets (listType=set).
SET_LISTS = {"finalizers"}
# Lists that keep their keyed or set nature in custom resources: ObjectMeta's.
META_LISTS = {"finalizers", "ownerReferences"}
# Fields Go's zero-valued object already holds, so a write never adds them as a whole.
VALUE_STRUCTS = {"metadata", "spec", "status", "template", "strategy", "updateStrategy"}
# Metadata the server keeps: nobody owns it.
SERVER_METADATA = {
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "generation",
    "managedFields",
    "resourceVersion",
}


def manager_of(request: ApiRequest) -> str:
    """The fieldManager parameter, else the User-Agent up to its first `/`."""
    return request.query.get("fieldManager") or request.headers.get("user-agent", "").split("/")[0]


def _is_atomic_struct(name: str, value: dict) -> bool:
    """A LabelSelector is an atomic struct: owned as one value, not field by field."""
    return name == "selector" and ("matchLabels" in value or "matchExpressions" in value)


def _list_keys(name: str, items: list, custom: bool) -> tuple[str, ...] | None:
    if custom and name not in META_LISTS:
        return None
    for keys in LIST_KEYS.get(name, ()):
        if any(isinstance(item, dict) and keys[0] in item for item in items):
            return keys
    return None


# Built once: json.dumps with options builds a new encoder on every call.
_compact = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def _item_element(item: Any, keys: tuple[str, ...]) -> str:
    if not isinstance(item, dict):
        return "v:" + _compact(item)
    key = {k: item.get(k, KEY_DEFAULTS.get(k)) for k in keys}
    return "k:" + _compact({k: v for k, v in key.items() if v is not None})


def _keyed(items: list, keys: tuple[str, ...]) -> dict[str, Any]:
    return {_item_element(item, keys): item for item in items}


def _list_shape(name: str, items: Any, custom: bool) -> tuple[str, tuple[str, ...]]:
    """`atomic`, `set` or `map` (with its keys), as the list's schema says."""
    if not isinstance(items, list):
        return "atomic", ()
    if name in SET_LISTS and all(not isinstance(i, dict | list) for i in items):
        return "set", ()
    keys = _list_keys(name, items, custom)
    if keys and all(isinstance(item, dict) for item in items):
        return "map", keys
    return "atomic", ()


def _skipped(path: Path, name: str) -> bool:
    return (
        path == ("f:metadata",)
        and name in SERVER_METADATA
        or path == ()
        and name
        in (
            "apiVersion",
            "kind",
        )
    )


def fields_of(obj: dict[str, Any], custom: bool = False) -> FieldSet:
    """Every field an applied configuration sets (structured-merge-diff's ToFieldSet)."""
    found: FieldSet = set()
    _collect_map(obj, (), found, custom)
    return found


def _collect_map(obj: dict, path: Path, found: FieldSet, custom: bool) -> None:
    for name, value in obj.items():
        if _skipped(path, name):
            continue
        child = (*path, "f:" + name)
        _collect(name, value, child, found, custom)


def _collect(name: str, value: Any, path: Path, found: FieldSet, custom: bool) -> None:
    if isinstance(value, dict):
        if not value or _is_atomic_struct(name, value):
            found.add(path)
        else:
            _collect_map(value, path, found, custom)
        return
    shape, keys = _list_shape(name, value, custom)
    if shape == "atomic":
        found.add(path)
    elif shape == "set":
        found.update((*path, _item_element(item, ())) for item in value)
    else:
        for element, item in _keyed(value, keys).items():
            item_path = (*path, element)
            found.add(item_path)
            _collect_map(item, item_path, found, custom)


class Comparison:
    """What changed between two versions of an object, as field paths."""

    __slots__ = ("added", "modified", "removed")

    def __init__(self) -> None:
        self.added: FieldSet = set()
        self.modified: FieldSet = set()
        self.removed: FieldSet = set()

    def changed(self) -> FieldSet:
        return self.added | self.modified


def compare(old: dict[str, Any], new: dict[str, Any], custom: bool = False) -> Comparison:
    """One walk over both objects: fields added, changed and removed."""
    result = Comparison()
    _compare_maps(old, new, (), result, custom)
    return result


_ABSENT = object()


def _compare_maps(old: dict, new: dict, path: Path, result: Comparison, custom: bool) -> None:
    for name, value in new.items():
        if _skipped(path, name):
            continue
        before = old.get(name, _ABSENT)
        if before is value:
            continue
        _compare(name, before, value, (*path, "f:" + name), result, custom)
    for name, value in old.items():
        if name not in new and not _skipped(path, name):
            _compare(name, value, _ABSENT, (*path, "f:" + name), result, custom)


def _granular_map(name: str, value: Any) -> bool:
    return value is _ABSENT or isinstance(value, dict) and not _is_atomic_struct(name, value)


def _compare(name: str, old: Any, new: Any, path: Path, result: Comparison, custom: bool) -> None:
    if old == new:
        return
    if (
        _granular_map(name, old)
        and _granular_map(name, new)
        and (isinstance(old, dict) and old or isinstance(new, dict) and new)
    ):
        if old is _ABSENT and name not in VALUE_STRUCTS:
            result.added.add(path)
        elif new is _ABSENT and name not in VALUE_STRUCTS:
            result.removed.add(path)
        _compare_maps(
            {} if old is _ABSENT else old, {} if new is _ABSENT else new, path, result, custom
        )
        return
    before = [] if old is _ABSENT else old
    after = [] if new is _ABSENT else new
    if isinstance(before, list) and isinstance(after, list):
        shape, keys = _list_shape(name, before + after, custom)
        if shape != "atomic":
            _compare_lists(shape, keys, old, new, path, result, custom)
            return
    _leaf(old, new, path, result)


def _compare_lists(
    shape: str,
    keys: tuple[str, ...],
    old: Any,
    new: Any,
    path: Path,
    result: Comparison,
    custom: bool,
) -> None:
    if old is _ABSENT:
        result.added.add(path)
    elif new is _ABSENT:
        result.removed.add(path)
    before = {} if old is _ABSENT else _keyed(old, keys)
    after = {} if new is _ABSENT else _keyed(new, keys)
    for element, item in after.items():
        previous = before.get(element, _ABSENT)
        if previous is _ABSENT:
            result.added.add((*path, element))
        if shape == "map" and previous != item:
            earlier = previous if isinstance(previous, dict) else {}
            _compare_maps(earlier, item, (*path, element), result, custom)
    for element, item in before.items():
        if element not in after:
            result.removed.add((*path, element))
            if shape == "map":
                _compare_maps(item, {}, (*path, element), result, custom)


def _leaf(old: Any, new: Any, path: Path, result: Comparison) -> None:
    if old is _ABSENT:
        result.added.add(path)
    elif new is _ABSENT:
        result.removed.add(path)
    else:
        result.modified.add(path)


def encode(fields: FieldSet) -> dict[str, Any]:
    """A field set as FieldsV1, in Kubernetes' order: `.` first, then elements sorted."""
    root: dict[str, Any] = {}
    paths = sorted(fields)
    last = len(paths) - 1
    for index, path in enumerate(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
        if index < last and paths[index + 1][: len(path)] == path:
            node["."] = {}
    return root


def decode(fields: dict[str, Any]) -> FieldSet:
    """FieldsV1 back into a field set."""
    found: FieldSet = set()
    _decode(fields, (), found)
    return found


def _decode(node: dict[str, Any], path: Path, found: FieldSet) -> None:
    for element, child in node.items():
        if element == ".":
            found.add(path)
        elif not isinstance(child, dict) or not child:
            found.add((*path, element))
        else:
            _decode(child, (*path, element), found)


def describe(path: Path) -> str:
    """A path as kube-apiserver prints it: `.spec.containers[name="web"].image`."""
    text = []
    for element in path:
        kind, rest = element[:2], element[2:]
        if kind == "f:":
            text.append("." + rest)
        elif kind == "k:":
            pairs = json.loads(rest)
            text.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in pairs.items()) + "]")
        else:
            text.append(f"[={rest}]")
    return "".join(text)


class Entry:
    """One managedFields entry: a manager's fields for one operation (and subresource)."""

    __slots__ = ("api_version", "fields", "manager", "operation", "subresource", "time")

    def __init__(
        self,
        manager: str,
        operation: str,
        api_version: str,
        subresource: str,
        fields: FieldSet,
        time: str | None,
    ) -> None:
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.subresource = subresource
        self.fields = fields
        self.time = time

    def identity(self) -> tuple[str, str, str, str]:
        """Appliers keep one entry whatever version they use; updaters one per version."""
        version = "" if self.operation == APPLY else self.api_version
        return (self.manager, self.operation, version, self.subresource)

    def who(self) -> str:
        """The manager as conflict messages name it."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def encoded(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"manager": self.manager, "operation": self.operation}
        if self.api_version:
            entry["apiVersion"] = self.api_version
        if self.time:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = encode(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


Managed = dict[tuple[str, str, str, str], Entry]


def _read(entries: Any) -> Managed:
    managed: Managed = {}
    if not isinstance(entries, list):
        return managed
    for raw in entries:
        if not isinstance(raw, dict) or not isinstance(raw.get("fieldsV1"), dict):
            continue
        entry = Entry(
            str(raw.get("manager", "")),
            str(raw.get("operation", "")),
            str(raw.get("apiVersion", "")),
            str(raw.get("subresource", "")),
            decode(raw["fieldsV1"]),
            raw.get("time"),
        )
        managed[entry.identity()] = entry
    return managed


def _is_reset(entries: Any) -> bool:
    """`managedFields: [{}]` asks to forget every owner."""
    return isinstance(entries, list) and bool(entries) and all(e == {} for e in entries)


def _write(obj: dict[str, Any], managed: Managed) -> None:
    meta = obj["metadata"]
    entries = [e for e in managed.values() if e.fields]
    if not entries:
        meta.pop("managedFields", None)
        return
    entries.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    meta["managedFields"] = [e.encoded() for e in entries]


def _owned_part(fields: FieldSet, subresource: str, has_status: bool) -> FieldSet:
    """Status writes own only status; main writes never own a status the subresource keeps."""
    if subresource == "status":
        return {p for p in fields if p[0] == "f:status"}
    if has_status and not subresource:
        return {p for p in fields if p[0] != "f:status"}
    return fields


def now_text(now: datetime) -> str:
    return timestamp(now)


def record_create(
    obj: dict[str, Any],
    manager: str,
    api_version: str,
    has_status: bool,
    custom: bool,
    now: datetime,
) -> None:
    """A create is an Update from nothing: the writer owns every field, in one walk."""
    fields: dict[str, Any] = {}
    for name, value in sorted(obj.items()):
        if name in ("apiVersion", "kind") or name == "status" and has_status:
            continue
        if name == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in sorted(value.items()) if k not in SERVER_METADATA}
            if meta:
                fields["f:metadata"] = _created(meta, custom)
        else:
            fields["f:" + name] = _created_field(name, value, custom)
    meta = obj["metadata"]
    if not fields:
        meta.pop("managedFields", None)
        return
    meta["managedFields"] = [
        {
            "manager": manager,
            "operation": UPDATE,
            "apiVersion": api_version,
            "time": timestamp(now),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    ]


def _created(obj: dict[str, Any], custom: bool) -> dict[str, Any]:
    return {"f:" + name: _created_field(name, obj[name], custom) for name in sorted(obj)}


def _created_field(name: str, value: Any, custom: bool) -> dict[str, Any]:
    """FieldsV1 of one new field: a new map, list or list item is owned itself as well."""
    if isinstance(value, dict):
        if not value or _is_atomic_struct(name, value):
            return {}
        node = _created(value, custom)
        return node if name in VALUE_STRUCTS else _itself(node)
    shape, keys = _list_shape(name, value, custom)
    if shape == "atomic":
        return {}
    items = sorted(_keyed(value, keys).items())
    return _itself({e: _itself(_created(i, custom)) if shape == "map" else {} for e, i in items})


def _itself(children: dict[str, Any]) -> dict[str, Any]:
    """A member with children carries `.`, first; one without is a leaf, `{}`."""
    return {".": {}, **children} if children else children


def record_update(
    current: dict[str, Any] | None,
    desired: dict[str, Any],
    manager: str,
    api_version: str,
    subresource: str,
    has_status: bool,
    custom: bool,
    now: datetime,
) -> None:
    """An Update: the writer takes what it added or changed; removed fields leave everyone."""
    meta = desired["metadata"]
    sent = meta.pop("managedFields", None)
    live = (current or {}).get("metadata", {}).get("managedFields")
    comparison = compare(current or {}, desired, custom)
    taken = _owned_part(comparison.changed(), subresource, has_status)
    if subresource or not sent or sent == live:
        if not taken and not comparison.removed:
            # Nothing changed hands: the owners stand as stored, not decoded and re-encoded.
            if live is not None:
                meta["managedFields"] = live
            return
        managed = _read(live)
    elif _is_reset(sent):
        managed = {}
    else:
        managed = _read(sent) or _read(live)
    me = Entry(manager, UPDATE, api_version, subresource, set(), None)
    for key, entry in managed.items():
        if key != me.identity():
            entry.fields -= taken
        entry.fields -= comparison.removed
    if taken:
        mine = managed.setdefault(me.identity(), me)
        mine.fields |= taken
        mine.time = now_text(now)
    _write(desired, managed)


def apply(
    live: dict[str, Any],
    config: dict[str, Any],
    manager: str,
    api_version: str,
    subresource: str,
    has_status: bool,
    custom: bool,
    force: bool,
    now: datetime,
) -> dict[str, Any]:
    """Merge an applied configuration into the live object under the ownership rules.

    `live` is the caller's own copy: parts of it are shared with the result, not copied.
    """
    config_meta = config.get("metadata")
    if isinstance(config_meta, dict) and config_meta.get("managedFields") is not None:
        raise errors.bad_request("metadata.managedFields must be nil")
    managed = _read(live["metadata"].get("managedFields"))
    applied = _owned_part(fields_of(config, custom), subresource, has_status)
    merged = merge(live, config, custom)
    if not isinstance(merged.get("metadata"), dict):
        return merged  # not an object: identity checks turn it away with their own words
    merged["metadata"] = dict(merged["metadata"])
    comparison = compare(live, merged, custom)
    me = Entry(manager, APPLY, api_version, subresource, applied, None)
    changed = comparison.changed()
    conflicts = [
        (entry, path)
        for key, entry in managed.items()
        if key != me.identity()
        for path in sorted(entry.fields & changed)
    ]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for key, entry in managed.items():
        if key != me.identity():
            entry.fields -= changed
    previous = managed.get(me.identity())
    if previous is not None:
        me.time = previous.time
    managed[me.identity()] = me
    pruned = previous is not None and _prune(merged, previous.fields, managed, custom)
    if changed or pruned or previous is None:
        me.time = now_text(now)
    _write(merged, managed)
    return merged


def conflict_error(conflicts: list[tuple[Entry, Path]]) -> errors.ApiError:
    """409 as kube-apiserver words it, one FieldManagerConflict cause per field."""
    causes = [
        {
            "type": "FieldManagerConflict",
            "message": f"conflict with {e.who()}",
            "field": describe(p),
        }
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.who()}: {describe(path)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(entry.who(), []).append(describe(path))
        lines = []
        for who in sorted(by_manager):
            lines.append(f"conflicts with {who}:")
            lines.extend(f"- {text}" for text in by_manager[who])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.ApiError(409, "Conflict", message, {"causes": causes})


def merge(live: Any, config: Any, custom: bool, name: str = "") -> Any:
    """The live object with the applied configuration laid over it; neither is changed."""
    if not isinstance(live, dict) or not isinstance(config, dict):
        return config
    if _is_atomic_struct(name, config):
        return config
    result = dict(live)
    for key, value in config.items():
        before = live.get(key, _ABSENT)
        if before is _ABSENT:
            result[key] = value
        elif isinstance(value, dict):
            result[key] = merge(before, value, custom, key)
        elif isinstance(value, list) and isinstance(before, list):
            result[key] = _merge_list(key, before, value, custom)
        else:
            result[key] = value
    return result


def _merge_list(name: str, live: list, config: list, custom: bool) -> list:
    shape, keys = _list_shape(name, live + config, custom)
    if shape == "atomic":
        return config
    if shape == "set":
        return live + [item for item in config if item not in live]
    merged = _keyed(live, keys)
    for element, item in _keyed(config, keys).items():
        merged[element] = merge(merged.get(element, {}), item, custom)
    return list(merged.values())


def _nodes(fields: FieldSet) -> FieldSet:
    """Every prefix of every member: a field is still wanted while anything under it is."""
    return {path[:end] for path in fields for end in range(1, len(path) + 1)}


def _prune(obj: dict[str, Any], last: FieldSet, managed: Managed, custom: bool) -> bool:
    """Drop what the applier used to set and nobody owns any more; say whether any went."""
    kept = _nodes(set().union(*(e.fields for e in managed.values())))
    orphans = _nodes(last) - kept
    for path in sorted(orphans, key=len):
        if path[:-1] and path[:-1] in orphans:
            continue
        _remove(obj, path, custom)
    return bool(orphans)


def _remove(obj: dict[str, Any], path: Path, custom: bool) -> None:
    node: Any = obj
    for depth, element in enumerate(path[:-1]):
        node = _step(node, element, path[depth - 1][2:] if depth else "", custom)
        if node is None:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(node, dict):
        node.pop(last[2:], None)
        return
    parent_name = path[-2][2:] if len(path) > 1 else ""
    if isinstance(node, list):
        shape, keys = _list_shape(parent_name, node, custom)
        node[:] = [item for item in node if _item_element(item, keys) != last]


def _step(node: Any, element: str, name: str, custom: bool) -> Any:
    if element.startswith("f:"):
        return node.get(element[2:]) if isinstance(node, dict) else None
    if isinstance(node, list):
        _shape, keys = _list_shape(name, node, custom)
        return _keyed(node, keys).get(element)
    return None
