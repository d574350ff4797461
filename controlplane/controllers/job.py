"""The Job controller: runs Pods until enough succeed, or gives up after backoffLimit."""

from datetime import datetime

from controlplane.clock import stamp
from controlplane.controllers.common import (
    Controller,
    World,
    condition,
    live,
    owned,
    pod_ready,
)


def job_counts(job: dict, pods: list[dict]) -> dict[str, int]:
    mine = owned(pods, job)
    phases = [(p.get("status") or {}).get("phase") for p in mine]
    return {
        "active": sum(live(p) for p in mine),
        "succeeded": phases.count("Succeeded"),
        "failed": phases.count("Failed"),
        "ready": sum(live(p) and pod_ready(p) for p in mine),
        "terminating": sum(bool(p["metadata"].get("deletionTimestamp")) for p in mine),
    }


def plan_job(job: dict, pods: list[dict]) -> tuple[str, int]:
    """("complete"|"failed"|"run", Pods to create).

    Without completions the Job is a work queue: `parallelism` Pods run, and it is complete
    once any one has succeeded and none is still running; no new Pod starts after a success.
    """
    spec = job.get("spec") or {}
    counts = job_counts(job, pods)
    parallelism = int(spec.get("parallelism", 1))
    if spec.get("completions") is None:
        if counts["succeeded"]:
            return ("run" if counts["active"] else "complete"), 0
        remaining = parallelism
    else:
        completions = int(spec["completions"] or 1)
        if counts["succeeded"] >= completions:
            return "complete", 0
        remaining = completions - counts["succeeded"]
    if counts["failed"] > int(spec.get("backoffLimit", 6)):
        return "failed", 0
    if spec.get("suspend"):
        return "run", 0
    return "run", max(0, min(parallelism, remaining) - counts["active"])


def job_finished(job: dict) -> str:
    """ "Complete" or "Failed" once the Job has that condition, else ""."""
    for found in (job.get("status") or {}).get("conditions") or []:
        if found.get("type") in ("Complete", "Failed") and found.get("status") == "True":
            return found["type"]
    return ""


class JobController(Controller):
    kind = "Job"
    resource = "jobs"
    component = "job-controller"

    def sync(self, world: World, now: datetime) -> None:
        self.each(world.jobs, self._sync_job, world, now)

    def _sync_job(self, job: dict, world: World, now: datetime) -> None:
        if job_finished(job):
            return
        verdict, to_create = plan_job(job, world.pods)
        if verdict == "failed":
            for pod in owned(world.pods, job):
                if live(pod):
                    self.delete_pod(job, pod, world, now)
        for _ in range(to_create):
            if self.create_pod(job, world, now) is None:
                break

    def sync_status(self, world: World, now: datetime) -> None:
        self.each(world.jobs, self._report, world, now, skip_deleting=False)

    def _report(self, job: dict, world: World, now: datetime) -> None:
        old = job.get("status") or {}
        if job_finished(job):
            return
        verdict, _ = plan_job(job, world.pods)
        counts = job_counts(job, world.pods)
        status = {
            "startTime": old.get("startTime") or stamp(now),
            "active": counts["active"],
            "succeeded": counts["succeeded"],
            "failed": counts["failed"],
            "ready": counts["ready"],
            "terminating": counts["terminating"],
            "uncountedTerminatedPods": {},
        }
        status = {
            k: v
            for k, v in status.items()
            if v or k in ("ready", "terminating", "uncountedTerminatedPods")
        }
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if verdict == "complete":
            message = "Reached expected number of succeeded pods"
            status["conditions"] = [
                condition([], "SuccessCriteriaMet", "True", "CompletionsReached", message, now),
                condition([], "Complete", "True", "CompletionsReached", message, now),
            ]
            for made in status["conditions"]:
                made["lastProbeTime"] = stamp(now)
            status["completionTime"] = stamp(now)
        elif verdict == "failed" and not counts["active"]:
            message = "Job has reached the specified backoff limit"
            status["conditions"] = [
                condition([], "FailureTarget", "True", "BackoffLimitExceeded", message, now),
                condition([], "Failed", "True", "BackoffLimitExceeded", message, now),
            ]
            for made in status["conditions"]:
                made["lastProbeTime"] = stamp(now)
        if status != old:
            self.write_status("jobs", job, status, world)
            if verdict == "complete":
                self.record(job, "Normal", "Completed", "Job completed", now)
            elif "conditions" in status and verdict == "failed":
                message = "Job has reached the specified backoff limit"
                self.record(job, "Warning", "BackoffLimitExceeded", message, now)
