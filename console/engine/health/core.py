"""Built-in checks for the core group: Service, PersistentVolumeClaim, Pod (gitops-engine pkg/health)."""

from __future__ import annotations

from typing import Any

from console.engine.health.status import (
    DEGRADED,
    HEALTHY,
    PROGRESSING,
    UNKNOWN,
    HealthStatus,
)
from console.engine.health.typed import (
    Typed,
    as_int,
    as_list,
    as_map,
    as_str,
    condition,
    go_quote,
    lb_ingress,
)

ANNOTATION_IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"


def service(o: Typed, _hook: bool) -> HealthStatus:
    if as_str(o.spec.get("type"), ".spec.type") == "LoadBalancer" and not lb_ingress(o):
        return HealthStatus(PROGRESSING)
    return HealthStatus(HEALTHY)


def pvc(o: Typed, _hook: bool) -> HealthStatus:
    phase = as_str(o.status.get("phase"), ".status.phase")
    return HealthStatus({"Lost": DEGRADED, "Pending": PROGRESSING, "Bound": HEALTHY}.get(phase, UNKNOWN))


def _container_statuses(o: Typed, key: str) -> list[dict[str, Any]]:
    items = as_list(o.status.get(key), f".status.{key}")
    return [as_map(c, f".status.{key}[{i}]") for i, c in enumerate(items)]


def _pod_fail_message(ctr: dict[str, Any]) -> str:
    state = as_map(ctr.get("state"), "state")
    term = state.get("terminated")
    if term is None:
        return ""
    term = as_map(term, "state.terminated")
    message = as_str(term.get("message"), "state.terminated.message")
    if message:
        return message
    reason = as_str(term.get("reason"), "state.terminated.reason")
    if reason == "OOMKilled":
        return reason
    code = as_int(term.get("exitCode"), "state.terminated.exitCode")
    if code != 0:
        return f"container {go_quote(as_str(ctr.get('name'), 'name'))} failed with exit code {code}"
    return ""


def pod(o: Typed, hook: bool) -> HealthStatus:
    # The API server defaults restartPolicy to Always; a simulator may leave it out.
    policy = as_str(o.spec.get("restartPolicy"), ".spec.restartPolicy") or "Always"
    ignore_policy = o.annotations.get(ANNOTATION_IGNORE_RESTART_POLICY) == "true" and not hook
    # Pods with OnFailure/Never are usually hooks: calling ImagePullBackOff Degraded would fail the
    # hook early and then run it after the sync. The annotation opts a non-hook pod back in.
    always = policy == "Always" or ignore_policy
    containers = _container_statuses(o, "containerStatuses")
    message = as_str(o.status.get("message"), ".status.message")
    if always:
        messages: list[str] = []
        for ctr in containers:
            waiting = as_map(ctr.get("state"), "state").get("waiting")
            if waiting is None:
                continue
            waiting = as_map(waiting, "state.waiting")
            reason = as_str(waiting.get("reason"), "state.waiting.reason")
            if reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff"):
                messages.append(as_str(waiting.get("message"), "state.waiting.message"))
        if messages:
            return HealthStatus(DEGRADED, ", ".join(messages))
    phase = as_str(o.status.get("phase"), ".status.phase")
    if phase == "Pending":
        return HealthStatus(PROGRESSING, message)
    if phase == "Succeeded":
        return HealthStatus(HEALTHY, message)
    if phase == "Failed":
        if message:
            return HealthStatus(DEGRADED, message)
        for ctr in _container_statuses(o, "initContainerStatuses") + containers:
            fail = _pod_fail_message(ctr)
            if fail:
                return HealthStatus(DEGRADED, fail)
        return HealthStatus(DEGRADED, "")
    if phase == "Running":
        if always:
            ready = condition(o.conditions(), "Ready")
            if ready is not None and ready.get("status") == "True":
                return HealthStatus(HEALTHY, message)
            for ctr in containers:
                last = as_map(ctr.get("lastState"), "lastState")
                if last.get("terminated") is not None:
                    return HealthStatus(DEGRADED, message)
            return HealthStatus(PROGRESSING, message)
        if policy in ("OnFailure", "Never"):
            # finite-life pods (typically hooks) are Progressing until they finish
            return HealthStatus(PROGRESSING, message)
    return HealthStatus(UNKNOWN, message)
