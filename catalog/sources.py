"""Read the Kubernetes API's shape from the official Python client.

The client is generated from the API server's OpenAPI document, so its API classes
carry every REST path (group, version, plural, scope, HTTP method) and its model
classes carry every field with its type, required flag and documentation. Reading
them gives the catalog real data instead of a hand-typed list.
"""

import inspect
import re
import types
import typing
from dataclasses import dataclass, field

import kubernetes.client as k8s
import kubernetes.client.api as k8s_api

# Discovery data the OpenAPI document does not carry: the short names and
# categories that kube-apiserver reports in discovery for its built-in resources.
SHORT_NAMES: dict[str, list[str]] = {
    "/componentstatuses": ["cs"],
    "/configmaps": ["cm"],
    "/endpoints": ["ep"],
    "/events": ["ev"],
    "/limitranges": ["limits"],
    "/namespaces": ["ns"],
    "/nodes": ["no"],
    "/persistentvolumeclaims": ["pvc"],
    "/persistentvolumes": ["pv"],
    "/pods": ["po"],
    "/replicationcontrollers": ["rc"],
    "/resourcequotas": ["quota"],
    "/serviceaccounts": ["sa"],
    "/services": ["svc"],
    "apiextensions.k8s.io/customresourcedefinitions": ["crd", "crds"],
    "apps/daemonsets": ["ds"],
    "apps/deployments": ["deploy"],
    "apps/replicasets": ["rs"],
    "apps/statefulsets": ["sts"],
    "autoscaling/horizontalpodautoscalers": ["hpa"],
    "batch/cronjobs": ["cj"],
    "certificates.k8s.io/certificatesigningrequests": ["csr"],
    "events.k8s.io/events": ["ev"],
    "networking.k8s.io/ingresses": ["ing"],
    "networking.k8s.io/networkpolicies": ["netpol"],
    "policy/poddisruptionbudgets": ["pdb"],
    "scheduling.k8s.io/priorityclasses": ["pc"],
    "storage.k8s.io/storageclasses": ["sc"],
    "storage.k8s.io/volumeattributesclasses": ["vac"],
}
ALL_CATEGORY = {
    "/pods",
    "/replicationcontrollers",
    "/services",
    "apps/daemonsets",
    "apps/deployments",
    "apps/replicasets",
    "apps/statefulsets",
    "autoscaling/horizontalpodautoscalers",
    "batch/cronjobs",
    "batch/jobs",
}

_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[a-z0-9.\-]+)/(?P<version>v[0-9a-z]+))"
    r"(?P<ns>/namespaces/\{namespace\})?/(?P<plural>[a-z0-9]+)"
    r"(?P<item>/\{name\})?(?:/(?P<sub>[a-z]+))?$"
)
_STABLE = re.compile(r"^v\d+$")
# V1Pod, V1beta1Foo, and the disambiguated CoreV1Event / ResourceV1ResourceClaim.
_MODEL_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")
_VERB_FOR = {
    ("GET", False): "list",
    ("POST", False): "create",
    ("DELETE", False): "deletecollection",
    ("GET", True): "get",
    ("PUT", True): "update",
    ("PATCH", True): "patch",
    ("DELETE", True): "delete",
}
_VERB_ORDER = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass
class FieldInfo:
    path: str
    type_name: str
    required: bool
    description: str
    depth: int


@dataclass
class KindInfo:
    group: str
    version: str
    plural: str
    kind: str = ""
    namespaced: bool = False
    verbs: set[str] = field(default_factory=set)
    subresources: set[str] = field(default_factory=set)
    model_name: str = ""
    description: str = ""
    fields: list[FieldInfo] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}"

    @property
    def short_names(self) -> list[str]:
        return SHORT_NAMES.get(self.key, [])

    @property
    def categories(self) -> list[str]:
        return ["all"] if self.key in ALL_CATEGORY else []

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def sorted_verbs(self) -> list[str]:
        return [verb for verb in _VERB_ORDER if verb in self.verbs]


def _api_classes() -> list[type]:
    return [
        cls
        for name, cls in inspect.getmembers(k8s_api, inspect.isclass)
        if name.endswith("Api") and name != "CustomObjectsApi"
    ]


def _operations(cls: type) -> typing.Iterator[tuple[str, str, str]]:
    """Yield (http method, resource path, 200 response model) for each operation."""
    for name, func in inspect.getmembers(cls, inspect.isfunction):
        if not (name.startswith("_") and name.endswith("_serialize")):
            continue
        src = inspect.getsource(func)
        path = re.search(r"resource_path='([^']+)'", src)
        method = re.search(r"method='(\w+)'", src)
        if not (path and method):
            continue
        public = getattr(cls, name[1 : -len("_serialize")] + "_with_http_info", None)
        response = ""
        if public is not None:
            found = re.search(r"'20[01]': \"(\w+)\"", inspect.getsource(public))
            response = found.group(1) if found else ""
        yield method.group(1), path.group(1), response


def discover_kinds() -> list[KindInfo]:
    """Every stable (GA) resource kind the client knows, with its verbs and scope."""
    kinds: dict[tuple[str, str, str], KindInfo] = {}
    for cls in _api_classes():
        for method, path, response in _operations(cls):
            match = _PATH.match(path)
            if not match:
                continue
            group = match["group"] or ""
            version = match["core"] or match["version"]
            if not _STABLE.match(version):
                continue
            info = kinds.setdefault(
                (group, version, match["plural"]), KindInfo(group, version, match["plural"])
            )
            if match["sub"]:
                info.subresources.add(match["sub"])
                continue
            if match["ns"]:
                info.namespaced = True
            is_item = bool(match["item"])
            verb = _VERB_FOR.get((method, is_item))
            if verb:
                info.verbs.add(verb)
                if verb == "list":
                    info.verbs.add("watch")
            if response and not response.endswith("List") and response != "V1Status":
                info.model_name = info.model_name or response
    result = []
    for info in kinds.values():
        if not info.model_name or not info.verbs:
            continue
        model = getattr(k8s, info.model_name, None)
        if model is None:
            continue
        info.kind = _MODEL_PREFIX.sub("", info.model_name)
        info.description = _docstring(model)
        info.fields = orderable_fields(model)
        result.append(info)
    return sorted(result, key=lambda k: (k.group, k.version, k.kind))


def _docstring(model: type) -> str:
    doc = inspect.getdoc(model) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _model_of(annotation: object) -> type | None:
    """The client model class inside an annotation such as Optional[List[V1Container]]."""
    if inspect.isclass(annotation) and annotation.__module__.startswith("kubernetes.client"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def type_name(annotation: object) -> str:
    """A kubectl-explain style type: string, integer, []Container, map[string]string."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return type_name(args[0]) if len(args) == 1 else "object"
    if origin in (list, typing.List):  # noqa: UP006
        return "[]" + type_name(args[0])
    if origin in (dict, typing.Dict):  # noqa: UP006
        return f"map[string]{type_name(args[1])}"
    if inspect.isclass(annotation):
        if annotation.__module__.startswith("kubernetes.client"):
            return _MODEL_PREFIX.sub("", annotation.__name__)
        return {
            str: "string",
            int: "integer",
            float: "number",
            bool: "boolean",
            bytes: "string",
        }.get(annotation, "object")
    return "object"


def orderable_fields(model: type, max_depth: int = 1) -> list[FieldInfo]:
    """The spec sheet: what a buyer fills in (spec, or the top level for spec-less kinds)."""
    fields = model.model_fields
    skip = {"api_version", "kind", "metadata", "status"}
    if "spec" in fields and _model_of(fields["spec"].annotation) is not None:
        return _walk(_model_of(fields["spec"].annotation), "spec", 0, max_depth, set())
    result = []
    for name, info in fields.items():
        if name in skip:
            continue
        result.extend(_field(info, _json_name(name, info), 0, max_depth, set()))
    return result


def _walk(model: type, prefix: str, depth: int, max_depth: int, seen: set) -> list[FieldInfo]:
    result = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{_json_name(name, info)}"
        result.extend(_field(info, path, depth, max_depth, seen | {model}))
    return result


def _json_name(name: str, info) -> str:
    return info.serialization_alias or info.alias or name


def _field(info, path: str, depth: int, max_depth: int, seen: set) -> list[FieldInfo]:
    annotation = info.annotation
    kind = type_name(annotation)
    result = [FieldInfo(path, kind, info.is_required(), info.description or "", depth)]
    child = _model_of(annotation)
    if child is not None and depth < max_depth and child not in seen:
        child_prefix = path + ("[]" if kind.startswith("[]") else "")
        result.extend(_walk(child, child_prefix, depth + 1, max_depth, seen))
    return result
