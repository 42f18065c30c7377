"""Job controller (+ TTL-after-finished): pods up to parallelism, retries with the real exponential
backoff (10 s doubling, capped at 6 min) until backoffLimit, then the terminal conditions the
1.3x controller writes (SuccessCriteriaMet+Complete, or FailureTarget+Failed)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from console.cluster.sim.clock import rfc3339
from console.cluster.sim.controllers import events
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import (
    KCM,
    is_ready,
    owned,
    pod_from_template,
    ts,
    update_status,
)
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]


def _cond(conds: list[Obj], ctype: str, reason: str, message: str, now: str) -> list[Obj]:
    if any(c.get("type") == ctype for c in conds):
        return conds
    return conds + [
        {
            "type": ctype,
            "status": "True",
            "lastProbeTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }
    ]


def finished(job: Obj) -> str | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c.get("lastTransitionTime"))
    return None


def _phase(p: Obj) -> str:
    return str((p.get("status") or {}).get("phase", ""))


def _finish_time(p: Obj) -> str:
    for s in (p.get("status") or {}).get("containerStatuses") or []:
        t = ((s.get("state") or {}).get("terminated") or {}).get("finishedAt")
        if t:
            return str(t)
    return ""


@register("batch", "Job")
def reconcile(core: Core, key: Key) -> None:
    job = core.find(*key)
    if job is None or job["metadata"].get("deletionTimestamp"):
        return
    now = core.now()
    now_s = rfc3339(now)
    spec = job["spec"]
    done_at = finished(job)
    if done_at:
        ttl = spec.get("ttlSecondsAfterFinished")
        if ttl is not None:
            expiry = (ts(done_at) or now) + timedelta(seconds=int(ttl))
            if expiry <= now:
                core.delete_obj(job, "Foreground")
            else:
                core.enqueue(key, expiry.timestamp())
        return
    status: Obj = copy.deepcopy(job.get("status") or {})
    conds: list[Obj] = list(status.get("conditions") or [])
    pods = owned(core, job, "Pod")
    if spec.get("suspend"):
        for p in pods:
            if _phase(p) not in ("Succeeded", "Failed"):
                core.delete_obj(p)
        if not any(c.get("type") == "Suspended" for c in conds):
            conds.append(
                {
                    "type": "Suspended",
                    "status": "True",
                    "lastProbeTime": now_s,
                    "lastTransitionTime": now_s,
                    "reason": "JobSuspended",
                    "message": "Job suspended",
                }
            )
        status.update({"conditions": conds, "active": 0, "ready": 0, "terminating": 0})
        update_status(core, job, {k: v for k, v in status.items() if v or k in ("ready", "terminating")})
        return
    conds = [c for c in conds if c.get("type") != "Suspended"]
    status.setdefault("startTime", now_s)
    active = [p for p in pods if _phase(p) not in ("Succeeded", "Failed")]
    succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
    failed = sum(1 for p in pods if _phase(p) == "Failed")
    completions = spec.get("completions")
    parallelism = int(spec.get("parallelism", 1))
    backoff_limit = int(spec.get("backoffLimit", 6))
    deadline = spec.get("activeDeadlineSeconds")
    started = ts(status["startTime"]) or now
    terminal: str | None = None
    if failed > backoff_limit:
        conds = _cond(
            conds,
            "FailureTarget",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            now_s,
        )
        conds = _cond(
            conds, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now_s
        )
        terminal = "Failed"
    elif deadline is not None and started + timedelta(seconds=int(deadline)) <= now:
        conds = _cond(
            conds, "FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", now_s
        )
        conds = _cond(
            conds, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline", now_s
        )
        terminal = "Failed"
    elif (completions is not None and succeeded >= int(completions)) or (
        completions is None and succeeded > 0 and not active
    ):
        conds = _cond(
            conds,
            "SuccessCriteriaMet",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            now_s,
        )
        conds = _cond(
            conds, "Complete", "CompletionsReached", "Reached expected number of succeeded pods", now_s
        )
        terminal = "Complete"
        status["completionTime"] = max((_finish_time(p) for p in pods), default=now_s) or now_s
    if terminal:
        for p in active:
            core.delete_obj(p)
        active = []
        if terminal == "Complete":
            events.record(core, job, events.NORMAL, "Completed", "Job completed", "job-controller")
        else:
            reason = next(c.get("reason", "") for c in conds if c.get("type") == "Failed")
            message = next(c.get("message", "") for c in conds if c.get("type") == "Failed")
            events.record(core, job, events.WARNING, reason, message, "job-controller")
    else:
        want = parallelism if completions is None else min(parallelism, int(completions) - succeeded)
        missing = max(0, want - len(active))
        if missing:
            not_before = now
            if failed:
                last_fail = max(
                    (ts(_finish_time(p)) or now for p in pods if _phase(p) == "Failed"), default=now
                )
                backoff = min(10 * 2 ** (failed - 1), 360)
                not_before = last_fail + timedelta(seconds=backoff)
            if not_before <= now:
                for _ in range(missing):
                    pod = pod_from_template(
                        spec.get("template") or {}, key[2], job, generate_name=f"{job['metadata']['name']}-"
                    )
                    created = core.write_as(pod, KCM, create=True)
                    active.append(created)
                    msg = f"Created pod: {created['metadata']['name']}"
                    events.record(core, job, events.NORMAL, "SuccessfulCreate", msg, "job-controller")
            else:
                core.enqueue(key, not_before.timestamp())
        if deadline is not None:
            core.enqueue(key, (started + timedelta(seconds=int(deadline))).timestamp())
    status.update(
        {
            "active": len(active),
            "succeeded": succeeded,
            "failed": failed,
            "ready": sum(
                1 for p in active if is_ready(core.find("", "Pod", key[2], p["metadata"]["name"]) or p)
            ),
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": conds,
        }
    )
    status = {
        k: v for k, v in status.items() if v or k in ("ready", "terminating", "uncountedTerminatedPods")
    }
    update_status(core, job, status)
    if terminal and spec.get("ttlSecondsAfterFinished") is not None:
        core.enqueue(key)
