"""How a CronJob's schedule and time zone read: one reading for the whole app.

Admission refuses a schedule that does not parse (as kube-apiserver does), the CronJob
controller computes its times from the same reading, and the tracking page says when the
next order falls due. Five cron fields, or one of the `@hourly`-style shorthands, in the
CronJob's `spec.timeZone` if it names one, else in the controller manager's (UTC here).
"""

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

# The shorthands Kubernetes' cron parser accepts besides the five fields.
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class ScheduleError(ValueError):
    """The schedule or time zone cannot be read; `reason` is the controller event's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def zone_of(time_zone: object) -> tzinfo:
    """The time zone `spec.timeZone` names (IANA names only), or UTC when it is unset."""
    if not time_zone:
        return UTC
    try:
        return ZoneInfo(str(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("UnknownTimeZone", f"unknown time zone {time_zone}") from None


def read(spec: dict) -> tuple[str, tzinfo]:
    """(cron expression, time zone) of a CronJob spec; raises ScheduleError."""
    text = str(spec.get("schedule") or "").strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        # Refused since Kubernetes 1.27: the time zone has a field of its own.
        raise ScheduleError(
            "UnparseableSchedule",
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        )
    expression = DESCRIPTORS.get(text, text)
    zone = zone_of(spec.get("timeZone"))
    fields = len(expression.split())
    if fields != 5:
        raise ScheduleError(
            "UnparseableSchedule", f"expected exactly 5 fields, found {fields}: {text}"
        )
    try:
        CronSim(expression, datetime.now(zone))
    except CronSimError as error:
        problem = (str(error) or "unparseable schedule").lower()
        raise ScheduleError("UnparseableSchedule", f"{problem} field in {text!r}") from None
    return expression, zone


def next_after(spec: dict, moment: datetime) -> datetime:
    """The first schedule time strictly after `moment`, in UTC."""
    expression, zone = read(spec)
    return next(CronSim(expression, moment.astimezone(zone))).astimezone(UTC)
