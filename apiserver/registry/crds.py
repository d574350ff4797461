"""Third-party sellers: CustomResourceDefinitions add new products to the warehouse.

A CRD (`apiextensions.k8s.io/v1`) is stored like any object, then the catalog follows it:
each served version becomes a custom ApiGroup/ApiVersion/ResourceKind with its schema
and spec sheet, so discovery, CRUD, watch, Table output and admission serve the new kind
exactly like a built-in one. Deleting the CRD takes the kind and all its objects away.

Who may register a seller: instructors and system users only. A CRD is cluster-scoped and
changes the store for everyone (discovery, the store front, every learner's kubectl), and a
real cluster asks for cluster-admin to create one; the authorization filter already refuses
cluster-scoped writes to learners, so they meet the same 403 they would meet at work.
Learners then order the new kind in their own namespace like any other product.

Flow: admission calls `admit_definition()` on every CRD write (names checked like the real
apiextensions-apiserver, `status` filled with acceptedNames and the NamesAccepted and
Established conditions); after a CRD write succeeds the pipeline calls `follow()`, which
runs `sync_catalog()`. `printer()` turns a version's additionalPrinterColumns into the
Table columns `kubectl get` shows.
"""

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apiserver import errors
from apiserver.models import StoredObject
from apiserver.rbac import authorizer, bootstrap
from apiserver.registry import cells, kinds, store
from apiserver.registry.kinds import Kind
from apiserver.registry.strategy import Strategy
from catalog.models import ApiGroup, ApiVersion, KindField, ResourceKind

if TYPE_CHECKING:
    from apiserver.registry.validation import Causes

CRD_RESOURCE = "apiextensions.k8s.io/customresourcedefinitions"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SCOPES = ["Cluster", "Namespaced"]
COLUMN_TYPES = ["integer", "number", "string", "boolean", "date"]
PROTECTED_GROUPS = ("k8s.io", "kubernetes.io")
APPROVAL = "api-approved.kubernetes.io"
MAX_FIELDS = 300

DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
KIND_MESSAGE = "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?"
ONE_STORAGE = "must have exactly one version marked as storage version"
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

PITCH = (
    "An outside seller's department, opened by a CustomResourceDefinition. Its products sit on "
    "the same shelves and are ordered through the same front door as everything else, but "
    "only the seller's own controller, if one is running, does anything with the orders."
)
HOLDS = (
    "Anyone allowed to register a CustomResourceDefinition can list a new product in the "
    "same store: it appears in discovery and `kubectl api-resources`, and get, create, "
    "apply, patch and watch all work on it. Orders come in through the same front door, "
    "with the same sign-in, permission checks, schema validation and audit trail as the "
    "built-in products."
)
BREAKS = (
    "The store itself does nothing with these orders. Kubernetes only checks the {kind} "
    "against the seller's schema and files it; nothing is picked, packed or shipped unless "
    "the seller also runs a controller that watches for {kind} objects and acts on them. "
    "And when the seller leaves (the definition is deleted), every {kind} goes with it."
)


# --- admission: defaults, validation and status of a CRD ----------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def admit_definition(obj: dict[str, Any], old: dict[str, Any] | None, causes: "Causes") -> None:
    """Default, validate and give a status to a CRD body, as apiextensions-apiserver does."""
    _default(obj)
    before = len(causes.items)
    _validate(obj, causes)
    if old is not None:
        _validate_update(obj, old, causes)
    if len(causes.items) == before:
        obj["status"] = _status(obj, _dict(old.get("status")) if old else {})


def _default(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})


def _check_label(causes: "Causes", field: str, value: Any, required: bool = False) -> None:
    if value in (None, ""):
        if required:
            causes.required(field)
    elif not isinstance(value, str) or len(value) > 63 or not DNS1035.match(value):
        causes.invalid(field, value, DNS1035_MESSAGE)


def _check_kind_name(causes: "Causes", field: str, value: Any, required: bool) -> None:
    if value in (None, ""):
        if required:
            causes.required(field)
    elif not isinstance(value, str) or not DNS1035.match(value.lower()) or len(value) > 63:
        causes.invalid(field, value, KIND_MESSAGE)


def _validate(obj: dict[str, Any], causes: "Causes") -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    group = spec.get("group")
    names = _dict(spec.get("names"))
    if not group:
        causes.required("spec.group")
    elif not isinstance(group, str) or len(group) > 253 or not SUBDOMAIN.match(group):
        causes.invalid(
            "spec.group",
            group,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character",
        )
    elif "." not in group:
        causes.invalid("spec.group", group, "should be a domain with at least one dot")
    elif _protected(group) and not _dict(obj["metadata"].get("annotations")).get(APPROVAL):
        causes.required(
            f"metadata.annotations[{APPROVAL}]",
            f'protected groups must have approval annotation "{APPROVAL}", see '
            "https://github.com/kubernetes/enhancements/pull/1111",
        )
    elif ApiGroup.objects.filter(name=group, is_custom=False).exists():
        # Our catalog keeps built-in departments apart; a seller needs a department of its own.
        causes.invalid("spec.group", group, "is served by a built-in API group")
    plural = names.get("plural")
    name = obj["metadata"].get("name")
    if isinstance(plural, str) and isinstance(group, str) and name != f"{plural}.{group}":
        causes.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
    _check_label(causes, "spec.names.plural", plural, required=True)
    _check_label(causes, "spec.names.singular", names.get("singular"))
    _check_kind_name(causes, "spec.names.kind", names.get("kind"), required=True)
    _check_kind_name(causes, "spec.names.listKind", names.get("listKind"), required=False)
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        causes.invalid(
            "spec.names.listKind", names["listKind"], "kind and listKind cannot be the same"
        )
    for field in ("shortNames", "categories"):
        for position, item in enumerate(_list(names.get(field))):
            _check_label(causes, f"spec.names.{field}[{position}]", item, required=True)
    scope = spec.get("scope")
    if not scope:
        causes.required("spec.scope")
    elif scope not in SCOPES:
        causes.unsupported("spec.scope", scope, SCOPES)
    _validate_versions(spec, causes)


def _protected(group: str) -> bool:
    return any(group == g or group.endswith("." + g) for g in PROTECTED_GROUPS)


def _validate_versions(spec: dict[str, Any], causes: "Causes") -> None:
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        causes.required("spec.versions", ONE_STORAGE)
        return
    seen: set[str] = set()
    storage = 0
    for position, version in enumerate(versions):
        where = f"spec.versions[{position}]"
        if not isinstance(version, dict):
            causes.invalid(where, version, "must be an object")
            continue
        name = version.get("name")
        _check_label(causes, f"{where}.name", name, required=True)
        if isinstance(name, str) and name in seen:
            causes.duplicate(f"{where}.name", name)
        seen.add(name if isinstance(name, str) else "")
        storage += version.get("storage") is True
        root = _dict(_dict(version.get("schema")).get("openAPIV3Schema"))
        if not root:
            causes.required(f"{where}.schema.openAPIV3Schema", "schemas are required")
        elif not root.get("type"):
            causes.required(f"{where}.schema.openAPIV3Schema.type", "must not be empty at the root")
        elif root["type"] != "object":
            causes.invalid(
                f"{where}.schema.openAPIV3Schema.type", root["type"], "must be object at the root"
            )
        scale = _dict(version.get("subresources")).get("scale")
        if isinstance(scale, dict) and not scale.get("specReplicasPath"):
            causes.required(f"{where}.subresources.scale.specReplicasPath")
        if isinstance(scale, dict) and not scale.get("statusReplicasPath"):
            causes.required(f"{where}.subresources.scale.statusReplicasPath")
        for index, column in enumerate(_list(version.get("additionalPrinterColumns"))):
            _validate_column(_dict(column), f"{where}.additionalPrinterColumns[{index}]", causes)
    if storage != 1:
        causes.invalid("spec.versions", "[...]", ONE_STORAGE)


def _validate_column(column: dict[str, Any], where: str, causes: "Causes") -> None:
    if not column.get("name"):
        causes.required(f"{where}.name")
    kind = column.get("type")
    if not kind:
        causes.required(f"{where}.type")
    elif kind not in COLUMN_TYPES:
        causes.unsupported(f"{where}.type", kind, COLUMN_TYPES)
    path = column.get("jsonPath")
    if not path:
        causes.required(f"{where}.jsonPath")
    elif parse_path(path) is None:
        causes.invalid(f"{where}.jsonPath", path, "must be a simple json path starting with .")


def _validate_update(obj: dict[str, Any], old: dict[str, Any], causes: "Causes") -> None:
    """Group and plural name the storage; scope and kind shape every stored object."""
    new_spec, old_spec = _dict(obj.get("spec")), _dict(old.get("spec"))
    for field, new, before in (
        ("spec.group", new_spec.get("group"), old_spec.get("group")),
        ("spec.scope", new_spec.get("scope"), old_spec.get("scope")),
        (
            "spec.names.plural",
            _dict(new_spec.get("names")).get("plural"),
            _dict(old_spec.get("names")).get("plural"),
        ),
        (
            "spec.names.kind",
            _dict(new_spec.get("names")).get("kind"),
            _dict(old_spec.get("names")).get("kind"),
        ),
    ):
        if new != before:
            causes.invalid(field, new, "field is immutable")


def _condition(kind: str, ok: bool, reason: str, message: str, old: list[Any]) -> dict[str, Any]:
    status = "True" if ok else "False"
    previous = next((c for c in old if isinstance(c, dict) and c.get("type") == kind), None)
    same = previous is not None and previous.get("status") == status
    when = previous.get("lastTransitionTime") if same else cells.timestamp()
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": when,
        "reason": reason,
        "message": message,
    }


def _status(obj: dict[str, Any], old_status: dict[str, Any]) -> dict[str, Any]:
    """acceptedNames, NamesAccepted and Established, checked against the group's other CRDs."""
    spec = obj["spec"]
    names = spec["names"]
    wanted = {
        key: names[key]
        for key in ("plural", "singular", "shortNames", "kind", "listKind", "categories")
        if names.get(key)
    }
    conflict = _name_conflict(obj["metadata"]["name"], spec["group"], wanted)
    conditions = _list(old_status.get("conditions"))
    if conflict:
        reason, message = conflict
        accepted = _dict(old_status.get("acceptedNames")) or {"plural": "", "kind": ""}
        named = _condition("NamesAccepted", False, reason, message, conditions)
        established = _condition(
            "Established", False, "NotAccepted", "not all names are accepted", conditions
        )
    else:
        accepted = wanted
        named = _condition("NamesAccepted", True, "NoConflicts", "no conflicts found", conditions)
        established = _condition(
            "Established",
            True,
            "InitialNamesAccepted",
            "the initial names have been accepted",
            conditions,
        )
    stored = [v for v in _list(old_status.get("storedVersions")) if isinstance(v, str)]
    for version in spec["versions"]:
        if version.get("storage") is True and version["name"] not in stored:
            stored.append(version["name"])
    return {"acceptedNames": accepted, "conditions": [named, established], "storedVersions": stored}


def _name_conflict(name: str, group: str, wanted: dict[str, Any]) -> tuple[str, str] | None:
    """Another CRD of the same group already answers to one of these names."""
    definitions = kinds.index().by_resource.get(CRD_RESOURCE)
    if definitions is None:
        return None
    others, _ = store.list_objects(definitions, None)
    for other in others:
        other_spec = _dict(other.get("spec"))
        if other["metadata"].get("name") == name or other_spec.get("group") != group:
            continue
        taken = _dict(_dict(other.get("status")).get("acceptedNames"))
        if wanted.get("kind") and wanted["kind"] == taken.get("kind"):
            return "KindConflict", f'"{wanted["kind"]}" is already in use'
        if wanted.get("singular") and wanted["singular"] == taken.get("singular"):
            return "SingularConflict", f'"{wanted["singular"]}" is already in use'
        for short in wanted.get("shortNames") or ():
            if short in (taken.get("shortNames") or ()):
                return "ShortNamesConflict", f'"{short}" is already in use'
    return None


def established(crd: dict[str, Any]) -> bool:
    conditions = _list(_dict(crd.get("status")).get("conditions"))
    return any(
        isinstance(c, dict) and c.get("type") == "Established" and c.get("status") == "True"
        for c in conditions
    )


# --- the catalog follows the stored CRDs ------------------------------------------------------


def follow(kind: Kind | None, verb: str, status: int) -> None:
    """After a CRD write succeeds, bring the catalog in line (called by the pipeline)."""
    if kind is None or kind.resource != CRD_RESOURCE or verb not in WRITE_VERBS or status >= 300:
        return
    sync_catalog()


def sync_catalog() -> None:
    """Make the third-party shelves match the established, not-deleted CRDs in the store.

    Runs in one transaction that first bumps the catalog generation: that row lock makes
    concurrent syncs take turns, and tells every server process to rebuild its kind index.
    """
    with transaction.atomic():
        kinds.bump_generation()
        _recheck_names()
        wanted = _wanted_rows()
        existing = list(
            ResourceKind.objects.filter(is_custom=True).select_related("api_version__group")
        )
        wanted_resources = {f"{group}/{row['plural']}" for (group, _, _), row in wanted.items()}
        for row in existing:
            key = (row.api_version.group.name, row.api_version.version, row.plural)
            resource = f"{key[0]}/{row.plural}"
            if key not in wanted:
                if resource not in wanted_resources:
                    _delete_objects(_kind_of(row))
                row.delete()
        for (group, version, _), values in wanted.items():
            _upsert(group, version, values)
        ApiVersion.objects.filter(group__is_custom=True, kinds__isnull=True).delete()
        ApiGroup.objects.filter(is_custom=True, versions__isnull=True).delete()
        _set_preferred_versions()
        _sync_access(
            {(g, values["plural"], values["namespaced"]) for (g, _, _), values in wanted.items()}
        )
    kinds.invalidate()
    authorizer.invalidate()


def _sync_access(served: set[tuple[str, str, bool]]) -> None:
    """One ClusterRole per custom kind, aggregated into `admin` and `edit`, so a learner
    (admin of their own namespace) may order it; it goes when its kind does. A CRD's
    author would label such a role by hand; the warehouse does it for every seller."""
    roles = kinds.lookup(bootstrap.RBAC_GROUP, "v1", "clusterroles")
    if roles is None:
        return
    wanted = {f"warehouse:custom:{kind[1]}.{kind[0]}": kind for kind in served}
    existing, _ = store.list_objects(roles, None)
    for role in existing:
        name = role["metadata"]["name"]
        if name.startswith("warehouse:custom:") and name not in wanted:
            store.delete(roles, "", name)
    have = {role["metadata"]["name"] for role in existing}
    for name, (group, plural, namespaced) in wanted.items():
        if name not in have:
            crd_name = name.removeprefix("warehouse:custom:")
            store.create(roles, bootstrap.custom_kind_role(crd_name, group, plural, namespaced))


def _recheck_names() -> None:
    """A CRD refused for a name clash is accepted once the clashing seller has gone.

    (In a real cluster the apiextensions naming controller does this in the background.)
    """
    definitions = kinds.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    if definitions is None:
        return
    objects, _ = store.list_objects(definitions, None)
    for crd in objects:
        if established(crd) or crd["metadata"].get("deletionTimestamp"):
            continue

        def accept(current: dict[str, Any]) -> dict[str, Any]:
            current["status"] = _status(current, _dict(current.get("status")))
            return current

        try:
            store.update(definitions, "", crd["metadata"]["name"], accept)
        except (errors.ApiError, KeyError, TypeError):
            continue  # gone meanwhile, or a body this check cannot read: leave it be


def _wanted_rows() -> dict[tuple[str, str, str], dict[str, Any]]:
    definitions = kinds.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    if definitions is None:
        return {}
    builtin = set(ApiGroup.objects.filter(is_custom=False).values_list("name", flat=True))
    objects, _ = store.list_objects(definitions, None)
    wanted: dict[tuple[str, str, str], dict[str, Any]] = {}
    for crd in objects:
        spec = _dict(crd.get("spec"))
        if crd["metadata"].get("deletionTimestamp") or not established(crd):
            continue
        if spec.get("group") in builtin:
            continue  # never let a seller take over a built-in department
        for version in _list(spec.get("versions")):
            if isinstance(version, dict) and version.get("served") is True:
                row = _row_values(crd, version)
                wanted[(spec["group"], version["name"], row["plural"])] = row
    return wanted


def _row_values(crd: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    spec = crd["spec"]
    names = _dict(_dict(crd.get("status")).get("acceptedNames")) or spec["names"]
    kind = names["kind"]
    root = _dict(_dict(version.get("schema")).get("openAPIV3Schema"))
    subresources = _dict(version.get("subresources"))
    served = []
    if "status" in subresources:
        served.append("status")
    scale = _dict(subresources.get("scale"))
    # The pipeline's Scale reads spec.replicas and status.replicas; other paths are not served.
    if (scale.get("specReplicasPath"), scale.get("statusReplicasPath")) == (
        ".spec.replicas",
        ".status.replicas",
    ):
        served.append("scale")
    return {
        "kind": kind,
        "plural": names["plural"],
        "singular": names.get("singular") or kind.lower(),
        "short_names": list(names.get("shortNames") or []),
        "categories": list(names.get("categories") or []),
        "namespaced": spec.get("scope") == "Namespaced",
        "verbs": ALL_VERBS,
        "subresources": served,
        "description": str(root.get("description") or "")[:2000],
        "model_name": "",
        "is_custom": True,
        "schema": root,
        "printer_columns": [c for c in _list(version.get("additionalPrinterColumns")) if c],
        "stuff": f"A {kind} listed by the third-party seller {spec['group']}"[:200],
        "analogy_holds": HOLDS,
        "analogy_breaks": BREAKS.format(kind=kind),
    }


def _upsert(group: str, version: str, values: dict[str, Any]) -> None:
    department = f"Third-party seller: {group}"
    if len(department) > 100:
        department = department[:99] + "…"
    group_row, _ = ApiGroup.objects.update_or_create(
        name=group, defaults={"department": department, "pitch": PITCH, "is_custom": True}
    )
    version_row, _ = ApiVersion.objects.get_or_create(group=group_row, version=version)
    row, _ = ResourceKind.objects.update_or_create(
        api_version=version_row, plural=values["plural"], defaults=values
    )
    row.fields.all().delete()
    KindField.objects.bulk_create(
        KindField(
            resource_kind=row,
            path=path,
            type_name=type_name,
            required=required,
            description=description,
            depth=depth,
            position=position,
        )
        for position, (path, type_name, required, description, depth) in enumerate(
            spec_sheet(values["schema"])
        )
    )


def _set_preferred_versions() -> None:
    for group in ApiGroup.objects.filter(is_custom=True).prefetch_related("versions"):
        served = sorted((v.version for v in group.versions.all()), key=kinds.version_rank)
        if served and group.preferred_version != served[0]:
            group.preferred_version = served[0]
            group.save(update_fields=["preferred_version"])


def _kind_of(row: ResourceKind) -> Kind:
    return Kind(
        group=row.api_version.group.name,
        version=row.api_version.version,
        kind=row.kind,
        plural=row.plural,
        singular=row.singular,
        namespaced=row.namespaced,
        verbs=tuple(row.verbs),
        is_custom=True,
    )


def _without_finalizers(obj: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"].pop("finalizers", None)
    return obj


def _delete_objects(kind: Kind) -> None:
    """The seller left: every object of the kind goes, each with a DELETED watch event."""
    rows = StoredObject.objects.filter(resource=kind.resource).values_list("namespace", "name")
    for namespace, name in list(rows):
        try:
            if store.get(kind, namespace, name)["metadata"].get("finalizers"):
                store.update(kind, namespace, name, _without_finalizers)
            store.delete(kind, namespace, name)
        except errors.ApiError as error:
            if error.code != 404:
                raise


# --- the spec sheet: KindField rows from the schema ----------------------------------------


def type_name(schema: dict[str, Any]) -> str:
    """A kubectl-explain style type for a schema node: string, []string, map[string]integer."""
    if schema.get("x-kubernetes-int-or-string"):
        return "IntOrString"
    kind = schema.get("type")
    if kind == "array":
        return "[]" + type_name(_dict(schema.get("items")))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map[string]" + type_name(schema["additionalProperties"])
    if kind in ("string", "integer", "number", "boolean"):
        return kind
    return "Object"


def spec_sheet(root: dict[str, Any]) -> list[tuple[str, str, bool, str, int]]:
    """(path, type, required, description, depth) for `spec` and one level below it."""
    properties = _dict(root.get("properties"))
    spec = _dict(properties.get("spec"))
    found: list[tuple[str, str, bool, str, int]] = []
    if spec.get("properties"):
        _walk(spec, "spec", 0, found)
    else:
        top = {
            k: v
            for k, v in properties.items()
            if k not in ("apiVersion", "kind", "metadata", "status")
        }
        _walk({**root, "properties": top}, "", 0, found)
    return found[:MAX_FIELDS]


def _walk(node: dict[str, Any], prefix: str, depth: int, found: list) -> None:
    required = set(_list(node.get("required")))
    for name, child in _dict(node.get("properties")).items():
        child = _dict(child)
        path = f"{prefix}.{name}" if prefix else name
        if len(path) > 300 or len(found) >= MAX_FIELDS:
            continue
        description = str(child.get("description") or "")
        found.append((path, type_name(child)[:200], name in required, description, depth))
        if depth >= 1:
            continue
        if child.get("properties"):
            _walk(child, path, depth + 1, found)
        elif child.get("type") == "array" and _dict(child.get("items")).get("properties"):
            _walk(child["items"], f"{path}[]", depth + 1, found)


# --- Table output: additionalPrinterColumns ---------------------------------------------------

_STEP = re.compile(
    r"""\.(?P<name>(?:[^.\[\]\\]|\\.)+)
      | \[(?P<index>-?\d+)\]
      | \[['"](?P<quoted>[^'"]+)['"]\]
      | \[\?\(@\.(?P<key>[A-Za-z0-9_.\-]+)\s*==\s*['"](?P<value>[^'"]*)['"]\)\]""",
    re.VERBOSE,
)


def parse_path(path: str) -> list[tuple[str, Any]] | None:
    """A simple JSONPath (`.spec.size`, `.status.conditions[?(@.type=="Ready")].status`)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if not text.startswith("."):
        return None
    steps: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            return None
        if match["name"] is not None:
            steps.append(("key", re.sub(r"\\(.)", r"\1", match["name"])))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"])))
        elif match["quoted"] is not None:
            steps.append(("key", match["quoted"]))
        else:
            steps.append(("filter", (match["key"].split("."), match["value"])))
        position = match.end()
    return steps


def path_value(obj: Any, path: str) -> Any:
    """The first value a simple JSONPath finds in `obj`, or None."""
    steps = parse_path(path)
    if steps is None:
        return None
    current = obj
    for step, arg in steps:
        if step == "key":
            current = current.get(arg) if isinstance(current, dict) else None
        elif step == "index":
            in_range = isinstance(current, list) and -len(current) <= arg < len(current)
            current = current[arg] if in_range else None
        else:
            keys, wanted = arg
            current = next(
                (item for item in _list(current) if _field_text(item, keys) == wanted), None
            )
        if current is None:
            return None
    return current


def _field_text(item: Any, keys: list[str]) -> str | None:
    for key in keys:
        item = item.get(key) if isinstance(item, dict) else None
    return None if item is None else _text(item)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _cell(column: dict[str, Any], obj: dict[str, Any], now: datetime) -> Any:
    """One cell, typed like kube-apiserver's CRD table convertor does it."""
    value = path_value(obj, str(column.get("jsonPath", "")))
    kind = column.get("type", "string")
    if value is None:
        return None
    if kind == "string":
        return _text(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value) if float(value).is_integer() else None
    if kind == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        moment = cells.parse_timestamp(value) if isinstance(value, str) else None
        return cells.human_duration((now - moment).total_seconds()) if moment else None
    return None


def printer(kind: Kind) -> tuple[list[cells.Column], Callable[[dict, datetime], list[Any]]]:
    """NAME, then the version's additionalPrinterColumns (real CRDs list Age themselves)."""
    columns = [_dict(c) for c in kind.printer_columns if isinstance(c, dict) and c.get("name")]
    definitions: list[cells.Column] = [cells.NAME]
    for c in columns:
        priority = c.get("priority")
        definitions.append(
            (
                str(c["name"]),
                str(c.get("type") or "string"),
                str(c.get("format") or ""),
                priority if isinstance(priority, int) else 0,
            )
        )

    def row(obj: dict[str, Any], now: datetime) -> list[Any]:
        return [_dict(obj.get("metadata")).get("name", "")] + [_cell(c, obj, now) for c in columns]

    return definitions, row


# `kubectl get crd` shows when each third-party seller registered, as a timestamp.
STRATEGY = Strategy(
    resource=CRD_RESOURCE,
    columns=[cells.NAME, cells.col("Created At", "date")],
    row=lambda obj, now: [cells.name(obj), cells.meta(obj).get("creationTimestamp")],
)
