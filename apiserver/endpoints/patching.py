"""The three patch formats kubectl and clients send: JSON merge, JSON patch, strategic merge.

Strategic merge patch is a merge patch that knows some lists are keyed (containers by
name, ports by port number), so `kubectl apply` can change one container without
restating the others. The merge keys below are those of the built-in types.
"""

import copy
import math
from typing import Any

from apiserver import errors

# Field name -> the keys that identify list items, first match wins (ports differ by kind).
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "ports": ("containerPort", "port"),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey",),
    "readinessGates": ("conditionType",),
    "containerStatuses": ("name",),
    "initContainerStatuses": ("name",),
    "addresses": ("type",),
    "images": (),
}
# Lists of plain values that merge as sets rather than being replaced.
MERGE_PRIMITIVE_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.bad_request(f'invalid JSON pointer "{path}": must start with "/"')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(part: str) -> int | float:
    """A list index in a pointer is ASCII digits (RFC 6901); anything else is past the end."""
    return int(part) if part.isascii() and part.isdigit() else math.inf


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and _index(part) < len(current):
            current = current[_index(part)]
        else:
            raise _patch_failed(f"doc is missing path: {path}")
    return current


def _patch_failed(message: str) -> errors.ApiError:
    return errors.ApiError(
        422, "Invalid", f"the server rejected our request due to an error in our request: {message}"
    )


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and _index(last) < len(parent):
        return parent[_index(last)]
    raise _patch_failed(f"doc is missing path: {path}")


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _patch_failed("cannot remove the whole document")
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and _index(last) < len(parent):
        return parent.pop(_index(last))
    raise _patch_failed(f"unable to remove nonexistent key: {last}: missing value")


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise _patch_failed(f"replace operation does not apply: doc is missing key: {path}")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif _index(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[_index(last)] = value
            else:
                parent.insert(_index(last), value)
        else:
            raise _patch_failed(f"index out of bounds: {path}")
    else:
        raise _patch_failed(f"doc is missing path: {path}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: a list of add/remove/replace/move/copy/test operations, all or nothing."""
    if not isinstance(operations, list):
        raise errors.bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise errors.bad_request(f"invalid json patch operation: {operation!r}")
        op, path = operation.get("op"), operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise errors.bad_request(f'json patch operation "{op}" needs a "value"')
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "replace":
            doc = _add(doc, path, copy.deepcopy(operation["value"]), replace=True)
        elif op == "remove":
            _remove(doc, path)
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise errors.bad_request(f'json patch operation "{op}" needs a "from"')
            value = _remove(doc, source) if op == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value)
        elif op == "test":
            if _get(doc, path) != operation["value"]:
                raise _patch_failed(f"testing value {path} failed")
        else:
            raise errors.bad_request(f"unexpected json patch operation: {op!r}")
    return doc


def _merge_key(name: str, items: list[Any]) -> str | None:
    keys = MERGE_KEYS.get(name)
    if not keys:
        return None
    for key in keys:
        if any(isinstance(item, dict) and key in item for item in items):
            return key
    return keys[0]


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge like RFC 7386, but merge keyed lists item by item and honour `$patch` directives."""
    if not isinstance(patch, dict):
        raise errors.bad_request("strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch)


def _smp_map(target: dict, patch: dict) -> dict | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = dict(target)
    orders: dict[str, list] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value if isinstance(value, list) else []
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            drop = value if isinstance(value, list) else []
            if isinstance(result.get(name), list):
                result[name] = [item for item in result[name] if item not in drop]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _smp_map(current if isinstance(current, dict) else {}, value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            merged_list = _smp_list(key, result.get(key), value)
            result[key] = merged_list
        else:
            result[key] = value
    for name, order in orders.items():
        if isinstance(result.get(name), list):
            result[name] = _apply_order(name, result[name], order)
    return result


def _smp_list(name: str, current: Any, patch: list) -> list:
    current = current if isinstance(current, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if name in MERGE_PRIMITIVE_LISTS:
        merged = list(current)
        merged.extend(item for item in patch if item not in merged)
        return merged
    key = _merge_key(name, current + patch)
    if key is None or not all(isinstance(item, dict) for item in patch):
        return copy.deepcopy(patch)
    merged = [copy.deepcopy(item) for item in current]
    for item in patch:
        if key not in item:
            raise errors.bad_request(f"map: {item!r} does not contain declared merge key: {key}")
        position = next(
            (
                i
                for i, old in enumerate(merged)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                merged.pop(position)
            continue
        if position is None:
            merged.append(_smp_map({}, item) or {})
        else:
            merged[position] = _smp_map(merged[position], item) or {}
    return merged


def _apply_order(name: str, items: list, order: list) -> list:
    """Follow `$setElementOrder`: listed items first in that order, the rest after."""
    key = _merge_key(name, items)
    if key is None:
        return items
    wanted = [o.get(key) if isinstance(o, dict) else o for o in order]
    ranked = sorted(
        enumerate(items),
        key=lambda pair: (
            wanted.index(pair[1].get(key))
            if isinstance(pair[1], dict) and pair[1].get(key) in wanted
            else len(wanted) + pair[0]
        ),
    )
    return [item for _, item in ranked]
