"""Built-in checks for `batch`: Job (gitops-engine) and CronJob (Argo's bundled health.lua,
re-implemented here so it needs no interpreter).
"""

from __future__ import annotations

from console.engine.health.status import (
    DEGRADED,
    HEALTHY,
    PROGRESSING,
    SUSPENDED,
    HealthStatus,
)
from console.engine.health.typed import Typed, as_list, as_str


def job(o: Typed, _hook: bool) -> HealthStatus:
    failed = complete = suspended = False
    fail_msg = message = ""
    for cond in o.conditions():
        ctype = cond.get("type")
        if ctype == "Failed":
            failed = complete = True
            fail_msg = as_str(cond.get("message"), ".status.conditions.message")
        elif ctype == "Complete":
            complete = True
            message = as_str(cond.get("message"), ".status.conditions.message")
        elif ctype == "Suspended" and cond.get("status") == "True":
            # Suspended=False (a resumed Job) is not terminal: the Job runs again.
            complete = suspended = True
            message = as_str(cond.get("message"), ".status.conditions.message")
    if not complete:
        return HealthStatus(PROGRESSING, message)
    if failed:
        return HealthStatus(DEGRADED, fail_msg)
    if suspended:
        return HealthStatus(SUSPENDED, message)
    return HealthStatus(HEALTHY, message)


def cronjob(o: Typed, _hook: bool) -> HealthStatus:
    if o.spec.get("suspend") is True:
        # Argo reports Healthy, not Suspended, until argoproj/argo-cd#24428 is fixed.
        return HealthStatus(HEALTHY, "CronJob is Suspended")
    if o.raw.get("status") is None:
        return HealthStatus(PROGRESSING, "Waiting for CronJob")
    last_schedule = o.status.get("lastScheduleTime")
    if last_schedule is None:
        return HealthStatus(HEALTHY, "CronJob has not been scheduled yet")
    last_success = o.status.get("lastSuccessfulTime")
    if last_success is None:
        return HealthStatus(HEALTHY, "The CronJob never completed successfully. It may not be healthy")
    if as_list(o.status.get("active"), ".status.active"):
        return HealthStatus(HEALTHY, "The job is running. Its last execution may not have been successful")
    # RFC 3339 UTC timestamps compare correctly as text, as the Lua script does
    if str(last_success) < str(last_schedule):
        return HealthStatus(DEGRADED, "CronJob has not completed its last execution successfully")
    return HealthStatus(HEALTHY, "CronJob has completed its last execution successfully")
