"""The mutations of an Application, each one call through the gate (CLI, console, controller).

Every function takes a `Gate` (which knows the workspace and the actor) and returns its
`GateResult`. `follow` (optional) runs the requested operation to completion inside the audited
attempt, so the result record carries the final phase; without it the result is `requested`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from console.cluster.api import Obj
from console.engine.audit.record import BLOCKED, ERROR, FAILED, REQUESTED, SUCCEEDED, rfc3339_micro
from console.engine.gate.attempt import (
    EXIT_BAD_INPUT,
    EXIT_BLOCKED,
    Gate,
    GateResult,
    Outcome,
    Request,
    RunContext,
)
from console.engine.governance import breakglass

INVALID = "invalid"
Follow = Callable[[], Obj]


def _final(app: Obj) -> Outcome:
    state = (app.get("status") or {}).get("operationState") or {}
    phase = str(state.get("phase") or "")
    message = f"{phase}: {state.get('message') or ''}".strip()
    revision = str((state.get("syncResult") or {}).get("revision") or "")
    details = {"phase": phase, "syncedRevision": revision}
    if phase == "Succeeded":
        return Outcome(SUCCEEDED, message, value=app, details=details)
    return Outcome(FAILED, message, value=app, code=1, details=details)


def _suspend_for_operation(gate: Gate, ctx: RunContext, name: str) -> str:
    """A break-glass sync/rollback of an auto-synced app suspends auto-sync (1 h) so the
    controller does not sync it straight back; returns the note for the result record."""
    app = ctx.app or {}
    if not breakglass.auto_sync_in_force(app, ctx.now):
        return ""
    s = _suspend(gate, ctx, name, breakglass.SCOPE_AUTO_SYNC, breakglass.DEFAULT_SUSPENSION)
    return f"; {s.text()}"


def _suspend(gate: Gate, ctx: RunContext, name: str, scope: str, span: timedelta) -> breakglass.Suspension:
    from console.engine.sync.operation import update_app

    s = breakglass.Suspension(
        scope=scope,
        until=ctx.now + span,
        by=ctx.identity.user,
        reason=ctx.reason,
        audit_seq=int(ctx.intent["seq"]),
        since=rfc3339_micro(ctx.now),
    )
    update_app(gate.store, name, lambda obj: breakglass.set_suspension(obj, s))
    return s


def sync(
    gate: Gate,
    name: str,
    *,
    revision: str | None = None,
    prune: bool = False,
    dry_run: bool = False,
    force: bool = False,
    resources: list[dict[str, str]] | None = None,
    reason: str = "",
    break_glass: bool = False,
    confirm: str | None = None,
    follow: Follow | None = None,
) -> GateResult:
    from console.engine.sync import options as so
    from console.engine.sync.operation import OperationInProgress, request_sync

    params: dict[str, Any] = {"revision": revision or "", "prune": prune, "dryRun": dry_run, "force": force}
    if resources:
        params["resources"] = [f"{r['group']}:{r['kind']}:{r['namespace']}/{r['name']}" for r in resources]

    def run(ctx: RunContext) -> Outcome:
        note = _suspend_for_operation(gate, ctx, name) if break_glass and not dry_run else ""
        try:
            request_sync(
                gate.store,
                name,
                revision=revision,
                prune=prune,
                dry_run=dry_run,
                force=force,
                resources=resources or None,
                initiated_by=ctx.initiated_by,
                info=ctx.info or None,
            )
        except OperationInProgress as exc:
            return Outcome(BLOCKED, f"cannot sync {name}: {exc}", code=EXIT_BLOCKED)
        except so.UnsupportedSyncOption as exc:
            return Outcome(INVALID, str(exc), code=EXIT_BAD_INPUT)
        if follow is None:
            return Outcome(REQUESTED, f"sync of {name} requested{note}")
        out = _final(follow())
        out.message += note
        return out

    req = Request("sync", name, params, reason=reason, break_glass=break_glass, confirm=confirm)
    return gate.attempt(req, run)


def rollback(
    gate: Gate,
    name: str,
    history_id: int,
    *,
    dry_run: bool = False,
    prune: bool = False,
    reason: str = "",
    break_glass: bool = False,
    confirm: str | None = None,
    follow: Follow | None = None,
) -> GateResult:
    from console.engine.sync.history import RollbackRefused
    from console.engine.sync.history import rollback as request_rollback
    from console.engine.sync.operation import OperationInProgress

    params = {"historyId": history_id, "prune": prune, "dryRun": dry_run}

    def run(ctx: RunContext) -> Outcome:
        note = _suspend_for_operation(gate, ctx, name) if break_glass and not dry_run else ""
        try:
            request_rollback(
                gate.store,
                name,
                history_id,
                initiated_by=ctx.initiated_by,
                dry_run=dry_run,
                prune=prune,
                allow_automated=break_glass,
                info=ctx.info or None,
            )
        except OperationInProgress as exc:
            return Outcome(BLOCKED, f"cannot roll back {name}: {exc}", code=EXIT_BLOCKED)
        except RollbackRefused as exc:
            return Outcome(INVALID, str(exc), code=EXIT_BAD_INPUT)
        if follow is None:
            return Outcome(REQUESTED, f"rollback of {name} to history id {history_id} requested{note}")
        out = _final(follow())
        out.message += note
        return out

    req = Request("rollback", name, params, reason=reason, break_glass=break_glass, confirm=confirm)
    return gate.attempt(req, run)


def terminate(
    gate: Gate,
    name: str,
    *,
    reason: str = "",
    break_glass: bool = False,
    confirm: str | None = None,
    finish: Follow | None = None,
) -> GateResult:
    """Terminate the running operation (break-glass). `finish` runs the termination here."""
    from console.engine.sync.operation import MSG_NO_OPERATION, NoOperation, is_in_progress, request_terminate

    current = gate._app(name)
    if current is not None and not is_in_progress(current):
        # nothing to terminate: say so before asking for break-glass flags (not an attempt)
        return GateResult(INVALID, f"{MSG_NO_OPERATION} (application {name})", EXIT_BAD_INPUT)

    def run(ctx: RunContext) -> Outcome:
        try:
            request_terminate(gate.store, name)
        except NoOperation as exc:
            return Outcome(INVALID, f"{exc} (application {name})", code=EXIT_BAD_INPUT)
        if finish is None:
            return Outcome(REQUESTED, f"termination of the operation of {name} requested")
        app = finish()
        state = (app.get("status") or {}).get("operationState") or {}
        text = f"{state.get('phase') or 'unknown'}: {state.get('message') or ''}".strip()
        if is_in_progress(app):
            return Outcome(REQUESTED, f"operation of {name} terminating ({text})", value=app)
        return Outcome(SUCCEEDED, f"operation of {name} terminated ({text})", value=app)

    req = Request("terminate", name, {}, reason=reason, break_glass=break_glass, confirm=confirm)
    return gate.attempt(req, run)


def set_auto_sync(
    gate: Gate,
    name: str,
    enable: bool,
    *,
    scope: str = breakglass.SCOPE_AUTO_SYNC,
    duration: timedelta | None = None,
    reason: str = "",
    break_glass: bool = False,
    confirm: str | None = None,
) -> GateResult:
    """`--auto-sync off [--for 1h]` suspends auto-sync (or only self-heal); `on` lifts a suspension."""
    from console.engine.sync.operation import update_app

    span = duration or breakglass.DEFAULT_SUSPENSION
    params: dict[str, Any] = {"autoSync": "on" if enable else "off", "scope": scope}
    if not enable:
        params["for"] = f"{int(span.total_seconds())}s"

    def run(ctx: RunContext) -> Outcome:
        app = ctx.app or {}
        if enable:
            current = breakglass.suspension_of(app)
            if current is None:
                return Outcome(SUCCEEDED, f"{scope} of {name} is not suspended; nothing to do")
            update_app(gate.store, name, breakglass.clear_suspension)
            return Outcome(SUCCEEDED, f"{current.scope} of {name} restored (was {current.text()})")
        if not breakglass.automated_on(app):
            return Outcome(INVALID, f"{name} has no automated sync policy to suspend", code=EXIT_BAD_INPUT)
        if scope == breakglass.SCOPE_SELF_HEAL and not breakglass.self_heal_on(app):
            return Outcome(INVALID, f"{name} does not self-heal; nothing to suspend", code=EXIT_BAD_INPUT)
        s = _suspend(gate, ctx, name, scope, span)
        return Outcome(SUCCEEDED, s.text(), details={"until": s.to_dict()["until"]})

    required = "" if enable else f"suspending {scope} of {name} is a break-glass action"
    req = Request(
        "set-auto-sync",
        name,
        params,
        reason=reason,
        break_glass=break_glass,
        confirm=confirm,
        break_glass_required=required,
    )
    return gate.attempt(req, run)


def confirm_deletion(
    gate: Gate, name: str, *, reason: str = "", break_glass: bool = False, confirm: str | None = None
) -> GateResult:
    """Approve `Prune=confirm` / `Delete=confirm` (Argo's `app confirm-deletion`): sets
    `argocd.argoproj.io/deletion-approved` to now on the Application."""
    from console.engine.sync.deletion import DELETION_APPROVED
    from console.engine.sync.operation import rfc3339, update_app

    def run(ctx: RunContext) -> Outcome:
        stamp = rfc3339(ctx.now)

        def approve(obj: Obj) -> None:
            md = obj.setdefault("metadata", {})
            md["annotations"] = {**(md.get("annotations") or {}), DELETION_APPROVED: stamp}

        update_app(gate.store, name, approve)
        return Outcome(SUCCEEDED, f"deletions of {name} approved at {stamp}")

    req = Request("confirm-deletion", name, {}, reason=reason, break_glass=break_glass, confirm=confirm)
    return gate.attempt(req, run)


def delete(
    gate: Gate,
    name: str,
    *,
    cascade: str = "foreground",
    timeout: float | None = None,
    progress: Callable[[Any], None] | None = None,
    reason: str = "",
) -> GateResult:
    from console.engine.sync.deletion import DeletionRefused, delete_app

    def run(ctx: RunContext) -> Outcome:
        del ctx
        try:
            delete_app(gate.ws, name, cascade=cascade, timeout=timeout, progress=progress)  # type: ignore[arg-type]
        except DeletionRefused as exc:
            return Outcome(INVALID, str(exc), code=EXIT_BAD_INPUT)
        except TimeoutError as exc:
            return Outcome(FAILED, str(exc), code=1)
        return Outcome(SUCCEEDED, f"application '{name}' deleted")

    return gate.attempt(Request("delete", name, {"cascade": cascade}, reason=reason), run)


def lift_expired_suspension(gate: Gate, app: Obj) -> GateResult | None:
    """The controller's job: a suspension whose time is up is lifted, with an audit record."""
    from console.engine.sync.operation import update_app

    name = str((app.get("metadata") or {}).get("name") or "")
    s = breakglass.suspension_of(app)
    now = gate._clock()
    if s is None or not s.expired(now):
        return None

    def run(ctx: RunContext) -> Outcome:
        del ctx
        update_app(gate.store, name, breakglass.clear_suspension)
        return Outcome(
            SUCCEEDED, f"{s.scope} of {name} restored: the suspension by {s.by} ({s.reason}) expired"
        )

    req = Request(
        "suspension-expired",
        name,
        {
            "scope": s.scope,
            "until": s.to_dict()["until"],
            "suspendedBy": s.by,
            "suspensionAuditSeq": s.audit_seq,
        },
        reason=s.reason,
        skip_windows=True,
    )
    return gate.attempt(req, run)


def auto_sync(
    gate: Gate,
    name: str,
    *,
    self_heal: bool,
    request: Callable[[RunContext], None],
    revision: str,
    parameters: dict[str, Any],
) -> GateResult:
    """The controller's auto-sync / self-heal, audited as `system:trueup-controller`."""

    def run(ctx: RunContext) -> Outcome:
        try:
            request(ctx)
        except Exception as exc:  # noqa: BLE001 - the controller reports it as a SyncError
            return Outcome(ERROR, str(exc), code=1)
        return Outcome(REQUESTED, f"automated {'self-heal' if self_heal else 'sync'} to {revision} requested")

    req = Request(
        "self-heal" if self_heal else "auto-sync",
        name,
        {"revision": revision, **parameters},
        manual=False,
        skip_windows=True,  # the controller checked the windows (auto-sync: CanSync(false))
        permission="sync",
    )
    return gate.attempt(req, run)
