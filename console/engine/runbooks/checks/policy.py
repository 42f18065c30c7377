"""Checks for the incident record (§24.4 "policy checks"): what the project allowed, which sync
windows applied at sync time, what admission said, who initiated the sync."""

from __future__ import annotations

from typing import Any

from console.engine.governance import windows
from console.engine.runbooks.checks.base import Result, check, one_line
from console.engine.runbooks.facts import Facts, clock, parse_time


@check("policy-checks", "the checks the last sync passed: project rules, sync windows, admission, initiator")
def policy_checks(facts: Facts, _p: Any) -> Result:
    op = facts.operation
    evidence = []
    initiated = (op.get("operation") or {}).get("initiatedBy") or {}
    who = (
        "auto-sync (system:trueup-controller)"
        if initiated.get("automated")
        else str(initiated.get("username") or "?")
    )
    started = parse_time(op.get("startedAt"))
    evidence.append(f"initiated by {who} at {clock(started)}")
    violations = facts.comparison.policy_violations
    evidence.append(
        f"project {facts.project_name}: "
        + ("; ".join(violations) if violations else "destinations, kinds and source repository allowed")
    )
    project, app = facts.project, facts.parsed_app
    if project is not None and app is not None and started is not None:
        active, inactive = windows.active_windows(project, app, started)
        allowed, state = windows.can_sync(active, inactive, not initiated.get("automated"))
        evidence.append(
            f"sync windows at {clock(started)}: {state}" + ("" if allowed else " (it should not have run)")
        )
    failed = [
        r for r in (op.get("syncResult") or {}).get("resources") or [] if r.get("status") == "SyncFailed"
    ]
    evidence.append(
        "admission: every object was admitted"
        if not failed
        else f"admission/apply refused {len(failed)} object(s): {one_line(failed[0].get('message'), 200)}"
    )
    return Result("yes", f"{len(evidence)} checks recorded", evidence)
