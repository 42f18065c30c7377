"""The one entry point for "an actor attempts a mutation" (CLI, console, controller).

    authorise (RBAC) -> windows / break-glass checks -> audit intent -> run -> audit result

`Gate.attempt(request, run)` is a plain function call that returns a `GateResult` (outcome,
message, exit code, audit sequence numbers), so a Textual worker can call it as it is. `run`
receives a `RunContext` (the actor, the intent record, the `operation.info` to attach) and returns
an `Outcome`; an exception inside it becomes an `error` result record, never a lost audit trail.

Refusals are audited too: a denied attempt (RBAC) or a blocked one (sync window, break-glass
required) is one `attempt` record. If the intent record cannot be written, nothing runs.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.cluster.api import ClusterError, Forbidden, NotFound, Obj, Unavailable
from console.engine.appstore import AppStore
from console.engine.audit import events as audit_events
from console.engine.audit.chain import AuditChain, ChainError, cluster_now
from console.engine.audit.record import (
    BLOCKED,
    DENIED,
    ERROR,
    FAILED,
    PENDING,
    PHASE_ATTEMPT,
    PHASE_INTENT,
    PHASE_RESULT,
    REQUESTED,
    SUCCEEDED,
    Entry,
)
from console.engine.gate.policy import PolicyUnavailable, enforcer_for
from console.engine.governance import breakglass, rbac
from console.engine.governance.identity import Identity
from console.engine.governance.windows import WindowVerdict
from console.engine.sync.windows import app_project, window_verdict
from console.engine.workspace import Workspace

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_DENIED, EXIT_BLOCKED, EXIT_UNREACHABLE = 0, 1, 2, 3, 4, 5
INVALID = "invalid"

# action -> the RBAC action it needs on `applications, <project>/<app>` (AC:server/application)
PERMISSIONS: dict[str, str] = {
    "sync": rbac.ACT_SYNC,
    "rollback": rbac.ACT_SYNC,  # Argo: `sync` unless server.rbac.rollback.enforce.enable
    "terminate": rbac.ACT_SYNC,
    "delete": rbac.ACT_DELETE,
    "set": rbac.ACT_UPDATE,
    "unset": rbac.ACT_UPDATE,
    "set-auto-sync": rbac.ACT_UPDATE,
    "auto-sync": rbac.ACT_SYNC,
    "self-heal": rbac.ACT_SYNC,
    "suspension-expired": rbac.ACT_UPDATE,
    "confirm-deletion": rbac.ACT_UPDATE,
    "create": rbac.ACT_CREATE,
}
# actions that are always break-glass (DESIGN.md §4, issue 9 §5)
ALWAYS_BREAK_GLASS = {"terminate", "confirm-deletion"}
VERBS = {"terminate": "terminate the operation of", "confirm-deletion": "approve deletions in"}


@dataclass
class Request:
    """One attempted mutation. `permission` overrides the RBAC action (e.g. action/apps/Deployment/restart)."""

    action: str
    app: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    break_glass: bool = False
    confirm: str | None = None
    manual: bool = True
    permission: str | None = None
    resource: str = rbac.RES_APPLICATIONS
    obj: str = ""  # RBAC object when not an application (projects, clusters, ...)
    project: str = ""  # for create/apply of an app that does not exist yet
    break_glass_required: str = ""  # the caller knows a reason this needs break-glass (e.g. --auto-sync off)
    skip_windows: bool = False


@dataclass
class Outcome:
    """What `run` reports. `code` None: derived from `status`."""

    status: str = SUCCEEDED  # succeeded | failed | requested | error | blocked
    message: str = ""
    value: Any = None
    code: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class GateResult:
    outcome: str  # succeeded | failed | requested | denied | blocked | invalid | error
    message: str
    code: int
    audit_seq: int | None = None  # the intent (or the refused attempt) record
    result_seq: int | None = None
    value: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code == EXIT_OK


@dataclass
class RunContext:
    """What `run` gets: who acts, the intent record, and the operation.info to attach."""

    identity: Identity
    app: Obj | None
    intent: dict[str, Any]
    break_glass: bool
    reason: str
    now: datetime

    @property
    def info(self) -> list[dict[str, str]]:
        """`operation.info` entries: the reason and the break-glass audit record (shown in history)."""
        out = []
        if self.reason:
            out.append({"name": breakglass.INFO_REASON, "value": self.reason})
        if self.break_glass:
            out.append({"name": breakglass.INFO_BREAK_GLASS, "value": str(self.intent.get("seq"))})
        return out

    @property
    def initiated_by(self) -> dict[str, Any]:
        if self.identity.system:
            return {"automated": True}
        return {"username": self.identity.user, "automated": False}


class Gate:
    """Checks and audits mutations for one workspace and actor."""

    def __init__(
        self,
        ws: Workspace,
        identity: Identity,
        *,
        enforcer: rbac.Enforcer | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.ws = ws
        self.identity = identity
        self._enforcer = enforcer
        self.store = AppStore(ws.control())
        self.chain = AuditChain(self.store.cluster, clock=clock)
        self._clock = clock or (lambda: cluster_now(self.store.cluster))
        self.warnings: list[str] = list(identity.warnings)

    # --- authorisation -----------------------------------------------------------------------
    @property
    def enforcer(self) -> rbac.Enforcer:
        if self._enforcer is None:
            self._enforcer = enforcer_for(self.ws)
        return self._enforcer

    def can(self, resource: str, action: str, obj: str) -> bool:
        """RBAC for the actor (the controller may do everything it does)."""
        if self.identity.system:
            return True
        e = self.enforcer
        return e.enforce_claims(
            self.identity.user, self.identity.claims_groups(e.config.scopes), resource, action, obj
        )

    def can_get_app(self, app: Obj) -> bool:
        return self.can(rbac.RES_APPLICATIONS, rbac.ACT_GET, app_rbac_object(app))

    def denial(self, resource: str, action: str, obj: str, verb: str | None = None) -> str:
        tag = "" if self.identity.verified or self.identity.system else " [identity unverified]"
        return (
            f"permission denied: {self.identity.user} may not {verb or action} {resource}/{obj} "
            f"(needs: {resource}, {action}, {obj}){tag}"
        )

    # --- the attempt -------------------------------------------------------------------------
    def attempt(self, req: Request, run: Callable[[RunContext], Outcome]) -> GateResult:
        now = self._clock()
        app = self._app(req.app) if req.app else None
        if req.app and app is None and req.action != "create":
            return GateResult(
                INVALID, f"application {req.app!r} not found (see `trueup app list`)", EXIT_BAD_INPUT
            )
        project = (app_project(app) if app is not None else req.project) or ""
        obj = req.obj or (rbac.app_object(project, req.app) if req.app else "")
        base = {"app": req.app, "project": project}

        # 1. RBAC
        action = req.permission or PERMISSIONS.get(req.action, req.action)
        try:
            allowed = self.can(req.resource, action, obj)
        except (PolicyUnavailable, rbac.PolicyError) as exc:
            return GateResult(DENIED, str(exc), EXIT_DENIED)
        if not allowed:
            msg = self.denial(req.resource, action, obj, VERBS.get(req.action, req.action))
            return self._refused(req, base, DENIED, msg, EXIT_DENIED, app, now)

        # 2. break-glass: why this action would need it
        needs = self._break_glass_needs(req, app, now)
        if needs and not req.break_glass:
            hint = (
                f"; an operator with `applications, override` can break glass: add "
                f"--break-glass --reason <incident> --confirm {req.app}"
            )
            return self._refused(req, base, BLOCKED, needs[0] + hint, EXIT_BLOCKED, app, now)
        if req.break_glass:
            try:
                breakglass.check_flags(req.app or obj, req.reason, req.confirm)
            except breakglass.BreakGlassError as exc:
                return self._refused(req, base, INVALID, str(exc), EXIT_BAD_INPUT, app, now)
            if not self.can(rbac.RES_APPLICATIONS, rbac.ACT_OVERRIDE, obj):
                msg = self.denial(rbac.RES_APPLICATIONS, rbac.ACT_OVERRIDE, obj, "break glass on")
                return self._refused(req, base, DENIED, msg, EXIT_DENIED, app, now)

        # 3. intent
        intent_entry = self._entry(req, base, PHASE_INTENT, PENDING, "; ".join(needs), app)
        try:
            intent = self.chain.append(intent_entry)
        except (ClusterError, ChainError) as exc:
            return self._no_audit(req, exc)
        self._event(intent, app)

        # 4. run
        ctx = RunContext(self.identity, app, intent, bool(req.break_glass), req.reason, now)
        try:
            out = run(ctx)
        except KeyboardInterrupt:
            self._result(req, base, intent, Outcome(ERROR, "interrupted"), app)
            raise
        except Exception as exc:  # noqa: BLE001 - recorded, then reported as one line
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            out = Outcome(ERROR, f"{type(exc).__name__}: {detail}", code=_code_for(exc))
            if not isinstance(exc, ClusterError):
                out.details["traceback"] = traceback.format_exc(limit=3)[-600:]

        # 5. result
        result = self._result(req, base, intent, out, app)
        code = out.code if out.code is not None else _code_for_status(out.status)
        return GateResult(
            out.status,
            out.message,
            code,
            audit_seq=int(intent["seq"]),
            result_seq=int(result["seq"]) if result else None,
            value=out.value,
            warnings=self.warnings,
        )

    # --- helpers -----------------------------------------------------------------------------
    def _app(self, name: str) -> Obj | None:
        try:
            return self.store.get_app(name)
        except NotFound:
            return None

    def _break_glass_needs(self, req: Request, app: Obj | None, now: datetime) -> list[str]:
        needs: list[str] = []
        if req.break_glass_required:
            needs.append(req.break_glass_required)
        if req.action in ALWAYS_BREAK_GLASS:
            what = "terminating an operation" if req.action == "terminate" else "approving a deletion"
            needs.append(f"{what} of {req.app} is a break-glass action")
        if req.action in ("sync", "rollback") and app is not None and not req.parameters.get("dryRun"):
            if req.manual and breakglass.auto_sync_in_force(app, now):
                minutes = int(breakglass.DEFAULT_SUSPENSION.total_seconds() // 60)
                if req.action == "rollback":  # Argo's own refusal, then how to get past it
                    needs.append(
                        f"cannot roll back {req.app}: rollback cannot be initiated when auto-sync is enabled "
                        f"(a break-glass rollback suspends auto-sync for {minutes}m)"
                    )
                else:
                    needs.append(
                        f"cannot sync {req.app}: auto-sync is on (a break-glass sync suspends it for {minutes}m "
                        "so the controller does not sync it straight back)"
                    )
            if not req.skip_windows:
                verdict = self.window_verdict(app, now, manual=req.manual)
                if verdict is not None and not verdict.allowed:
                    needs.insert(0, verdict.message(req.app, now))
        return needs

    def window_verdict(self, app: Obj, now: datetime, *, manual: bool) -> WindowVerdict | None:
        return window_verdict(self.ws, self.store, app, now, manual=manual)

    def _entry(
        self, req: Request, base: dict[str, str], phase: str, outcome: str, message: str, app: Obj | None
    ) -> Entry:
        return Entry(
            actor=self.identity.to_dict(),
            action=req.action,
            phase=phase,
            outcome=outcome,
            project=base["project"],
            app=base["app"],
            parameters=dict(req.parameters),
            reason=req.reason,
            break_glass=bool(req.break_glass),
            message=message,
            diff_summary=diff_summary(app) if app is not None and phase != PHASE_RESULT else {},
        )

    def _refused(
        self,
        req: Request,
        base: dict[str, str],
        outcome: str,
        message: str,
        code: int,
        app: Obj | None,
        now: datetime,
    ) -> GateResult:
        del now
        seq: int | None = None
        try:
            rec = self.chain.append(self._entry(req, base, PHASE_ATTEMPT, outcome, message, app))
            seq = int(rec["seq"])
            self._event(rec, app)
        except (ClusterError, ChainError) as exc:
            self.warnings.append(f"the refused attempt could not be audited: {_one_line(exc)}")
        return GateResult(outcome, message, code, audit_seq=seq, warnings=self.warnings)

    def _no_audit(self, req: Request, exc: Exception) -> GateResult:
        code = (
            EXIT_DENIED
            if isinstance(exc, Forbidden)
            else EXIT_UNREACHABLE
            if isinstance(exc, Unavailable)
            else EXIT_FAILED
        )
        return GateResult(
            ERROR,
            f"cannot write the audit record for {req.action} {req.app or req.obj}: {_one_line(exc)}; "
            "nothing was done (every mutation is audited before it runs)",
            code,
            warnings=self.warnings,
        )

    def _result(
        self, req: Request, base: dict[str, str], intent: dict[str, Any], out: Outcome, app: Obj | None
    ) -> dict[str, Any] | None:
        entry = self._entry(req, base, PHASE_RESULT, out.status, out.message, None)
        entry.intent_seq = int(intent["seq"])
        if out.details:
            entry.parameters = {
                **entry.parameters,
                **{k: v for k, v in out.details.items() if k != "traceback"},
            }
        try:
            rec = self.chain.append(entry)
        except (ClusterError, ChainError) as exc:
            self.warnings.append(
                f"the result of {req.action} {req.app} could not be audited (intent record {intent['seq']} "
                f"stands): {_one_line(exc)}"
            )
            return None
        fresh = self._app(req.app) if req.app else None
        self._event(rec, fresh or app)
        return rec

    def _event(self, rec: dict[str, Any], app: Obj | None) -> None:
        warning = audit_events.emit(self.store.cluster, rec, app, self._clock())
        if warning:
            self.warnings.append(warning)


# --------------------------------------------------------------------------------------------
# Shared helpers (CLI views and the executor use them too)
# --------------------------------------------------------------------------------------------


def app_rbac_object(app: Obj) -> str:
    md = app.get("metadata") or {}
    return rbac.app_object(app_project(app), str(md.get("name") or ""), str(md.get("namespace") or ""))


def diff_summary(app: Obj) -> dict[str, Any]:
    """Counts and keys only — never a value (secrets never enter a record)."""
    status = app.get("status") or {}
    resources = [r for r in status.get("resources") or [] if isinstance(r, dict)]
    changed = [r for r in resources if r.get("status") != "Synced"]
    keys = []
    for r in changed[:20]:
        ns = f"{r['namespace']}/" if r.get("namespace") else ""
        keys.append(f"{r.get('group') or 'core'}/{r.get('kind')} {ns}{r.get('name')}")
    out: dict[str, Any] = {
        "sync": str((status.get("sync") or {}).get("status") or "Unknown"),
        "health": str((status.get("health") or {}).get("status") or "Unknown"),
        "revision": str((status.get("sync") or {}).get("revision") or ""),
        "resources": len(resources),
        "outOfSync": sum(1 for r in resources if r.get("status") == "OutOfSync"),
        "requiresPruning": sum(1 for r in resources if r.get("requiresPruning")),
        "changed": keys,
    }
    return out


def _code_for_status(status: str) -> int:
    if status in (SUCCEEDED, REQUESTED):
        return EXIT_OK
    if status == BLOCKED:
        return EXIT_BLOCKED
    if status == DENIED:
        return EXIT_DENIED
    if status == INVALID:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if status in (FAILED, ERROR) else EXIT_FAILED


def _code_for(exc: Exception) -> int:
    if isinstance(exc, Forbidden):
        return EXIT_DENIED
    if isinstance(exc, Unavailable):
        return EXIT_UNREACHABLE
    return EXIT_FAILED


def _one_line(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(str(text).split())[:300]
