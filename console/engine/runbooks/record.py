"""Runbook walk-throughs in the audit chain, through the same Gate as every mutation.

A walk is evidence for the incident review: who walked which runbook on which app, when, under
which incident, what each step found and decided, and what was done from it. Each is a gate
attempt (an intent record, then a result record), so it is RBAC-checked, hash-chained and tagged
with the incident as `reason` like a sync or a break-glass:

- `runbook` — a walk. From the CLI (`runbook run --incident`) the whole walk is the attempt's
  `run`: the intent is written before any check runs or any revert is prepared, and the result
  carries every step's decision and the actions taken. From the console it opens the walk; the
  decisions follow one by one.
- `runbook-step` — one decision made in the console (the branch the responder chose, whether it is
  the one the check's answer selects), with the step's answer and evidence.
- `runbook-action` — an action taken from a step (a revert prepared on a branch of the working
  clone, an ignore rule shown to be copied). Cluster actions (sync, break-glass sync, terminate)
  are not taken here: they go through their own gated paths with the incident as reason.

RBAC: all three need `applications, get` on the app — whoever may read the app may walk its
runbook. The record is an audit write by the identified user, not a change to the app or a cluster,
so sync windows and break-glass do not apply (`skip_windows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.engine.audit.record import SUCCEEDED
from console.engine.gate.attempt import Gate, GateResult, Outcome, Request, RunContext
from console.engine.governance import rbac
from console.engine.runbooks.actions import Suggestion
from console.engine.runbooks.facts import Facts
from console.engine.runbooks.library import Loaded
from console.engine.runbooks.schema import Branch
from console.engine.runbooks.walk import StepOutcome, Walk, walk
from console.engine.workspace import Workspace

ACTION_WALK, ACTION_STEP, ACTION_TAKEN = "runbook", "runbook-step", "runbook-action"
ACTIONS = (ACTION_WALK, ACTION_STEP, ACTION_TAKEN)
MAX_EVIDENCE = 6
MAX_LINE = 300


def _line(text: object, limit: int = MAX_LINE) -> str:
    s = " ".join(str(text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _commit(so: StepOutcome) -> dict[str, str] | None:
    data = so.result.data if so.result else {}
    c = data.get("commit")
    if isinstance(c, dict) and c.get("sha"):
        return {"sha": str(c["sha"]), "subject": _line(c.get("subject"), 200)}
    return None


def step_record(w: Walk, index: int, branch: Branch | None = None) -> dict[str, Any]:
    """One step as the audit record keeps it: answer, a bounded excerpt of the evidence, the
    decision (`branch`: the one the responder chose; default the one the answer selects)."""
    so = w.steps[index]
    chosen = branch or so.branch
    out: dict[str, Any] = {
        "step": so.step.id,
        "index": index + 1,
        "question": _line(so.step.question),
        "check": so.step.check or "",
        "result": so.outcome,
        "summary": _line(so.result.summary if so.result else (so.step.hint or "answered by the responder")),
        "evidence": [_line(e) for e in (so.result.evidence if so.result else [])[:MAX_EVIDENCE]],
        "decision": _line(chosen.decision) if chosen else "",
        "suggestedAction": chosen.action if chosen else "none",
        "conclusive": bool(chosen and chosen.conclusive),
    }
    if branch is not None and so.branch is not None and branch is not so.branch:
        out["overrides"] = _line(so.branch.decision)  # the responder chose another branch
    commit = _commit(so)
    if commit:
        out["commit"] = commit
    return out


def conclusion_record(w: Walk) -> dict[str, Any] | None:
    c = w.conclusion
    if c is None:
        return None
    out: dict[str, Any] = {
        "step": c.step.id,
        "summary": _line(c.result.summary if c.result else ""),
        "decision": _line(c.branch.decision if c.branch else ""),
        "action": c.suggestion.action if c.suggestion else "none",
    }
    commit = _commit(c) or next((x for x in (_commit(s) for s in w.steps) if x), None)
    if commit:
        out["commit"] = commit
    return out


def action_record(s: Suggestion) -> dict[str, Any]:
    """What was done (or is to be done) from a step, without snippets' bulk."""
    out: dict[str, Any] = {"type": s.action, "text": _line(s.text, 500)}
    prepared = s.details.get("prepared")
    if isinstance(prepared, dict):
        out["prepared"] = {
            k: prepared[k] for k in ("branch", "sha", "base", "reused") if k in prepared and k != "clone"
        }
    commit = s.details.get("commit")
    if isinstance(commit, dict) and commit.get("sha"):
        out["commit"] = {"sha": str(commit["sha"]), "subject": _line(commit.get("subject"), 200)}
    if s.action == "ignore-rule":
        out["managers"] = list(s.details.get("managers") or [])
        out["verified"] = bool(s.details.get("verified"))
    return out


def _request(action: str, app: str, params: dict[str, Any], incident: str) -> Request:
    return Request(
        action, app, params, reason=incident, permission=rbac.ACT_GET, skip_windows=True, manual=True
    )


def _base(w: Walk | Loaded, via: str) -> dict[str, Any]:
    loaded = w.runbook if isinstance(w, Walk) else w
    spec = loaded.runbook.spec
    return {"runbook": loaded.name, "title": spec.title, "reference": spec.reference, "via": via}


def walk_message(w: Walk) -> str:
    c = conclusion_record(w)
    head = f"runbook {w.runbook.name} on {w.app}: {len(w.steps)} steps"
    if c is None:
        return f"{head}; no step explains it (escalate)"
    return f"{head}; conclusion ({c['step']}): {c['summary']} -> {c['decision']}"


def recorded_walk(
    gate: Gate,
    ws: Workspace,
    loaded: Loaded,
    app: str,
    *,
    incident: str,
    prepare: bool = True,
    facts: Facts | None = None,
) -> tuple[GateResult, Walk | None]:
    """`runbook run --incident`: the walk inside one audited attempt (intent first, so nothing is
    read or prepared unrecorded); the result record holds every step and the actions taken."""
    holder: dict[str, Walk] = {}

    def run(ctx: RunContext) -> Outcome:
        w = walk(ws, loaded, app, incident=incident, prepare=prepare, facts=facts, actor=ctx.identity.user)
        holder["walk"] = w
        taken = [
            action_record(s.suggestion)
            for s in w.steps
            if s.suggestion is not None and s.suggestion.details.get("prepared")
        ]
        details: dict[str, Any] = {
            "steps": [step_record(w, i) for i in range(len(w.steps))],
            "conclusion": conclusion_record(w),
        }
        if taken:
            details["actionsTaken"] = taken
        return Outcome(SUCCEEDED, walk_message(w), value=w, details=details)

    result = gate.attempt(_request(ACTION_WALK, app, _base(loaded, "cli"), incident), run)
    return result, holder.get("walk")


def open_walk(gate: Gate, w: Walk, *, incident: str, via: str = "console") -> GateResult:
    """The console's first decision opens the walk; its intent seq ties the decisions together."""
    params = {**_base(w, via), "steps": len(w.steps), "conclusion": conclusion_record(w)}

    def run(ctx: RunContext) -> Outcome:
        del ctx
        return Outcome(
            SUCCEEDED, f"walk of runbook {w.runbook.name} on {w.app} opened ({len(w.steps)} steps)"
        )

    return gate.attempt(_request(ACTION_WALK, w.app, params, incident), run)


def record_step(
    gate: Gate, w: Walk, walk_seq: int, index: int, branch: Branch, *, incident: str
) -> GateResult:
    """One decision: the responder chose `branch` for step `index`."""
    rec = step_record(w, index, branch)
    params = {**_base(w, "console"), "walk": walk_seq, **rec}
    message = f"step {rec['index']} {rec['step']} [{rec['result']}]: {rec['decision']}"

    def run(ctx: RunContext) -> Outcome:
        del ctx
        return Outcome(SUCCEEDED, message)

    return gate.attempt(_request(ACTION_STEP, w.app, params, incident), run)


def record_action(
    gate: Gate,
    w: Walk,
    walk_seq: int,
    index: int,
    branch: Branch,
    take: Callable[[], Suggestion],
    *,
    incident: str,
) -> GateResult:
    """An action taken from step `index`: the intent is recorded before `take` runs; the result
    says what it did (the prepared branch and commit). `value` is the Suggestion."""
    so = w.steps[index]
    params = {
        **_base(w, "console"),
        "walk": walk_seq,
        "step": so.step.id,
        "index": index + 1,
        "type": branch.action,
    }

    def run(ctx: RunContext) -> Outcome:
        del ctx
        s = take()
        rec = action_record(s)
        failed = s.action == "revert-commit" and not s.details.get("prepared")
        status = "failed" if failed else SUCCEEDED
        return Outcome(status, rec["text"], value=s, code=1 if failed else None, details={"taken": rec})

    return gate.attempt(_request(ACTION_TAKEN, w.app, params, incident), run)
