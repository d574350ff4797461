"""Checking request bodies against a kind's schema, the way kube-apiserver decodes them.

Built-in kinds use the official client's model classes (generated from the real OpenAPI
document): each class is compiled once into a small tree of nodes, cached, then walked
over the JSON body. Custom kinds use their CRD's openAPIV3Schema.
"""

import copy
import datetime
import functools
import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import kubernetes.client as k8s

from apiserver.quantities import QUANTITY_MESSAGE, is_quantity

# Maps of resource quantities: the client types them as strings, the API takes numbers too.
QUANTITY_MAPS = {"limits", "requests", "capacity", "allocatable", "hard", "used", "overhead"}


@dataclass
class Problems:
    """What a walk over a body found, by field path."""

    unknown: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    invalid: list[tuple[str, Any, str]] = field(default_factory=list)
    unsupported: list[tuple[str, Any, list[str]]] = field(default_factory=list)
    # What the real decoder cannot read at all (a quantity like "lots"): a 400, not a 422.
    malformed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.unknown or self.required or self.invalid or self.unsupported or self.malformed
        )


@dataclass
class Node:
    """One type in the tree: a scalar name, a list/map of a child, a model, or a union."""

    tag: str  # str, int, float, bool, time, any, object, list, map, model, union
    child: "Node | None" = None
    model: type | None = None
    options: tuple["Node", ...] = ()


@dataclass
class ModelSchema:
    fields: dict[str, tuple[str, Node, bool]]  # json name -> (python name, node, required)


def _is_model(annotation: object) -> bool:
    return inspect.isclass(annotation) and annotation.__module__.startswith("kubernetes.client")


def _node(annotation: object) -> Node:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _node(args[0])
    if origin in (typing.Union, types.UnionType):
        options = tuple(_node(a) for a in args if a is not type(None))
        return options[0] if len(options) == 1 else Node("union", options=options)
    if origin is list:
        return Node("list", child=_node(args[0]))
    if origin is dict:
        return Node("map", child=_node(args[1]))
    if _is_model(annotation):
        return Node("model", model=annotation)
    if annotation is typing.Any or annotation is object:
        return Node("any")
    return Node(
        {
            str: "str",
            bytes: "str",
            int: "int",
            float: "float",
            bool: "bool",
            datetime.datetime: "time",
        }.get(annotation, "any")
    )


@functools.cache
def model_schema(model: type) -> ModelSchema:
    """The compiled schema of one client model class (cached for the process)."""
    fields = {}
    for name, info in model.model_fields.items():
        json_name = info.serialization_alias or info.alias or name
        fields[json_name] = (name, _node(info.annotation), info.is_required())
    return ModelSchema(fields)


def model_for(model_name: str) -> type | None:
    model = getattr(k8s, model_name, None) if model_name else None
    return model if _is_model(model) else None


def check_model(body: dict, model: type, prune: bool = True) -> Problems:
    """Walk `body` against `model`; unknown fields are removed when `prune` is set."""
    problems = Problems()
    _check_object(body, model_schema(model), "", problems, prune)
    return problems


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_object(
    value: dict, schema: ModelSchema, path: str, problems: Problems, prune: bool
) -> None:
    for key in list(value):
        spec = schema.fields.get(key)
        if spec is None:
            problems.unknown.append(_join(path, key))
            if prune:
                del value[key]
            continue
        item = value[key]
        if item is None:
            continue
        _check(item, spec[1], _join(path, key), problems, prune, key)
    for key, (_, _, required) in schema.fields.items():
        if required and value.get(key) is None:
            problems.required.append(_join(path, key))


def _type_word(node: Node) -> str:
    return {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "time": "string",
        "list": "array",
        "map": "object",
        "model": "object",
    }.get(node.tag, "value")


def _fits(value: Any, node: Node) -> bool:
    tag = node.tag
    if tag in ("str", "time"):
        return isinstance(value, str)
    if tag == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if tag == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tag == "bool":
        return isinstance(value, bool)
    if tag == "list":
        return isinstance(value, list)
    if tag in ("map", "model"):
        return isinstance(value, dict)
    return True


def _check(value: Any, node: Node, path: str, problems: Problems, prune: bool, key: str) -> None:
    if node.tag == "union":
        for option in node.options:
            if _fits(value, option):
                _check(value, option, path, problems, prune, key)
                return
        problems.invalid.append((path, value, "must be an integer or a string"))
        return
    if not _fits(value, node):
        problems.invalid.append((path, value, f"must be of type {_type_word(node)}"))
        return
    if node.tag == "list":
        for position, item in enumerate(value):
            if item is None:
                continue
            _check(item, node.child, f"{path}[{position}]", problems, prune, key)
    elif node.tag == "map":
        for name in list(value):
            item = value[name]
            if item is None:
                continue
            if (
                key in QUANTITY_MAPS
                and isinstance(item, int | float)
                and not isinstance(item, bool)
            ):
                value[name] = _quantity(item)
                continue
            if key in QUANTITY_MAPS and isinstance(item, str) and not is_quantity(item):
                problems.malformed.append(QUANTITY_MESSAGE)
                continue
            _check(item, node.child, f"{path}[{name}]", problems, prune, key)
    elif node.tag == "model":
        _check_object(value, model_schema(node.model), path, problems, prune)


def _quantity(number: int | float) -> str:
    """Quantities are served as strings: `cpu: 1` comes back as "1"."""
    return str(int(number)) if float(number).is_integer() else str(number)


def check_custom(body: dict, schema: dict, prune: bool = True) -> Problems:
    """Walk `body` against a CRD's openAPIV3Schema, as a structural schema is applied.

    Checks types, required, enum, bounds, lengths and patterns; fills `default`s of missing
    fields; and, when `prune` is set, drops fields the schema does not know (unless
    `x-kubernetes-preserve-unknown-fields` keeps them), like kube-apiserver's pruning.
    """
    problems = Problems()
    properties = dict(schema.get("properties") or {})
    # apiVersion, kind and metadata are always allowed on a custom object.
    for standard in ("apiVersion", "kind", "metadata"):
        properties.setdefault(standard, {"x-kubernetes-preserve-unknown-fields": True})
    _check_json_schema(
        body, {**schema, "type": "object", "properties": properties}, "", problems, prune
    )
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        # A custom object's metadata is still an ObjectMeta: the collectors read it as one.
        _check_object(metadata, model_schema(k8s.V1ObjectMeta), "metadata", problems, prune)
    elif metadata is not None:
        problems.invalid.append(("metadata", metadata, "must be of type object"))
    return problems


_JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": int | float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "object")


def _check_json_schema(
    value: Any, schema: dict, path: str, problems: Problems, prune: bool
) -> None:
    where = path or "body"
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, int | str) or isinstance(value, bool):
            problems.invalid.append(
                (path, _json_type(value), f"{where} in body must be of type integer-or-string")
            )
        return
    expected = schema.get("type")
    python_type = _JSON_TYPES.get(expected or "")
    if python_type is not None:
        wrong_bool = isinstance(value, bool) and expected in ("integer", "number")
        if not isinstance(value, python_type) or wrong_bool:
            actual = _json_type(value)
            problems.invalid.append(
                (path, actual, f'{where} in body must be of type {expected}: "{actual}"')
            )
            return
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and value not in enum:
        problems.unsupported.append((path, value, [str(v) for v in enum]))
    _check_bounds(value, schema, path, problems)
    if isinstance(value, dict):
        _check_json_object(value, schema, path, problems, prune)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for position, item in enumerate(value):
            _check_json_schema(item, schema["items"], f"{path}[{position}]", problems, prune)


def _check_bounds(value: Any, schema: dict, path: str, problems: Problems) -> None:
    """minimum/maximum, string lengths and pattern, item counts: kube-openapi's wording."""
    where = f"{path} in body"
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, int | float):
            exclusive = schema.get("exclusiveMinimum") is True
            if value < low or (exclusive and value == low):
                word = "greater than" if exclusive else "greater than or equal to"
                problems.invalid.append((path, value, f"{where} should be {word} {low}"))
        if isinstance(high, int | float):
            exclusive = schema.get("exclusiveMaximum") is True
            if value > high or (exclusive and value == high):
                word = "less than" if exclusive else "less than or equal to"
                problems.invalid.append((path, value, f"{where} should be {word} {high}"))
    elif isinstance(value, str):
        shortest, longest = schema.get("minLength"), schema.get("maxLength")
        if isinstance(shortest, int) and len(value) < shortest:
            problems.invalid.append(
                (path, value, f"{where} should be at least {shortest} chars long")
            )
        if isinstance(longest, int) and len(value) > longest:
            problems.invalid.append(
                (path, value, f"{where} should be at most {longest} chars long")
            )
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not _matches(pattern, value):
            problems.invalid.append((path, value, f"{where} should match '{pattern}'"))
    elif isinstance(value, list):
        fewest, most = schema.get("minItems"), schema.get("maxItems")
        if isinstance(fewest, int) and len(value) < fewest:
            problems.invalid.append((path, value, f"{where} should have at least {fewest} items"))
        if isinstance(most, int) and len(value) > most:
            problems.invalid.append((path, value, f"{where} should have at most {most} items"))


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> "re.Pattern[str] | None":
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _matches(pattern: str, value: str) -> bool:
    """ECMA-style `pattern` (searched, not anchored); an unusable pattern matches anything."""
    compiled = _compiled(pattern)
    return compiled is None or compiled.search(value) is not None


def _check_json_object(
    value: dict, schema: dict, path: str, problems: Problems, prune: bool
) -> None:
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    # A structural object keeps only what it lists, unless told to keep the rest.
    keeps_all = schema.get("x-kubernetes-preserve-unknown-fields") is True or extra is True
    if prune:
        for key, child in (properties or {}).items():
            if key not in value and isinstance(child, dict) and "default" in child:
                value[key] = copy.deepcopy(child["default"])
    for key in list(value):
        child_path = _join(path, key)
        if isinstance(properties, dict) and key in properties:
            child = properties[key] if isinstance(properties[key], dict) else {}
            if value[key] is not None:
                _check_json_schema(value[key], child, child_path, problems, prune)
            elif prune and not child.get("nullable"):
                del value[key]
        elif isinstance(extra, dict):
            if value[key] is not None:
                _check_json_schema(value[key], extra, f"{path}[{key}]", problems, prune)
        elif not keeps_all:
            problems.unknown.append(child_path)
            if prune:
                del value[key]
    for key in schema.get("required") or ():
        if value.get(key) is None:
            problems.required.append(_join(path, key))
