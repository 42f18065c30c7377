"""The reconcile loop (`trueup controller run`, also embedded in the console process).

Each pass, in Argo's order: advance every in-progress operation one step (this is also crash
safety: an operation left Running by a dead process is resumed from `status.operationState`), then
refresh the apps that are due — periodic resync with jitter, watch events, spec changes, the
`argocd.argoproj.io/refresh` annotation, completed operations — and decide auto-sync/self-heal for
each fresh comparison (`autosync`). Retries of failed operations are the executor's: the
loop only keeps calling it.

Time comes from one injectable clock (default: the control cluster's, which the executor uses
too), so tests drive backoffs without sleeping.
"""

from __future__ import annotations

import collections
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.cluster.api import Cluster, ClusterError, NotFound, Obj, ResourceKey
from console.engine.appstore import NAMESPACE, AppStore
from console.engine.compare import CompareContext, Comparison, compare_app
from console.engine.controller.autosync import (
    AutoSyncDecision,
    ResourceView,
    SelfHealBackoff,
    automated,
    decide,
    revision_has_changes,
)
from console.engine.controller.heartbeat import Heartbeat
from console.engine.controller.log import ControllerLog
from console.engine.controller.status import remove_refresh_annotation, write_status
from console.engine.controller.watch import REFRESH_ANNOTATION, RefreshRequests, Watchers, spec_fingerprint
from console.engine.gate.attempt import Gate
from console.engine.governance.identity import controller_identity
from console.engine.refresh import new_context
from console.engine.sync import lease
from console.engine.sync import options as so
from console.engine.sync.executor import process_operation
from console.engine.sync.operation import (
    COMPLETED_PHASES,
    OperationInProgress,
    cluster_now,
    is_in_progress,
    operation_state,
    request_sync,
)
from console.engine.workspace import Workspace, load

SKIP_RECONCILE_ANNOTATION = "argocd.argoproj.io/skip-reconcile"


@dataclass
class Decision:
    """One thing the controller did or declined to do; tests and the log read these."""

    app: str
    action: str  # refresh | sync | self-heal | skip | operation | restore | delete | error
    at: datetime
    reason: str = ""
    condition: str | None = None
    revision: str = ""
    phase: str | None = None
    backoff: float = 0.0
    attempts: int = 0
    hard: bool = False
    retry_in: float | None = None


class Controller:
    """Refresh, auto-sync, self-heal and operation processing for every Application of `ws`."""

    def __init__(
        self,
        ws: Workspace,
        *,
        holder: str,
        resync: float = 120,
        jitter: float = 60,
        self_heal_backoff: tuple[float, float, float] = (2, 3, 300),
        self_heal_cooldown: float = 330,
        clock: Callable[[], datetime] | None = None,
        log: ControllerLog | None = None,
        watch: bool = True,
        sync_timeout: float | None = None,
        op_poll: float = 0.5,
        max_idle: float = 1.0,
        debounce: float = 0.05,
        rng: random.Random | None = None,
    ) -> None:
        self.ws = ws
        self.holder = holder
        self.resync = resync
        self.jitter = jitter
        duration, factor, cap = self_heal_backoff
        self.backoff = SelfHealBackoff(duration, factor, cap, self_heal_cooldown)
        self._clock = clock
        self.log = log or ControllerLog()
        self.watch = watch
        self.sync_timeout = sync_timeout
        self.op_poll = op_poll
        self.max_idle = max_idle
        self.debounce = debounce
        self.rng = rng or random.Random()
        self.requests = RefreshRequests()
        self.decisions: collections.deque[Decision] = collections.deque(maxlen=2000)
        self.watchers: Watchers | None = None
        self._next: dict[str, datetime] = {}
        self._specs: dict[str, str] = {}
        self._held: set[str] = set()  # apps whose operation Lease we may hold
        self._op_seen: dict[str, tuple[str, str]] = {}
        self._skip_logged: dict[str, str] = {}
        self._ops_pending = False
        self.heartbeat = Heartbeat(ws.control, holder)
        self._gate_obj: Gate | None = None

    def _gate(self) -> Gate:
        """Controller mutations go through the governance gate as system:trueup-controller."""
        if self._gate_obj is None:
            self._gate_obj = Gate(self.ws, controller_identity(), clock=self._clock)
        return self._gate_obj

    def _lift_expired_suspensions(self, apps: list[Obj], now: datetime, out: list[Decision]) -> list[str]:
        from console.engine.gate import actions
        from console.engine.governance import breakglass

        lifted: list[str] = []
        for app in apps:
            s = breakglass.suspension_of(app)
            if s is None or not s.expired(now):
                continue
            name = app["metadata"]["name"]
            try:
                result = actions.lift_expired_suspension(self._gate(), app)
            except Exception as exc:  # noqa: BLE001 - one app must not stop the fleet
                self.log.error("could not lift an expired suspension", app=name, error=str(exc))
                continue
            if result is not None:
                self.log.info(result.message, app=name, auditSeq=result.audit_seq)
                out.append(Decision(name, "restore", now, reason=result.message))
                lifted.append(name)
        return lifted

    # --- time ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._clock() if self._clock is not None else cluster_now(self.ws.control())

    def wake(self) -> None:
        """Make a sleeping `run` loop start its next pass now (signal handlers call this)."""
        self.requests.poke()

    def request_refresh(self, app: str, *, hard: bool = False) -> None:
        self.requests.add(app, hard=hard)

    # --- one pass --------------------------------------------------------------------------------
    def run_once(self) -> list[Decision]:
        """One pass over all apps: process operations, refresh those due, decide auto-sync."""
        out: list[Decision] = []
        now = self.now()
        store = AppStore(self.ws.control())
        requested = self.requests.drain()
        apps = store.list_apps()
        self._forget({a["metadata"]["name"] for a in apps})

        lifted = self._lift_expired_suspensions(apps, now, out)
        for name in lifted:  # auto-sync is back: look at the app in this very pass
            requested[name] = requested.get(name, False)
        processed = bool(lifted)
        for app in apps:
            name = app["metadata"]["name"]
            if _skip_reconcile(app) or not is_in_progress(app):
                continue
            phase = self._process(name, now, out)
            processed = True
            if phase is None or phase in COMPLETED_PHASES:
                requested[name] = requested.get(name, False)
        # Applications being deleted: run their resources finalizer (cascade, highest wave first).
        for app in apps:
            if (app.get("metadata") or {}).get("deletionTimestamp") and not _skip_reconcile(app):
                self._finalize(app["metadata"]["name"], now, out)
                processed = True
        if processed:
            apps = store.list_apps()

        due: dict[str, bool] = {}
        for app in apps:
            name = app["metadata"]["name"]
            if _skip_reconcile(app):
                continue
            hard = requested.get(name)
            annotation = ((app.get("metadata") or {}).get("annotations") or {}).get(REFRESH_ANNOTATION)
            if annotation is not None:
                hard = bool(hard) or str(annotation) == "hard"
            fp = spec_fingerprint(app)
            if self._specs.get(name) != fp:
                hard = bool(hard)
            nxt = self._next.get(name)
            if nxt is None or nxt <= now:
                hard = bool(hard)
            if hard is not None:
                due[name] = hard

        by_name = {a["metadata"]["name"]: a for a in apps}
        contexts: dict[bool, CompareContext] = {}
        for name, hard in due.items():
            app = by_name[name]
            try:
                ctx = contexts.get(hard)
                if ctx is None:
                    ctx = contexts[hard] = new_context(self.ws, store, hard=hard)
                    if self._clock is not None:
                        ctx.clock = self._clock  # status times on the controller's (injected) clock
                self._reconcile(store, ctx, app, now, hard, out)
            except Exception as exc:  # noqa: BLE001 - one broken app must not stop the fleet
                self.log.error("reconcile failed", app=name, error=str(exc))
                out.append(Decision(name, "error", now, reason=str(exc)))
                self._schedule(name, now)
        self._ops_pending = any(is_in_progress(a) for a in apps) or bool(self._held)
        if self.watchers is not None:
            self._update_watches(apps)
        self.decisions.extend(out)
        return out

    def _finalize(self, name: str, now: datetime, out: list[Decision]) -> None:
        from console.engine.sync.deletion import process_deletion

        try:
            step = process_deletion(self.ws, name)
        except Exception as exc:  # noqa: BLE001 - one stuck deletion must not stop the fleet
            self.log.error("deletion failed", app=name, error=str(exc))
            out.append(Decision(name, "error", now, reason=str(exc)))
            return
        if step.deleted or step.done:
            self.log.info("deletion", app=name, message=step.message, deleted=len(step.deleted))
        out.append(Decision(name, "delete", now, reason=step.message))

    def _forget(self, names: set[str]) -> None:
        for table in (self._next, self._specs, self._op_seen, self._skip_logged):
            for gone in [n for n in table if n not in names]:
                del table[gone]

    def _schedule(self, name: str, now: datetime, within: float | None = None) -> None:
        delay = self.resync + (self.rng.random() * self.jitter if self.jitter > 0 else 0.0)
        if within is not None:
            delay = min(delay, max(0.0, within))
        self._next[name] = now + timedelta(seconds=delay)

    # --- operations ------------------------------------------------------------------------------
    def _process(self, name: str, now: datetime, out: list[Decision]) -> str | None:
        try:
            phase = process_operation(
                self.ws, name, holder=self.holder, now=now, sync_timeout=self.sync_timeout
            )
        except Exception as exc:  # noqa: BLE001 - logged; the next pass tries again
            self.log.error("operation pass failed", app=name, error=str(exc))
            out.append(Decision(name, "error", now, reason=str(exc)))
            return None
        if phase is None or phase in COMPLETED_PHASES:
            self._held.discard(name)
        else:
            self._held.add(name)
        try:
            state = operation_state(AppStore(self.ws.control()).get_app(name)) or {}
        except NotFound:
            state = {}
        seen = (str(state.get("phase") or ""), str(state.get("message") or ""))
        if seen != self._op_seen.get(name):
            self._op_seen[name] = seen
            level = "warning" if seen[0] in ("Failed", "Error") else "info"
            self.log.log(level, "operation " + (seen[0] or "gone"), app=name, message=seen[1])
        out.append(Decision(name, "operation", now, phase=phase, reason=seen[1]))
        return phase

    # --- refresh + auto-sync ---------------------------------------------------------------------
    def _reconcile(
        self, store: AppStore, ctx: CompareContext, app: Obj, now: datetime, hard: bool, out: list[Decision]
    ) -> None:
        name = app["metadata"]["name"]
        self._specs[name] = spec_fingerprint(app)
        cmp = compare_app(ctx, app)
        out.append(Decision(name, "refresh", now, revision=cmp.revision, hard=hard, reason=cmp.sync_status))
        decision = self._auto_sync_decision(ctx, app, cmp, now)
        if decision.action == "sync":
            error = self._request(store, app, decision, now, out)
            if error:
                decision = AutoSyncDecision("skip", error, condition=error, revisions=decision.revisions)
        if decision.action == "skip":
            self._log_skip(name, decision)
            out.append(
                Decision(
                    name,
                    "skip",
                    now,
                    reason=decision.reason,
                    condition=decision.condition,
                    revision=decision.revision_text,
                    backoff=decision.backoff,
                    attempts=decision.self_heal_attempts,
                    retry_in=decision.retry_in,
                )
            )
        if decision.condition:
            cmp.add_condition("SyncError", decision.condition)
        write_status(store, app, cmp)
        annotations = (app.get("metadata") or {}).get("annotations") or {}
        if REFRESH_ANNOTATION in annotations:
            remove_refresh_annotation(store, name, self.log)
        self._schedule(name, now, decision.retry_in)
        if decision.action == "sync":
            self._process(name, now, out)

    def _auto_sync_decision(
        self, ctx: CompareContext, app: Obj, cmp: Comparison, now: datetime
    ) -> AutoSyncDecision:
        from console.engine.governance import breakglass
        from console.engine.governance.windows import MSG_AUTO_SYNC_PREVENTED

        suspended = breakglass.suspension_of(app)
        if suspended is not None and suspended.expired(now):
            suspended = None  # lifted (with its audit record) at the start of the pass
        if suspended is not None and suspended.scope == breakglass.SCOPE_AUTO_SYNC and decide_enabled(app):
            return AutoSyncDecision("skip", suspended.text())
        if decide_enabled(app) and not self._sync_window_allows(app, cmp, now):
            return AutoSyncDecision("skip", MSG_AUTO_SYNC_PREVENTED)
        resources = [
            ResourceView(r.key.group, r.key.kind, r.key.namespace, r.key.name, r.status, r.requires_pruning)
            for r in cmp.resources
        ]
        revisions = list(cmp.revisions) if (app.get("spec") or {}).get("sources") else [cmp.revision]
        decision = decide(
            app,
            sync_status=cmp.sync_status,
            revisions=revisions,
            resources=resources,
            now=now,
            backoff=self.backoff,
            revision_has_changes=lambda: revision_has_changes(ctx, app, cmp),
        )
        if decision.action == "sync" and decision.self_heal and suspended is not None:
            return AutoSyncDecision("skip", suspended.text(), revisions=decision.revisions)
        return decision

    def _sync_window_allows(self, app: Obj, cmp: Comparison, now: datetime) -> bool:
        """Argo: `project.syncWindows.Matches(app).CanSync(false)` before auto-sync (the executor
        checks every operation pass too)."""
        from console.engine.sync.windows import window_verdict

        del cmp
        verdict = window_verdict(self.ws, AppStore(self.ws.control()), app, now, manual=False)
        return verdict is None or verdict.allowed

    def _request(
        self, store: AppStore, app: Obj, d: AutoSyncDecision, now: datetime, out: list[Decision]
    ) -> str:
        """Set the auto-sync operation; returns a SyncError message on failure ("" when requested)."""
        from console.engine.gate import actions

        name = app["metadata"]["name"]
        multi = bool((app.get("spec") or {}).get("sources"))
        raised: list[Exception] = []

        def request(_ctx: object) -> None:
            try:
                request_sync(
                    store,
                    name,
                    revision="" if multi else (d.revisions[0] if d.revisions else ""),
                    prune=d.prune,
                    resources=d.resources or None,
                    sync_options=d.sync_options,
                    initiated_by={"automated": True},
                    retry=d.retry,
                    self_heal_attempts=d.self_heal_attempts,
                )
            except (OperationInProgress, so.UnsupportedSyncOption, ClusterError) as exc:
                raised.append(exc)
                raise

        params = {"prune": d.prune, "selfHealAttempts": d.self_heal_attempts, "resources": len(d.resources)}
        result = actions.auto_sync(
            self._gate(),
            name,
            self_heal=d.self_heal,
            request=request,
            revision=d.revision_text,
            parameters=params,
        )
        for warning in result.warnings:
            self.log.warning(warning, app=name)
        if raised and isinstance(raised[0], OperationInProgress):
            # stale read: an operation was set meanwhile, so there is nothing to start
            self.log.warning(f"Failed to initiate auto-sync to {d.revision_text}: {raised[0]}", app=name)
            return ""
        if not result.ok:
            message = f"Failed to initiate auto-sync to {d.revision_text}: {result.message}"
            self.log.error(message, app=name)
            return result.message
        self._skip_logged.pop(name, None)
        action = "self-heal" if d.self_heal else "sync"
        self.log.info(
            f"Initiated automated sync to '{d.revision_text}'",
            app=name,
            selfHeal=d.self_heal or None,
            autoHealAttemptsCount=d.self_heal_attempts or None,
            resources=len(d.resources) or None,
        )
        out.append(
            Decision(
                name, action, now, revision=d.revision_text, backoff=d.backoff, attempts=d.self_heal_attempts
            )
        )
        return ""

    def _log_skip(self, name: str, d: AutoSyncDecision) -> None:
        """Argo logs every skip on every refresh; once per change of reason is enough to read."""
        text = f"Skipping auto-sync: {d.reason}" if not d.reason.startswith("Skipping") else d.reason
        if self._skip_logged.get(name) == text or d.reason == "automated sync is disabled":
            return
        self._skip_logged[name] = text
        level = "warning" if d.condition else "info"
        self.log.log(level, text, app=name)

    # --- watches ---------------------------------------------------------------------------------
    def start_watches(self) -> Watchers:
        """Watch Applications now; workload kinds are added as app statuses name them."""
        if self.watchers is None:
            # Watch threads get their own connections (a private Workspace): they never contend
            # with the loop for a client.
            private = load(self.ws.root)
            self.watchers = Watchers(
                private.open_cluster,
                self.requests,
                control_cluster=self.ws.control_cluster,
                namespace=NAMESPACE,
                tracking_annotation=self.ws.settings.tracking_annotation,
                on_error=lambda m: self.log.warning(m),
            )
            self.watchers.start_control()
            self._update_watches(AppStore(self.ws.control()).list_apps())
        return self.watchers

    def _update_watches(self, apps: list[Obj]) -> None:
        assert self.watchers is not None
        kinds: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
        index: dict[str, dict[ResourceKey, list[str]]] = collections.defaultdict(
            lambda: collections.defaultdict(list)
        )
        for app in apps:
            dest = (app.get("spec") or {}).get("destination") or {}
            cfg = self.ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
            if cfg is None:
                continue
            for r in (app.get("status") or {}).get("resources") or []:
                group, version, kind = r.get("group") or "", r.get("version") or "", r.get("kind") or ""
                if not kind or not version:
                    continue
                kinds[cfg.name].add((f"{group}/{version}" if group else version, kind))
                key = ResourceKey(group, kind, r.get("namespace") or "", r.get("name") or "")
                index[cfg.name][key].append(app["metadata"]["name"])
        self.watchers.index = {c: {k: tuple(v) for k, v in m.items()} for c, m in index.items()}
        for cluster_name, wanted in kinds.items():
            self.watchers.ensure(cluster_name, wanted)

    # --- the loop --------------------------------------------------------------------------------
    def run(self, stop_event: threading.Event) -> None:
        """Reconcile until `stop_event` is set; the current step finishes, then leases are released."""
        self.log.info("controller started", holder=self.holder, resync=self.resync, jitter=self.jitter)
        try:
            if self.watch:
                self.start_watches()
            failures = 0
            while not stop_event.is_set():
                self.requests.wake.clear()
                try:
                    self.heartbeat.beat()
                    self.run_once()
                    failures = 0
                except (ClusterError, OSError) as exc:
                    failures += 1
                    self.log.error("controller pass failed", error=str(exc))
                    stop_event.wait(min(30.0, 0.5 * 2**failures))
                    continue
                if stop_event.is_set():
                    break
                self.requests.wake.wait(self._idle_timeout())
                age = self.requests.age()
                if age is not None and age < self.debounce:
                    stop_event.wait(self.debounce - age)  # let a burst of events coalesce
        finally:
            self.close()
            self.log.info("controller stopped", holder=self.holder)

    def _idle_timeout(self) -> float:
        if self._ops_pending:
            return self.op_poll
        if not self._next:
            return self.max_idle
        now = self.now()
        soonest = min(self._next.values())
        return max(0.0, min(self.max_idle, (soonest - now).total_seconds()))

    def close(self) -> None:
        """Stop watches and give up the operation Leases we hold (another replica resumes at once)."""
        if self.watchers is not None:
            self.watchers.close()
            self.watchers = None
        control: Cluster = self.ws.control()
        try:
            self.heartbeat.stop()
        except ClusterError as exc:
            self.log.warning("could not remove the controller heartbeat", error=exc.message)
        for name in sorted(self._held):
            try:
                lease.release(control, name, self.holder)
            except ClusterError as exc:
                self.log.warning("could not release the operation lease", app=name, error=exc.message)
        self._held.clear()


def decide_enabled(app: Obj) -> bool:
    return automated(app) is not None


def _skip_reconcile(app: Obj) -> bool:
    annotations = (app.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(SKIP_RECONCILE_ANNOTATION, "")).lower() == "true"
