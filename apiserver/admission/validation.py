"""Validation: the object's rules, reported together as one 422 Invalid.

Missing required fields, the metadata every object shares (name, labels, annotations, owner
references, finalizers), then
the kind's own checks from its registry strategy, and on an update what may not change.
"""

from typing import Any

from apiserver.admission.plugin import UPDATE, Attributes, Plugin
from apiserver.registry import strategies
from apiserver.registry.kinds import Kind
from apiserver.registry.validation import (
    DNS1123_LABEL,
    DNS1123_SUBDOMAIN,
    LABEL_MESSAGE,
    LABEL_VALUE,
    QUALIFIED_NAME,
    SUBDOMAIN_MESSAGE,
    Causes,
)

# Kubernetes' TotalAnnotationSizeLimitB: keys and values together, in bytes.
ANNOTATIONS_MAX_BYTES = 256 * 1024
# Finalizers Kubernetes knows by a bare name; any other must be fully qualified (a/b).
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
# Kinds that may never own anything: (group, version, kind).
BANNED_OWNERS = {("", "v1", "Event")}


def _check_meta(
    kind: Kind, obj: dict[str, Any], causes: Causes, dns_label: bool, path_segment: bool = False
) -> None:
    meta = obj["metadata"]
    name = meta.get("name")
    if not name:
        causes.required("metadata.name", "name or generateName is required")
    elif not isinstance(name, str):
        causes.invalid("metadata.name", name, "must be a string")
    elif path_segment:
        if name in (".", ".."):
            causes.invalid("metadata.name", name, f"may not be '{name}'")
        for banned in ("/", "%"):
            if banned in name:
                causes.invalid("metadata.name", name, f"may not contain '{banned}'")
    elif dns_label:
        if len(name) > 63:
            causes.invalid("metadata.name", name, "must be no more than 63 characters")
        elif not DNS1123_LABEL.match(name):
            causes.invalid("metadata.name", name, LABEL_MESSAGE)
    elif len(name) > 253:
        causes.invalid("metadata.name", name, "must be no more than 253 characters")
    elif not DNS1123_SUBDOMAIN.match(name):
        causes.invalid("metadata.name", name, SUBDOMAIN_MESSAGE)
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is None:
            continue
        if not isinstance(values, dict):
            causes.invalid(f"metadata.{field}", values, "must be a map of string keys to strings")
            continue
        for key, value in values.items():
            _check_key(f"metadata.{field}", key, causes)
            if not isinstance(value, str):
                causes.invalid(f"metadata.{field}", value, "values must be strings")
            elif field == "labels" and (len(value) > 63 or not LABEL_VALUE.match(value)):
                causes.invalid(
                    "metadata.labels",
                    value,
                    "a valid label must be an empty string or consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                    "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                )
        if field == "annotations" and _annotations_size(values) > ANNOTATIONS_MAX_BYTES:
            causes.too_long("metadata.annotations", ANNOTATIONS_MAX_BYTES)
    _check_owner_references(meta.get("ownerReferences"), causes)
    _check_finalizers(meta.get("finalizers"), causes)


def _a_list(value: Any, field: str, of: str, causes: Causes) -> bool:
    """Whether a metadata list is there to check; a value that is not a list is a cause."""
    if value is None:
        return False
    if not isinstance(value, list):
        causes.invalid(field, value, f"must be a list of {of}")
        return False
    return True


def _check_owner_references(references: Any, causes: Causes) -> None:
    """Each reference names its owner in full, and at most one is the controller: the
    garbage collector and every controller read these to find whose an object is."""
    field = "metadata.ownerReferences"
    if not _a_list(references, field, "owner references", causes):
        return
    controller = ""
    for reference in references:
        if reference is None:
            reference = {}  # a null entry reads as an empty reference, as in Go
        if not isinstance(reference, dict):
            causes.invalid(field, reference, "must be an owner reference (an object)")
            continue
        words: dict[str, str] = {}
        for key in ("apiVersion", "kind", "name", "uid"):
            value = reference.get(key)
            if value is not None and not isinstance(value, str):
                causes.invalid(f"{field}.{key}", value, "must be a string")
            words[key] = value if isinstance(value, str) else ""
        group, _, version = words["apiVersion"].rpartition("/")
        if not version:
            causes.invalid(f"{field}.apiVersion", words["apiVersion"], "version must not be empty")
        for key in ("kind", "name", "uid"):
            if not words[key]:
                causes.invalid(f"{field}.{key}", "", f"{key} must not be empty")
        if (group, version, words["kind"]) in BANNED_OWNERS:
            causes.invalid(field, reference, "/v1, Kind=Event is disallowed from being an owner")
        if reference.get("controller") is True:
            this = f"{words['kind']}/{words['name']}"
            if controller:
                causes.invalid(
                    field,
                    references,
                    'Only one reference can have Controller set to true. Found "true" in '
                    f"references for {controller} and {this}",
                )
            else:
                controller = this


def _check_finalizers(finalizers: Any, causes: Causes) -> None:
    """Each finalizer is a qualified name, fully qualified unless it is a standard one; an
    object may not ask to be deleted both orphaning and in the foreground."""
    field = "metadata.finalizers"
    if not _a_list(finalizers, field, "strings", causes):
        return
    for finalizer in finalizers:
        if not isinstance(finalizer, str):
            causes.invalid(field, finalizer, "must be a string")
            continue
        before = len(causes.items)
        _check_key(field, finalizer, causes)
        qualified = len(causes.items) == before
        if qualified and "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            causes.invalid(
                field,
                finalizer,
                "name is neither a standard finalizer name nor is it fully qualified",
            )
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        causes.invalid(
            field, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"
        )


def _annotations_size(annotations: dict[str, Any]) -> int:
    """Bytes of every key and value, as ValidateAnnotationsSize adds them up."""
    return sum(
        len(str(key).encode()) + (len(value.encode()) if isinstance(value, str) else 0)
        for key, value in annotations.items()
    )


def _check_key(field: str, key: str, causes: Causes) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        causes.invalid(field, key, "prefix part " + SUBDOMAIN_MESSAGE)
    elif not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        causes.invalid(
            field,
            key,
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        )


def _validate(attributes: Attributes, causes: Causes) -> None:
    kind, obj = attributes.kind, attributes.obj
    strategy = strategies.for_kind(kind)
    _check_meta(kind, obj, causes, strategy.name_is_dns_label, strategy.name_is_path_segment)
    strategy.validate(obj, causes)
    if attributes.operation == UPDATE:
        strategy.validate_update(attributes.old, obj, causes)


PLUGIN = Plugin("ObjectValidation", "validation", _validate)
