"""Built-in check for APIService (`apiregistration.k8s.io`)."""

from __future__ import annotations

from console.engine.health.status import HEALTHY, PROGRESSING, HealthStatus
from console.engine.health.typed import Typed, as_str


def apiservice(o: Typed, _hook: bool) -> HealthStatus:
    for cond in o.conditions():
        if cond.get("type") == "Available":
            text = f"{as_str(cond.get('reason'), 'reason')}: {as_str(cond.get('message'), 'message')}"
            return HealthStatus(HEALTHY if cond.get("status") == "True" else PROGRESSING, text)
    return HealthStatus(PROGRESSING, "Waiting to be processed")
