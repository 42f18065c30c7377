"""Walking a runbook against one Application, and choosing the runbook that fits.

A walk answers every step (a check's outcome, its evidence, the branch that outcome selects and
that branch's suggested action). The *conclusion* is the first step, in runbook order, whose
selected branch is `conclusive`: the answer that explains the incident. Steps without a check
are questions for the responder (`manual`). `suggest` evaluates every runbook's `appliesWhen`
and picks the matching one with the highest priority, saying why in the checks' own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.engine.runbooks import actions
from console.engine.runbooks.checks.base import Result
from console.engine.runbooks.evaluate import evaluate
from console.engine.runbooks.facts import Facts
from console.engine.runbooks.library import MANUAL, Library, Loaded
from console.engine.runbooks.schema import Branch, Step
from console.engine.workspace import Workspace


@dataclass
class StepOutcome:
    step: Step
    result: Result | None  # None: a question for the responder
    branch: Branch | None
    suggestion: actions.Suggestion | None = None
    decisive: bool = False

    @property
    def outcome(self) -> str:
        return self.result.outcome if self.result is not None else MANUAL

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.step.id,
            "question": self.step.question,
            "check": self.step.check or None,
            "result": self.outcome,
            "summary": self.result.summary if self.result else (self.step.hint or "answer this yourself"),
            "evidence": list(self.result.evidence) if self.result else [],
            "decisive": self.decisive,
        }
        if self.branch is not None:
            out["decision"] = self.branch.decision
            out["action"] = self.suggestion.to_json() if self.suggestion else {"type": self.branch.action}
        return out


@dataclass
class Walk:
    runbook: Loaded
    app: str
    at: datetime
    steps: list[StepOutcome] = field(default_factory=list)
    incident: str = ""
    facts: Facts | None = field(default=None, repr=False, compare=False)
    results: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)

    @property
    def conclusion(self) -> StepOutcome | None:
        return next((s for s in self.steps if s.decisive), None)

    def to_json(self) -> dict[str, Any]:
        c = self.conclusion
        return {
            "runbook": self.runbook.name,
            "title": self.runbook.runbook.spec.title,
            "reference": self.runbook.runbook.spec.reference,
            "app": self.app,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "incident": self.incident or None,
            "steps": [s.to_json() for s in self.steps],
            "conclusion": (
                {
                    "step": c.step.id,
                    "summary": c.result.summary if c.result else "",
                    "decision": c.branch.decision if c.branch else "",
                    "action": c.suggestion.to_json() if c.suggestion else None,
                }
                if c is not None
                else None
            ),
        }


def _branch(step: Step, outcome: str) -> Branch | None:
    return next((b for b in step.branches if outcome in b.when), None)


def walk(
    ws: Workspace,
    loaded: Loaded,
    app: str,
    *,
    incident: str = "",
    prepare: bool = True,
    facts: Facts | None = None,
    actor: str = "",
) -> Walk:
    facts = facts or Facts(ws, app)
    rb = loaded.runbook
    out = Walk(loaded, app, facts.now, incident=incident, facts=facts)
    opts = actions.Options(incident=incident, prepare=prepare, title=rb.spec.title, actor=actor)
    results = out.results
    concluded = False
    for step in rb.spec.steps:
        result = evaluate(facts, step.check, step.params) if step.check else None
        outcome = result.outcome if result is not None else MANUAL
        branch = _branch(step, outcome)
        decisive = bool(branch is not None and branch.conclusive and not concluded)
        concluded = concluded or decisive
        out.steps.append(StepOutcome(step, result, branch, decisive=decisive))
        if result is not None:
            results.append(result.data)
    # actions last: a decisive revert may use a commit another step found
    for so in out.steps:
        if so.branch is None or so.branch.action == "none":
            continue
        data = so.result.data if so.result else {}
        so.suggestion = actions.render(facts, so.branch, data, results, opts, decisive=so.decisive)
    return out


def take_action(
    w: Walk, index: int, branch: Branch, *, incident: str = "", actor: str = ""
) -> actions.Suggestion:
    """The suggestion of `branch` (the one the responder chose for step `index`) rendered as
    an action to take now: a revert is prepared on its branch of the working clone (never
    pushed), an ignore rule is computed and verified. Cluster actions stay suggestions: the
    caller hands them to the normal RBAC and break-glass paths."""
    if w.facts is None:
        raise ValueError("this walk has no facts to act on")
    so = w.steps[index]
    spec = w.runbook.runbook.spec
    opts = actions.Options(incident=incident or w.incident, prepare=True, title=spec.title, actor=actor)
    data = so.result.data if so.result else {}
    return actions.render(w.facts, branch, data, w.results, opts, decisive=True)


@dataclass
class Fit:
    loaded: Loaded
    why: list[str]


def suggest(ws: Workspace, lib: Library, app: str, facts: Facts | None = None) -> tuple[list[Fit], Facts]:
    """Every runbook whose `appliesWhen` holds for `app`, best (highest priority) first."""
    facts = facts or Facts(ws, app)
    fits = []
    for loaded in lib.ordered():
        conds = loaded.runbook.spec.applies_when
        if not conds:
            continue
        why = []
        for cond in conds:
            result = evaluate(facts, cond.check, cond.params)
            if result.outcome not in cond.outcome:
                break
            why.append(result.summary)
        else:
            fits.append(Fit(loaded, why))
    return fits, facts
