"""What the catalog pages show about a kind: searching, ways to buy, commands, a manifest.

Kept apart from the views so the API server and the lessons can reuse the same words.
"""

import copy
from dataclasses import dataclass

import yaml

from catalog.models import ApiGroup, KindField, ResourceKind
from catalog.paths import collection_path
from catalog.versions import version_rank

SCOPES = {
    "all": "All products",
    "namespaced": "Namespaced (kept in one namespace)",
    "cluster": "Cluster-wide (one per cluster)",
}
MAX_QUERY = 100


@dataclass(frozen=True)
class Verb:
    name: str
    meaning: str
    http: str
    kubectl: str


@dataclass
class Department:
    group: ApiGroup
    products: list[ResourceKind]


def matches(kind: ResourceKind, query: str) -> bool:
    """True when the query appears in the kind, plural, singular or a short name."""
    query = query.lower()
    names = [kind.kind.lower(), kind.plural, kind.singular, *kind.short_names]
    return any(query in name.lower() for name in names)


def exact_matches(kinds: list[ResourceKind], query: str) -> list[ResourceKind]:
    """Kinds the shopper named exactly (`po`, `Deployment`), preferred version only."""
    query = query.lower()
    found = [
        kind
        for kind in kinds
        if query in {kind.kind.lower(), kind.plural, kind.singular, *kind.short_names}
    ]
    by_product: dict[tuple[str, str], ResourceKind] = {}
    for kind in sorted(found, key=lambda k: not k.is_preferred):
        by_product.setdefault((kind.group.name, kind.kind), kind)
    return list(by_product.values())


def departments(kinds: list[ResourceKind]) -> list[Department]:
    """Group kinds by department, core first, the preferred version's kinds first."""
    result: dict[str, Department] = {}
    ordered = sorted(
        kinds,
        key=lambda k: (
            k.group.name != "",
            k.group.name,
            not k.is_preferred,
            version_rank(k.api_version.version),
            k.kind,
        ),
    )
    for kind in ordered:
        department = result.setdefault(kind.group.name, Department(kind.group, []))
        department.products.append(kind)
    return list(result.values())


def resource_argument(kind: ResourceKind, others: list[ResourceKind]) -> str:
    """How to name this kind on the kubectl command line without ambiguity.

    `deploy` when a short name is enough; `events.events.k8s.io` when another group
    sells something with the same name; `horizontalpodautoscalers.v1.autoscaling`
    for an older edition.
    """
    group = kind.group.name
    if not kind.is_preferred:
        return f"{kind.plural}.{kind.api_version.version}.{group}" if group else kind.plural
    clash = any(o.plural == kind.plural and o.group.name != group for o in others)
    if clash and group:
        return f"{kind.plural}.{group}"
    if kind.short_names and not clash:
        return kind.short_names[0]
    return kind.plural


def listing_argument(kind: ResourceKind, others: list[ResourceKind]) -> str:
    """Like `resource_argument`, but spelled out in full where a short name would do."""
    what = resource_argument(kind, others)
    return kind.plural if what in kind.short_names else what


def example_name(kind: ResourceKind) -> str:
    manifest = WELL_KNOWN.get((kind.api_version.group_version, kind.kind))
    if manifest:
        return manifest["metadata"]["name"]
    return f"my-{kind.singular}"


def ways_to_buy(kind: ResourceKind, others: list[ResourceKind]) -> list[Verb]:
    """Each verb the kind supports, in plain words, with its HTTP request and kubectl."""
    what = resource_argument(kind, others)
    name = example_name(kind)
    collection = _collection_path(kind)
    item = f"{collection}/{name}"
    table = {
        "get": (
            "Look at one item you already own, exactly as the warehouse has it.",
            f"GET {item}",
            f"kubectl get {what} {name} -o yaml",
        ),
        "list": (
            "Browse every item of this kind on the shelf.",
            f"GET {collection}",
            f"kubectl get {listing_argument(kind, others)}",
        ),
        "watch": (
            "Keep the page open and be told about every change as it happens.",
            f"GET {collection}?watch=true",
            f"kubectl get {what} --watch",
        ),
        "create": (
            "Place a new order: send a filled-in form for an item that does not exist yet.",
            f"POST {collection}",
            "kubectl create -f manifest.yaml",
        ),
        "update": (
            "Swap your whole order for a new copy of the form.",
            f"PUT {item}",
            "kubectl replace -f manifest.yaml",
        ),
        "patch": (
            "Change a few lines of an existing order and leave the rest alone.",
            f"PATCH {item}",
            "kubectl apply -f manifest.yaml",
        ),
        "delete": (
            "Cancel one order; the item is removed from the warehouse's books.",
            f"DELETE {item}",
            f"kubectl delete {what} {name}",
        ),
        "deletecollection": (
            "Clear the whole shelf in one request. (kubectl has no single command for "
            "this; --all gets the same result by deleting items one at a time.)",
            f"DELETE {collection}",
            f"kubectl delete {what} --all",
        ),
    }
    return [Verb(verb, *table[verb]) for verb in table if verb in kind.verbs]


def _collection_path(kind: ResourceKind) -> str:
    namespace = "default" if kind.namespaced else ""
    return collection_path(kind.group.name, kind.api_version.version, kind.plural, namespace)


SUBRESOURCES = {
    "approval": "An approver's stamp: sign off (or turn down) a certificate request.",
    "attach": "Plug your keyboard and screen into a container that is already running.",
    "binding": "Where the scheduler writes which node a Pod will run on.",
    "ephemeralcontainers": "Add a short-lived helper container to a running Pod, to debug it.",
    "eviction": "Ask politely for a Pod to leave its node, respecting disruption budgets.",
    "exec": "Run one command inside a running container.",
    "finalize": "Clear the last hold that keeps a namespace from being deleted.",
    "log": "Read what a container has printed.",
    "portforward": "Open a tunnel from your machine to a port in a Pod.",
    "proxy": "Pass a web request through the API server to the object.",
    "resize": "Change a running Pod's CPU or memory without starting it again.",
    "scale": "Just the replica count: how many copies you want, and how many exist.",
    "status": "The warehouse's side of the record: what actually happened to your order.",
    "token": "Ask for a short-lived login token for a service account.",
}


def subresources(kind: ResourceKind) -> list[tuple[str, str]]:
    return [
        (name, SUBRESOURCES.get(name, "A separate door for one part of the object."))
        for name in kind.subresources
    ]


def kubectl_commands(kind: ResourceKind, others: list[ResourceKind]) -> list[tuple[str, str]]:
    """The commands a shopper would type for this product, each with what it does."""
    what = resource_argument(kind, others)
    name = example_name(kind)
    explain = kind.kind.lower()
    if not kind.is_preferred or sum(o.kind == kind.kind for o in others) > 0:
        explain += f" --api-version={kind.api_version.group_version}"
    verbs = set(kind.verbs)
    plural = listing_argument(kind, others)
    commands = []
    if "list" in verbs:
        commands.append((f"kubectl get {plural}", "List what is on the shelf."))
    commands.append((f"kubectl explain {explain}", "Read the spec sheet in your terminal."))
    if {"create", "patch", "get"} <= verbs:
        commands.append(("kubectl apply -f manifest.yaml", "Order it, or change your order."))
    elif "create" in verbs:
        commands.append(("kubectl create -f manifest.yaml", "Send the order form."))
    if "get" in verbs:
        commands.append((f"kubectl describe {what} {name}", "See one item and its history."))
    if "delete" in verbs:
        commands.append((f"kubectl delete {what} {name}", "Cancel it."))
    return commands


PLACEHOLDERS = {
    "string": "<string>",
    "integer": 1,
    "number": 1.0,
    "boolean": False,
}


def _placeholder(type_name: str) -> object:
    if type_name.startswith("[]"):
        return [_placeholder(type_name[2:])]
    if type_name.startswith("map[string]"):
        return {"<key>": _placeholder(type_name.removeprefix("map[string]"))}
    return PLACEHOLDERS.get(type_name, f"<{type_name}>")


def required_fields(fields: list[KindField]) -> dict:
    """A nested dict of the fields a buyer must fill in, with placeholder values.

    A required field only counts when everything above it is required too: nobody
    has to fill in a field of `affinity` unless they chose to set `affinity`.
    """
    kept: dict[str, KindField] = {}
    for f in sorted(fields, key=lambda f: f.depth):
        if f.required and (f.depth == 0 or _parent(f.path) in kept):
            kept[f.path] = f
    has_children = {_parent(path) for path, f in kept.items() if f.depth > 0}
    result: dict = {}
    boxes: dict[str, dict] = {}
    for path, f in kept.items():
        if path in has_children:
            boxes[path] = {}
            value = [boxes[path]] if f.type_name.startswith("[]") else boxes[path]
        else:
            value = _placeholder(f.type_name)
        if f.depth == 0:
            node = result
            *parents, last = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        else:
            boxes[_parent(path)][f.name] = value
    return result


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0].removesuffix("[]")


def well_known(kind: ResourceKind) -> dict | None:
    """A copy of our own working example for a common kind, or None.

    The one table of examples: product pages show them and order forms start from them.
    """
    known = WELL_KNOWN.get((kind.api_version.group_version, kind.kind))
    return copy.deepcopy(known) if known else None


def example_manifest(kind: ResourceKind) -> str:
    """A small YAML manifest: a realistic one for well-known kinds, else the bare minimum."""
    known = well_known(kind)
    if known:
        return yaml.safe_dump(known, sort_keys=False)
    metadata = {"name": example_name(kind)}
    if kind.namespaced:
        metadata["namespace"] = "default"
    manifest = {"apiVersion": kind.api_version.group_version, "kind": kind.kind}
    manifest["metadata"] = metadata
    manifest.update(required_fields(list(kind.fields.all())))
    return yaml.safe_dump(manifest, sort_keys=False)


def _labels(app: str) -> dict:
    return {"app": app}


_WEB_CONTAINER = {
    "name": "web",
    "image": "nginx:1.27",
    "ports": [{"containerPort": 80}],
}

WELL_KNOWN: dict[tuple[str, str], dict] = {
    ("v1", "Pod"): {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": _labels("web")},
        "spec": {"containers": [_WEB_CONTAINER]},
    },
    ("apps/v1", "Deployment"): {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": _labels("web")},
            "template": {
                "metadata": {"labels": _labels("web")},
                "spec": {"containers": [_WEB_CONTAINER]},
            },
        },
    },
    ("v1", "Service"): {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": _labels("web"),
            "ports": [{"port": 80, "targetPort": 80}],
        },
    },
    ("v1", "ConfigMap"): {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-settings", "namespace": "default"},
        "data": {"greeting": "hello from the warehouse", "colour": "blue"},
    },
    ("v1", "Secret"): {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "shop-password", "namespace": "default"},
        "type": "Opaque",
        "stringData": {"password": "not-a-real-password"},
    },
    ("v1", "Namespace"): {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop"},
    },
    ("apps/v1", "ReplicaSet"): {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-set", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": _labels("web-set")},
            "template": {
                "metadata": {"labels": _labels("web-set")},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    },
    ("batch/v1", "Job"): {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "count",
                            "image": "busybox:1.36",
                            "command": ["sh", "-c", "echo counting the shelves"],
                        }
                    ],
                }
            },
        },
    },
    ("batch/v1", "CronJob"): {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly-stocktake", "namespace": "default"},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "containers": [
                                {
                                    "name": "count",
                                    "image": "busybox:1.36",
                                    "command": ["sh", "-c", "echo counting the shelves"],
                                }
                            ],
                        }
                    }
                }
            },
        },
    },
    ("networking.k8s.io/v1", "Ingress"): {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    },
}
