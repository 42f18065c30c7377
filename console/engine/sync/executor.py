"""The sync executor: Argo CD's sync state machine (argocd-features.md §2.4), one pass at a time.

Each `process_operation` call is one controller pass over the Application's current operation:
re-plan from a fresh compare, merge the results persisted in `status.operationState.syncResult`
(by `SyncTask.result_key`), advance as far as Argo would in one `Sync()` call, and persist after
every step. Nothing lives in memory between passes, so any process can resume an operation another
one started: the Lease `trueup-op-<app>` makes sure only one of them does at a time.

This module is the state machine (execute -> sync -> dry run -> advance wave by wave -> complete);
the pass's state and persistence are `syncpass`, its task list `planning` (over `tasks.plan`),
hook handling `hooks`, pruning `prune`, and how an attempt ends (retry or final write) `finish`.

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
from datetime import UTC, datetime, timedelta

from console.cluster.api import Cluster, NotFound, Obj
from console.engine import model
from console.engine.appstore import AppStore
from console.engine.compare import compare_app
from console.engine.refresh import new_context
from console.engine.sync import hooks, lease, prune
from console.engine.sync import options as so
from console.engine.sync import tasks as tk
from console.engine.sync.apply import apply_task, object_ref
from console.engine.sync.finish import complete, end_with_error, retry_strategy
from console.engine.sync.operation import (
    COMPLETED_PHASES,
    cluster_now,
    ensure_operation_state,
    is_in_progress,
    operation_state,
    parse_time,
)
from console.engine.sync.planning import plan_pass, sources_of
from console.engine.sync.syncpass import Pass, Superseded
from console.engine.workspace import Workspace

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


def wave_delay_for(cluster: Cluster, explicit: float | None) -> float:
    """Argo sleeps 2 s after each non-final wave so controllers see the new objects; the sim's
    controllers run synchronously with every call, so there it is 0."""
    if explicit is not None:
        return explicit
    return 0.0 if hasattr(cluster, "tick") else DEFAULT_WAVE_DELAY


def execute(run: Pass) -> str:
    if run.state.get("phase") == tk.TERMINATING:
        return terminate(run)
    if run.sync_timeout is not None and (run.now - run.started_at).total_seconds() > run.sync_timeout:
        run.state["phase"] = tk.TERMINATING
        run.state["message"] = MSG_TIMEOUT
        try:
            run.persist(results=False)
        except Superseded:
            pass  # persist reports the Terminating phase it just wrote
        return tk.TERMINATING  # observable; the next pass terminates, as Argo's controller does
    if _blocked_by_window(run):
        return tk.RUNNING
    waiting = _retry_gate(run)
    if waiting is not None:
        return waiting
    return _sync(run)


def _blocked_by_window(run: Pass) -> bool:
    """Argo's syncWindowPreventsSync: the operation waits, Running, with Argo's message."""
    from console.engine.sync.windows import MSG_BLOCKED_BY_WINDOW, operation_blocked

    if not operation_blocked(run.ws, run.store, run.app, run.state, run.now):
        return False
    if run.state.get("message") != MSG_BLOCKED_BY_WINDOW:
        run.state["message"] = MSG_BLOCKED_BY_WINDOW
        try:
            run.persist(results=False)
        except Superseded:
            pass
    return True


def _retry_gate(run: Pass) -> str | None:
    """A failed attempt scheduled for retry: wait for NextRetryAt, then start attempt #N."""
    count = int(run.state.get("retryCount") or 0)
    finished = parse_time(run.state.get("finishedAt"))
    if not count or finished is None:
        return None
    strategy = retry_strategy(run.op) or model.RetryStrategy()
    retry_at = finished + timedelta(seconds=strategy.next_retry_delay(count - 1))
    if run.now < retry_at:
        return tk.RUNNING
    run.state.pop("finishedAt", None)
    latest = " with latest revisions" if strategy.refresh else ""
    run.state["message"] = f"Retrying operation{latest}. Attempt #{count}"
    sr = run.state.get("syncResult") or {}
    run.state["syncResult"] = {} if strategy.refresh else {k: v for k, v in sr.items() if k != "resources"}
    if not run.state["syncResult"]:
        run.state.pop("syncResult")
    run.persist(results=False)
    return None


def _sync(run: Pass) -> str:
    run.ctx = new_context(run.ws, run.store)
    sr = run.state.get("syncResult") or {}
    revision = sr.get("revision") or run.sync.get("revision") or None
    cmp = compare_app(run.ctx, run.app, revision_override=revision)
    run.cmp = cmp
    # project-policy violations of single resources are the plan's to report (Argo's "not valid")
    errors = [
        c
        for c in cmp.conditions
        if c["type"] in ("ComparisonError", "InvalidSpecError") and c["message"] not in cmp.policy_violations
    ]
    if errors:
        return complete(run, tk.ERROR, "; ".join(f"{c['type']}: {c['message']}" for c in errors))
    if cmp.kept_previous:
        return complete(
            run, tk.ERROR, "ComparisonError: Failed to load target state: the repository is unreachable"
        )
    try:
        options = run.sync.get("syncOptions")
        if options is None:
            options = ((run.app.get("spec") or {}).get("syncPolicy") or {}).get("syncOptions")
        run.app_options = so.SyncOptions.parse(options)
    except so.UnsupportedSyncOption as exc:
        return complete(run, tk.ERROR, str(exc), retryable=False)
    if run.app_options.fail_on_shared_resource:
        shared = [c["message"] for c in cmp.conditions if c["type"] == "SharedResourceWarning"]
        if shared:
            return complete(run, tk.FAILED, f"Shared resource found: {'; '.join(shared)}")
    if not sr.get("revision") and cmp.revision:
        run.state["syncResult"] = {
            **sr,
            "revision": cmp.revision,
            **sources_of(run.app),
        }
        if cmp.revisions and len(cmp.revisions) > 1:
            run.state["syncResult"]["revisions"] = cmp.revisions
    run.dest = run.ws.open_cluster(cmp.cluster)
    invalid = plan_pass(run, cmp)
    if isinstance(invalid, str):
        return complete(run, tk.ERROR, invalid, retryable=False)
    if invalid:
        # A project violation anywhere means nothing of the app is applied, SyncFail hooks
        # included (they come from the same repository); other invalid tasks run them, as Argo.
        forbidden = any(t.message in run.policy_messages for t in invalid)
        return _fail(run, invalid, MSG_NOT_VALID, run_sync_fail=not forbidden)
    hooks.adopt(run)
    started = bool((run.state.get("syncResult") or {}).get("resources"))
    if not started:
        phase = _dry_run_all(run)
        if phase is not None:
            return phase
    return _advance(run)


# dry run ------------------------------------------------------------------------------------


def _dry_run_all(run: Pass) -> str | None:
    assert run.dest is not None
    creating_ns = {
        t.key.name for t in run.tasks if t.key.kind == "Namespace" and t.key.group == "" and t.live is None
    }
    failed: list[tk.SyncTask] = []
    messages: dict[str, str] = {}
    for t in [*run.tasks, *run.sync_fail]:
        if t.target is None or t.skip_dry_run or t.completed:
            continue
        if t.key.namespace in creating_ns:
            continue  # its namespace is created by this sync; the server cannot rehearse it yet
        if t.delete_before_creation:
            continue  # the old hook is deleted first: rehearsing an update of it means nothing
        res = apply_task(
            run.dest,
            t,
            run.app_options,
            strategy_force=run.strategy_force,
            dry_run=True,
            sensitive_annotations=run.ws.settings.sensitive_annotations,
        )
        if not res.ok:
            if not so.validate(t.target, run.app_options):
                continue  # Validate=false: the real apply decides
            t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, res.message
            failed.append(t)
        messages[t.result_key] = res.message
    if failed:
        return _fail(run, failed, MSG_DRY_RUN_FAILED)
    if not run.dry_run:
        return None
    for t in [*run.tasks]:
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
    return complete(run, tk.SUCCEEDED, MSG_ALL_TASKS_RUN)


# the state machine -----------------------------------------------------------------------


def _advance(run: Pass) -> str:
    _update_running(run)
    running = [t for t in run.tasks if t.running and not t.is_prune]
    hooks_running = [t for t in running if t.is_hook]
    if (tk.multi_step(run.tasks) and running) or hooks_running:
        return run.running(tk.wait_message(running))
    deleting = [t for t in run.tasks if t.is_prune and t.sync_status == tk.PRUNED and t.live is not None]
    if deleting:
        return run.running(tk.wait_message(deleting, deletion=True))
    failed = [t for t in run.tasks if t.completed and not t.successful]
    if failed:
        return _fail(run, failed, MSG_COMPLETED_UNSUCCESSFULLY)
    pending = [t for t in run.tasks if t.pending]
    if run.app_options.apply_out_of_sync_only:
        pending = [t for t in pending if t.is_hook or t.is_prune or t.key in run.out_of_sync]
    if not pending:
        return complete(run, tk.SUCCEEDED, MSG_NO_MORE_TASKS)
    phase, wave = pending[0].phase, pending[0].wave
    group = [t for t in pending if (t.phase, t.wave) == (phase, wave)]
    remaining = [t for t in pending if (t.phase, t.wave) != (phase, wave)]
    outcome = _run_wave(run, group)
    if outcome is not None:
        return outcome
    failed = [t for t in group if t.completed and not t.successful]
    if failed:
        return _fail(run, failed, MSG_APPLY_FAILED)
    if not remaining and not any(t.is_hook for t in group):
        return complete(run, tk.SUCCEEDED, MSG_ALL_TASKS_RUN)
    if remaining:
        delay = wave_delay_for(run.dest, run.wave_delay) if run.dest is not None else 0.0
        if delay > 0:
            time.sleep(delay)
    # Argo names the remaining tasks here; naming what was just started is what helps at 3 a.m.
    running = [t for t in group if t.running]
    return run.running(tk.wait_message(running or remaining or group))


def _update_running(run: Pass) -> None:
    """Step 4: running tasks take the verdict of their live object's health."""
    changed = False
    for t in [*run.tasks, *run.sync_fail]:
        if not t.running or t.is_prune:
            continue
        if t.live is None:
            k = t.key
            t.operation_state = tk.ERROR
            t.message = f"Resource {k.group}/{k.kind}/{k.name} is missing, it might have been deleted"
            changed = True
            continue
        h = run.health().resource_health(t.live, is_hook=t.is_hook)
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
                hooks.remove_finalizer(run, t)
            continue
        if h is None or h.status in ("Healthy", ""):  # "": a Lua check's empty status
            t.operation_state = tk.SUCCEEDED
            if h is not None and h.message:
                t.message = h.message
            changed = True
        elif h.status == "Degraded":
            t.operation_state, t.message = tk.FAILED, h.message
            changed = True
    if changed:
        run.persist()


def _fail(run: Pass, failed: list[tk.SyncTask], message: str, *, run_sync_fail: bool = True) -> str:
    """GE setOperationFailed: run the SyncFail hooks (once), then Failed with the reasons."""
    reasons = [t.message for t in failed if t.message]
    text = f"{message}, reason: {','.join(reasons)}" if reasons else message
    if not run_sync_fail:
        run.sync_fail = []  # not recorded as results either: they were never considered
    if run.sync_fail and not all(t.completed for t in run.sync_fail):
        pending = [t for t in run.sync_fail if t.pending]
        if pending:
            _apply_tasks(run, pending)
        running = [t for t in run.sync_fail if t.running]
        if running:
            return run.running(tk.wait_message(running))
    return complete(run, tk.FAILED, text)


def _run_wave(run: Pass, group: list[tk.SyncTask]) -> str | None:
    """GE runTasks for one (phase, wave): prunes, BeforeHookCreation deletes, then applies.
    Returns a phase when the pass must stop here (waiting), else None."""
    waiting = prune.prune_wave(run, [t for t in group if t.is_prune])
    if waiting is not None:
        return waiting
    recreate = [t for t in group if t.delete_before_creation]
    if recreate and not hooks.delete_before_creation(run, recreate):
        return run.running(tk.wait_message(recreate, deletion=True))
    applies = [t for t in group if not t.is_prune and t.pending]
    _apply_tasks(run, applies)
    return None


def _apply_tasks(run: Pass, todo: list[tk.SyncTask]) -> None:
    """Consecutive tasks of one kind form a group; each group is persisted once, each hook
    as soon as it is created."""
    assert run.dest is not None
    previous_kind: str | None = None
    dirty = False
    for t in todo:
        if previous_kind is not None and t.key.kind != previous_kind and dirty:
            run.persist()
            dirty = False
        previous_kind = t.key.kind
        res = apply_task(
            run.dest,
            t,
            run.app_options,
            strategy_force=run.strategy_force,
            sensitive_annotations=run.ws.settings.sensitive_annotations,
        )
        if res.ok:
            t.sync_status, t.operation_state, t.message = tk.SYNCED, tk.RUNNING, res.message
            if res.obj is not None:
                t.live = res.obj
        else:
            t.sync_status, t.operation_state, t.message = tk.SYNC_FAILED, tk.FAILED, res.message
        dirty = True
        if t.is_hook:
            run.persist()
            dirty = False
    if dirty:
        run.persist()


def terminate(run: Pass) -> str:
    """Delete running hooks, drop hook finalizers, end Failed "Operation terminated"."""
    results = (run.state.get("syncResult") or {}).get("resources") or []
    errors = hooks.stop_running_hooks(_dest_for_terminate(run), results)
    run.extra_results = [r for r in results]
    if errors:
        return complete(run, tk.ERROR, MSG_TERMINATION_ERRORS, retryable=False)
    return complete(run, tk.FAILED, MSG_TERMINATED, retryable=False)


def _dest_for_terminate(run: Pass) -> Cluster | None:
    spec = run.app.get("spec") or {}
    dest = spec.get("destination") or {}
    cfg = run.ws.cluster_for_destination(dest.get("server", ""), dest.get("name", ""))
    if cfg is None:
        return None
    try:
        run.dest = run.ws.open_cluster(cfg.name)
    except Exception:  # noqa: BLE001 - an unreachable/unknown cluster ends the op with Error
        return None
    return run.dest


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
    run = Pass(
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
        phase = execute(run)
    except Superseded:
        fresh = operation_state(store.get_app(app_name)) or {}
        return str(fresh.get("phase") or "") or None
    except Exception as exc:  # noqa: BLE001 - an operation never stays Running because of a bug
        phase = end_with_error(run, exc)
    if phase in COMPLETED_PHASES:
        lease.release(store.cluster, app_name, holder)
        _refresh_after(ws, app_name)
    return phase


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
