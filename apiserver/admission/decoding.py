"""Decoding: the body must have the kind's shape before anything else looks at it.

Like kube-apiserver's decoder: unknown fields fail (Strict), warn (Warn) or vanish
(Ignore); a wrong type is a 422 at once (defaulting would trip over it). Required fields
that are missing are noted here and reported by the validation step.
"""

from typing import Any

from apiserver import errors
from apiserver.admission.plugin import Attributes, Plugin
from apiserver.registry import schema, strategies
from apiserver.registry.kinds import Kind
from apiserver.registry.validation import INT32_MAX, Causes, at, is_integer


def name_of(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def _decode(attributes: Attributes, causes: Causes) -> None:
    kind, obj = attributes.kind, attributes.obj
    model = schema.model_for(kind.model_name) if not kind.is_custom else None
    if model is not None:
        problems = schema.check_model(obj, model)
    elif kind.is_custom and kind.schema:
        problems = schema.check_custom(obj, kind.schema)
    else:
        return
    if problems.malformed:
        raise _undecodable(kind, problems.malformed[0])
    if not kind.is_custom:
        _check_int32(kind, obj)
    if problems.unknown:
        texts = [f'unknown field "{path}"' for path in problems.unknown]
        if attributes.field_validation == "Strict":
            raise errors.bad_request("strict decoding error: " + ", ".join(texts))
        if attributes.field_validation == "Warn":
            attributes.warnings.extend(texts)
    if kind.is_custom:
        # No built-in defaulting follows, so every finding is reported together, as for CRs.
        for path, value, detail in problems.invalid:
            causes.invalid(path, value, detail)
        for path, value, allowed in problems.unsupported:
            causes.unsupported(path, value, allowed)
    elif problems.invalid:
        wrong = Causes()
        for path, value, detail in problems.invalid:
            wrong.invalid(path, value, detail)
        wrong.raise_if_any(kind, name_of(obj))
    # Status is written by controllers and kubelets; kube-apiserver checks little there.
    attributes.missing.extend(p for p in problems.required if not p.startswith("status."))


def _undecodable(kind: Kind, detail: str) -> errors.ApiError:
    return errors.bad_request(
        f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: {detail}'
    )


def _check_int32(kind: Kind, obj: dict[str, Any]) -> None:
    """Counts the real types hold in an int32: a bigger number does not even decode."""
    for path, struct in strategies.for_kind(kind).int32_fields:
        value = at(obj, path)
        if is_integer(value) and not -INT32_MAX - 1 <= value <= INT32_MAX:
            raise _undecodable(
                kind,
                f"json: cannot unmarshal number {value} into Go struct field "
                f"{struct}.{path} of type int32",
            )


PLUGIN = Plugin("SchemaDecoding", "decoding", _decode)
