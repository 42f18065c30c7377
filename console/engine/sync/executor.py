"""The sync executor: Argo CD's sync state machine (argocd-features.md §2.4), one pass at a time.

Each `process_operation` call is one controller pass over the Application's current operation:
re-plan from a fresh compare, merge the results persisted in `status.operationState.syncResult`
(by `SyncTask.result_key`), advance as far as Argo would in one `Sync()` call, and persist after
every step. Nothing lives in memory between passes, so any process can resume an operation another
one started: the Lease `trueup-op-<app>` makes sure only one of them does at a time.

Crash safety, beyond Argo: hook objects carry the annotation `trueup.dev/sync-operation` naming the
operation attempt (`<startedAt>#<retryCount>`). A hook that exists live with the current attempt's
mark was created by this operation — even if the process died before recording it — so it is
re-attached, never deleted and re-created. Resources already recorded as applied are not applied
again; a resource applied but not yet recorded is applied once more, which server-side apply
makes a no-op.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from console.cluster.api import Cluster, ClusterError, NotFound, Obj, ResourceKey, split_api_version
from console.engine import hooks, model, tracking
from console.engine.appstore import AppStore
from console.engine.compare import CompareContext, Comparison, compare_app, unexpected_error
from console.engine.governance import projects
from console.engine.health import HealthChecker
from console.engine.normalize import IgnoreRule, IgnoreRuleError
from console.engine.refresh import new_context
from console.engine.sync import lease
from console.engine.sync import options as so
from console.engine.sync import tasks as tk
from console.engine.sync.apply import apply_task, error_message, object_ref
from console.engine.sync.history import append_history
from console.engine.sync.ignore import respect_ignore_differences
from console.engine.sync.operation import (
    COMPLETED_PHASES,
    cluster_now,
    ensure_operation_state,
    is_completed,
    is_in_progress,
    operation_state,
    parse_time,
    rfc3339,
    update_app,
    update_status,
)
from console.engine.workspace import Workspace

OPERATION_MARK = "trueup.dev/sync-operation"
DELETION_APPROVED = "argocd.argoproj.io/deletion-approved"
DEFAULT_WAVE_DELAY = 2.0  # ARGOCD_SYNC_WAVE_DELAY, real clusters only

MSG_ALL_TASKS_RUN = "successfully synced (all tasks run)"
MSG_NO_MORE_TASKS = "successfully synced (no more tasks)"
MSG_NOT_VALID = "one or more synchronization tasks are not valid"
MSG_DRY_RUN_FAILED = "one or more objects failed to apply (dry run)"
MSG_APPLY_FAILED = "one or more objects failed to apply"
MSG_COMPLETED_UNSUCCESSFULLY = "one or more synchronization tasks completed unsuccessfully"
MSG_TERMINATED = "Operation terminated"
MSG_TERMINATION_ERRORS = "Operation termination had errors"
MSG_TIMEOUT = "operation is terminating due to timeout"
MSG_UNEXPECTED = "the operation stopped on an unexpected error"


class _Superseded(Exception):
    """The operation state changed under us (terminated, or a new operation): stop this pass."""


def _kitchen(at: datetime) -> str:
    """Go's time.Kitchen ("3:04PM"), in UTC."""
    at = at.astimezone(UTC)
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d}{'AM' if at.hour < 12 else 'PM'}"


def retry_strategy(op: Obj) -> model.RetryStrategy | None:
    raw = op.get("retry")
    if not isinstance(raw, dict):
        return None
    backoff_raw = raw.get("backoff")
    backoff = None
    if isinstance(backoff_raw, dict):
        factor = backoff_raw.get("factor")
        backoff = model.Backoff(
            duration=str(backoff_raw.get("duration") or ""),
            factor=int(factor) if factor is not None else None,
            max_duration=str(backoff_raw.get("maxDuration") or ""),
        )
    return model.RetryStrategy(
        limit=int(raw.get("limit") or 0), backoff=backoff, refresh=bool(raw.get("refresh"))
    )


def wave_delay_for(cluster: Cluster, explicit: float | None) -> float:
    """Argo sleeps 2 s after each non-final wave so controllers see the new objects; the sim's
    controllers run synchronously with every call, so there it is 0."""
    if explicit is not None:
        return explicit
    return 0.0 if hasattr(cluster, "tick") else DEFAULT_WAVE_DELAY


@dataclass
class _Pass:
    ws: Workspace
    store: AppStore
    app: Obj
    state: Obj
    now: datetime
    holder: str
    lease_seconds: float | None
    wave_delay: float | None
    sync_timeout: float | None
    tasks: list[tk.SyncTask] = field(default_factory=list)
    sync_fail: list[tk.SyncTask] = field(default_factory=list)
    extra_results: list[Obj] = field(default_factory=list)
    cmp: Comparison | None = None
    ctx: CompareContext | None = None
    dest: Cluster | None = None
    app_options: so.SyncOptions = field(default_factory=so.SyncOptions)
    out_of_sync: set[ResourceKey] = field(default_factory=set)
    last_renew: float = 0.0
    policy_messages: set[str] = field(default_factory=set)
    forbidden: set[int] = field(default_factory=set)  # id() of tasks the project forbids

    # --- accessors ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.app["metadata"]["name"])

    @property
    def op(self) -> Obj:
        op = self.state.get("operation") or self.app.get("operation") or {}
        return op if isinstance(op, dict) else {}

    @property
    def sync(self) -> Obj:
        sync = self.op.get("sync") or {}
        return sync if isinstance(sync, dict) else {}

    @property
    def started_at(self) -> datetime:
        return parse_time(self.state.get("startedAt")) or self.now

    @property
    def attempt_mark(self) -> str:
        return f"{self.state.get('startedAt', '')}#{int(self.state.get('retryCount') or 0)}"

    @property
    def dry_run(self) -> bool:
        return bool(self.sync.get("dryRun"))

    @property
    def selective(self) -> bool:
        return bool(self.sync.get("resources"))

    @property
    def strategy_force(self) -> bool:
        strategy = self.sync.get("syncStrategy") or {}
        return any(bool((strategy.get(k) or {}).get("force")) for k in ("apply", "hook"))

    @property
    def skip_hooks(self) -> bool:
        return "apply" in (self.sync.get("syncStrategy") or {}) or self.selective

    # --- persistence -------------------------------------------------------------------------
    def _results(self) -> list[Obj]:
        out: list[Obj] = []
        seen: set[str] = set()
        for t in [*self.tasks, *self.sync_fail]:
            if t.operation_state == "":
                continue
            seen.add(t.result_key)
            res: Obj = {
                "group": t.key.group,
                "version": split_api_version(t.api_version)[1],
                "kind": t.key.kind,
                "namespace": t.key.namespace,
                "name": t.key.name,
                "status": t.sync_status,
                "message": t.message,
                "hookPhase": t.operation_state,
                "syncPhase": t.phase,
            }
            if t.is_hook:
                res["hookType"] = t.hook_type
            out.append(res)
        for r in self.extra_results:
            if _result_key(r) not in seen:
                out.append(r)
        return out

    def persist(self, *, results: bool = True) -> None:
        """Write operationState (and the task results) unless the state was superseded."""
        new = copy.deepcopy(self.state)
        if results and (self.tasks or self.sync_fail or self.extra_results):
            sr = dict(new.get("syncResult") or {})
            sr["resources"] = self._results()
            new["syncResult"] = sr
        started = self.state.get("startedAt")
        seen_terminating: list[bool] = []

        def mutate(status: Obj) -> None:
            live = status.get("operationState")
            if not isinstance(live, dict) or live.get("startedAt") != started or is_completed(live):
                raise _Superseded()
            if live.get("phase") == tk.TERMINATING and new.get("phase") == tk.RUNNING:
                new["phase"] = tk.TERMINATING
                new["message"] = live.get("message", "")
                seen_terminating.append(True)
            status["operationState"] = new

        update_status(self.store, self.name, mutate)
        self.state = new
        self._renew()
        if seen_terminating:
            raise _Superseded()

    def _renew(self) -> None:
        now = time.monotonic()
        if now - self.last_renew > lease.lease_seconds(self.lease_seconds) / 3:
            self.last_renew = now
            lease.acquire(self.store.cluster, self.name, self.holder, seconds=self.lease_seconds)

    def running(self, message: str) -> str:
        self.state["phase"] = tk.RUNNING
        self.state["message"] = message
        self.persist()
        return tk.RUNNING

    # --- completion ----------------------------------------------------------------------------
    def complete(self, phase: str, message: str, *, retryable: bool = True) -> str:
        strategy = retry_strategy(self.op)
        count = int(self.state.get("retryCount") or 0)
        if (
            phase in (tk.FAILED, tk.ERROR)
            and retryable
            and strategy is not None
            and strategy.allows_retry(count)
        ):
            retry_at = self.now + timedelta(seconds=strategy.next_retry_delay(count))
            self.state["retryCount"] = count + 1
            self.state["phase"] = tk.RUNNING
            self.state["finishedAt"] = rfc3339(self.now)
            self.state["message"] = f"{message}. Retrying attempt #{count + 1} at {_kitchen(retry_at)}."
            self._cleanup_hooks(succeeded=False)
            self.persist()
            return tk.RUNNING
        if count:
            message = f"{message} (retried {count} times)."
        self._cleanup_hooks(succeeded=phase == tk.SUCCEEDED)
        self.state["phase"] = phase
        self.state["message"] = message
        self.state["finishedAt"] = rfc3339(self.now)
        results = self._results() if (self.tasks or self.sync_fail or self.extra_results) else None
        final = copy.deepcopy(self.state)
        if results is not None:
            final.setdefault("syncResult", {})["resources"] = results
        record = phase == tk.SUCCEEDED and not self.dry_run and not self.selective
        op = self.op
        started = self.state.get("startedAt")

        def clear(app: Obj) -> None:
            app["operation"] = None
            app.pop("operation", None)

        # `operation` first: a crash between the two writes leaves a Running state whose own
        # copy of the operation lets the next pass finish it.
        update_app(self.store, self.name, clear)

        def mutate(status: Obj) -> None:
            live = status.get("operationState")
            if not isinstance(live, dict) or live.get("startedAt") != started or is_completed(live):
                raise _Superseded()
            status["operationState"] = final
            if record:
                append_history(status, self.app, final, op, deployed_at=rfc3339(self.now))

        update_status(self.store, self.name, mutate)
        self.state = final
        return phase

    def _cleanup_hooks(self, *, succeeded: bool) -> None:
        """Delete hooks per their policy, and drop the hook finalizer from every hook we ran."""
        policy = "HookSucceeded" if succeeded else "HookFailed"
        for t in [*self.tasks, *self.sync_fail]:
            if not t.is_hook or t.live is None:
                continue
            if id(t) in self.forbidden and not self._created_here(t.live):
                continue  # a forbidden hook's live namesake is not ours to touch
            self._remove_finalizer(t)
            if t.completed and t.has_delete_policy(policy):
                self._delete(t, "Background")

    def _created_here(self, live: Obj) -> bool:
        """The live object is a hook this very operation attempt created (see OPERATION_MARK)."""
        return ((live.get("metadata") or {}).get("annotations") or {}).get(
            OPERATION_MARK
        ) == self.attempt_mark

    def _remove_finalizer(self, t: tk.SyncTask) -> None:
        live = t.live
        if live is None or self.dest is None:
            return
        fins = (live.get("metadata") or {}).get("finalizers") or []
        if tk.HOOK_FINALIZER not in fins:
            return
        keep = [f for f in fins if f != tk.HOOK_FINALIZER]
        try:
            t.live = self.dest.patch(
                t.api_version,
                t.key.kind,
                t.key.namespace,
                t.key.name,
                {"metadata": {"finalizers": keep or None}},
                field_manager="trueup",
            )
        except NotFound:
            t.live = None
        except ClusterError:
            pass

    def _delete(self, t: tk.SyncTask, policy: str) -> bool:
        """Delete the live object; True when it is gone (not only marked)."""
        assert self.dest is not None
        try:
            out = self.dest.delete(
                t.api_version,
                t.key.kind,
                t.key.namespace,
                t.key.name,
                propagation_policy=policy,  # type: ignore[arg-type]
            )
        except NotFound:
            return True
        return out is None

    # --- the pass ------------------------------------------------------------------------------
    def execute(self) -> str:
        if self.state.get("phase") == tk.TERMINATING:
            return self.terminate()
        if self.sync_timeout is not None and (self.now - self.started_at).total_seconds() > self.sync_timeout:
            self.state["phase"] = tk.TERMINATING
            self.state["message"] = MSG_TIMEOUT
            try:
                self.persist(results=False)
            except _Superseded:
                pass  # persist reports the Terminating phase it just wrote
            return tk.TERMINATING  # observable; the next pass terminates, as Argo's controller does
        if self._blocked_by_window():
            return tk.RUNNING
        waiting = self._retry_gate()
        if waiting is not None:
            return waiting
        return self._sync()

    def _blocked_by_window(self) -> bool:
        """Argo's syncWindowPreventsSync: the operation waits, Running, with Argo's message."""
        from console.engine.governance.inflight import MSG_BLOCKED_BY_WINDOW, operation_blocked

        if not operation_blocked(self.ws, self.store, self.app, self.state, self.now):
            return False
        if self.state.get("message") != MSG_BLOCKED_BY_WINDOW:
            self.state["message"] = MSG_BLOCKED_BY_WINDOW
            try:
                self.persist(results=False)
            except _Superseded:
                pass
        return True

    def _retry_gate(self) -> str | None:
        """A failed attempt scheduled for retry: wait for NextRetryAt, then start attempt #N."""
        count = int(self.state.get("retryCount") or 0)
        finished = parse_time(self.state.get("finishedAt"))
        if not count or finished is None:
            return None
        strategy = retry_strategy(self.op) or model.RetryStrategy()
        retry_at = finished + timedelta(seconds=strategy.next_retry_delay(count - 1))
        if self.now < retry_at:
            return tk.RUNNING
        self.state.pop("finishedAt", None)
        latest = " with latest revisions" if strategy.refresh else ""
        self.state["message"] = f"Retrying operation{latest}. Attempt #{count}"
        sr = self.state.get("syncResult") or {}
        self.state["syncResult"] = (
            {} if strategy.refresh else {k: v for k, v in sr.items() if k != "resources"}
        )
        if not self.state["syncResult"]:
            self.state.pop("syncResult")
        self.persist(results=False)
        return None

    def _sync(self) -> str:
        self.ctx = new_context(self.ws, self.store)
        sr = self.state.get("syncResult") or {}
        revision = sr.get("revision") or self.sync.get("revision") or None
        cmp = compare_app(self.ctx, self.app, revision_override=revision)
        self.cmp = cmp
        # project-policy violations of single resources are the plan's to report (Argo's "not valid")
        errors = [
            c
            for c in cmp.conditions
            if c["type"] in ("ComparisonError", "InvalidSpecError")
            and c["message"] not in cmp.policy_violations
        ]
        if errors:
            return self.complete(tk.ERROR, "; ".join(f"{c['type']}: {c['message']}" for c in errors))
        if cmp.kept_previous:
            return self.complete(
                tk.ERROR, "ComparisonError: Failed to load target state: the repository is unreachable"
            )
        try:
            options = self.sync.get("syncOptions")
            if options is None:
                options = ((self.app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions")
            self.app_options = so.SyncOptions.parse(options)
        except so.UnsupportedSyncOption as exc:
            return self.complete(tk.ERROR, str(exc), retryable=False)
        if self.app_options.fail_on_shared_resource:
            shared = [c["message"] for c in cmp.conditions if c["type"] == "SharedResourceWarning"]
            if shared:
                return self.complete(tk.FAILED, f"Shared resource found: {'; '.join(shared)}")
        if not sr.get("revision") and cmp.revision:
            self.state["syncResult"] = {
                **sr,
                "revision": cmp.revision,
                **_sources_of(self.app),
            }
            if cmp.revisions and len(cmp.revisions) > 1:
                self.state["syncResult"]["revisions"] = cmp.revisions
        self.dest = self.ws.open_cluster(cmp.cluster)
        invalid = self._plan(cmp)
        if isinstance(invalid, str):
            return self.complete(tk.ERROR, invalid, retryable=False)
        if invalid:
            # A project violation anywhere means nothing of the app is applied, SyncFail hooks
            # included (they come from the same repository); other invalid tasks run them, as Argo.
            forbidden = any(t.message in self.policy_messages for t in invalid)
            return self._fail(invalid, MSG_NOT_VALID, run_sync_fail=not forbidden)
        self._adopt_hooks()
        started = bool((self.state.get("syncResult") or {}).get("resources"))
        if not started:
            phase = self._dry_run_all()
            if phase is not None:
                return phase
        return self._advance()

    # planning ----------------------------------------------------------------------------------
    def _plan(self, cmp: Comparison) -> list[tk.SyncTask] | str:
        assert self.ctx is not None and self.dest is not None
        live_state = self.ctx.live_state(cmp.cluster)
        assert live_state is not None
        spec = self.app.get("spec") or {}
        dest_ns = (spec.get("destination") or {}).get("namespace") or ""
        annotation = self.ws.settings.tracking_annotation
        invalid: list[tk.SyncTask] = []
        pairs: list[tuple[Obj | None, Obj | None]] = []
        for r in cmp.resources:
            if r.status == "Unknown" and r.message in cmp.policy_violations:
                # forbidden by the project (hooks and prune candidates too): never planned, and
                # reported even when a selective sync or the apply strategy would skip it
                ref = r.target if r.target is not None else r.live
                phases = hooks.sync_phases(ref) if r.hook and ref is not None else []
                phase = phases[0] if phases else "Sync"
                t = tk.SyncTask(
                    phase, r.sync_wave, r.target, r.live, r.key, hook_type=phase if phases else None
                )
                t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, r.message
                self.policy_messages.add(r.message)
                self.forbidden.add(id(t))
                invalid.append(t)
                continue
            if r.status == "OutOfSync" or r.live is None:
                self.out_of_sync.add(r.key)
            pairs.append((r.target, r.live))
        managed = self._managed_namespace(dest_ns)
        selected = {
            ResourceKey(
                str(x.get("group") or ""),
                str(x.get("kind") or ""),
                str(x.get("namespace") or ""),
                str(x.get("name") or ""),
            )
            for x in self.sync.get("resources") or []
        } or None
        revision = (self.state.get("syncResult") or {}).get("revision") or cmp.revision
        try:
            planned = tk.plan(
                pairs,
                app_name=self.name,
                app_namespace=dest_ns,
                revision=revision,
                started_at=self.started_at,
                app_options=self.app_options,
                prune=bool(self.sync.get("prune")),
                is_namespaced=live_state.is_namespaced,
                selected=selected,
                skip_hooks=self.skip_hooks,
                managed_namespace=managed,
            )
        except (so.UnsupportedSyncOption, tk.PlanError) as exc:
            return str(exc)
        instance = self.name
        for t in planned:
            if t.is_hook and t.target is not None:
                namespaced = bool(t.key.namespace)
                target = tracking.set_tracking(
                    t.target, instance, annotation=annotation, namespaced=namespaced
                )
                md = target["metadata"]
                md["annotations"] = {**(md.get("annotations") or {}), OPERATION_MARK: self.attempt_mark}
                t.target = target
            if (
                t.target is not None
                and not t.skip_dry_run
                and live_state.is_namespaced(t.api_version, t.key.kind) is None
            ):
                t.sync_status, t.operation_state = tk.SYNC_FAILED, tk.FAILED
                t.message = (
                    f'the server could not find the requested resource: kind "{t.key.kind}" '
                    f'in version "{t.api_version}" is not served by cluster {cmp.cluster}'
                )
                invalid.append(t)
        persisted = {_result_key(r): r for r in (self.state.get("syncResult") or {}).get("resources") or []}
        for t in planned:
            r = persisted.pop(t.result_key, None)
            if r is not None:
                t.sync_status = str(r.get("status") or t.sync_status)
                t.operation_state = str(r.get("hookPhase") or "")
                t.message = str(r.get("message") or "")
        self.extra_results = list(persisted.values())
        invalid.extend(t for t in self._forbidden(cmp, planned, managed) if t not in invalid)
        if self.app_options.respect_ignore_differences:
            rules = list(self.ctx.system_rules)
            for item in spec.get("ignoreDifferences") or []:
                try:
                    rules.append(IgnoreRule.from_spec(item))
                except IgnoreRuleError as exc:
                    return f"spec.ignoreDifferences: {exc}"
            for t in planned:
                if t.target is not None and t.live is not None and not t.is_hook:
                    t.target = respect_ignore_differences(t.target, t.live, rules)
        self.sync_fail = [t for t in planned if t.phase == "SyncFail"]
        self.tasks = [t for t in planned if t.phase != "SyncFail"]
        if invalid:
            for t in invalid:
                if t not in self.tasks:
                    self.tasks.append(t)
        return invalid

    def _forbidden(
        self, cmp: Comparison, planned: list[tk.SyncTask], managed: tuple[Obj, Obj | None] | None
    ) -> list[tk.SyncTask]:
        """Argo's sync permission validator over every planned task — hooks with their generated
        names, SyncFail hooks and prunes — with the same check compare used. The CreateNamespace
        task is the app's own destination namespace, which the app-level check already allowed."""
        project, dest = cmp.project, cmp.destination
        if project is None or dest is None:
            return []
        managed_name = ((managed[0].get("metadata") or {}).get("name") if managed else None) or None
        out: list[tk.SyncTask] = []
        for t in planned:
            if (
                managed_name
                and t.key == ResourceKey("", "Namespace", "", managed_name)
                and t.phase == "PreSync"
            ):
                continue
            violation = projects.resource_violation(
                project, t.key.group, t.key.kind, t.key.name, t.key.namespace, dest
            )
            if violation is not None:
                t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, violation
                self.policy_messages.add(violation)
                self.forbidden.add(id(t))
                out.append(t)
        return out

    def _managed_namespace(self, dest_ns: str) -> tuple[Obj, Obj | None] | None:
        """CreateNamespace=true: a PreSync Namespace task when it is missing, its
        managedNamespaceMetadata differs, or this operation already started it."""
        if not self.app_options.create_namespace or not dest_ns or self.dest is None:
            return None
        policy = (self.app.get("spec") or {}).get("syncPolicy") or {}
        meta = policy.get("managedNamespaceMetadata") or {}
        md: Obj = {"name": dest_ns}
        for k in ("labels", "annotations"):
            if meta.get(k):
                md[k] = dict(meta[k])
        ns_obj: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": md}
        try:
            live: Obj | None = self.dest.get("v1", "Namespace", "", dest_ns)
        except NotFound:
            live = None
        recorded = any(
            r.get("kind") == "Namespace" and r.get("name") == dest_ns and r.get("syncPhase") == "PreSync"
            for r in (self.state.get("syncResult") or {}).get("resources") or []
        )
        if live is not None and not recorded:
            lmd = live.get("metadata") or {}
            same = all(
                all((lmd.get(k) or {}).get(kk) == vv for kk, vv in (md.get(k) or {}).items())
                for k in ("labels", "annotations")
            )
            if same:
                return None
        return ns_obj, live

    def _adopt_hooks(self) -> None:
        """Re-attach to hooks this attempt created but did not get to record (crash window)."""
        for t in [*self.tasks, *self.sync_fail]:
            if not (t.is_hook and t.pending and t.live is not None):
                continue
            mark = ((t.live.get("metadata") or {}).get("annotations") or {}).get(OPERATION_MARK)
            if mark == self.attempt_mark:
                t.sync_status, t.operation_state, t.message = (
                    tk.SYNCED,
                    tk.RUNNING,
                    f"{object_ref(t)} created",
                )

    # dry run ----------------------------------------------------------------------------------
    def _dry_run_all(self) -> str | None:
        assert self.dest is not None
        creating_ns = {
            t.key.name
            for t in self.tasks
            if t.key.kind == "Namespace" and t.key.group == "" and t.live is None
        }
        failed: list[tk.SyncTask] = []
        messages: dict[str, str] = {}
        for t in [*self.tasks, *self.sync_fail]:
            if t.target is None or t.skip_dry_run or t.completed:
                continue
            if t.key.namespace in creating_ns:
                continue  # its namespace is created by this sync; the server cannot rehearse it yet
            if t.delete_before_creation:
                continue  # the old hook is deleted first: rehearsing an update of it means nothing
            res = apply_task(
                self.dest,
                t,
                self.app_options,
                strategy_force=self.strategy_force,
                dry_run=True,
                sensitive_annotations=self.ws.settings.sensitive_annotations,
            )
            if not res.ok:
                if not so.validate(t.target, self.app_options):
                    continue  # Validate=false: the real apply decides
                t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, res.message
                failed.append(t)
            messages[t.result_key] = res.message
        if failed:
            return self._fail(failed, MSG_DRY_RUN_FAILED)
        if not self.dry_run:
            return None
        for t in [*self.tasks]:
            if t.is_prune:
                if t.prune_skipped:
                    t.operation_state = tk.SUCCEEDED
                else:
                    t.sync_status, t.operation_state, t.message = tk.PRUNED, tk.SUCCEEDED, "pruned (dry run)"
                continue
            # not rehearsed (its namespace or CRD comes with this sync, or a hook that is deleted and
            # re-created): say what the real run will do
            verb = "created" if t.live is None or t.delete_before_creation else "configured"
            t.sync_status, t.operation_state = tk.SYNCED, tk.SUCCEEDED
            t.message = messages.get(t.result_key) or f"{object_ref(t)} {verb} (dry run)"
        return self.complete(tk.SUCCEEDED, MSG_ALL_TASKS_RUN)

    # the state machine -----------------------------------------------------------------------
    def _advance(self) -> str:
        self._update_running()
        running = [t for t in self.tasks if t.running and not t.is_prune]
        hooks_running = [t for t in running if t.is_hook]
        if (tk.multi_step(self.tasks) and running) or hooks_running:
            return self.running(tk.wait_message(running))
        deleting = [t for t in self.tasks if t.is_prune and t.sync_status == tk.PRUNED and t.live is not None]
        if deleting:
            return self.running(tk.wait_message(deleting, deletion=True))
        failed = [t for t in self.tasks if t.completed and not t.successful]
        if failed:
            return self._fail(failed, MSG_COMPLETED_UNSUCCESSFULLY)
        pending = [t for t in self.tasks if t.pending]
        if self.app_options.apply_out_of_sync_only:
            pending = [t for t in pending if t.is_hook or t.is_prune or t.key in self.out_of_sync]
        if not pending:
            return self.complete(tk.SUCCEEDED, MSG_NO_MORE_TASKS)
        phase, wave = pending[0].phase, pending[0].wave
        group = [t for t in pending if (t.phase, t.wave) == (phase, wave)]
        remaining = [t for t in pending if (t.phase, t.wave) != (phase, wave)]
        outcome = self._run_wave(group)
        if outcome is not None:
            return outcome
        failed = [t for t in group if t.completed and not t.successful]
        if failed:
            return self._fail(failed, MSG_APPLY_FAILED)
        if not remaining and not any(t.is_hook for t in group):
            return self.complete(tk.SUCCEEDED, MSG_ALL_TASKS_RUN)
        if remaining:
            delay = wave_delay_for(self.dest, self.wave_delay) if self.dest is not None else 0.0
            if delay > 0:
                time.sleep(delay)
        # Argo names the remaining tasks here; naming what was just started is what helps at 3 a.m.
        running = [t for t in group if t.running]
        return self.running(tk.wait_message(running or remaining or group))

    def _health(self) -> HealthChecker:
        assert self.ctx is not None
        return self.ctx.health

    def _update_running(self) -> None:
        """Step 4: running tasks take the verdict of their live object's health."""
        changed = False
        for t in [*self.tasks, *self.sync_fail]:
            if not t.running or t.is_prune:
                continue
            if t.live is None:
                k = t.key
                t.operation_state = tk.ERROR
                t.message = f"Resource {k.group}/{k.kind}/{k.name} is missing, it might have been deleted"
                changed = True
                continue
            h = self._health().resource_health(t.live, is_hook=t.is_hook)
            if t.is_hook:
                if h is None:
                    t.operation_state, t.message = tk.SUCCEEDED, f"{t.key.name} created"
                elif h.status == "Healthy":
                    t.operation_state, t.message = tk.SUCCEEDED, h.message or t.message
                elif h.status in ("Progressing", "Suspended"):
                    if h.message and h.message != t.message:
                        t.message = h.message
                        changed = True
                    continue
                else:
                    t.operation_state, t.message = tk.FAILED, h.message or f"{t.key.name} failed"
                changed = True
                if t.completed:
                    self._remove_finalizer(t)
                continue
            if h is None or h.status == "Healthy":
                t.operation_state = tk.SUCCEEDED
                if h is not None and h.message:
                    t.message = h.message
                changed = True
            elif h.status == "Degraded":
                t.operation_state, t.message = tk.FAILED, h.message
                changed = True
        if changed:
            self.persist()

    def _fail(self, failed: list[tk.SyncTask], message: str, *, run_sync_fail: bool = True) -> str:
        """GE setOperationFailed: run the SyncFail hooks (once), then Failed with the reasons."""
        reasons = [t.message for t in failed if t.message]
        text = f"{message}, reason: {','.join(reasons)}" if reasons else message
        if not run_sync_fail:
            self.sync_fail = []  # not recorded as results either: they were never considered
        if self.sync_fail and not all(t.completed for t in self.sync_fail):
            pending = [t for t in self.sync_fail if t.pending]
            if pending:
                self._apply_tasks(pending)
            running = [t for t in self.sync_fail if t.running]
            if running:
                return self.running(tk.wait_message(running))
        return self.complete(tk.FAILED, text)

    def _run_wave(self, group: list[tk.SyncTask]) -> str | None:
        """GE runTasks for one (phase, wave): prunes, BeforeHookCreation deletes, then applies.
        Returns a phase when the pass must stop here (waiting), else None."""
        prunes = [t for t in group if t.is_prune]
        to_confirm = [t for t in prunes if t.requires_prune_confirmation and not t.prune_skipped]
        if to_confirm and not self._deletion_approved():
            return self.running(tk.prune_confirmation_message(to_confirm))
        if prunes:
            policy = self.app_options.prune_propagation_policy
            for t in prunes:
                if t.prune_skipped:
                    t.operation_state = tk.SUCCEEDED
                    continue
                try:
                    self._delete(t, policy)
                    t.sync_status, t.operation_state, t.message = tk.PRUNED, tk.SUCCEEDED, "pruned"
                except ClusterError as exc:
                    t.sync_status, t.operation_state, t.message = (
                        tk.SYNC_FAILED,
                        tk.FAILED,
                        error_message(exc, t, self.ws.settings.sensitive_annotations),
                    )
            self.persist()
        recreate = [t for t in group if t.delete_before_creation]
        if recreate:
            gone = True
            for t in recreate:
                self._remove_finalizer(t)
                if t.live is not None:
                    gone = self._delete(t, "Background") and gone
                    t.live = None
            if not gone:
                return self.running(tk.wait_message(recreate, deletion=True))
        applies = [t for t in group if not t.is_prune and t.pending]
        self._apply_tasks(applies)
        return None

    def _apply_tasks(self, todo: list[tk.SyncTask]) -> None:
        """Consecutive tasks of one kind form a group; each group is persisted once, each hook
        as soon as it is created."""
        assert self.dest is not None
        previous_kind: str | None = None
        dirty = False
        for t in todo:
            if previous_kind is not None and t.key.kind != previous_kind and dirty:
                self.persist()
                dirty = False
            previous_kind = t.key.kind
            res = apply_task(
                self.dest,
                t,
                self.app_options,
                strategy_force=self.strategy_force,
                sensitive_annotations=self.ws.settings.sensitive_annotations,
            )
            if res.ok:
                t.sync_status, t.operation_state, t.message = tk.SYNCED, tk.RUNNING, res.message
                if res.obj is not None:
                    t.live = res.obj
            else:
                t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, res.message
            dirty = True
            if t.is_hook:
                self.persist()
                dirty = False
        if dirty:
            self.persist()

    def _deletion_approved(self) -> bool:
        """`argocd.argoproj.io/deletion-approved` on the Application, not older than the operation."""
        fresh = self.store.get_app(self.name)
        value = ((fresh.get("metadata") or {}).get("annotations") or {}).get(DELETION_APPROVED)
        at = parse_time(value)
        return at is not None and at >= self.started_at

    # terminate --------------------------------------------------------------------------------
    def terminate(self) -> str:
        """Delete running hooks, drop hook finalizers, end Failed "Operation terminated"."""
        errors = False
        results = (self.state.get("syncResult") or {}).get("resources") or []
        dest = self._dest_for_terminate()
        for r in results:
            if not r.get("hookType") or dest is None:
                continue
            group, version, kind = (
                str(r.get("group") or ""),
                str(r.get("version") or ""),
                str(r.get("kind") or ""),
            )
            api_version = f"{group}/{version}" if group else version
            ns, name = str(r.get("namespace") or ""), str(r.get("name") or "")
            try:
                live = dest.get(api_version, kind, ns, name)
            except NotFound:
                continue
            except ClusterError:
                errors = True
                continue
            try:
                fins = (live.get("metadata") or {}).get("finalizers") or []
                if tk.HOOK_FINALIZER in fins:
                    keep = [f for f in fins if f != tk.HOOK_FINALIZER]
                    dest.patch(
                        api_version,
                        kind,
                        ns,
                        name,
                        {"metadata": {"finalizers": keep or None}},
                        field_manager="trueup",
                    )
                if r.get("hookPhase") == tk.RUNNING:
                    dest.delete(api_version, kind, ns, name, propagation_policy="Background")
                    r["hookPhase"], r["message"] = tk.FAILED, "Terminated"
            except NotFound:
                continue
            except ClusterError:
                errors = True
        self.extra_results = [r for r in results]
        if errors:
            return self.complete(tk.ERROR, MSG_TERMINATION_ERRORS, retryable=False)
        return self.complete(tk.FAILED, MSG_TERMINATED, retryable=False)

    def _dest_for_terminate(self) -> Cluster | None:
        spec = self.app.get("spec") or {}
        dest = spec.get("destination") or {}
        cfg = self.ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
        if cfg is None:
            return None
        try:
            self.dest = self.ws.open_cluster(cfg.name)
        except Exception:  # noqa: BLE001 - an unreachable/unknown cluster ends the op with Error
            return None
        return self.dest


def _result_key(r: Obj) -> str:
    return f"{r.get('group') or ''}/{r.get('kind') or ''}/{r.get('namespace') or ''}/{r.get('name') or ''}:{r.get('syncPhase') or 'Sync'}"


def _sources_of(app: Obj) -> dict[str, Any]:
    spec = app.get("spec") or {}
    if spec.get("sources"):
        return {"sources": copy.deepcopy(spec["sources"])}
    if spec.get("source"):
        return {"source": copy.deepcopy(spec["source"])}
    return {}


def process_operation(
    ws: Workspace,
    app_name: str,
    *,
    holder: str,
    lease_seconds: float | None = None,
    wave_delay: float | None = None,
    sync_timeout: float | None = None,
    now: datetime | None = None,
) -> str | None:
    """One pass of the sync state machine for the app's operation; the phase after the pass, or
    None when the app has no operation in progress. Returns the current phase without acting when
    another holder has the operation's Lease."""
    store = AppStore(ws.control())
    try:
        app = store.get_app(app_name)
    except NotFound:
        return None
    if not is_in_progress(app):
        return None
    app = ensure_operation_state(store, app)
    state = operation_state(app)
    if state is None:
        return None
    if not lease.acquire(store.cluster, app_name, holder, seconds=lease_seconds):
        return str(state.get("phase") or tk.RUNNING)
    run = _Pass(
        ws=ws,
        store=store,
        app=app,
        state=copy.deepcopy(state),
        now=(now or cluster_now(store.cluster)).astimezone(UTC),
        holder=holder,
        lease_seconds=lease_seconds,
        wave_delay=wave_delay,
        sync_timeout=sync_timeout,
        last_renew=time.monotonic(),
    )
    try:
        phase = run.execute()
    except _Superseded:
        fresh = operation_state(store.get_app(app_name)) or {}
        return str(fresh.get("phase") or "") or None
    except Exception as exc:  # noqa: BLE001 - an operation never stays Running because of a bug
        phase = _end_with_error(run, exc)
    if phase in COMPLETED_PHASES:
        lease.release(store.cluster, app_name, holder)
        _refresh_after(ws, app_name)
    return phase


def _end_with_error(run: _Pass, exc: Exception) -> str:
    """Anything unexpected inside a pass ends the operation as Error with a one-line message.

    A cluster error is retryable per the operation's retry strategy (the cluster may be back next
    time); anything else would fail the same way again, so it is not. When even the normal ending
    fails (e.g. cleaning up hooks on a broken cluster), the phase is written without the cleanup.
    """
    message = f"{MSG_UNEXPECTED}: {unexpected_error(exc)}"
    try:
        return run.complete(tk.ERROR, message, retryable=isinstance(exc, ClusterError))
    except _Superseded:
        fresh = operation_state(run.store.get_app(run.name)) or {}
        return str(fresh.get("phase") or tk.ERROR)
    except Exception:  # noqa: BLE001 - fall through to the minimal ending below
        pass
    started = run.state.get("startedAt")
    final = {
        **copy.deepcopy(run.state),
        "phase": tk.ERROR,
        "message": message,
        "finishedAt": rfc3339(run.now),
    }

    def clear(app: Obj) -> None:
        app.pop("operation", None)

    def mutate(status: Obj) -> None:
        live = status.get("operationState")
        if not isinstance(live, dict) or live.get("startedAt") != started or is_completed(live):
            raise _Superseded()
        status["operationState"] = final

    update_app(run.store, run.name, clear)
    try:
        update_status(run.store, run.name, mutate)
    except _Superseded:
        pass
    return tk.ERROR


def _refresh_after(ws: Workspace, app_name: str) -> None:
    """Argo requests a refresh when an operation completes; errors are the next refresh's job."""
    from console.engine.refresh import refresh

    try:
        refresh(ws, [app_name])
    except Exception:  # noqa: BLE001 - status stays as the operation left it
        pass


def tick_sim_clusters(ws: Workspace, app: Obj) -> None:
    """On sim clusters, let the controllers catch up with the clock between passes."""
    dest = (app.get("spec") or {}).get("destination") or {}
    cfg = ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
    names = {ws.control_cluster, *([cfg.name] if cfg else [])}
    for name in names:
        try:
            tick = getattr(ws.open_cluster(name), "tick", None)
        except Exception:  # noqa: BLE001
            continue
        if callable(tick):
            tick()


def run_operation(
    ws: Workspace,
    app_name: str,
    *,
    holder: str,
    timeout: float | None,
    progress: Callable[[Obj], None] | None = None,
    poll: float = 0.5,
    lease_seconds: float | None = None,
    wave_delay: float | None = None,
) -> Obj:
    """Loop `process_operation` until the operation completes; returns the final Application.

    `timeout` is Argo's sync timeout: once exceeded the operation goes Terminating ("operation is
    terminating due to timeout") and its running hooks are deleted. `progress(app)` is called after
    every pass whose operationState changed.
    """
    store = AppStore(ws.control())
    last: object = None
    deadline = time.monotonic() + timeout if timeout is not None else None
    while True:
        timed_out = deadline is not None and time.monotonic() > deadline
        phase = process_operation(
            ws,
            app_name,
            holder=holder,
            lease_seconds=lease_seconds,
            wave_delay=wave_delay,
            sync_timeout=0.0 if timed_out else None,
        )
        app = store.get_app(app_name)
        state = operation_state(app)
        if progress is not None and state != last:
            progress(app)
        last = copy.deepcopy(state)
        if phase is None or phase in COMPLETED_PHASES:
            return app
        time.sleep(poll)
        tick_sim_clusters(ws, app)
