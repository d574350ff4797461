"""Reading the Kubernetes protobuf encoding that kubectl's typed commands send.

`kubectl create deployment|configmap|secret|job|...` encode their object as protobuf
(`application/vnd.kubernetes.protobuf`) and do not fall back to JSON. This module decodes
the wire format with a table of field numbers for the kinds those commands create, and
turns it into the same JSON object the command would send with `-o json`. Typed clients
(helm's, deleting its release Secrets) send their DeleteOptions the same way. Fields it
does not know are dropped; kinds it does not know are refused with 415.
"""

import base64
from datetime import UTC, datetime
from typing import Any

from apiserver import errors

MAGIC = b"k8s\x00"

# Type codes: s string, i integer, b bool, y bytes, q Quantity, t Time, io IntOrString;
# "[]x" repeated, "{}x" map<string, x>, a capitalised name is a message below; a
# leading "~" marks a message whose fields are inlined into its parent (Go's `,inline`).
Schema = dict[int, tuple[str, str]]

META: Schema = {
    1: ("name", "s"),
    2: ("generateName", "s"),
    3: ("namespace", "s"),
    4: ("selfLink", "s"),
    5: ("uid", "s"),
    6: ("resourceVersion", "s"),
    7: ("generation", "i"),
    8: ("creationTimestamp", "t"),
    9: ("deletionTimestamp", "t"),
    10: ("deletionGracePeriodSeconds", "i"),
    11: ("labels", "{}s"),
    12: ("annotations", "{}s"),
    13: ("ownerReferences", "[]OwnerReference"),
    14: ("finalizers", "[]s"),
}
MESSAGES: dict[str, Schema] = {
    "ObjectMeta": META,
    "OwnerReference": {
        1: ("kind", "s"),
        3: ("name", "s"),
        4: ("uid", "s"),
        5: ("apiVersion", "s"),
        6: ("controller", "b"),
        7: ("blockOwnerDeletion", "b"),
    },
    "LabelSelector": {1: ("matchLabels", "{}s"), 2: ("matchExpressions", "[]Requirement")},
    "Requirement": {1: ("key", "s"), 2: ("operator", "s"), 3: ("values", "[]s")},
    "ObjectReference": {
        1: ("kind", "s"),
        2: ("namespace", "s"),
        3: ("name", "s"),
        4: ("uid", "s"),
        5: ("apiVersion", "s"),
        6: ("resourceVersion", "s"),
        7: ("fieldPath", "s"),
    },
    "LocalObjectReference": {1: ("name", "s")},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "{}s"),
        3: ("binaryData", "{}y"),
        4: ("immutable", "b"),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta"),
        2: ("data", "{}y"),
        3: ("type", "s"),
        4: ("stringData", "{}s"),
        5: ("immutable", "b"),
    },
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "[]s")},
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta"),
        2: ("secrets", "[]ObjectReference"),
        3: ("imagePullSecrets", "[]LocalObjectReference"),
        4: ("automountServiceAccountToken", "b"),
    },
    "ResourceQuota": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ResourceQuotaSpec")},
    "ResourceQuotaSpec": {1: ("hard", "{}q"), 2: ("scopes", "[]s")},
    "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "[]ServicePort"),
        2: ("selector", "{}s"),
        3: ("clusterIP", "s"),
        4: ("type", "s"),
        5: ("externalIPs", "[]s"),
        7: ("sessionAffinity", "s"),
        8: ("loadBalancerIP", "s"),
        9: ("loadBalancerSourceRanges", "[]s"),
        10: ("externalName", "s"),
        11: ("externalTrafficPolicy", "s"),
        12: ("healthCheckNodePort", "i"),
        13: ("publishNotReadyAddresses", "b"),
    },
    "ServicePort": {
        1: ("name", "s"),
        2: ("protocol", "s"),
        3: ("port", "i"),
        4: ("targetPort", "io"),
        5: ("nodePort", "i"),
        6: ("appProtocol", "s"),
    },
    "Pod": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {
        2: ("containers", "[]Container"),
        3: ("restartPolicy", "s"),
        4: ("terminationGracePeriodSeconds", "i"),
        5: ("activeDeadlineSeconds", "i"),
        6: ("dnsPolicy", "s"),
        7: ("nodeSelector", "{}s"),
        8: ("serviceAccountName", "s"),
        9: ("serviceAccount", "s"),
        10: ("nodeName", "s"),
        11: ("hostNetwork", "b"),
        12: ("hostPID", "b"),
        13: ("hostIPC", "b"),
        15: ("imagePullSecrets", "[]LocalObjectReference"),
        16: ("hostname", "s"),
        17: ("subdomain", "s"),
        19: ("schedulerName", "s"),
        20: ("initContainers", "[]Container"),
        22: ("tolerations", "[]Toleration"),
        24: ("priorityClassName", "s"),
        25: ("priority", "i"),
    },
    "Toleration": {
        1: ("key", "s"),
        2: ("operator", "s"),
        3: ("value", "s"),
        4: ("effect", "s"),
        5: ("tolerationSeconds", "i"),
    },
    "Container": {
        1: ("name", "s"),
        2: ("image", "s"),
        3: ("command", "[]s"),
        4: ("args", "[]s"),
        5: ("workingDir", "s"),
        6: ("ports", "[]ContainerPort"),
        7: ("env", "[]EnvVar"),
        8: ("resources", "ResourceRequirements"),
        9: ("volumeMounts", "[]VolumeMount"),
        13: ("terminationMessagePath", "s"),
        14: ("imagePullPolicy", "s"),
        16: ("stdin", "b"),
        17: ("stdinOnce", "b"),
        18: ("tty", "b"),
        20: ("terminationMessagePolicy", "s"),
    },
    "ContainerPort": {
        1: ("name", "s"),
        2: ("hostPort", "i"),
        3: ("containerPort", "i"),
        4: ("protocol", "s"),
        5: ("hostIP", "s"),
    },
    "EnvVar": {1: ("name", "s"), 2: ("value", "s")},
    "VolumeMount": {
        1: ("name", "s"),
        2: ("readOnly", "b"),
        3: ("mountPath", "s"),
        4: ("subPath", "s"),
    },
    "ResourceRequirements": {1: ("limits", "{}q"), 2: ("requests", "{}q")},
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec")},
    "DeploymentSpec": {
        1: ("replicas", "i"),
        2: ("selector", "LabelSelector"),
        3: ("template", "PodTemplateSpec"),
        4: ("strategy", "DeploymentStrategy"),
        5: ("minReadySeconds", "i"),
        6: ("revisionHistoryLimit", "i"),
        7: ("paused", "b"),
        9: ("progressDeadlineSeconds", "i"),
    },
    "DeploymentStrategy": {1: ("type", "s"), 2: ("rollingUpdate", "RollingUpdate")},
    "RollingUpdate": {1: ("maxUnavailable", "io"), 2: ("maxSurge", "io")},
    "Job": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
    "JobSpec": {
        1: ("parallelism", "i"),
        2: ("completions", "i"),
        3: ("activeDeadlineSeconds", "i"),
        4: ("selector", "LabelSelector"),
        5: ("manualSelector", "b"),
        6: ("template", "PodTemplateSpec"),
        7: ("backoffLimit", "i"),
        8: ("ttlSecondsAfterFinished", "i"),
        9: ("completionMode", "s"),
        10: ("suspend", "b"),
    },
    "CronJob": {1: ("metadata", "ObjectMeta"), 2: ("spec", "CronJobSpec")},
    "CronJobSpec": {
        1: ("schedule", "s"),
        2: ("startingDeadlineSeconds", "i"),
        3: ("concurrencyPolicy", "s"),
        4: ("suspend", "b"),
        5: ("jobTemplate", "JobTemplateSpec"),
        6: ("successfulJobsHistoryLimit", "i"),
        7: ("failedJobsHistoryLimit", "i"),
        8: ("timeZone", "s"),
    },
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule")},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule")},
    "PolicyRule": {
        1: ("verbs", "[]s"),
        2: ("apiGroups", "[]s"),
        3: ("resources", "[]s"),
        4: ("resourceNames", "[]s"),
        5: ("nonResourceURLs", "[]s"),
    },
    "RoleBinding": {
        1: ("metadata", "ObjectMeta"),
        2: ("subjects", "[]Subject"),
        3: ("roleRef", "RoleRef"),
    },
    "ClusterRoleBinding": {
        1: ("metadata", "ObjectMeta"),
        2: ("subjects", "[]Subject"),
        3: ("roleRef", "RoleRef"),
    },
    "Subject": {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")},
    "RoleRef": {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")},
    "PriorityClass": {
        1: ("metadata", "ObjectMeta"),
        2: ("value", "i"),
        3: ("globalDefault", "b"),
        4: ("description", "s"),
        5: ("preemptionPolicy", "s"),
    },
    "Ingress": {1: ("metadata", "ObjectMeta"), 2: ("spec", "IngressSpec")},
    "IngressSpec": {
        1: ("defaultBackend", "IngressBackend"),
        2: ("tls", "[]IngressTLS"),
        3: ("rules", "[]IngressRule"),
        4: ("ingressClassName", "s"),
    },
    "IngressTLS": {1: ("hosts", "[]s"), 2: ("secretName", "s")},
    "IngressRule": {1: ("host", "s"), 2: ("", "~IngressRuleValue")},
    "IngressRuleValue": {1: ("http", "HTTPIngressRuleValue")},
    "HTTPIngressRuleValue": {1: ("paths", "[]HTTPIngressPath")},
    "HTTPIngressPath": {1: ("path", "s"), 2: ("backend", "IngressBackend"), 3: ("pathType", "s")},
    "IngressBackend": {4: ("service", "IngressServiceBackend")},
    "IngressServiceBackend": {1: ("name", "s"), 2: ("port", "ServiceBackendPort")},
    "ServiceBackendPort": {1: ("name", "s"), 2: ("number", "i")},
    "PodDisruptionBudget": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PDBSpec")},
    "PDBSpec": {
        1: ("minAvailable", "io"),
        2: ("selector", "LabelSelector"),
        3: ("maxUnavailable", "io"),
        4: ("unhealthyPodEvictionPolicy", "s"),
    },
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "AccessReviewSpec")},
    "AccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes"),
        2: ("nonResourceAttributes", "NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", "s"),
        2: ("verb", "s"),
        3: ("group", "s"),
        4: ("version", "s"),
        5: ("resource", "s"),
        6: ("subresource", "s"),
        7: ("name", "s"),
    },
    "NonResourceAttributes": {1: ("path", "s"), 2: ("verb", "s")},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta")},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "RulesReviewSpec")},
    "RulesReviewSpec": {1: ("namespace", "s")},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "i"),
        2: ("preconditions", "Preconditions"),
        3: ("orphanDependents", "b"),
        4: ("propagationPolicy", "s"),
        5: ("dryRun", "[]s"),
    },
    "Preconditions": {1: ("uid", "s"), 2: ("resourceVersion", "s")},
    "TokenRequest": {1: ("metadata", "ObjectMeta"), 2: ("spec", "TokenRequestSpec")},
    "TokenRequestSpec": {
        1: ("audiences", "[]s"),
        3: ("boundObjectRef", "BoundObjectReference"),
        4: ("expirationSeconds", "i"),
    },
    "BoundObjectReference": {
        1: ("kind", "s"),
        2: ("apiVersion", "s"),
        3: ("name", "s"),
        4: ("uid", "s"),
    },
    "HorizontalPodAutoscaler": {1: ("metadata", "ObjectMeta"), 2: ("spec", "HPASpec")},
    "HPASpec": {
        1: ("scaleTargetRef", "ScaleTarget"),
        2: ("minReplicas", "i"),
        3: ("maxReplicas", "i"),
        4: ("targetCPUUtilizationPercentage", "i"),
    },
    "ScaleTarget": {1: ("kind", "s"), 2: ("name", "s"), 3: ("apiVersion", "s")},
}
# Go pointer fields: present on the wire only when set, so a zero there is meant.
KEEP_ZERO = {
    "replicas",
    "backoffLimit",
    "completions",
    "parallelism",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "startingDeadlineSeconds",
    "ttlSecondsAfterFinished",
    "priority",
    "value",
    "suspend",
    "immutable",
    "minReplicas",
    "automountServiceAccountToken",
    "deletionGracePeriodSeconds",
    "tolerationSeconds",
    "controller",
    "blockOwnerDeletion",
    "manualSelector",
    "expirationSeconds",
    "gracePeriodSeconds",
    "orphanDependents",
}
# Bodies that are options, not objects: they carry no metadata (a typed client's delete).
OPTIONS = {"DeleteOptions"}
KEEP_EMPTY_MESSAGES = {"resources", "strategy", "securityContext", "template", "spec"}


def _varint(data: bytes, position: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """Split one message into (field number, wire type, raw value)."""
    position, found = 0, []
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 2:
            length, position = _varint(data, position)
            if position + length > len(data):
                raise ValueError("truncated field")
            value, position = data[position : position + length], position + length
        elif wire == 1:
            value, position = data[position : position + 8], position + 8
        elif wire == 5:
            value, position = data[position : position + 4], position + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        found.append((number, wire, value))
    return found


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(code: str, value: Any) -> Any:
    if code == "s":
        return value.decode("utf-8")
    if code == "i":
        return _signed(value)
    if code == "b":
        return bool(value)
    if code == "y":
        return base64.b64encode(value).decode()
    if code == "q":
        quantity = {n: v for n, _, v in _fields(value)}
        return quantity.get(1, b"").decode()
    if code == "t":
        parts = {n: v for n, _, v in _fields(value)}
        if not parts.get(1):
            return None
        return _timestamp(_signed(parts[1]))
    if code == "io":
        parts = {n: v for n, _, v in _fields(value)}
        if parts.get(1) == 1:
            return parts.get(3, b"").decode()
        return _signed(parts.get(2, 0))
    return _message(code, value)


def _timestamp(seconds: int) -> str:
    """RFC 3339 seconds; a moment no calendar holds is unreadable, as Go's encoder finds it."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError):
        raise ValueError(f"timestamp {seconds} is out of range") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_empty(name: str, value: Any) -> bool:
    if name in KEEP_ZERO:
        return False
    if isinstance(value, dict):
        return not value and name not in KEEP_EMPTY_MESSAGES
    return value in ("", 0, False, None) and not (value is None and name == "creationTimestamp")


def _message(name: str, data: bytes) -> dict[str, Any]:
    schema = MESSAGES[name]
    result: dict[str, Any] = {}
    for number, _, raw in _fields(data):
        if number not in schema:
            continue
        field, code = schema[number]
        if code.startswith("~"):
            result.update(_message(code[1:], raw))
        elif code.startswith("[]"):
            result.setdefault(field, []).append(_scalar(code[2:], raw))
        elif code.startswith("{}"):
            entry = {n: v for n, _, v in _fields(raw)}
            key = entry.get(1, b"").decode("utf-8")
            result.setdefault(field, {})[key] = _scalar(code[2:], entry.get(2, b""))
        else:
            result[field] = _scalar(code, raw)
    return {k: v for k, v in result.items() if not _is_empty(k, v)}


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object inside a `k8s\\0` protobuf envelope, or 415 if it can't be read."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("protobuf body without the k8s envelope")
    try:
        envelope = {n: v for n, _, v in _fields(body[len(MAGIC) :])}
        type_meta = {n: v.decode() for n, _, v in _fields(envelope.get(1, b""))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        is_object = kind in MESSAGES and "metadata" in MESSAGES[kind].get(1, ("",))[0]
        if not is_object and kind not in OPTIONS:
            raise errors.unsupported_media_type(
                f"application/vnd.kubernetes.protobuf (for {kind or 'an unknown kind'}; "
                "send JSON, e.g. kubectl apply -f)"
            )
        obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
        obj.update(_message(kind, envelope.get(2, b"")))
        return obj
    except errors.ApiError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        raise errors.bad_request("the protobuf body could not be decoded") from None
