"""Built-in check for Ingress (`networking.k8s.io` and the old `extensions` group)."""

from __future__ import annotations

from console.engine.health.status import HEALTHY, PROGRESSING, HealthStatus
from console.engine.health.typed import Typed


def ingress(o: Typed, _hook: bool) -> HealthStatus:
    lb = o.status.get("loadBalancer")
    ingresses = lb.get("ingress") if isinstance(lb, dict) else None
    return HealthStatus(HEALTHY if isinstance(ingresses, list) and ingresses else PROGRESSING)
