"""HorizontalPodAutoscalers: one stored object, served as autoscaling/v2 and autoscaling/v1.

Like kube-apiserver, the object is kept in its v2 shape and converted for v1 readers and
writers. v1 knows one target (`targetCPUUtilizationPercentage`) and one current value
(`currentCPUUtilizationPercentage`); what else v2 holds travels through v1 in the
annotations Kubernetes uses for the round trip, so a read-modify-write through v1 keeps
the other metrics, the behavior and the conditions a v2 writer set.
"""

import copy
import json
from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes, at, fill, is_integer

V1 = "autoscaling/v1"
V2 = "autoscaling/v2"
METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
DEFAULT_CPU_UTILIZATION = 80
SHARED_SPEC = ("scaleTargetRef", "minReplicas", "maxReplicas")


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Go's omitempty: unset pointers are left out."""
    return {key: value for key, value in fields.items() if value is not None}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _cpu_utilization(metric: Any) -> int | None:
    """The target of a `cpu` Utilization metric, the one thing v1 can say directly."""
    if not isinstance(metric, dict) or metric.get("type") != "Resource":
        return None
    resource = metric.get("resource") or {}
    target = resource.get("target") or {}
    if resource.get("name") != "cpu" or target.get("averageUtilization") is None:
        return None
    return target["averageUtilization"]


def _cpu_metric(utilization: int) -> dict[str, Any]:
    target = {"type": "Utilization", "averageUtilization": utilization}
    return {"type": "Resource", "resource": {"name": "cpu", "target": target}}


def _source(metric: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    """A metric's type, the field named after it, and what that field holds."""
    kind = metric.get("type")
    key = "containerResource" if kind == "ContainerResource" else str(kind).lower()
    source = metric.get(key)
    return kind, key, source if isinstance(source, dict) else {}


def _named_v2(source: dict[str, Any], selector: str) -> dict[str, Any]:
    """v2's MetricIdentifier from v1's flat metricName and selector."""
    return _compact({"name": source.get("metricName"), "selector": source.get(selector)})


# v2 MetricSpec <-> v1 MetricSpec (the flatter shape v2beta1 had, which v1 keeps).


def _metric_to_v1(metric: dict[str, Any]) -> dict[str, Any]:
    kind, key, source = _source(metric)
    target = source.get("target") or {}
    named = source.get("metric") or {}
    if kind in ("Resource", "ContainerResource"):
        shaped = _compact(
            {
                "name": source.get("name"),
                "container": source.get("container"),
                "targetAverageUtilization": target.get("averageUtilization"),
                "targetAverageValue": target.get("averageValue"),
            }
        )
    elif kind == "Pods":
        shaped = _compact(
            {
                "metricName": named.get("name"),
                "targetAverageValue": target.get("averageValue"),
                "selector": named.get("selector"),
            }
        )
    elif kind == "Object":
        shaped = _compact(
            {
                "target": source.get("describedObject"),
                "metricName": named.get("name"),
                "targetValue": target.get("value"),
                "selector": named.get("selector"),
                "averageValue": target.get("averageValue"),
            }
        )
    elif kind == "External":
        shaped = _compact(
            {
                "metricName": named.get("name"),
                "metricSelector": named.get("selector"),
                "targetValue": target.get("value"),
                "targetAverageValue": target.get("averageValue"),
            }
        )
    else:
        return {"type": kind}
    return {"type": kind, key: shaped}


def _metric_to_v2(metric: dict[str, Any]) -> dict[str, Any]:
    kind, key, source = _source(metric)
    if kind in ("Resource", "ContainerResource"):
        utilization = source.get("targetAverageUtilization")
        target = _compact(
            {
                "type": "AverageValue" if utilization is None else "Utilization",
                "averageUtilization": utilization,
                "averageValue": source.get("targetAverageValue"),
            }
        )
        shaped = _compact(
            {"name": source.get("name"), "container": source.get("container"), "target": target}
        )
    elif kind == "Pods":
        shaped = {
            "metric": _named_v2(source, "selector"),
            "target": _compact(
                {"type": "AverageValue", "averageValue": source.get("targetAverageValue")}
            ),
        }
    elif kind == "Object":
        average = source.get("averageValue")
        shaped = _compact(
            {
                "describedObject": source.get("target"),
                "metric": _named_v2(source, "selector"),
                "target": _compact(
                    {
                        "type": "Value" if average is None else "AverageValue",
                        "value": source.get("targetValue"),
                        "averageValue": average,
                    }
                ),
            }
        )
    elif kind == "External":
        average = source.get("targetAverageValue")
        shaped = {
            "metric": _named_v2(source, "metricSelector"),
            "target": _compact(
                {
                    "type": "Value" if average is None else "AverageValue",
                    "value": source.get("targetValue"),
                    "averageValue": average,
                }
            ),
        }
    else:
        return {"type": kind}
    return {"type": kind, key: shaped}


# v2 MetricStatus <-> v1 MetricStatus.


def _status_to_v1(metric: dict[str, Any]) -> dict[str, Any]:
    kind, key, source = _source(metric)
    current = source.get("current") or {}
    named = source.get("metric") or {}
    if kind in ("Resource", "ContainerResource"):
        shaped = _compact(
            {
                "name": source.get("name"),
                "container": source.get("container"),
                "currentAverageUtilization": current.get("averageUtilization"),
                "currentAverageValue": current.get("averageValue", "0"),
            }
        )
    elif kind == "Pods":
        shaped = _compact(
            {
                "metricName": named.get("name"),
                "currentAverageValue": current.get("averageValue", "0"),
                "selector": named.get("selector"),
            }
        )
    elif kind == "Object":
        shaped = _compact(
            {
                "target": source.get("describedObject"),
                "metricName": named.get("name"),
                "currentValue": current.get("value", "0"),
                "selector": named.get("selector"),
                "averageValue": current.get("averageValue"),
            }
        )
    elif kind == "External":
        shaped = _compact(
            {
                "metricName": named.get("name"),
                "metricSelector": named.get("selector"),
                "currentValue": current.get("value", "0"),
                "currentAverageValue": current.get("averageValue"),
            }
        )
    else:
        return {"type": kind}
    return {"type": kind, key: shaped}


def _status_to_v2(metric: dict[str, Any]) -> dict[str, Any]:
    kind, key, source = _source(metric)
    if kind in ("Resource", "ContainerResource"):
        current = _compact(
            {
                "averageValue": source.get("currentAverageValue"),
                "averageUtilization": source.get("currentAverageUtilization"),
            }
        )
        shaped = _compact(
            {"name": source.get("name"), "container": source.get("container"), "current": current}
        )
    elif kind == "Pods":
        shaped = {
            "metric": _named_v2(source, "selector"),
            "current": _compact({"averageValue": source.get("currentAverageValue")}),
        }
    elif kind == "Object":
        shaped = _compact(
            {
                "describedObject": source.get("target"),
                "metric": _named_v2(source, "selector"),
                "current": _compact(
                    {
                        "value": source.get("currentValue"),
                        "averageValue": source.get("averageValue"),
                    }
                ),
            }
        )
    elif kind == "External":
        shaped = {
            "metric": _named_v2(source, "metricSelector"),
            "current": _compact(
                {
                    "value": source.get("currentValue"),
                    "averageValue": source.get("currentAverageValue"),
                }
            ),
        }
    else:
        return {"type": kind}
    return {"type": kind, key: shaped}


# spec.behavior travels as the internal Go type, which has no JSON tags: capitalized keys.

RULE_FIELDS = (("stabilizationWindowSeconds", "StabilizationWindowSeconds"),)
POLICY_FIELDS = (("type", "Type"), ("value", "Value"), ("periodSeconds", "PeriodSeconds"))


def _rules_to_annotation(rules: Any) -> dict[str, Any] | None:
    if not isinstance(rules, dict):
        return None
    policies = rules.get("policies")
    return {
        "StabilizationWindowSeconds": rules.get("stabilizationWindowSeconds"),
        "SelectPolicy": rules.get("selectPolicy"),
        "Policies": [
            {go: policy.get(name) for name, go in POLICY_FIELDS}
            for policy in policies
            if isinstance(policy, dict)
        ]
        if isinstance(policies, list)
        else None,
    }


def _rules_from_annotation(rules: Any) -> dict[str, Any] | None:
    if not isinstance(rules, dict):
        return None
    policies = rules.get("Policies")
    return _compact(
        {
            "stabilizationWindowSeconds": rules.get("StabilizationWindowSeconds"),
            "selectPolicy": rules.get("SelectPolicy"),
            "policies": [
                _compact({name: policy.get(go) for name, go in POLICY_FIELDS})
                for policy in policies
                if isinstance(policy, dict)
            ]
            if isinstance(policies, list)
            else None,
        }
    )


def _read_annotation(annotations: dict[str, Any], key: str, shape: type) -> Any:
    """The decoded annotation, removed; None (and left in place) when it does not decode."""
    try:
        value = json.loads(annotations[key])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(value, shape):
        return None
    del annotations[key]
    return value


def to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """The stored (v2) object as autoscaling/v1 serves it."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    metadata = copy.deepcopy(obj.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    shaped_spec = {k: spec[k] for k in SHARED_SPEC if k in spec}
    metrics = [m for m in spec.get("metrics") or () if isinstance(m, dict)]
    targets = [t for t in map(_cpu_utilization, metrics) if t is not None]
    if targets:
        shaped_spec["targetCPUUtilizationPercentage"] = targets[0]
    others = [_metric_to_v1(m) for m in metrics if _cpu_utilization(m) is None]
    if others:
        annotations[METRICS] = _json(others)
    if isinstance(spec.get("behavior"), dict):
        behavior = spec["behavior"]
        annotations[BEHAVIOR] = _json(
            {
                "ScaleUp": _rules_to_annotation(behavior.get("scaleUp")),
                "ScaleDown": _rules_to_annotation(behavior.get("scaleDown")),
            }
        )
    result = {"kind": obj.get("kind", "HorizontalPodAutoscaler"), "apiVersion": V1}
    status = obj.get("status")
    if isinstance(status, dict):
        current = [m for m in status.get("currentMetrics") or () if isinstance(m, dict)]
        if current:
            annotations[CURRENT_METRICS] = _json([_status_to_v1(m) for m in current])
        if status.get("conditions"):
            annotations[CONDITIONS] = _json(status["conditions"])
        shaped_status = _compact(
            {
                "observedGeneration": status.get("observedGeneration"),
                "lastScaleTime": status.get("lastScaleTime"),
                "currentReplicas": status.get("currentReplicas", 0),
                "desiredReplicas": status.get("desiredReplicas", 0),
            }
        )
        for metric in current:
            utilization = at(metric, "resource.current.averageUtilization")
            is_cpu = metric.get("type") == "Resource" and at(metric, "resource.name") == "cpu"
            if is_cpu and utilization is not None:
                shaped_status["currentCPUUtilizationPercentage"] = utilization
                break
    if annotations:
        metadata["annotations"] = annotations
    result["metadata"] = metadata
    result["spec"] = shaped_spec
    if isinstance(status, dict):
        result["status"] = shaped_status
    return result


def to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    """An autoscaling/v1 object in the stored (v2) shape, its annotations lifted back out."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    metadata = copy.deepcopy(obj.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    shaped_spec = {k: spec[k] for k in SHARED_SPEC if k in spec}
    metrics = [
        _metric_to_v2(m)
        for m in _read_annotation(annotations, METRICS, list) or ()
        if isinstance(m, dict)
    ]
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.append(_cpu_metric(spec["targetCPUUtilizationPercentage"]))
    if metrics:
        shaped_spec["metrics"] = metrics
    behavior = _read_annotation(annotations, BEHAVIOR, dict)
    if behavior is not None:
        shaped_spec["behavior"] = _compact(
            {
                "scaleUp": _rules_from_annotation(behavior.get("ScaleUp")),
                "scaleDown": _rules_from_annotation(behavior.get("ScaleDown")),
            }
        )
    current = _read_annotation(annotations, CURRENT_METRICS, list)
    conditions = _read_annotation(annotations, CONDITIONS, list)
    result = {"kind": obj.get("kind", "HorizontalPodAutoscaler"), "apiVersion": V2}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    result["metadata"] = metadata
    result["spec"] = shaped_spec
    status = obj.get("status")
    if isinstance(status, dict):
        shaped_status = {
            k: status[k]
            for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
            if k in status
        }
        if current is not None:
            shaped_status["currentMetrics"] = [
                _status_to_v2(m) for m in current if isinstance(m, dict)
            ]
        elif status.get("currentCPUUtilizationPercentage") is not None:
            cpu = {"averageUtilization": status["currentCPUUtilizationPercentage"]}
            shaped_status["currentMetrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "current": cpu}}
            ]
        if conditions is not None:
            shaped_status["conditions"] = conditions
        result["status"] = shaped_status
    return result


def in_v2(obj: dict[str, Any]) -> dict[str, Any]:
    return to_v2(obj) if obj.get("apiVersion") == V1 else obj


# Defaults of the stored (v2) shape, filled again whenever an object is stored, as decoding
# from etcd fills them in kube-apiserver: a v1 object without a target reads back with 80%.

SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
SCALE_DOWN = {
    "stabilizationWindowSeconds": 300,
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def default_v2(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    fill(spec, "minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [_cpu_metric(DEFAULT_CPU_UTILIZATION)]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        for key, rules in (("scaleUp", SCALE_UP), ("scaleDown", SCALE_DOWN)):
            if not isinstance(behavior.get(key), dict):
                behavior[key] = copy.deepcopy(rules)
                continue
            for field, value in rules.items():
                fill(behavior[key], field, copy.deepcopy(value))
    return obj


def _default(obj: dict[str, Any], causes: Causes) -> None:
    """v1 defaults only minReplicas; a v2 body gets the v2 defaults before it is checked."""
    if obj.get("apiVersion") == V1:
        fill(obj.get("spec"), "minReplicas", 1)
    else:
        default_v2(obj)


def to_storage(obj: dict[str, Any]) -> dict[str, Any]:
    return default_v2(in_v2(obj))


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    spec = in_v2(obj).get("spec")
    spec = spec if isinstance(spec, dict) else {}
    reference = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), dict) else {}
    for field in ("kind", "name"):
        if not reference.get(field):
            causes.required(f"spec.scaleTargetRef.{field}")
    least, most = spec.get("minReplicas"), spec.get("maxReplicas")
    if is_integer(least) and least < 1:
        causes.invalid("spec.minReplicas", least, "must be greater than or equal to 1")
    if not is_integer(most) or most < 1:
        causes.invalid("spec.maxReplicas", most, "must be greater than 0")
    elif is_integer(least) and most < least:
        causes.invalid("spec.maxReplicas", most, "must be greater than or equal to `minReplicas`")
    for index, metric in enumerate(spec.get("metrics") or ()):
        utilization = _cpu_utilization(metric)
        if utilization is not None and (not is_integer(utilization) or utilization <= 0):
            where = f"spec.metrics[{index}].resource.target.averageUtilization"
            causes.invalid(where, utilization, "must be greater than 0")


# kubectl's TARGETS column (kubernetes/pkg/printers/internalversion, 1.30+).

MAX_SHOWN = 2


def _target_text(metric: dict[str, Any], current: Any) -> str:
    kind, key, source = _source(metric)
    target = source.get("target") or {}
    known = isinstance(current, dict) and isinstance(current.get(key), dict)
    now = (current[key].get("current") or {}) if known else {}
    if kind in ("Resource", "ContainerResource"):
        name = source.get("name", "")
        if target.get("averageValue") is not None:
            shown = now.get("averageValue", "0") if known else "<unknown>"
            return f"{name}: {shown}/{target['averageValue']}"
        shown = "<unknown>"
        if known and now.get("averageUtilization") is not None:
            shown = f"{now['averageUtilization']}%"
        wanted = target.get("averageUtilization")
        return f"{name}: {shown}/{'<auto>' if wanted is None else f'{wanted}%'}"
    if kind == "Pods":
        shown = now.get("averageValue", "0") if known else "<unknown>"
        return f"{shown}/{target.get('averageValue', '0')}"
    if kind in ("Object", "External"):
        if target.get("averageValue") is not None:
            shown = "<unknown>"
            if known and now.get("averageValue") is not None:
                shown = now["averageValue"]
            return f"{shown}/{target['averageValue']} (avg)"
        shown = now.get("value", "0") if known else "<unknown>"
        return f"{shown}/{target.get('value', '0')}"
    return "<unknown type>"


def targets(spec: dict[str, Any], status: dict[str, Any]) -> str:
    metrics = [m for m in spec.get("metrics") or () if isinstance(m, dict)]
    if not metrics:
        return "<none>"
    current = status.get("currentMetrics") or []
    shown = [
        _target_text(metric, current[index] if index < len(current) else None)
        for index, metric in enumerate(metrics)
    ]
    text = ", ".join(shown[:MAX_SHOWN])
    if len(shown) > MAX_SHOWN:
        return f"{text} + {len(shown) - MAX_SHOWN} more..."
    return text


def _row(obj: dict[str, Any], now: datetime) -> list[Any]:
    obj = in_v2(obj)
    spec, status = cells.spec(obj), cells.status(obj)
    reference = spec.get("scaleTargetRef") or {}
    least = spec.get("minReplicas")
    return [
        cells.name(obj),
        f"{reference.get('kind', '')}/{reference.get('name', '')}",
        targets(spec, status),
        "<unset>" if least is None else str(least),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        cells.created(obj, now),
    ]


STRATEGY = Strategy(
    resource="autoscaling/horizontalpodautoscalers",
    columns=[
        cells.NAME,
        cells.col("Reference"),
        cells.col("Targets"),
        cells.col("MinPods"),
        cells.col("MaxPods", "integer"),
        cells.col("Replicas", "integer"),
        cells.AGE,
    ],
    row=_row,
    default=_default,
    validate=_validate,
    int32_fields=(
        ("spec.minReplicas", "HorizontalPodAutoscalerSpec"),
        ("spec.maxReplicas", "HorizontalPodAutoscalerSpec"),
    ),
)
