"""The registry of built-in checks by (group, kind), with the API versions each one understands.
Kinds without a check get no health (None): sync treats them as ready, aggregation skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from console.engine.health import apiregistration, apps, argoproj, autoscaling, batch, core, networking
from console.engine.health.status import UNKNOWN, HealthStatus
from console.engine.health.typed import ConversionError, Typed, gvk_string

_Check = Callable[[Typed, bool], HealthStatus]


# (group, kind) -> (supported versions or None for any, check)
_BUILTIN: dict[tuple[str, str], tuple[frozenset[str] | None, _Check]] = {
    ("apps", "Deployment"): (frozenset({"v1"}), apps.deployment),
    ("apps", "StatefulSet"): (frozenset({"v1"}), apps.statefulset),
    ("apps", "ReplicaSet"): (frozenset({"v1"}), apps.replicaset),
    ("apps", "DaemonSet"): (frozenset({"v1"}), apps.daemonset),
    ("extensions", "Ingress"): (None, networking.ingress),
    ("networking.k8s.io", "Ingress"): (None, networking.ingress),
    ("argoproj.io", "Workflow"): (None, argoproj.workflow),
    ("apiregistration.k8s.io", "APIService"): (frozenset({"v1", "v1beta1"}), apiregistration.apiservice),
    ("", "Service"): (frozenset({"v1"}), core.service),
    ("", "PersistentVolumeClaim"): (frozenset({"v1"}), core.pvc),
    ("", "Pod"): (frozenset({"v1"}), core.pod),
    ("batch", "Job"): (frozenset({"v1"}), batch.job),
    ("autoscaling", "HorizontalPodAutoscaler"): (None, autoscaling.hpa),  # version handled inside
    # bundled Lua, keyed by group/kind only
    ("batch", "CronJob"): (None, batch.cronjob),
    ("argoproj.io", "Rollout"): (None, argoproj.rollout),
}


def has_builtin_check(group: str, kind: str) -> bool:
    """Whether a kind has a health check without any configuration."""
    return (group, kind) in _BUILTIN


def builtin_health(
    obj: Mapping[str, Any], group: str, version: str, kind: str, hook: bool
) -> HealthStatus | None:
    entry = _BUILTIN.get((group, kind))
    if entry is None:
        return None
    versions, check = entry
    if versions is not None and version not in versions:
        return HealthStatus(UNKNOWN, f"unsupported {kind} GVK: {gvk_string(group, version, kind)}")
    try:
        return check(Typed(obj), hook)
    except ConversionError as exc:
        text = str(exc)
        if text.startswith(("failed to convert", "unsupported ")):
            return HealthStatus(UNKNOWN, text)
        label = "HPA" if kind == "HorizontalPodAutoscaler" else kind
        return HealthStatus(UNKNOWN, f"failed to convert unstructured {label} to typed: {text}")
