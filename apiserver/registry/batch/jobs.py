"""Jobs: Pods that run to completion, retried up to a backoff limit."""

import uuid
from datetime import datetime
from typing import Any

from apiserver.registry import cells
from apiserver.registry.podspec import default_template, validate_workload
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes, check_nonnegative, fill, immutable

# The counts a Job spec keeps in an int32, and those that may not be negative.
JOB_INT32 = ("parallelism", "completions", "backoffLimit")
JOB_COUNTS = (*JOB_INT32, "activeDeadlineSeconds", "ttlSecondsAfterFinished")


def default_job_counts(spec: Any) -> None:
    """SetDefaults_Job: with neither completions nor parallelism set, both are 1; a null
    completions beside a parallelism stays null (any one success completes the Job)."""
    if not isinstance(spec, dict):
        return
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    fill(spec, "parallelism", 1)
    fill(spec, "backoffLimit", 6)


def validate_job_counts(obj: dict[str, Any], prefix: str, causes: Causes) -> None:
    for field in JOB_COUNTS:
        check_nonnegative(obj, f"{prefix}{field}", causes)


def job_int32(prefix: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{field}", "JobSpec") for field in JOB_INT32)


def _default_job_spec(spec: Any, uid: str | None) -> None:
    if not isinstance(spec, dict):
        return
    default_job_counts(spec)
    fill(spec, "completionMode", "NonIndexed")
    fill(spec, "suspend", False)
    spec.setdefault("manualSelector", None)
    if spec.get("manualSelector") is None:
        spec.pop("manualSelector")
    template = spec.get("template")
    default_template(template, for_job=True)
    if uid and isinstance(template, dict) and not spec.get("selector"):
        # Like the real Job admission: tie the Job's Pods to it by uid.
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = template["metadata"].setdefault("labels", {})
        if isinstance(labels, dict):
            labels.setdefault("batch.kubernetes.io/controller-uid", uid)
            labels.setdefault("controller-uid", uid)


def _default_job(obj: dict[str, Any], causes: Causes) -> None:
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


def _job_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or ()}
    if conditions.get("Complete") == "True":
        state = "Complete"
    elif conditions.get("Failed") == "True":
        state = "Failed"
    elif conditions.get("Suspended") == "True":
        state = "Suspended"
    elif conditions.get("FailureTarget") == "True":
        state = "FailureTarget"
    else:
        state = "Running"
    completions = spec.get("completions")
    done = status.get("succeeded", 0)
    completions_text = f"{done}/{completions}" if completions is not None else f"{done}/1 of 1"
    start = cells.parse_timestamp(status.get("startTime") or "")
    end = cells.parse_timestamp(status.get("completionTime") or "") or now
    duration = cells.human_duration((end - start).total_seconds()) if start else ""
    return [
        cells.name(obj),
        state,
        completions_text,
        duration,
        cells.created(obj, now),
        *cells.wide_workload(obj),
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    validate_workload(obj, causes, "spec.template", job=True)
    validate_job_counts(obj, "spec.", causes)


STRATEGY = Strategy(
    resource="batch/jobs",
    columns=[
        cells.NAME,
        cells.col("Status"),
        cells.col("Completions"),
        cells.col("Duration"),
        cells.AGE,
        *cells.WIDE_CONTAINERS,
        cells.WIDE_SELECTOR,
    ],
    row=_job_row,
    default=_default_job,
    validate=_validate,
    field_selectors=("status.successful",),
    int32_fields=job_int32("spec."),
    validate_update=immutable("spec.selector", "spec.template", "spec.completionMode"),
)
