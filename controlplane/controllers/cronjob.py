"""The CronJob controller: a subscription that places a new order (a Job) on schedule.

At each schedule time it creates a Job from `spec.jobTemplate`, named after the CronJob and
the scheduled time in minutes since the Unix epoch, so one time never makes two Jobs. It
keeps `status.active` in step with the Jobs still running, honours `suspend`,
`concurrencyPolicy` and `startingDeadlineSeconds`, and deletes the oldest finished Jobs
beyond the history limits. Schedules are read by cronsim, on the injected clock.
"""

import json
from datetime import UTC, datetime, timedelta, tzinfo

from cronsim import CronSim

from apiserver import schedules
from apiserver.client import ApiError
from apiserver.schedules import ScheduleError
from controlplane.clock import parse_stamp, stamp
from controlplane.controllers.common import Controller, World, owned, owner_reference
from controlplane.controllers.job import job_finished

SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# More missed start times than this and the controller warns, as kube-controller-manager does.
TOO_MANY_MISSED = 100


def _schedule(cj: dict) -> tuple[str, tzinfo]:
    return schedules.read(cj.get("spec") or {})


def next_after(cj: dict, moment: datetime) -> datetime:
    """The first schedule time strictly after `moment`."""
    return schedules.next_after(cj.get("spec") or {}, moment)


def _problem(cj: dict, error: ScheduleError) -> str:
    """The warning event's words for a schedule the controller cannot read."""
    spec = cj.get("spec") or {}
    if error.reason == "UnknownTimeZone":
        return f"invalid timeZone: {spec.get('timeZone')!r}: {error}"
    return f"unparseable schedule: {spec.get('schedule')!r} : {error}"


def most_recent(cj: dict, now: datetime) -> tuple[datetime | None, int]:
    """The latest schedule time not yet acted on, and how many such times there are.

    Counted from the last schedule time (or the CronJob's creation), but never from further
    back than startingDeadlineSeconds: the controller starts nothing older than that.
    """
    expression, zone = _schedule(cj)
    status = cj.get("status") or {}
    earliest = parse_stamp(status.get("lastScheduleTime")) or parse_stamp(
        cj["metadata"].get("creationTimestamp")
    )
    deadline = (cj.get("spec") or {}).get("startingDeadlineSeconds")
    if deadline is not None:
        window = now - timedelta(seconds=int(deadline))
        earliest = max(earliest, window) if earliest else window
    # cronsim walks back from a moment exclusively; a second past `now` includes `now` itself.
    start = now.replace(microsecond=0) + timedelta(seconds=1)
    latest = next(CronSim(expression, start.astimezone(zone), reverse=True)).astimezone(UTC)
    if earliest is not None and latest <= earliest:
        return None, 0
    missed = 0
    for moment in CronSim(expression, (earliest or latest).astimezone(zone)):
        if moment.astimezone(UTC) > latest or missed > TOO_MANY_MISSED:
            break
        missed += 1
    return latest, max(missed, 1)


def job_name(cj: dict, scheduled: datetime) -> str:
    return f"{cj['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def _rfc3339(moment: datetime, zone: tzinfo) -> str:
    text = moment.astimezone(zone).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def job_from_template(cj: dict, scheduled: datetime) -> dict:
    """The Job for one schedule time: the template, owned by the CronJob, stamped with the time."""
    template = json.loads(json.dumps((cj.get("spec") or {}).get("jobTemplate") or {}))
    meta = template.get("metadata") or {}
    _, zone = _schedule(cj)
    annotations = dict(meta.get("annotations") or {})
    annotations[SCHEDULED_ANNOTATION] = _rfc3339(scheduled, zone)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(cj, scheduled),
            "namespace": cj["metadata"]["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": annotations,
            "ownerReferences": [owner_reference(cj)],
        },
        "spec": template.get("spec") or {},
    }


def job_reference(job: dict) -> dict:
    meta = job["metadata"]
    return {
        "kind": "Job",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": "batch/v1",
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def expired_history(cj: dict, jobs: list[dict]) -> list[dict]:
    """Finished Jobs past successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first."""
    spec = cj.get("spec") or {}

    def started(job: dict) -> tuple:
        start = (job.get("status") or {}).get("startTime")
        return start is None, start or "", job["metadata"]["name"]

    expired: list[dict] = []
    for verdict, field in (
        ("Complete", "successfulJobsHistoryLimit"),
        ("Failed", "failedJobsHistoryLimit"),
    ):
        if spec.get(field) is None:
            continue
        done = sorted((j for j in owned(jobs, cj) if job_finished(j) == verdict), key=started)
        expired += done[: max(0, len(done) - int(spec[field]))]
    return expired


class CronJobController(Controller):
    kind = "CronJob"
    resource = "cronjobs"
    component = "cronjob-controller"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._due: datetime | None = None

    def next_due(self) -> datetime | None:
        """The next schedule time of any CronJob: nothing else would wake the loop then."""
        return self._due

    def sync(self, world: World, now: datetime) -> None:
        self._due = None
        self.each(world.cronjobs, self._sync_cronjob, world, now)

    def _sync_cronjob(self, cj: dict, world: World, now: datetime) -> None:
        old = cj.get("status") or {}
        status = json.loads(json.dumps(old))
        active = self._still_active(cj, world, now, status)
        if not (cj.get("spec") or {}).get("suspend"):
            try:
                active = self._on_schedule(cj, world, now, status, active)
            except ScheduleError as error:
                self.record(cj, "Warning", error.reason, _problem(cj, error), now)
        if active:
            status["active"] = active
        else:
            status.pop("active", None)
        for job in expired_history(cj, world.jobs):
            self._delete_job(cj, job, world, now)
        if status != old:
            self.write_status("cronjobs", cj, status, world)

    def _still_active(self, cj: dict, world: World, now: datetime, status: dict) -> list[dict]:
        """status.active without the Jobs that finished or vanished; the last success noted."""
        mine = {j["metadata"]["uid"]: j for j in owned(world.jobs, cj)}
        active = []
        for reference in status.get("active") or []:
            job = mine.get(reference.get("uid"))
            if job is None and not self._exists(reference, cj):
                message = f"Active job went missing: {reference.get('name')}"
                self.record(cj, "Normal", "MissingJob", message, now)
                continue
            verdict = job_finished(job) if job else ""
            if verdict:
                message = f"Saw completed job: {job['metadata']['name']}, condition: {verdict}"
                self.record(cj, "Normal", "SawCompletedJob", message, now)
                continue
            active.append(reference)
        for job in mine.values():
            finished_at = (job.get("status") or {}).get("completionTime")
            last = status.get("lastSuccessfulTime")
            if job_finished(job) == "Complete" and finished_at and (not last or finished_at > last):
                status["lastSuccessfulTime"] = finished_at
        return active

    def _exists(self, reference: dict, cj: dict) -> bool:
        """Ask the API before calling a Job missing: the snapshot may not have seen it yet."""
        try:
            job = self.client.get("jobs", reference["name"], cj["metadata"]["namespace"])
        except ApiError as error:
            if error.code != 404:
                raise
            return False
        return job["metadata"]["uid"] == reference.get("uid")

    def _on_schedule(
        self, cj: dict, world: World, now: datetime, status: dict, active: list[dict]
    ) -> list[dict]:
        """Start the Job for the latest schedule time due, as the concurrency policy allows."""
        following = next_after(cj, now)
        self._due = following if self._due is None else min(self._due, following)
        scheduled, missed = most_recent(cj, now)
        if scheduled is None or any(r.get("name") == job_name(cj, scheduled) for r in active):
            return active
        spec = cj.get("spec") or {}
        if missed > TOO_MANY_MISSED:
            message = (
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew"
            )
            self.record(cj, "Warning", "TooManyMissedTimes", message, now)
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
            when = scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000")
            message = f"Missed scheduled time to start a job: {when}"
            self.record(cj, "Warning", "MissedSchedule", message, now)
            return active
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and active:
            message = (
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid"
            )
            self.record(cj, "Normal", "JobAlreadyActive", message, now)
            return active
        if policy == "Replace":
            jobs = {j["metadata"]["uid"]: j for j in world.jobs}
            for reference in active:
                job = jobs.get(reference.get("uid"))
                if job is not None:
                    self._delete_job(cj, job, world, now)
            active = []
        try:
            job = self.client.create("jobs", job_from_template(cj, scheduled))
        except ApiError as error:
            if error.reason == "AlreadyExists":
                return active
            if error.code in (403, 422):
                message = f"Error creating job: {error.status.get('message', '')}"
                self.record(cj, "Warning", "FailedCreate", message, now)
                return active
            raise
        world.put("jobs", job)
        self.record(cj, "Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}", now)
        status["lastScheduleTime"] = stamp(scheduled)
        return [*active, job_reference(job)]

    def _delete_job(self, cj: dict, job: dict, world: World, now: datetime) -> None:
        meta = job["metadata"]
        try:
            self.client.delete("jobs", meta["name"], meta["namespace"], uid=meta["uid"])
        except ApiError as error:
            if error.code not in (404, 409):
                raise
        world.drop("jobs", meta["uid"])
        self.record(cj, "Normal", "SuccessfulDelete", f"Deleted job {meta['name']}", now)
