"""Application health (controller/health.go `setApplicationHealth`): worst-of by `HEALTH_ORDER`, with
Argo's skips, and the 3.6 "Caused by ..." message naming the resources behind the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from console.engine.health.status import APP_GROUPS, HEALTHY, MISSING, UNKNOWN, HealthStatus, is_worse

MAX_HEALTH_CAUSES_SHOWN = 3  # controller/health.go maxHealthCausesShown


@dataclass(frozen=True)
class ResourceHealthInput:
    group: str
    kind: str
    namespace: str
    name: str
    health: HealthStatus | None  # None = no health check for this kind
    live_exists: bool
    hook: bool = False
    ignore_healthcheck: bool = False  # live annotation argocd.argoproj.io/ignore-healthcheck: "true"
    self_managed_app: bool = False


def _is_child_app(r: ResourceHealthInput) -> bool:
    return r.kind == "Application" and r.group in APP_GROUPS


def recorded_health(r: ResourceHealthInput) -> HealthStatus | None:
    """The health Argo writes on the resource's status entry (None where it records none)."""
    if r.hook:
        return None
    if not r.live_exists:
        return HealthStatus(MISSING)
    if r.ignore_healthcheck or r.self_managed_app:
        return None
    return r.health


def format_health_causes(causes: Sequence[ResourceHealthInput]) -> str:
    """controller/health.go formatHealthCauses: "Caused by apps/Deployment:ns/web, ... and N more"."""
    if not causes:
        return ""
    parts = []
    for c in causes[:MAX_HEALTH_CAUSES_SHOWN]:
        gk = f"{c.group}/{c.kind}" if c.group else c.kind
        name = f"{c.namespace}/{c.name}" if c.namespace else c.name
        parts.append(f"{gk}:{name}")
    summary = ", ".join(parts)
    if len(causes) > MAX_HEALTH_CAUSES_SHOWN:
        summary = f"{summary} and {len(causes) - MAX_HEALTH_CAUSES_SHOWN} more"
    return "Caused by " + summary


def aggregate_app_health(resources: Sequence[ResourceHealthInput]) -> HealthStatus:
    """Application health: worst resource health, with Argo's skips; message names the causes."""
    app_status = HEALTHY
    causes: list[ResourceHealthInput] = []
    contains_resources = contains_live = False
    for r in resources:
        if r.hook:
            continue
        contains_resources = True
        if r.live_exists:
            contains_live = True
        if r.live_exists and r.ignore_healthcheck:
            continue
        if not r.live_exists:
            # Missing is recorded on the resource but OutOfSync already says it; the app is not Missing
            continue
        if r.self_managed_app:
            continue  # an app that manages itself must not affect its own health
        health = r.health
        if health is None:
            continue
        if _is_child_app(r) and health.status in (MISSING, UNKNOWN):
            continue  # a child app that is missing or unknown does not drag the parent down
        if is_worse(app_status, health.status):
            app_status = health.status
            causes = [r]
        elif app_status == health.status and app_status != HEALTHY:
            causes.append(r)
    if contains_resources and not contains_live and is_worse(app_status, MISSING):
        return HealthStatus(MISSING)
    return HealthStatus(app_status, format_health_causes(causes))
