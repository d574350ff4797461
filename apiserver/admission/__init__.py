"""Admission: what kube-apiserver does to a body before storing it.

Defaulting fills the fields a real cluster fills (a Pod's restartPolicy, a Service's
ClusterIP); validation rejects what a real cluster rejects, with the same field paths and
messages, so learners see the errors they will meet at work.
"""

import base64
import binascii
import copy
import hashlib
import re
import uuid
from typing import Any

from apiserver import errors
from apiserver.registry import crds, schema
from apiserver.registry.kinds import Kind

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
# Kinds whose names must be DNS labels (they become host names), not subdomains.
LABEL_NAMED = {"/namespaces", "/services"}
POD_TEMPLATE_KINDS = {
    "apps/deployments": "spec.template",
    "apps/replicasets": "spec.template",
    "apps/statefulsets": "spec.template",
    "apps/daemonsets": "spec.template",
    "/replicationcontrollers": "spec.template",
    "batch/jobs": "spec.template",
    "batch/cronjobs": "spec.jobTemplate.spec.template",
    "/podtemplates": "template",
}


class Causes:
    """Collects field errors; raises one 422 Invalid at the end, like kube-apiserver."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def required(self, field: str, detail: str = "") -> None:
        message = "Required value" + (f": {detail}" if detail else "")
        self.items.append({"reason": "FieldValueRequired", "message": message, "field": field})

    def invalid(self, field: str, value: Any, detail: str) -> None:
        message = f"Invalid value: {_show(value)}: {detail}"
        self.items.append({"reason": "FieldValueInvalid", "message": message, "field": field})

    def unsupported(self, field: str, value: Any, allowed: list[str]) -> None:
        choices = ", ".join(f'"{v}"' for v in allowed)
        message = f"Unsupported value: {_show(value)}: supported values: {choices}"
        self.items.append({"reason": "FieldValueNotSupported", "message": message, "field": field})

    def duplicate(self, field: str, value: Any) -> None:
        message = f"Duplicate value: {_show(value)}"
        self.items.append({"reason": "FieldValueDuplicate", "message": message, "field": field})

    def forbidden(self, field: str, detail: str) -> None:
        message = f"Forbidden: {detail}"
        self.items.append({"reason": "FieldValueForbidden", "message": message, "field": field})

    def raise_if_any(self, kind: Kind, name: str) -> None:
        if self.items:
            unique = []
            for item in self.items:
                if not any(
                    (item["field"], item["reason"]) == (u["field"], u["reason"]) for u in unique
                ):
                    unique.append(item)
            raise errors.invalid(kind.kind, name, unique, kind.group)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "{...}" if isinstance(value, dict) else "[...]"
    return str(value)


def _at(obj: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(step)
    return obj


# --- identity: apiVersion, kind, name, namespace, labels ---------------------------------


def check_identity(
    kind: Kind, obj: Any, namespace: str, url_name: str | None = None
) -> dict[str, Any]:
    """The body is the object the URL names: right apiVersion, kind, namespace and name."""
    if not isinstance(obj, dict):
        raise errors.bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            "the body must be a JSON object"
        )
    api_version = obj.get("apiVersion")
    body_kind = obj.get("kind")
    if api_version in (None, "") or body_kind in (None, ""):
        # kubectl always sends both; other clients may rely on the URL.
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        obj["apiVersion"] = obj["apiVersion"] or kind.api_version
        obj["kind"] = obj["kind"] or kind.kind
    elif api_version != kind.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({kind.api_version})"
        )
    elif body_kind != kind.kind:
        raise errors.bad_request(
            f'{body_kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"the kind in the data ({body_kind}) does not match the expected kind ({kind.kind})"
        )
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    if kind.namespaced:
        body_namespace = meta.get("namespace")
        if body_namespace not in (None, "") and body_namespace != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    if url_name is not None:
        body_name = meta.get("name")
        if body_name not in (None, "") and body_name != url_name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL "
                f"({url_name})"
            )
        meta["name"] = url_name
    elif not meta.get("name") and isinstance(meta.get("generateName"), str):
        meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
    return obj


def _check_meta(kind: Kind, obj: dict[str, Any], causes: Causes) -> None:
    meta = obj["metadata"]
    name = meta.get("name")
    if not name:
        causes.required("metadata.name", "name or generateName is required")
    elif not isinstance(name, str):
        causes.invalid("metadata.name", name, "must be a string")
    elif kind.resource in LABEL_NAMED:
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


# --- schema ------------------------------------------------------------------------------


def check_schema(
    kind: Kind, obj: dict[str, Any], field_validation: str, causes: Causes
) -> list[str]:
    """Decode like the server: unknown fields fail (Strict), warn (Warn) or vanish (Ignore).

    Returns warning texts; raises 400 for unknown fields under Strict and 422 at once for
    wrong types (defaulting would trip over them); missing required fields join `causes`.
    """
    model = schema.model_for(kind.model_name) if not kind.is_custom else None
    if model is not None:
        problems = schema.check_model(obj, model)
    elif kind.is_custom and kind.schema:
        problems = schema.check_custom(obj, kind.schema)
    else:
        return []
    warnings: list[str] = []
    if problems.unknown:
        texts = [f'unknown field "{path}"' for path in problems.unknown]
        if field_validation == "Strict":
            raise errors.bad_request("strict decoding error: " + ", ".join(texts))
        if field_validation == "Warn":
            warnings.extend(texts)
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
        wrong.raise_if_any(kind, _name_of(obj))
    for path in problems.required:
        # Status is written by controllers and kubelets; kube-apiserver checks little there.
        if not path.startswith("status."):
            causes.required(path)
    return warnings


def _name_of(obj: dict[str, Any]) -> str:
    name = obj.get("metadata", {}).get("name")
    return name if isinstance(name, str) else ""


# --- defaults ----------------------------------------------------------------------------


def _pull_policy(image: Any) -> str:
    if not isinstance(image, str):
        return "IfNotPresent"
    last = image.split("/")[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def default_pod_spec(spec: Any, for_job: bool = False) -> None:
    """The fields a real cluster fills on every Pod spec (also inside templates)."""
    if not isinstance(spec, dict):
        return
    if not for_job:
        spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or ():
            if not isinstance(container, dict):
                continue
            container.setdefault("resources", {})
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("imagePullPolicy", _pull_policy(container.get("image")))
            for port in container.get("ports") or ():
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def _default_pod(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    default_pod_spec(spec)
    if isinstance(spec, dict):
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault(
            "tolerations",
            [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
        )
    obj.setdefault("status", {})
    if isinstance(obj["status"], dict):
        obj["status"].setdefault("phase", "Pending")
        obj["status"].setdefault("qosClass", _qos_class(spec))


def _qos_class(spec: Any) -> str:
    containers = spec.get("containers") if isinstance(spec, dict) else None
    resources = [c.get("resources") or {} for c in containers or () if isinstance(c, dict)]
    if not any(r.get("limits") or r.get("requests") for r in resources):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get("cpu")
        and (r.get("limits") or {}).get("memory")
        and (r.get("requests") or {}).get("cpu", r["limits"]["cpu"]) == r["limits"]["cpu"]
        and (r.get("requests") or {}).get("memory", r["limits"]["memory"]) == r["limits"]["memory"]
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _default_template(template: Any, for_job: bool = False) -> None:
    if isinstance(template, dict):
        meta = template.setdefault("metadata", {})
        if isinstance(meta, dict):
            meta.setdefault("creationTimestamp", None)
        default_pod_spec(template.get("spec"), for_job=for_job)


def _default_deployment(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault(
        "strategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
    )
    strategy = spec["strategy"]
    if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {})
        if isinstance(strategy["rollingUpdate"], dict):
            strategy["rollingUpdate"].setdefault("maxUnavailable", "25%")
            strategy["rollingUpdate"].setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(spec.get("template"))


def _default_replicaset(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _default_template(spec.get("template"))


def _default_statefulset(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault(
            "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
        )
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        _default_template(spec.get("template"))


def _default_daemonset(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault(
            "updateStrategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        )
        spec.setdefault("revisionHistoryLimit", 10)
        _default_template(spec.get("template"))


def _default_job_spec(spec: Any, uid: str | None) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("manualSelector", None)
    if spec.get("manualSelector") is None:
        spec.pop("manualSelector")
    template = spec.get("template")
    _default_template(template, for_job=True)
    if uid and isinstance(template, dict) and not spec.get("selector"):
        # Like the real Job admission: tie the Job's Pods to it by uid.
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = template["metadata"].setdefault("labels", {})
        if isinstance(labels, dict):
            labels.setdefault("batch.kubernetes.io/controller-uid", uid)
            labels.setdefault("controller-uid", uid)


def _default_job(obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    uid = meta.setdefault("uid", str(uuid.uuid4()))
    spec = obj.get("spec")
    _default_job_spec(spec, uid)
    template = spec.get("template") if isinstance(spec, dict) else None
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        labels = template["metadata"].setdefault("labels", {})
        if isinstance(labels, dict) and meta.get("name"):
            labels.setdefault("batch.kubernetes.io/job-name", meta["name"])
            labels.setdefault("job-name", meta["name"])


def _default_cronjob(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        inner = job_template.get("spec")
        if isinstance(inner, dict):
            inner.setdefault("backoffLimit", 6)
            inner.setdefault("completionMode", "NonIndexed")
            inner.setdefault("suspend", False)
            _default_template(inner.get("template"), for_job=True)


def _cluster_ip(namespace: str, name: str) -> str:
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return f"10.96.{digest[0]}.{max(digest[1], 2) if digest[0] == 0 else digest[1]}"


def _default_service(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    service_type = spec["type"]
    if service_type != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        meta = obj["metadata"]
        if not spec.get("clusterIP"):
            spec["clusterIP"] = _cluster_ip(meta.get("namespace", ""), meta.get("name", ""))
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if service_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for position, port in enumerate(spec.get("ports") or ()):
        if not isinstance(port, dict):
            continue
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])
        if service_type in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            meta = obj["metadata"]
            seed = hashlib.sha256(
                f"{meta.get('namespace')}/{meta.get('name')}/{position}".encode()
            ).digest()
            port["nodePort"] = 30000 + int.from_bytes(seed[:2]) % 2768
    obj.setdefault("status", {"loadBalancer": {}})


def _default_secret(obj: dict[str, Any], causes: Causes) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    data = obj.get("data")
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                causes.invalid(f"data[{key}]", "<secret contents redacted>", "illegal base64 data")
    if isinstance(string_data, dict):
        data = obj.setdefault("data", {}) if isinstance(data, dict) or data is None else {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()


def _default_namespace(obj: dict[str, Any]) -> None:
    name = obj["metadata"].get("name")
    labels = obj["metadata"].setdefault("labels", {})
    if isinstance(labels, dict) and name:
        labels["kubernetes.io/metadata.name"] = name
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {"phase": "Active"})


def _default_pvc(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {"phase": "Pending"})


def apply_defaults(kind: Kind, obj: dict[str, Any], causes: Causes) -> None:
    """Fill what the real cluster fills, for the kinds learners order most."""
    resource = kind.resource
    if resource == "/pods":
        _default_pod(obj)
    elif resource == "apps/deployments":
        _default_deployment(obj)
    elif resource in ("apps/replicasets", "/replicationcontrollers"):
        _default_replicaset(obj)
    elif resource == "apps/statefulsets":
        _default_statefulset(obj)
    elif resource == "apps/daemonsets":
        _default_daemonset(obj)
    elif resource == "batch/jobs":
        _default_job(obj)
    elif resource == "batch/cronjobs":
        _default_cronjob(obj)
    elif resource == "/services":
        _default_service(obj)
    elif resource == "/secrets":
        _default_secret(obj, causes)
    elif resource == "/namespaces":
        _default_namespace(obj)
    elif resource == "/persistentvolumeclaims":
        _default_pvc(obj)
    elif resource == "/podtemplates":
        _default_template(obj.get("template"))


# --- semantic validation -----------------------------------------------------------------

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def validate_pod_spec(spec: Any, path: str, causes: Causes, job: bool = False) -> None:
    """The checks kube-apiserver makes on any Pod spec, with its field paths."""
    if not isinstance(spec, dict):
        causes.required(path)
        return
    containers = spec.get("containers")
    if not containers:
        causes.required(f"{path}.containers")
    names: set[str] = set()
    for field in ("initContainers", "containers"):
        for position, container in enumerate(spec.get(field) or ()):
            where = f"{path}.{field}[{position}]"
            if not isinstance(container, dict):
                continue
            name = container.get("name")
            if not name:
                causes.required(f"{where}.name")
            elif not DNS1123_LABEL.match(str(name)) or len(str(name)) > 63:
                causes.invalid(f"{where}.name", name, LABEL_MESSAGE)
            elif name in names:
                causes.duplicate(f"{where}.name", name)
            else:
                names.add(name)
            if not container.get("image"):
                causes.required(f"{where}.image")
            policy = container.get("imagePullPolicy")
            if policy is not None and policy not in PULL_POLICIES:
                causes.unsupported(f"{where}.imagePullPolicy", policy, PULL_POLICIES)
            for index, port in enumerate(container.get("ports") or ()):
                if not isinstance(port, dict):
                    continue
                number = port.get("containerPort")
                if isinstance(number, int) and not 0 < number < 65536:
                    causes.invalid(
                        f"{where}.ports[{index}].containerPort",
                        number,
                        "must be between 1 and 65535, inclusive",
                    )
                protocol = port.get("protocol")
                if protocol is not None and protocol not in PROTOCOLS:
                    causes.unsupported(f"{where}.ports[{index}].protocol", protocol, PROTOCOLS)
    restart = spec.get("restartPolicy")
    if job:
        if restart not in ("OnFailure", "Never"):
            if restart in (None, ""):
                causes.required(f"{path}.restartPolicy", 'valid values: "OnFailure", "Never"')
            else:
                causes.unsupported(f"{path}.restartPolicy", restart, ["OnFailure", "Never"])
    elif restart is not None and restart not in RESTART_POLICIES:
        causes.unsupported(f"{path}.restartPolicy", restart, RESTART_POLICIES)


def _selector_matches(selector: Any, labels: Any) -> bool:
    if not isinstance(selector, dict):
        return False
    labels = labels if isinstance(labels, dict) else {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        if not isinstance(expression, dict):
            continue
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if (
            operator == "In"
            and labels.get(key) not in values
            or operator == "NotIn"
            and labels.get(key) in values
            or operator == "Exists"
            and key not in labels
            or operator == "DoesNotExist"
            and key in labels
        ):
            return False
    return True


def _validate_workload(
    obj: dict[str, Any], causes: Causes, template_path: str, job: bool = False
) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        causes.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    template = _at(obj, template_path)
    if not isinstance(template, dict):
        causes.required(template_path)
        return
    selector = spec.get("selector")
    labels = (template.get("metadata") or {}).get("labels")
    if not job:
        if not selector:
            causes.required("spec.selector")
        elif not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.invalid("spec.selector", selector, "empty selector is invalid for deployment")
        elif not _selector_matches(selector, labels):
            causes.invalid(
                f"{template_path}.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
    validate_pod_spec(template.get("spec"), f"{template_path}.spec", causes, job=job)


def _validate_service(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    service_type = spec.get("type", "ClusterIP")
    if service_type not in SERVICE_TYPES:
        causes.unsupported("spec.type", service_type, SERVICE_TYPES)
    ports = spec.get("ports") or []
    if not ports and service_type != "ExternalName" and spec.get("clusterIP") != "None":
        causes.required("spec.ports")
    seen: set[str] = set()
    for position, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        number = port.get("port")
        if isinstance(number, int) and not 0 < number < 65536:
            causes.invalid(
                f"spec.ports[{position}].port", number, "must be between 1 and 65535, inclusive"
            )
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.required(f"spec.ports[{position}].name")
        elif name in seen:
            causes.duplicate(f"spec.ports[{position}].name", name)
        elif name:
            seen.add(name)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            causes.unsupported(f"spec.ports[{position}].protocol", protocol, PROTOCOLS)
    if service_type == "ExternalName" and not spec.get("externalName"):
        causes.required("spec.externalName")


def validate(kind: Kind, obj: dict[str, Any], causes: Causes) -> None:
    """Semantic checks beyond the schema, for the common kinds."""
    _check_meta(kind, obj, causes)
    resource = kind.resource
    if resource == "/pods":
        validate_pod_spec(obj.get("spec"), "spec", causes)
    elif resource in (
        "apps/deployments",
        "apps/replicasets",
        "apps/statefulsets",
        "apps/daemonsets",
    ):
        _validate_workload(obj, causes, "spec.template")
    elif resource == "batch/jobs":
        _validate_workload(obj, causes, "spec.template", job=True)
    elif resource == "batch/cronjobs":
        if not _at(obj, "spec.schedule"):
            causes.required("spec.schedule")
        template = _at(obj, "spec.jobTemplate.spec.template")
        if not isinstance(template, dict):
            causes.required("spec.jobTemplate.spec.template")
        else:
            validate_pod_spec(
                template.get("spec"), "spec.jobTemplate.spec.template.spec", causes, job=True
            )
    elif resource == "/services":
        _validate_service(obj, causes)


# Pod spec fields a running Pod may change (kube-apiserver forbids the rest).
_MUTABLE_POD_FIELDS = {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"}


def validate_pod_update(old: dict[str, Any], new: dict[str, Any], causes: Causes) -> None:
    """Pods are mostly immutable: images may change, and nodeName may be set once."""
    old_spec = copy.deepcopy(old.get("spec") or {})
    new_spec = copy.deepcopy(new.get("spec") or {})
    if not old_spec.get("nodeName"):
        old_spec.pop("nodeName", None)
        new_spec.pop("nodeName", None)
    for spec in (old_spec, new_spec):
        for field in _MUTABLE_POD_FIELDS:
            spec.pop(field, None)
        for group in ("containers", "initContainers"):
            for container in spec.get(group) or ():
                if isinstance(container, dict):
                    container.pop("image", None)
    if old_spec != new_spec:
        causes.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
            "`spec.tolerations` (only additions to existing tolerations),"
            "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
            "previously negative)",
        )


def admit(
    kind: Kind,
    obj: dict[str, Any],
    field_validation: str,
    old: dict[str, Any] | None = None,
) -> list[str]:
    """Schema check, defaults, then semantic validation; returns warnings."""
    causes = Causes()
    warnings = check_schema(kind, obj, field_validation, causes)
    apply_defaults(kind, obj, causes)
    validate(kind, obj, causes)
    if old is not None and kind.resource == "/pods":
        validate_pod_update(old, obj, causes)
    if kind.resource == crds.CRD_RESOURCE:
        crds.admit_definition(obj, old, causes)
    causes.raise_if_any(kind, _name_of(obj))
    return warnings
