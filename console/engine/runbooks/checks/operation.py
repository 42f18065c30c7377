"""Checks about a running operation: what it waits for (a hook whose pod cannot start, a wave
that is not healthy), and whether any controller is working on it at all."""

from __future__ import annotations

from typing import Any

from console.cluster.api import ClusterError
from console.engine.runbooks.checks.base import Result, check, one_line
from console.engine.runbooks.checks.health import problems_of
from console.engine.runbooks.facts import Facts, ago, parse_time
from console.engine.sync import lease


def _waiting_tasks(op: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in (op.get("syncResult") or {}).get("resources") or []
        if r.get("hookPhase") in ("Running", "Pending", "") and r.get("status") not in ("SyncFailed",)
    ]


@check(
    "operation-waiting-on",
    "what the running operation waits for, down to the pod that cannot start",
    ("blocked", "waiting", "no"),
)
def operation_waiting_on(facts: Facts, _p: Any) -> Result:
    op = facts.operation
    if op.get("phase") not in ("Running", "Terminating"):
        return Result("no", "no operation is running")
    evidence: list[str] = []
    blocked = False
    first = ""
    for task in _waiting_tasks(op):
        kind, ns, name = (
            str(task.get("kind") or ""),
            str(task.get("namespace") or ""),
            str(task.get("name") or ""),
        )
        hook = task.get("hookType") or ""
        what = f"{hook + ' hook ' if hook else ''}{kind} {ns + '/' if ns else ''}{name}"
        api_version = (
            f"{task.get('group')}/{task.get('version')}"
            if task.get("group")
            else str(task.get("version") or "v1")
        )
        live = facts.live_object(api_version, kind, ns, name)
        if live is None:
            evidence.append(f"{what}: {task.get('syncPhase') or ''} task not created yet")
            continue
        done = _finished(live)
        if done:
            evidence.append(
                f"{what} already finished ({done}) but the operation has not moved on: no controller processed it"
            )
            continue
        pods = facts.pods_of(live, depth=1) if kind == "Job" else facts.pods_of(live)
        problems = [p for pod in pods for p in problems_of(pod)]
        status = live.get("status") or {}
        active = status.get("active")
        line = f"{what}: {task.get('hookPhase') or 'running'}" + (
            f", {active} active pod(s)" if active else ""
        )
        evidence.append(line)
        for p in problems[:3]:
            evidence.append(f"  {p.line()}")
            blocked = True
            if not first:
                first = f"{what} cannot finish: {p.line()}"
    if blocked:
        return Result("blocked", first, evidence)
    message = one_line(op.get("message"), 200)
    return Result("waiting", f"waiting: {message or 'tasks in progress'}", evidence)


@check("controller-running", "a controller is alive and holds (or can take) the operation")
def controller_running(facts: Facts, _p: Any) -> Result:
    control = facts.ws.control()
    try:
        beat = lease.running_controller(control)
        holder = lease.holder_of(control, facts.name)
    except ClusterError as exc:
        return Result("unknown", f"cannot read the controller Leases: {exc.message}")
    evidence = []
    if holder:
        evidence.append(f"the operation Lease is held by {holder}")
    if beat:
        evidence.append(f"controller {beat} is running (fresh heartbeat)")
        return Result("yes", f"yes: controller {beat} is running", evidence)
    op = facts.operation
    started = parse_time(op.get("startedAt"))
    evidence.append(
        "no controller heartbeat: nothing advances operations until `trueup controller run` (or the console) runs"
    )
    return Result(
        "no", f"no controller is running; the operation started {ago(facts.now, started)}", evidence
    )


def _finished(job: dict[str, Any]) -> str:
    for c in (job.get("status") or {}).get("conditions") or []:
        if (
            c.get("type") in ("Complete", "Failed", "FailureTarget", "SuccessCriteriaMet")
            and c.get("status") == "True"
        ):
            return f"{c.get('type')}: {c.get('reason') or ''}".rstrip(": ")
    return ""
