"""Built-in checks for `argoproj.io`: Workflow (gitops-engine) and Rollout (Argo's bundled
health.lua, re-implemented here so it needs no interpreter).
"""

from __future__ import annotations

from typing import Any

from console.engine.health.status import (
    DEGRADED,
    HEALTHY,
    INVALID_HEALTH_STATUS,
    PROGRESSING,
    SUSPENDED,
    UNKNOWN,
    VALID_STATUSES,
    HealthStatus,
)
from console.engine.health.typed import (
    Typed,
    as_int,
    as_list,
    as_map,
    as_str,
)


def workflow(o: Typed, _hook: bool) -> HealthStatus:
    phase = as_str(o.status.get("phase"), ".status.phase")
    message = as_str(o.status.get("message"), ".status.message")
    if phase in ("", "Pending", "Running"):
        return HealthStatus(PROGRESSING, message)
    if phase == "Succeeded":
        return HealthStatus(HEALTHY, message)
    if phase in ("Failed", "Error"):
        return HealthStatus(DEGRADED, message)
    return HealthStatus(UNKNOWN, message)


def _lua_tonumber(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def rollout(o: Typed, _hook: bool) -> HealthStatus:
    waiting = HealthStatus(PROGRESSING, "Waiting for rollout spec update to be observed")
    if o.raw.get("status") is None:
        return waiting
    observed = _lua_tonumber(o.status.get("observedGeneration"))
    # v0.9 rollouts stored a hash there (not a number): treated as observed
    if observed is not None and observed < o.generation:
        return waiting
    if o.spec.get("workloadRef") is not None and o.metadata.get("annotations") is not None:
        workload_gen = _lua_tonumber(o.annotations.get("rollout.argoproj.io/workload-generation"))
        if workload_gen != _lua_tonumber(o.status.get("workloadObservedGeneration")):
            return waiting
    phase = o.status.get("phase")
    if phase is not None:
        # Argo Rollouts >= 1.0 computes phase/message itself; Argo CD surfaces them verbatim.
        status = SUSPENDED if phase == "Paused" else str(phase)
        if status not in VALID_STATUSES:
            return HealthStatus(UNKNOWN, INVALID_HEALTH_STATUS)
        return HealthStatus(status, as_str(o.status.get("message"), ".status.message"))
    for cond in o.conditions():
        ctype, reason = cond.get("type"), cond.get("reason")
        if ctype == "InvalidSpec" or (
            ctype == "Progressing" and reason in ("RolloutAborted", "ProgressDeadlineExceeded")
        ):
            return HealthStatus(DEGRADED, as_str(cond.get("message"), ".status.conditions.message"))
    if as_list(o.status.get("pauseConditions"), ".status.pauseConditions") or o.spec.get("paused") is True:
        return HealthStatus(SUSPENDED, "Rollout is paused")
    pod_hash = o.status.get("currentPodHash")
    if pod_hash is None:
        return HealthStatus(PROGRESSING, "Waiting for rollout to finish: status has not been reconciled.")
    desired = as_int(o.spec.get("replicas"), ".spec.replicas", default=1)
    replicas = o.st_int("replicas")
    updated = o.st_int("updatedReplicas")
    available = o.st_int("availableReplicas")
    if updated < desired:
        return HealthStatus(PROGRESSING, "Waiting for roll out to finish: More replicas need to be updated")
    if available < updated:
        return HealthStatus(
            PROGRESSING, "Waiting for roll out to finish: updated replicas are still becoming available"
        )
    stable: Any = ""
    if o.status.get("stableRS") is not None:
        stable = o.status["stableRS"]
    elif o.status.get("canary") is not None:
        stable = as_map(o.status["canary"], ".status.canary").get("stableRS")  # may be nil, as in Lua
    strategy = as_map(o.spec.get("strategy"), ".spec.strategy")
    if strategy.get("blueGreen") is not None:
        blue_green = o.status.get("blueGreen")
        if not isinstance(blue_green, dict) or blue_green.get("activeSelector") != pod_hash:
            return HealthStatus(PROGRESSING, "active service cutover pending")
        if stable != "" and stable != pod_hash:
            return HealthStatus(PROGRESSING, "waiting for analysis to complete")
    elif strategy.get("canary") is not None:
        if replicas > updated:
            return HealthStatus(
                PROGRESSING, "Waiting for roll out to finish: old replicas are pending termination"
            )
        if stable == "" or stable != pod_hash:
            return HealthStatus(PROGRESSING, "Waiting for rollout to finish steps")
    return HealthStatus(HEALTHY, "")
