"""The console's actions as data: what each one is, what it would do to one application (a
`Plan`, built in a worker from the gate's preflight and, for a sync, a fresh preview), and how it
runs (the same `console.engine.gate.actions` call the CLI makes, so the checks and audit records
are the CLI's). No widgets here: modals/action.py shows a Plan, app.py runs it.

Action ids are the command registry's (`:sync APP`), so another screen (a runbook) can start the
same flow with `TrueupApp.start_action(action_id, app_name, **prefill)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from console.cluster.api import Obj
from console.engine import resource_actions as ra
from console.engine.gate import actions as engine_actions
from console.engine.gate.attempt import Gate, GateResult, Preflight, Request
from console.engine.governance import breakglass
from console.engine.preview import SyncPreview, sync_preview
from console.engine.sync.history import entries as history_entries
from console.engine.sync.operation import is_in_progress
from console.engine.workspace import Workspace
from console.tui.format import clock, short

SYNC, BREAK_GLASS_SYNC, ROLLBACK, TERMINATE = "sync", "break_glass_sync", "rollback", "terminate"
SUSPEND, RESUME, RESTART, DELETE = "suspend_autosync", "resume_autosync", "restart", "delete"
REFRESH, HARD_REFRESH = "refresh", "hard_refresh"
# refresh writes status only (as Argo's refresh) and stays available in read-only mode
MUTATING: frozenset[str] = frozenset(
    {SYNC, BREAK_GLASS_SYNC, ROLLBACK, TERMINATE, SUSPEND, RESUME, RESTART, DELETE}
)
TITLES = {
    SYNC: "Sync",
    BREAK_GLASS_SYNC: "Break-glass sync",
    ROLLBACK: "Roll back",
    TERMINATE: "Terminate the operation of",
    SUSPEND: "Suspend auto-sync of",
    RESUME: "Resume auto-sync of",
    RESTART: "Restart a workload of",
    DELETE: "Delete",
}
GATE_ACTION = {
    SYNC: "sync",
    BREAK_GLASS_SYNC: "sync",
    ROLLBACK: "rollback",
    TERMINATE: "terminate",
    SUSPEND: "set-auto-sync",
    RESUME: "set-auto-sync",
    RESTART: "resource-action",
    DELETE: "delete",
}
EXPIRIES = ("30m", "1h", "4h", "24h")
CASCADES = (
    ("foreground", "foreground: delete the resources first, then the application"),
    ("background", "background: delete the application, its resources after"),
    ("orphan", "orphan: delete the application only, keep its resources running"),
)
HOLDER = f"console-{os.getpid()}-action"
OPERATION_TIMEOUT = 600.0


@dataclass
class HistoryChoice:
    id: int
    revision: str
    deployed_at: str
    subject: str = ""
    by: str = ""

    def text(self, now: datetime | None = None) -> str:
        del now
        who = f" by {self.by}" if self.by else ""
        subject = f' "{self.subject}"' if self.subject else ""
        return f"#{self.id} {short(self.revision)}{subject} {clock(self.deployed_at)}{who}"


@dataclass
class Plan:
    """What an action would do to one application, as the modal states it."""

    action: str
    app: str
    project: str = ""
    cluster: str = ""
    preflight: Preflight = field(default_factory=Preflight)
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, text): what will happen
    preview: SyncPreview | None = None
    history: list[HistoryChoice] = field(default_factory=list)
    current: HistoryChoice | None = None
    targets: list[ra.ResourceRef] = field(default_factory=list)
    auto_sync_on: bool = False
    suspension: str = ""  # what a break-glass sync/rollback does to auto-sync
    refusal: str = ""  # why this cannot run at all (shown in the modal, confirm disabled)
    typed_name: bool = False  # delete: type the name even without break-glass
    values: dict[str, Any] = field(default_factory=dict)  # defaults (and prefill)

    @property
    def title(self) -> str:
        return f"{TITLES.get(self.action, self.action)} {self.app}"

    def break_glass(self, values: dict[str, Any]) -> bool:
        """Whether the typed name and a reason are needed for these choices."""
        if self.action in (BREAK_GLASS_SYNC, TERMINATE, SUSPEND):
            return True
        if self.action in (SYNC, ROLLBACK) and self.preflight.break_glass:
            return not values.get("dry_run")
        return False

    def needs_name(self, values: dict[str, Any]) -> bool:
        return self.typed_name or self.break_glass(values)


def _subject(subjects: dict[str, str], rev: str) -> str:
    return subjects.get(rev, "")


def _deployed(app: Obj) -> str:
    status = app.get("status") or {}
    hist = [h for h in status.get("history") or [] if isinstance(h, dict)]
    if hist:
        return str(hist[-1].get("revision") or "")
    return str(((status.get("operationState") or {}).get("syncResult") or {}).get("revision") or "")


def _rev_text(rev: str, subjects: dict[str, str], width: int = 26) -> str:
    if not rev:
        return "?"
    subject = _subject(subjects, rev)
    if len(subject) > width:
        subject = subject[: width - 1] + "…"
    return f'{short(rev)} "{subject}"' if subject else short(rev)


def request_of(action: str, app: str, values: dict[str, Any] | None = None) -> Request:
    """The gate Request an action makes (for preflight: RBAC and break-glass needs)."""
    values = values or {}
    if action == RESTART:
        ref = values.get("target")
        perm = (
            ra.permission(ref, "restart")
            if isinstance(ref, ra.ResourceRef)
            else "action/apps/Deployment/restart"
        )
        return Request("resource-action", app, {}, permission=perm)
    req = Request(GATE_ACTION.get(action, action), app, {"dryRun": bool(values.get("dry_run"))})
    if action == SUSPEND:
        req.break_glass_required = f"suspending auto-sync of {app} is a break-glass action"
    return req


def build_plan(
    ws: Workspace,
    gate: Gate,
    action: str,
    name: str,
    *,
    subjects: dict[str, str],
    now: datetime,
    prefill: dict[str, Any] | None = None,
) -> Plan:
    """Runs in a worker: reads the app, asks the gate (no audit record), previews a sync."""
    app = gate.store.get_app(name)
    spec = app.get("spec") or {}
    dest = spec.get("destination") or {}
    cfg = ws.cluster_for_destination(str(dest.get("server") or ""), str(dest.get("name") or ""))
    plan = Plan(action, name, cluster=cfg.name if cfg else str(dest.get("name") or dest.get("server") or ""))
    plan.values = dict(prefill or {})
    plan.auto_sync_on = breakglass.auto_sync_in_force(app, now)
    status = app.get("status") or {}
    target = str((status.get("sync") or {}).get("revision") or "")
    deployed = _deployed(app)
    if action == RESTART:
        plan.targets = ra.candidates(app)
        chosen = plan.values.get("target")
        if not isinstance(chosen, ra.ResourceRef) and plan.targets:
            plan.values["target"] = plan.targets[0]
        if not plan.targets:
            plan.refusal = f"{name} has no Deployment, StatefulSet or DaemonSet to restart"
    plan.preflight = gate.preflight(request_of(action, name, plan.values))
    plan.project = plan.preflight.project
    plan.facts.append(
        (
            "application",
            f"{name} · project {plan.project} · cluster {plan.cluster} · ns {dest.get('namespace') or '-'}",
        )
    )
    minutes = int(breakglass.DEFAULT_SUSPENSION.total_seconds() // 60)
    until = clock_text(now + breakglass.DEFAULT_SUSPENSION)
    if action in (SYNC, BREAK_GLASS_SYNC):
        plan.facts.append(("revision", f"{_rev_text(deployed, subjects)} → {_rev_text(target, subjects)}"))
        if plan.auto_sync_on:
            plan.suspension = f"auto-sync is on: it will be suspended for {minutes}m, until {until}, then the controller syncs to Git again"
        plan.preview = sync_preview(ws, name)
    elif action == ROLLBACK:
        hist = history_entries(app)
        for h in reversed(hist):
            rev = str(h.get("revision") or ",".join(h.get("revisions") or []))
            by = h.get("initiatedBy") or {}
            plan.history.append(
                HistoryChoice(
                    int(h.get("id", 0)),
                    rev,
                    str(h.get("deployedAt") or ""),
                    _subject(subjects, rev),
                    str(by.get("username") or ("automated" if by.get("automated") else "")),
                )
            )
        plan.current = plan.history[0] if plan.history else None
        if not plan.history:
            plan.refusal = f"{name} has no deployment history to roll back to"
        elif "history_id" not in plan.values:
            older = [h for h in plan.history if h.revision != deployed]
            plan.values["history_id"] = (older[0] if older else plan.history[0]).id
        if plan.auto_sync_on:
            plan.suspension = (
                f"auto-sync is on: a rollback cannot run while it is (Argo CD's rule); it will be suspended for "
                f"{minutes}m, until {until}, so the controller does not sync straight back to Git"
            )
    elif action == TERMINATE:
        op = status.get("operationState") or {}
        if not is_in_progress(app):
            plan.refusal = f"no operation is in progress on {name} (nothing to terminate)"
        else:
            plan.facts.append(
                ("operation", f"{op.get('phase')}: {' '.join(str(op.get('message') or '').split())}"[:200])
            )
            plan.facts.append(
                ("effect", "running hooks are deleted and the operation ends Failed (Operation terminated)")
            )
    elif action == SUSPEND:
        if not breakglass.automated_on(app):
            plan.refusal = f"{name} has no automated sync policy to suspend"
        plan.values.setdefault("for", "1h")
        plan.facts.append(
            ("effect", "the controller neither auto-syncs nor self-heals this app until the expiry")
        )
    elif action == RESUME:
        s = breakglass.suspension_of(app)
        if s is None:
            plan.refusal = f"auto-sync of {name} is not suspended"
        else:
            plan.facts.append(("suspended", s.text()))
    elif action == DELETE:
        plan.typed_name = True
        plan.values.setdefault("cascade", "foreground")
        count = len([r for r in status.get("resources") or [] if isinstance(r, dict)])
        plan.facts.append(("resources", f"{count} tracked resource(s) in {plan.cluster}"))
    if plan.preflight.windows:
        plan.facts.append(("overrides", "; ".join(_window_text(w) for w in plan.preflight.windows)))
    return plan


def _window_text(message: str) -> str:
    """`cannot sync X: blocked by sync window deny ...: description; it ends ...` -> the window."""
    text = message.split(": blocked by ", 1)[-1]
    return text.split("; ", 1)[0]


def break_glass_why(plan: Plan) -> str:
    """One short phrase: what the break-glass gets past."""
    parts = []
    if plan.preflight.windows:
        parts.append("overrides the deny window")
    if plan.auto_sync_on and plan.action in (SYNC, BREAK_GLASS_SYNC, ROLLBACK):
        parts.append("suspends auto-sync")
    if plan.action == TERMINATE:
        parts.append("terminating an operation")
    if plan.action == SUSPEND:
        parts.append("suspending auto-sync")
    if not parts:
        parts.append("recorded as break-glass")
    return " and ".join(parts)


def clock_text(at: datetime) -> str:
    return at.strftime("%H:%M UTC")


def expiry(values: dict[str, Any]) -> timedelta:
    return breakglass.parse_for(str(values.get("for") or "1h"))


def execute(
    ws: Workspace,
    gate: Gate,
    plan: Plan,
    values: dict[str, Any],
    progress: Callable[[Obj], object],
) -> GateResult:
    """Runs in a worker: the engine call for this action (audited by the gate). Sync and rollback
    run the operation to completion here (an embedded controller holding it finishes it instead),
    posting the Application after every pass so the Operation pane shows each task live."""
    from console.engine.sync.executor import run_operation

    name = plan.app
    bg = plan.break_glass(values)
    reason = str(values.get("reason") or "").strip()
    confirm = str(values.get("confirm") or "") or None

    def report(app: Obj) -> None:
        progress(app)

    def follow() -> Obj:
        return run_operation(ws, name, holder=HOLDER, timeout=OPERATION_TIMEOUT, progress=report, poll=0.25)

    if plan.action in (SYNC, BREAK_GLASS_SYNC):
        sel = values.get("resources") or []
        resources = [dict(zip(("group", "kind", "namespace", "name"), _split(s), strict=True)) for s in sel]
        return engine_actions.sync(
            gate,
            name,
            prune=bool(values.get("prune")),
            dry_run=bool(values.get("dry_run")),
            force=bool(values.get("force")),
            resources=resources or None,
            apply_out_of_sync_only=bool(values.get("out_of_sync_only")),
            reason=reason,
            break_glass=bg,
            confirm=confirm,
            follow=follow,
        )
    if plan.action == ROLLBACK:
        return engine_actions.rollback(
            gate,
            name,
            int(values["history_id"]),
            prune=bool(values.get("prune")),
            dry_run=bool(values.get("dry_run")),
            reason=reason,
            break_glass=bg,
            confirm=confirm,
            follow=follow,
        )
    if plan.action == TERMINATE:
        from console.engine.sync.operation import NoOperation, request_terminate

        def finish() -> Obj:
            try:
                request_terminate(gate.store, name)
            except NoOperation:
                pass
            return run_operation(ws, name, holder=HOLDER, timeout=60.0, progress=report, poll=0.25)

        return engine_actions.terminate(
            gate, name, reason=reason, break_glass=bg, confirm=confirm, finish=finish
        )
    if plan.action in (SUSPEND, RESUME):
        return engine_actions.set_auto_sync(
            gate,
            name,
            plan.action == RESUME,
            scope=breakglass.SCOPE_SELF_HEAL if values.get("self_heal_only") else breakglass.SCOPE_AUTO_SYNC,
            duration=expiry(values) if plan.action == SUSPEND else None,
            reason=reason,
            break_glass=bg,
            confirm=confirm,
        )
    if plan.action == RESTART:
        ref = values.get("target")
        if not isinstance(ref, ra.ResourceRef):
            raise ValueError("choose the workload to restart")
        return engine_actions.resource_action(
            gate,
            name,
            "restart",
            kind=ref.kind,
            resource_name=ref.name,
            namespace=ref.namespace,
            group=ref.group,
            reason=reason,
        )
    if plan.action == DELETE:
        return engine_actions.delete(
            gate, name, cascade=str(values.get("cascade") or "foreground"), timeout=120.0, reason=reason
        )
    raise ValueError(f"unknown action {plan.action!r}")


def _split(selector: str) -> tuple[str, str, str, str]:
    group, kind, rest = selector.split(":", 2)
    namespace, _, name = rest.rpartition("/")
    return group, kind, namespace, name


def command_values(plan: Plan, values: dict[str, Any]) -> dict[str, Any]:
    """The modal's choices as console.tui.equivalent expects them."""
    out = dict(values)
    out["break_glass"] = plan.break_glass(values)
    ref = values.get("target")
    if isinstance(ref, ra.ResourceRef):
        out.update(kind=ref.kind, name=ref.name, namespace=ref.namespace)
    return out
