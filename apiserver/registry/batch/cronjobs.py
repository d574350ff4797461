"""CronJobs: a schedule that creates a Job at each tick."""

from datetime import datetime
from typing import Any

from apiserver import schedules
from apiserver.registry import cells
from apiserver.registry.batch.jobs import job_int32, validate_job_counts
from apiserver.registry.podspec import default_template, validate_pod_spec
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import Causes, at, check_nonnegative, fill

HISTORY = ("successfulJobsHistoryLimit", "failedJobsHistoryLimit")


def _default_cronjob(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    fill(spec, "concurrencyPolicy", "Allow")
    fill(spec, "suspend", False)
    fill(spec, "successfulJobsHistoryLimit", 3)
    fill(spec, "failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict):
        inner = job_template.get("spec")
        if isinstance(inner, dict):
            fill(inner, "backoffLimit", 6)
            fill(inner, "completionMode", "NonIndexed")
            fill(inner, "suspend", False)
            default_template(inner.get("template"), for_job=True)


def _cronjob_row(obj: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = cells.spec(obj), cells.status(obj)
    last = status.get("lastScheduleTime")
    template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    names, images = cells.containers(template.get("spec") or {})
    return [
        cells.name(obj),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "True" if spec.get("suspend") else "False",
        len(status.get("active") or ()),
        cells.age(last, now) if last else "<none>",
        cells.created(obj, now),
        names,
        images,
        "<none>",
    ]


def _validate(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if not at(obj, "spec.schedule"):
        causes.required("spec.schedule")
    else:
        try:
            schedules.zone_of(spec.get("timeZone"))
        except schedules.ScheduleError as error:
            causes.invalid("spec.timeZone", spec.get("timeZone"), str(error))
        else:
            try:
                schedules.read(spec)
            except schedules.ScheduleError as error:
                causes.invalid("spec.schedule", spec.get("schedule"), str(error))
    for field in (*HISTORY, "startingDeadlineSeconds"):
        check_nonnegative(obj, f"spec.{field}", causes)
    validate_job_counts(obj, "spec.jobTemplate.spec.", causes)
    template = at(obj, "spec.jobTemplate.spec.template")
    if not isinstance(template, dict):
        causes.required("spec.jobTemplate.spec.template")
    else:
        validate_pod_spec(
            template.get("spec"), "spec.jobTemplate.spec.template.spec", causes, job=True
        )


STRATEGY = Strategy(
    resource="batch/cronjobs",
    columns=[
        cells.NAME,
        cells.col("Schedule"),
        cells.col("Timezone"),
        cells.col("Suspend", "boolean"),
        cells.col("Active", "integer"),
        cells.col("Last Schedule"),
        cells.AGE,
        *cells.WIDE_CONTAINERS,
        cells.WIDE_SELECTOR,
    ],
    row=_cronjob_row,
    default=_default_cronjob,
    validate=_validate,
    int32_fields=(
        *((f"spec.{field}", "CronJobSpec") for field in HISTORY),
        *job_int32("spec.jobTemplate.spec."),
    ),
)
