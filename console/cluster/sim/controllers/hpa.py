"""HorizontalPodAutoscaler controller. There are no metrics in the sim: the desired count is the
HPA annotation `sim.trueup.dev/desired-replicas` (else minReplicas), clamped to [min, max]. The
target is scaled through its scale subresource by kube-controller-manager, as the real HPA does."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from console.cluster.api import split_api_version
from console.cluster.sim.clock import rfc3339
from console.cluster.sim.controllers import events
from console.cluster.sim.controllers.registry import register
from console.cluster.sim.controllers.util import KCM, set_condition, ts, update_status
from console.cluster.sim.core import Core
from console.cluster.sim.store import Key

Obj = dict[str, Any]
DESIRED_ANNOTATION = "sim.trueup.dev/desired-replicas"
SYNC_PERIOD = 15
METRIC_MSG = (
    "the HPA was able to successfully calculate a replica count from cpu resource utilization "
    "(percentage of request)"
)


@register("autoscaling", "HorizontalPodAutoscaler")
def reconcile(core: Core, key: Key) -> None:
    hpa = core.find(*key)
    if hpa is None or hpa["metadata"].get("deletionTimestamp"):
        return
    now_s = rfc3339(core.now())
    spec = hpa.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    lo, hi = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
    status: Obj = copy.deepcopy(hpa.get("status") or {})
    conds = status.get("conditions")
    group, _ = split_api_version(str(ref.get("apiVersion") or "apps/v1"))
    info = core.storage(group, str(ref.get("kind", "")))
    target = core.find(group, str(ref.get("kind", "")), key[2], str(ref.get("name", ""))) if info else None
    if target is None or info is None or "scale" not in info.resource.subresources:
        what = f'{info.qualified_resource if info else str(ref.get("kind", "")).lower()} "{ref.get("name")}"'
        conds = set_condition(
            conds,
            "AbleToScale",
            "False",
            "FailedGetScale",
            f"the HPA controller was unable to get the target's current scale: {what} not found",
            now_s,
        )
        status.update({"conditions": conds, "currentReplicas": 0, "desiredReplicas": 0})
        update_status(core, hpa, status)
        return
    current = int((target.get("spec") or {}).get("replicas", 1))
    try:
        raw = int(((hpa["metadata"].get("annotations") or {}).get(DESIRED_ANNOTATION)) or lo)
    except ValueError:
        raw = lo
    desired = max(lo, min(hi, raw))
    if current == 0 and lo > 0:
        conds = set_condition(
            conds,
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
            now_s,
        )
        conds = set_condition(
            conds,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
            now_s,
        )
        status.update({"conditions": conds, "currentReplicas": 0, "desiredReplicas": 0})
        update_status(core, hpa, status)
        return
    if desired != current:
        scaled = copy.deepcopy(target)
        scaled["spec"]["replicas"] = desired
        core.write_as(scaled, KCM, subresource="scale")
        status["lastScaleTime"] = now_s
        if current < lo:
            why = "Current number of replicas below Spec.MinReplicas"
        elif current > hi:
            why = "Current number of replicas above Spec.MaxReplicas"
        elif desired > current:
            why = "cpu resource utilization (percentage of request) above target"
        else:
            why = "All metrics below target"
        msg = f"New size: {desired}; reason: {why}"
        events.record(core, hpa, events.NORMAL, "SuccessfulRescale", msg, "horizontal-pod-autoscaler")
        conds = set_condition(
            conds,
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
            now_s,
        )
    else:
        # The real controller re-evaluates every 15 s: a fresh rescale stays reported until then.
        last = ts(status.get("lastScaleTime"))
        able: Obj = next((c for c in conds or [] if c.get("type") == "AbleToScale"), {})
        if (
            last
            and able.get("reason") == "SucceededRescale"
            and core.now() < last + timedelta(seconds=SYNC_PERIOD)
        ):
            core.enqueue(key, (last + timedelta(seconds=SYNC_PERIOD)).timestamp())
            return
        conds = set_condition(
            conds, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", now_s
        )
    conds = set_condition(conds, "ScalingActive", "True", "ValidMetricFound", METRIC_MSG, now_s)
    if raw > hi:
        conds = set_condition(
            conds,
            "ScalingLimited",
            "True",
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
            now_s,
        )
    elif raw < lo:
        conds = set_condition(
            conds,
            "ScalingLimited",
            "True",
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
            now_s,
        )
    else:
        conds = set_condition(
            conds,
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
            now_s,
        )
    order = ["AbleToScale", "ScalingActive", "ScalingLimited"]
    status.update(
        {
            "conditions": sorted(conds, key=lambda c: order.index(c["type"]) if c["type"] in order else 9),
            "currentReplicas": current,
            "desiredReplicas": desired,
        }
    )
    update_status(core, hpa, status)
